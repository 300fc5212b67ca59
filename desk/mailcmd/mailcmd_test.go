package mailcmd

import (
	"reflect"
	"strings"
	"testing"
)

// The command sets of the desk (desk/commands.go), as test data: the
// parser is told which names it knows.
var (
	customerCommands = map[string]bool{"close": true, "escalate": true}
	agentCommands    = map[string]bool{"close": true, "escalate": true, "pending": true, "open": true,
		"severity": true, "assign": true, "note": true, "take": true, "release": true}
)

func TestParseCommands(t *testing.T) {
	tests := []struct {
		name, text string
		known      map[string]bool
		cmds       []Command
		rest       string
	}{
		{"close with a resolution", "#close\nThe restart fixed it.", customerCommands,
			[]Command{{"close", ""}}, "The restart fixed it."},
		{"blank lines before commands", "\n\n#escalate\n\nStill down!", customerCommands,
			[]Command{{"escalate", ""}}, "Still down!"},
		{"agent commands with arguments", "#severity high\n#assign bob@example.com\n#pending\nPlease try again.", agentCommands,
			[]Command{{"severity", "high"}, {"assign", "bob@example.com"}, {"pending", ""}}, "Please try again."},
		{"customers cannot use agent commands", "#pending\ntext", customerCommands, nil, "#pending\ntext"},
		{"a hashtag in the text is no command", "We use #kubernetes\n#close", customerCommands, nil, "We use #kubernetes\n#close"},
		{"a number is no command", "#1 priority for us", customerCommands, nil, "#1 priority for us"},
		{"full-width number sign", "＃close\n解決しました", customerCommands, []Command{{"close", ""}}, "解決しました"},
		{"upper case and trailing punctuation", "#CLOSE.\nthanks", customerCommands, []Command{{"close", ""}}, "thanks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmds, rest := Parse(tt.text, tt.known)
			if !reflect.DeepEqual(cmds, tt.cmds) || rest != tt.rest {
				t.Errorf("Parse(%q) = %v, %q; want %v, %q", tt.text, cmds, rest, tt.cmds, tt.rest)
			}
		})
	}
}

// FuzzParseCommands: command parsing never panics, never invents a
// command name it was not given, and keeps the text after the commands.
func FuzzParseCommands(f *testing.F) {
	for _, s := range []string{"#close\nfixed", "#severity high\n#assign a@b\ntext", "＃close", "#", "#\n#close"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmds, rest := Parse(text, agentCommands)
		for _, c := range cmds {
			if !agentCommands[c.Name] {
				t.Fatalf("unknown command %q from %q", c.Name, text)
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
		lines, rest := Lines(text)
		for _, l := range lines {
			if !strings.Contains(text, l.Text) || l.Name == "" {
				t.Fatalf("command line %+v not in %q", l, text)
			}
		}
		if again, _ := Lines(rest); len(again) > 0 {
			t.Fatalf("the rest %q of %q still starts with commands %+v", rest, text, again)
		}
		if len(rest) > len(text) {
			t.Fatalf("the rest %q is longer than %q", rest, text)
		}
	})
}
