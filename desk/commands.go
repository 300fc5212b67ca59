package desk

import (
	"strings"
	"unicode"
	"unicode/utf8"
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
		"severity": true, "assign": true, "note": true, "take": true, "release": true}
)

// maxCommands is the most command lines one mail may carry; the rest are
// refused (DESIGN §14: bounded work per mail).
const maxCommands = 10

// agentLine is one command line of an agent's mail: as written, and split.
type agentLine struct {
	line string
	command
}

// agentCommandLines splits the command lines at the top of an agent's new
// text from the rest. Unlike parseCommands it does not stop at an unknown
// name: every line that is "#" (or "＃") directly followed by a letter is a
// command line, known or not, so that a mistyped "#nte" is refused instead
// of mailed to the customer as text. The first other line ends them; "#1"
// is text.
func agentCommandLines(text string) (lines []agentLine, rest string) {
	all := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	i := 0
	for ; i < len(all); i++ {
		line := strings.TrimSpace(all[i])
		if line == "" {
			continue
		}
		body, ok := strings.CutPrefix(line, "#")
		if !ok {
			body, ok = strings.CutPrefix(line, "＃")
		}
		first, _ := utf8.DecodeRuneInString(body)
		if !ok || !unicode.IsLetter(first) {
			break
		}
		name, arg, _ := strings.Cut(body, " ")
		name = strings.ToLower(strings.TrimRightFunc(name, unicode.IsPunct))
		lines = append(lines, agentLine{line: line, command: command{name: name, arg: strings.TrimSpace(arg)}})
	}
	if len(lines) == 0 {
		return nil, strings.TrimSpace(text)
	}
	return lines, strings.TrimSpace(strings.Join(all[i:], "\n"))
}

// parseCommands splits the command lines at the top of text (after blank
// lines) from the rest; lines past maxCommands are dropped. A line is a command when it is "#" (or "＃")
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
		if len(cmds) < maxCommands {
			cmds = append(cmds, command{name: name, arg: strings.TrimSpace(arg)})
		}
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
