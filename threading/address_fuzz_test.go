package threading

import (
	"net/mail"
	"strings"
	"testing"
)

// FuzzCheckAddress: whatever CheckAddress accepts can go into an SMTP
// envelope as is: it parses back to itself and has nothing that could end
// the address or add an ESMTP parameter.
func FuzzCheckAddress(f *testing.F) {
	for _, s := range []string{"alice@acme.example", `"a@x> NOTIFY=NEVER"@y.example`, "a@b", "<a@b.example>",
		"a b@c.example", "a@b.example\r\nRCPT TO:<x@y.example>", "ä@b.example", "a@[127.0.0.1]", "a@-b.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		if CheckAddress(addr) != nil {
			return
		}
		if strings.ContainsAny(addr, " \t\r\n<>\"(),;:\\[]") {
			t.Fatalf("accepted %q with a character that is not plain", addr)
		}
		p, err := mail.ParseAddress(addr)
		if err != nil || p.Address != addr || p.Name != "" {
			t.Fatalf("accepted %q, which parses as %v, %v", addr, p, err)
		}
	})
}

// FuzzAddressKey: the key is its own key, never longer than an ASCII address,
// blind to the case of ASCII letters and to nothing else.
func FuzzAddressKey(f *testing.F) {
	for _, s := range []string{"Lee@Example.COM", "<lee@example.com.>", " \u212aim@example.com", "a@b..", "a@b>.",
		"a@b .", "a@.", "<<>>", "\xff@\xfe.", "\u017f@x", "\u00a0<a@b>\u0085", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		key := AddressKey(addr)
		if again := AddressKey(key); again != key {
			t.Fatalf("AddressKey(%q) = %q, but AddressKey(%q) = %q", addr, key, key, again)
		}
		if isASCII(addr) && len(key) > len(addr) {
			t.Fatalf("AddressKey(%q) = %q is longer than the ASCII address", addr, key)
		}
		if strings.ContainsAny(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Fatalf("AddressKey(%q) = %q keeps an upper-case ASCII letter", addr, key)
		}
		if upper := upperASCII(addr); AddressKey(upper) != key {
			t.Fatalf("AddressKey(%q) = %q, but AddressKey(%q) = %q", addr, key, upper, AddressKey(upper))
		}
		if isASCII(addr) && AddressKey(strings.ToLower(addr)) != AddressKey(strings.ToUpper(addr)) {
			t.Fatalf("AddressKey differs for the lower and upper case of the ASCII %q", addr)
		}
		if folded := strings.ToLower(addr); !isASCII(addr) && AddressKey(folded) == key && lowerASCIIString(addr) != folded {
			t.Fatalf("AddressKey(%q) = AddressKey(%q): Unicode case folding", addr, folded)
		}
	})
}

// upperASCII upper-cases the ASCII letters of s and leaves every other byte
// alone, invalid UTF-8 included.
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
