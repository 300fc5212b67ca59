package threading

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"sync"
)

const (
	// minKeyLen is the shortest HMAC key NewIDs accepts.
	minKeyLen = 16
	// idPrefix starts the local part of every postdesk Message-ID.
	idPrefix = "pd."
	// nonceLen is the number of random bytes in a Message-ID (hex encoded).
	nonceLen = 8
	// macLen is how many bytes of the HMAC-SHA256 a Message-ID carries.
	macLen = 12
	// recipientMACPrefix starts what the recipient MAC of a NewFor id signs,
	// so that it can never equal the case MAC of another id.
	recipientMACPrefix = "to\x00"
)

// macEncoding writes the MAC as lower-case base32 (RFC 4648 alphabet) without
// padding: 12 bytes become 20 characters.
var macEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// encodedMacLen is the length of the encoded MAC in a Message-ID.
var encodedMacLen = macEncoding.EncodedLen(macLen)

// IDs makes and checks the Message-IDs of the mails postdesk sends. Each
// carries the case number and an HMAC so that a reply that lost the subject
// tag still threads, and nobody can forge one. An IDs is safe for concurrent
// use.
//
// The shape is "pd.<case>.<nonce>.<mac>@<domain>": case in decimal without
// leading zeros; nonce 8 random bytes in lower-case hex (16 characters); mac
// the first 12 bytes of HMAC-SHA256(key, "<case>.<nonce>") in lower-case
// base32 (RFC 4648 alphabet a-z2-7) without padding (20 characters), e.g.
// "pd.1042.0001020304050607.5p3oogro6id6woyiglxq@desk.example".
//
// Mail sent to one recipient about one message (a notice to an agent, say)
// gets the longer shape NewFor makes, which also names the message and,
// through a second MAC, the recipient:
// "pd.<case>.<nonce>.<mac>.<msg>.<rmac>@<domain>". Case, Ours and FindCase
// read both shapes; SentTo and FindSentTo read only the longer one.
type IDs struct {
	key    []byte
	domain string

	mu     sync.Mutex // guards random
	random io.Reader

	macs sync.Pool // of hash.Hash, HMAC-SHA256 keyed with key
}

// NewIDs returns an IDs. key is the HMAC secret and must have at least 16
// bytes. domain is the right-hand side of our Message-IDs; it is lower-cased
// and must be a non-empty dot-atom (RFC 5322 §3.2.3; use the A-label of an
// internationalised domain). random is the source of nonces; nil means
// crypto/rand. Tests pass a deterministic reader so that golden files are
// stable. The key is copied.
func NewIDs(key []byte, domain string, random io.Reader) (*IDs, error) {
	if len(key) < minKeyLen {
		return nil, fmt.Errorf("threading: message-id key has %d bytes, need at least %d", len(key), minKeyLen)
	}
	domain = strings.ToLower(domain)
	if !isDotAtom(domain) {
		return nil, fmt.Errorf("threading: message-id domain %q is not a dot-atom", domain)
	}
	if random == nil {
		random = rand.Reader
	}
	g := &IDs{key: bytes.Clone(key), domain: domain, random: random}
	g.macs.New = func() any { return hmac.New(sha256.New, g.key) }
	return g, nil
}

// New returns a fresh Message-ID for case n, without angle brackets. Only
// [a-z0-9.] appear left of the '@'. A case number n <= 0 gives a unique
// Message-ID that carries no case (Case reports false for it), for mail that
// is about no case. If the random source fails, New falls back to
// crypto/rand rather than repeat a nonce.
func (g *IDs) New(n int64) string {
	num, nonce := strconv.FormatInt(max(n, 0), 10), g.nonce()
	var mac [32]byte
	return idPrefix + num + "." + nonce + "." + string(g.mac(mac[:0], num, nonce)) + "@" + g.domain
}

// NewFor returns a fresh Message-ID for mail about message msg of case n
// sent to one recipient, without angle brackets:
// "pd.<case>.<nonce>.<mac>.<msg>.<rmac>@<domain>". The first three pieces
// are exactly what New writes, so Case, Ours and FindCase read the case from
// it. msg is a database id in decimal without leading zeros; 0 (also for a
// negative msg) means the mail reports no single message. rmac is the first
// 12 bytes of HMAC-SHA256(key, "to\x00<case>.<nonce>.<msg>\x00" +
// AddressKey(recipient)) in the same base32 as mac, so a reply that carries
// this id proves that it answers mail we sent to that recipient (SentTo).
//
// As with New, only [a-z0-9.] appear left of the '@', and n <= 0 gives an
// id of no case, which SentTo refuses too. A recipient whose key is empty
// gives an id that SentTo never accepts.
func (g *IDs) NewFor(n, msg int64, recipient string) string {
	num, nonce := strconv.FormatInt(max(n, 0), 10), g.nonce()
	msgNum := strconv.FormatInt(max(msg, 0), 10)
	var mac, rmac [32]byte
	return idPrefix + num + "." + nonce + "." + string(g.mac(mac[:0], num, nonce)) +
		"." + msgNum + "." + string(g.recipientMAC(rmac[:0], num, nonce, msgNum, AddressKey(recipient))) +
		"@" + g.domain
}

