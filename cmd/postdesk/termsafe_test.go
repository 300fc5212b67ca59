package main

import (
	"strings"
	"testing"
)

func TestCaseShowAndListAreTerminalSafe(t *testing.T) {
	e := newEnv(t)
	e.ingest("testdata/new.eml")
	// A stranger's held mail full of terminal controls: a clear screen, a
	// cursor move, an OSC 52 clipboard write, a bidi override, a fake line.
	evil := "From: mallory@evil.example\nTo: support@example.com\nSubject: Re: [Case #1] \x1b[2Jhi\x1b]52;c;ZXZpbA==\x07\n" +
		"Message-ID: <evil-1@evil.example>\n\nline one\x1b[1A\x1b[2K\n\u202eevil\u202c\n--- #99 out agent from agent@example.com\nfake answer\n"
	if line := e.ingestText("evil.eml", evil); line.Outcome != "held" {
		t.Fatalf("evil mail: %+v", line)
	}
	for _, args := range [][]string{{"case", "show", "1"}, {"case", "list", "-status", "all"}} {
		out := e.must("", args...)
		if i := strings.IndexFunc(out, func(r rune) bool {
			return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e'
		}); i >= 0 {
			t.Errorf("postdesk %s prints a control character %q at %d:\n%q", strings.Join(args, " "), out[i:i+1], i, out)
		}
		if strings.Contains(out, "\n--- #99") {
			t.Errorf("postdesk %s lets mail text pass for a message header:\n%s", strings.Join(args, " "), out)
		}
	}
}
