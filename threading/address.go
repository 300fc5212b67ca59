package threading

import (
	"errors"
	"fmt"
	"golang.org/x/net/idna"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadAddress means an address is not one postdesk will put on the wire.
var ErrBadAddress = errors.New("not a plain address")

// CheckAddress accepts only a plain, ASCII addr-spec: a dot-atom local part
// (RFC 5322 §3.2.3 atext and dots) and a host name of at least two labels
// of letters, digits and hyphens, at most 64 and 255 octets (RFC 5321
// §4.5.3.1). No display name, quotes, angle brackets, comments, white
// space, control characters, commas or domain literals, and the address
// must be exactly what net/mail parses back.
//
// This is stricter than RFC 5321 on purpose: whatever reaches MAIL FROM or
// RCPT TO cannot carry ESMTP parameters (`"a@x> NOTIFY=NEVER"@y`) or a
// second address, and a header cannot be split. Single-label domains
// ("localhost") and internationalised addresses (SMTPUTF8) are refused,
// tests included: tests use names under example.com and .example.
func CheckAddress(addr string) error {
	local, domain, ok := strings.Cut(addr, "@")
	switch {
	case !ok || local == "" || domain == "":
		return fmt.Errorf("%q: %w: needs local@domain", addr, ErrBadAddress)
	case len(local) > 64 || len(domain) > 255:
		return fmt.Errorf("%q: %w: too long", addr, ErrBadAddress)
	case !dotAtom(local):
		return fmt.Errorf("%q: %w: the local part may hold only letters, digits, dots and !#$%%&'*+-/=?^_`{|}~", addr, ErrBadAddress)
	case !hostName(domain):
		return fmt.Errorf("%q: %w: the domain must be a host name with a dot", addr, ErrBadAddress)
	}
	parsed, err := mail.ParseAddress(addr)
	if err != nil || parsed.Name != "" || parsed.Address != addr {
		return fmt.Errorf("%q: %w", addr, ErrBadAddress)
	}
	return nil
}

// dotAtom reports whether s is atext separated by single dots.
func dotAtom(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(isAlnum(c) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0) {
				return false
			}
		}
	}
	return true
}

// hostName reports whether s is two or more labels of letters, digits and
// inner hyphens.
func hostName(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// AddressKey returns the one identity key of an address, the form in which
// postdesk compares addresses (DESIGN §14): two addresses are the same
// person's exactly when their keys are equal.
//
// Surrounding white space and angle brackets are trimmed and the address is
// split at its last '@'. The local part is kept exactly as written except
// that ASCII letters are lower-cased; the domain is lower-cased in ASCII
// and loses a single trailing dot (the DNS root, "example.com."). There is
// no Unicode case folding: the Kelvin sign U+212A never matches 'k' and the
// long s U+017F never matches 's', so a look-alike address never takes
// over someone's identity. Plus-tags are kept ("eve+1@" is not "eve@").
//
// An internationalised domain becomes its IDNA A-label (RFC 5891), so
// "bücher.example" and "xn--bcher-kva.example" are one domain; the
// conversion is plain Punycode of the labels as written, without the
// UTS 46 mapping, which would fold the Kelvin sign into 'k' again. A
// domain that is not valid UTF-8 or cannot be converted is kept as written.
//
// The key is not validated: garbage gives a key that matches only the same
// garbage, and "" gives "". AddressKey is idempotent.
func AddressKey(addr string) string {
	s := lowerASCIIString(strings.TrimFunc(addr, isAddressTrim))
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	// The A-label first, so that the root dot is judged on what the key
	// keeps and the key is its own key.
	if domain := s[at+1:]; !isASCII(domain) && utf8.ValidString(domain) {
		if a, err := idna.Punycode.ToASCII(domain); err == nil {
			s = s[:at+1] + lowerASCIIString(a)
		}
	}
	if rootDot(s[at+1:]) {
		s = s[:len(s)-1]
	}
	return s
}

// isASCII reports whether s holds only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isAddressTrim reports whether r is trimmed from both ends of an address
// before its key is taken: white space and angle brackets.
func isAddressTrim(r rune) bool {
	return r == '<' || r == '>' || unicode.IsSpace(r)
}

// rootDot reports whether domain ends with a single dot that AddressKey
// removes: one dot after a character that stays at the end of the key, so
// that removing it gives a key that is its own key again ("b..", "b>." and
// "b ." keep their dot).
func rootDot(domain string) bool {
	if !strings.HasSuffix(domain, ".") {
		return false
	}
	rest := domain[:len(domain)-1]
	if rest == "" {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(rest)
	return r != '.' && !isAddressTrim(r)
}

// lowerASCIIString returns s with the ASCII letters A-Z lower-cased and every
// other byte unchanged, invalid UTF-8 included.
func lowerASCIIString(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return r >= 'A' && r <= 'Z' })
	if i < 0 {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
