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

// FuzzAgentCommandLines: the agent's command parser never panics, takes
// every "#letter" line at the top as a command (known or not, so that a
// typo is refused rather than mailed), never returns a command line whose
// text the mail does not hold, and leaves no command line at the top of the
// rest.
func FuzzAgentCommandLines(f *testing.F) {
	for _, s := range []string{"#note\ninternal", "#nte\nhello", "#take", "#release contact", "#1 priority", "＃ノート\ntext",
		"\n\n#severity high\n#assign a@b\n\ntext", "#", "#\x00", "#é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		lines, rest := agentCommandLines(text)
		for _, l := range lines {
			if !strings.Contains(text, l.line) || l.name == "" {
				t.Fatalf("command line %+v not in %q", l, text)
			}
		}
		if again, _ := agentCommandLines(rest); len(again) > 0 {
			t.Fatalf("the rest %q of %q still starts with commands %+v", rest, text, again)
		}
		if len(rest) > len(text) {
			t.Fatalf("the rest %q is longer than %q", rest, text)
		}
	})
}