// nonce returns a fresh nonce in lower-case hex. If the random source fails
// it falls back to crypto/rand rather than repeat a nonce.
func (g *IDs) nonce() string {
	var nonce [nonceLen]byte
	g.mu.Lock()
	_, err := io.ReadFull(g.random, nonce[:])
	g.mu.Unlock()
	if err != nil {
		rand.Read(nonce[:]) // never fails (crypto/rand, Go 1.24+)
	}
	return hex.EncodeToString(nonce[:])
}

// Case reports the case number carried by one of our Message-IDs. msgid may
// have angle brackets; surrounding white space is ignored and the domain is
// compared without regard to case, but the local part must be exactly as New
// or NewFor wrote it. The MAC is checked in constant time. Anything else (another
// domain, a bad MAC, a changed number, garbage) gives 0, false.
//
// An id of the shape NewFor makes gives its case too. Case does not know the
// recipient, so it checks the form of the message number and recipient MAC
// but not the recipient MAC itself: use SentTo where the recipient matters.
func (g *IDs) Case(msgid string) (int64, bool) {
	p, ok := g.verify(msgid)
	if !ok {
		return 0, false
	}
	return p.n, true
}

// SentTo reports whether msgid is a Message-ID NewFor made for mail to
// recipient, and returns its case and message numbers. Recipients are
// compared by AddressKey (ASCII case only). msgid is read as Case reads it;
// both MACs are checked in constant time. An id of New's shape, an id made
// for another recipient or with a changed case, message or MAC, an id of no
// case and an empty recipient give 0, 0, false.
func (g *IDs) SentTo(msgid, recipient string) (n, msg int64, ok bool) {
	return g.sentTo(msgid, AddressKey(recipient))
}

// sentTo is SentTo for a recipient already turned into its AddressKey.
func (g *IDs) sentTo(msgid, key string) (n, msg int64, ok bool) {
	if key == "" {
		return 0, 0, false
	}
	p, ok := g.verify(msgid)
	if !ok || p.rmac == "" {
		return 0, 0, false
	}
	var buf [32]byte
	if !hmac.Equal([]byte(p.rmac), g.recipientMAC(buf[:0], p.num, p.nonce, p.msgNum, key)) {
		return 0, 0, false
	}
	return p.n, p.msg, true
}

// verify returns the pieces of msgid if it is one of our Message-IDs of a
// case, in either shape, with a valid case MAC. The recipient MAC is left to
// the caller.
func (g *IDs) verify(msgid string) (idParts, bool) {
	local, ok := g.localPart(msgid)
	if !ok {
		return idParts{}, false
	}
	p, ok := splitLocal(local)
	if !ok || p.n <= 0 {
		return idParts{}, false
	}
	var buf [32]byte
	if !hmac.Equal([]byte(p.mac), g.mac(buf[:0], p.num, p.nonce)) {
		return idParts{}, false
	}
	return p, true
}

// Ours reports whether msgid is a valid postdesk Message-ID, that is whether
// Case(msgid) succeeds.
func (g *IDs) Ours(msgid string) bool {
	_, ok := g.Case(msgid)
	return ok
}

// FindCase looks for our Message-IDs first in the In-Reply-To list, in order,
// then in the References list from the newest (last) to the oldest, and
// returns the case number of the first one found (RFC 5322 §3.6.4: the parent
// is in In-Reply-To and last in References). Each element is normally one
// msg-id; an element holding a whole header value with several msg-ids is
// split with ParseMessageIDs.
func (g *IDs) FindCase(inReplyTo, references []string) (n int64, ok bool) {
	findID(inReplyTo, references, func(id string) bool {
		n, ok = g.Case(id)
		return ok
	})
	return n, ok
}

// FindSentTo is FindCase for the ids NewFor made for recipient: it looks in
// the same order (In-Reply-To in order, then References newest first) and
// returns the case and message numbers of the first id for which SentTo
// succeeds. Ids of New's shape and ids sent to anyone else do not count.
// Mail that carries such an id answers mail we sent to recipient (DESIGN §9).
func (g *IDs) FindSentTo(inReplyTo, references []string, recipient string) (n, msg int64, ok bool) {
	key := AddressKey(recipient)
	findID(inReplyTo, references, func(id string) bool {
		n, msg, ok = g.sentTo(id, key)
		return ok
	})
	return n, msg, ok
}

// findID calls try on the msg-ids of inReplyTo, in order, then on those of
// references from the newest (last) to the oldest, until try reports true
// (RFC 5322 §3.6.4: the parent is in In-Reply-To and last in References).
// It reports whether try did.
func findID(inReplyTo, references []string, try func(id string) bool) bool {
	for _, v := range inReplyTo {
		if tryIn(v, false, try) {
			return true
		}
	}
	for i := len(references) - 1; i >= 0; i-- {
		if tryIn(references[i], true, try) {
			return true
		}
	}
	return false
}

