package desk

import (
	"net/mail"
	"strings"
	"testing"
)

// FuzzValidAddress: a Cc address the desk accepts as a contact is a plain
// addr-spec that parses back to itself.
func FuzzValidAddress(f *testing.F) {
	for _, s := range []string{"bob@acme.example", `"a@x> NOTIFY=NEVER"@y`, "a@b", "x <a@b.example>", "a@b.example, c@d.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		if !validAddress(addr) {
			return
		}
		if strings.ContainsAny(addr, " \t\r\n<>\",;") {
			t.Fatalf("accepted %q", addr)
		}
		if p, err := mail.ParseAddress(addr); err != nil || p.Address != addr {
			t.Fatalf("accepted %q, which parses as %v, %v", addr, p, err)
		}
	})
}
