package desk

import (
	"strings"
	"unicode"
)

// command is one "#name argument" line at the top of a participant's new
// text.
type command struct {
	name string
	arg  string
}

// customerCommands may be used by the requester and contacts; agents may
// use all commands.
var (
	customerCommands = map[string]bool{"close": true, "escalate": true}
	agentCommands    = map[string]bool{"close": true, "escalate": true, "pending": true, "open": true,
		"severity": true, "assign": true, "note": true}
)

// parseCommands splits the command lines at the top of text (after blank
// lines) from the rest. A line is a command when it is "#" (or "＃")
// directly followed by a known name; the first other line ends them, so
// "#1 priority" or a hashtag inside the text is never a command.
func parseCommands(text string, known map[string]bool) (cmds []command, rest string) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	i := 0
	for ; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" {
			continue
		}
		line = strings.Replace(line, "＃", "#", 1)
		if !strings.HasPrefix(line, "#") {
			break
		}
		name, arg, _ := strings.Cut(line[1:], " ")
		name = strings.ToLower(strings.TrimRightFunc(name, unicode.IsPunct))
		if !known[name] {
			break
		}
		cmds = append(cmds, command{name: name, arg: strings.TrimSpace(arg)})
	}
	if len(cmds) == 0 {
		return nil, text
	}
	return cmds, strings.TrimSpace(strings.Join(lines[i:], "\n"))
}

// has reports whether cmds holds the named command.
func has(cmds []command, name string) bool {
	for _, c := range cmds {
		if c.name == name {
			return true
		}
	}
	return false
}
