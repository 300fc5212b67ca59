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
	if n < 0 {
		n = 0
	}
	var nonce [nonceLen]byte
	g.mu.Lock()
	_, err := io.ReadFull(g.random, nonce[:])
	g.mu.Unlock()
	if err != nil {
		rand.Read(nonce[:]) // never fails (crypto/rand, Go 1.24+)
	}
	num := strconv.FormatInt(n, 10)
	hexNonce := hex.EncodeToString(nonce[:])
	var mac [32]byte
	return idPrefix + num + "." + hexNonce + "." + string(g.mac(mac[:0], num, hexNonce)) + "@" + g.domain
}

// Case reports the case number carried by one of our Message-IDs. msgid may
// have angle brackets; surrounding white space is ignored and the domain is
// compared without regard to case, but the local part must be exactly as New
// wrote it. The MAC is checked in constant time. Anything else (another
// domain, a bad MAC, a changed number, garbage) gives 0, false.
func (g *IDs) Case(msgid string) (int64, bool) {
	local, ok := g.localPart(msgid)
	if !ok {
		return 0, false
	}
	num, nonce, mac, ok := splitLocal(local)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	var buf [32]byte
	if !hmac.Equal([]byte(mac), g.mac(buf[:0], num, nonce)) {
		return 0, false
	}
	return n, true
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
func (g *IDs) FindCase(inReplyTo, references []string) (int64, bool) {
	for _, v := range inReplyTo {
		if n, ok := g.caseIn(v, false); ok {
			return n, true
		}
	}
	for i := len(references) - 1; i >= 0; i-- {
		if n, ok := g.caseIn(references[i], true); ok {
			return n, true
		}
	}
	return 0, false
}

// caseIn returns the case number of the first (or, when newestFirst, the
// last) of our Message-IDs in v, one msg-id or a list of them.
func (g *IDs) caseIn(v string, newestFirst bool) (int64, bool) {
	if n, ok := g.Case(v); ok {
		return n, true
	}
	if !strings.ContainsAny(strings.TrimSpace(v), " \t\r\n,()") && strings.Count(v, "@") < 2 {
		return 0, false
	}
	ids := ParseMessageIDs(v)
	for k := range ids {
		id := ids[k]
		if newestFirst {
			id = ids[len(ids)-1-k]
		}
		if n, ok := g.Case(id); ok {
			return n, true
		}
	}
	return 0, false
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

// splitLocal splits a local part "pd.<num>.<nonce>.<mac>" and checks that each
// piece has the form New gives it.
func splitLocal(local string) (num, nonce, mac string, ok bool) {
	rest, ok := strings.CutPrefix(local, idPrefix)
	if !ok {
		return "", "", "", false
	}
	num, rest, _ = strings.Cut(rest, ".")
	nonce, mac, _ = strings.Cut(rest, ".")
	if len(num) == 0 || len(num) > 19 || num[0] == '0' || !allIn(num, "0123456789") {
		return "", "", "", false
	}
	if len(nonce) != 2*nonceLen || !allIn(nonce, "0123456789abcdef") {
		return "", "", "", false
	}
	if len(mac) != encodedMacLen || !allIn(mac, "abcdefghijklmnopqrstuvwxyz234567") {
		return "", "", "", false
	}
	return num, nonce, mac, true
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
	h := g.macs.Get().(hash.Hash)
	h.Reset()
	io.WriteString(h, num)
	io.WriteString(h, ".")
	io.WriteString(h, nonce)
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
