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
		lines = append(lines, Line{Text: line, Command: Command{Name: name, Arg: strings.TrimSpace(arg)}})
	}
	if len(lines) == 0 {
		return nil, strings.TrimSpace(text)
	}
	return lines, strings.TrimSpace(strings.Join(all[i:], "\n"))
}

// Parse splits the command lines at the top of text (after blank lines)
// from the rest; lines past Max are dropped. A line is a command when it is
// "#" (or "＃") directly followed by a name in known; the first other line
// ends them, so "#1 priority" or a hashtag inside the text is never a
// command.
func Parse(text string, known map[string]bool) (cmds []Command, rest string) {
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
		if len(cmds) < Max {
			cmds = append(cmds, Command{Name: name, Arg: strings.TrimSpace(arg)})
		}
	}
	if len(cmds) == 0 {
		return nil, text
	}
	return cmds, strings.TrimSpace(strings.Join(lines[i:], "\n"))
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
