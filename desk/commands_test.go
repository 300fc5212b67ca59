package desk

import (
	"reflect"
	"testing"
)

func TestParseCommands(t *testing.T) {
	tests := []struct {
		name, text string
		known      map[string]bool
		cmds       []command
		rest       string
	}{
		{"close with a resolution", "#close\nThe restart fixed it.", customerCommands,
			[]command{{"close", ""}}, "The restart fixed it."},
		{"blank lines before commands", "\n\n#escalate\n\nStill down!", customerCommands,
			[]command{{"escalate", ""}}, "Still down!"},
		{"agent commands with arguments", "#severity high\n#assign bob@example.com\n#pending\nPlease try again.", agentCommands,
			[]command{{"severity", "high"}, {"assign", "bob@example.com"}, {"pending", ""}}, "Please try again."},
		{"customers cannot use agent commands", "#pending\ntext", customerCommands, nil, "#pending\ntext"},
		{"a hashtag in the text is no command", "We use #kubernetes\n#close", customerCommands, nil, "We use #kubernetes\n#close"},
		{"a number is no command", "#1 priority for us", customerCommands, nil, "#1 priority for us"},
		{"full-width number sign", "＃close\n解決しました", customerCommands, []command{{"close", ""}}, "解決しました"},
		{"upper case and trailing punctuation", "#CLOSE.\nthanks", customerCommands, []command{{"close", ""}}, "thanks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmds, rest := parseCommands(tt.text, tt.known)
			if !reflect.DeepEqual(cmds, tt.cmds) || rest != tt.rest {
				t.Errorf("parseCommands(%q) = %v, %q; want %v, %q", tt.text, cmds, rest, tt.cmds, tt.rest)
			}
		})
	}
}