// tryIn calls try on v, one msg-id or a list of them, then on the msg-ids of
// a list from the first (or, when newestFirst, the last) on, until try
// reports true. It reports whether try did.
func tryIn(v string, newestFirst bool, try func(id string) bool) bool {
	if try(v) {
		return true
	}
	if !strings.ContainsAny(strings.TrimSpace(v), " \t\r\n,()") && strings.Count(v, "@") < 2 {
		return false
	}
	ids := ParseMessageIDs(v)
	for k := range ids {
		id := ids[k]
		if newestFirst {
			id = ids[len(ids)-1-k]
		}
		if try(id) {
			return true
		}
	}
	return false
}

// localPart returns the local part of msgid if its domain is ours.
func (g *IDs) localPart(msgid string) (string, bool) {
	s := strings.TrimSpace(msgid)
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 || !equalFoldASCII(s[at+1:], g.domain) {
		return "", false
	}
	return s[:at], true
}

// idParts are the pieces of the local part of one of our Message-IDs, as
// written and, for the numbers, parsed. msgNum and rmac are empty, and msg
// is 0, in the shape New makes.
type idParts struct {
	num, nonce, mac string
	msgNum, rmac    string
	n, msg          int64
}

// splitLocal splits a local part "pd.<num>.<nonce>.<mac>" (New) or
// "pd.<num>.<nonce>.<mac>.<msg>.<rmac>" (NewFor) and checks that each piece
// has the form New and NewFor give it: anything else is refused.
func splitLocal(local string) (p idParts, ok bool) {
	rest, ok := strings.CutPrefix(local, idPrefix)
	if !ok {
		return idParts{}, false
	}
	p.num, rest, _ = strings.Cut(rest, ".")
	p.nonce, rest, _ = strings.Cut(rest, ".")
	p.mac, rest, ok = strings.Cut(rest, ".")
	if ok {
		p.msgNum, p.rmac, _ = strings.Cut(rest, ".")
		if p.msg, ok = decimal(p.msgNum); !ok || !isEncodedMAC(p.rmac) {
			return idParts{}, false
		}
	}
	if p.n, ok = decimal(p.num); !ok || p.n == 0 {
		return idParts{}, false
	}
	if len(p.nonce) != 2*nonceLen || !allIn(p.nonce, "0123456789abcdef") || !isEncodedMAC(p.mac) {
		return idParts{}, false
	}
	return p, true
}

// decimal parses s, a non-negative int64 in decimal without leading zeros
// ("0" is allowed), as New and NewFor write numbers.
func decimal(s string) (int64, bool) {
	if s == "" || len(s) > 19 || len(s) > 1 && s[0] == '0' || !allIn(s, "0123456789") {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// isEncodedMAC reports whether s has the form of an encoded MAC.
func isEncodedMAC(s string) bool {
	return len(s) == encodedMacLen && allIn(s, "abcdefghijklmnopqrstuvwxyz234567")
}

// equalFoldASCII reports whether a and b are equal ignoring the case of ASCII
// letters. Unlike strings.EqualFold it does not match non-ASCII look-alikes
// such as the Kelvin sign with "k".
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(rune(a[i])) != lowerASCII(rune(b[i])) {
			return false
		}
	}
	return true
}

// allIn reports whether every byte of s is one of chars (ASCII).
func allIn(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(chars, s[i]) < 0 {
			return false
		}
	}
	return true
}

// mac appends the encoded MAC of "<num>.<nonce>" to dst.
func (g *IDs) mac(dst []byte, num, nonce string) []byte {
	return g.sign(dst, num, ".", nonce)
}

// recipientMAC appends the encoded MAC of
// "to\x00<num>.<nonce>.<msg>\x00<key>" to dst, key being the AddressKey of
// the recipient.
func (g *IDs) recipientMAC(dst []byte, num, nonce, msgNum, key string) []byte {
	return g.sign(dst, recipientMACPrefix, num, ".", nonce, ".", msgNum, "\x00", key)
}

// sign appends the first macLen bytes of the HMAC of the concatenated parts,
// encoded, to dst.
func (g *IDs) sign(dst []byte, parts ...string) []byte {
	h := g.macs.Get().(hash.Hash)
	h.Reset()
	for _, s := range parts {
		io.WriteString(h, s)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	g.macs.Put(h)
	return macEncoding.AppendEncode(dst, sum[:macLen])
}

// isDotAtom reports whether s is a dot-atom: atoms of atext joined by single
// dots (RFC 5322 §3.2.3).
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && !isAtext(s[i]) {
			return false
		}
	}
	return true
}

// isAtext reports whether c is an atext character (RFC 5322 §3.2.3).
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}
