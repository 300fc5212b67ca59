package threading

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
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
