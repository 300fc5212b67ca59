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

// FuzzParseCommands: command parsing never panics, never invents a
// command name it was not given, and keeps the text after the commands.
func FuzzParseCommands(f *testing.F) {
	for _, s := range []string{"#close\nfixed", "#severity high\n#assign a@b\ntext", "＃close", "#", "#\n#close"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmds, rest := parseCommands(text, agentCommands)
		for _, c := range cmds {
			if !agentCommands[c.name] {
				t.Fatalf("unknown command %q from %q", c.name, text)
			}
		}
		if len(cmds) == 0 && rest != text {
			t.Fatalf("no commands, yet the text changed: %q -> %q", text, rest)
		}
	})
}
