package main

import (
	"io"
	"strings"
	"unicode"
)

// terminal writes text meant for a person's terminal: control characters
// other than newline and tab are dropped, and so are the bidirectional
// overrides, so that mail text shown by `case show` or `case list` cannot
// move the cursor, clear lines, write the clipboard (OSC 52) or reorder what
// the agent reads (DESIGN §14). Invalid UTF-8 is shown as U+FFFD.
type terminal struct{ w io.Writer }

// Write writes p without the characters a terminal would act on. It
// reports len(p) when the filtered text was written whole.
func (t terminal) Write(p []byte) (int, error) {
	if _, err := io.WriteString(t.w, termSafe(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// termSafe drops from s what terminal drops.
func termSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069',
			r == '\u200e' || r == '\u200f' || r == '\u061c':
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// termLine is termSafe for a value shown on one line: newlines and tabs
// become spaces, so a subject cannot add lines or columns.
func termLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		return r
	}, termSafe(s))
}
