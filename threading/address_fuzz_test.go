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
