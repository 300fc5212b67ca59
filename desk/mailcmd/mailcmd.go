// Package mailcmd reads the command lines ("#close", "#severity high") at
// the top of the new text of a mail: plain text in, commands and the rest of
// the text out. Which commands exist and who may use them is the desk's
// rule; this package only splits the lines.
package mailcmd

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Command is one "#name argument" line at the top of a participant's new
// text: Name lower-cased without trailing punctuation, Arg trimmed.
type Command struct {
	Name string
	Arg  string
}

// Max is the most command lines one mail may carry; the rest are refused
// (DESIGN §14: bounded work per mail).
const Max = 10

// Line is one command line of an agent's mail: as written (Text), and split.
type Line struct {
	Text string
	Command
}

// Lines splits the command lines at the top of an agent's new text from
// the rest. Unlike Parse it does not stop at an unknown name: every line
// that is "#" (or "＃") directly followed by a letter is a command line,
// known or not, so that a mistyped "#nte" is refused instead of mailed to
// the customer as text. The first other line ends them; "#1" is text.
func Lines(text string) (lines []Line, rest string) {
	lines, after := split(text, func(name string) bool {
		first, _ := utf8.DecodeRuneInString(name)
		return unicode.IsLetter(first)
	})
	if len(lines) == 0 {
		return nil, strings.TrimSpace(text)
	}
	return lines, after
}

// Parse splits the command lines at the top of text (after blank lines)
// from the rest; lines past Max are dropped. A line is a command when it is
// "#" (or "＃") directly followed by a name in known; the first other line
// ends them, so "#1 priority" or a hashtag inside the text is never a
// command.
func Parse(text string, known map[string]bool) (cmds []Command, rest string) {
	lines, after := split(text, func(name string) bool { return known[name] })
	if len(lines) == 0 {
		return nil, text
	}
	for _, l := range lines[:min(len(lines), Max)] {
		cmds = append(cmds, l.Command)
	}
	return cmds, after
}

// split reads the command lines at the top of text, blank lines skipped:
// each is "#" or "＃" directly followed by a name (lower-cased, trailing
// punctuation dropped) that isCommand accepts, then its argument. The first
// other line ends them; after is the text from there on, trimmed.
func split(text string, isCommand func(name string) bool) (lines []Line, after string) {
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
		name, arg, _ := strings.Cut(body, " ")
		name = strings.ToLower(strings.TrimRightFunc(name, unicode.IsPunct))
		if !ok || !isCommand(name) {
			break
		}
		lines = append(lines, Line{Text: line, Command: Command{Name: name, Arg: strings.TrimSpace(arg)}})
	}
	return lines, strings.TrimSpace(strings.Join(all[i:], "\n"))
}

// Has reports whether cmds holds the named command.
func Has(cmds []Command, name string) bool {
	for _, c := range cmds {
		if c.Name == name {
			return true
		}
	}
	return false
}

// Find returns the first line of lines holding the named command.
func Find(lines []Line, name string) (Line, bool) {
	for _, l := range lines {
		if l.Name == name {
			return l, true
		}
	}
	return Line{}, false
}
