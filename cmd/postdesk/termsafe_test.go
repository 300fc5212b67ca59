package main

import (
	"context"
	"strings"
	"testing"
	"time"
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

// What a remote SMTP server answered is its words too: `case show` and
// `outbox list` print a last error on one line, without controls.
func TestRemoteErrorsAreTerminalSafe(t *testing.T) {
	e := newEnv(t)
	e.ingest("testdata/new.eml")
	cfg, err := LoadConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, appOptions{noSender: true})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := a.db.Outbox(context.Background(), 1)
	if err != nil || len(rows) == 0 {
		t.Fatalf("outbox %v, %v", rows, err)
	}
	reason := "451 busy\n--- #99 out agent from agent@example.com\x1b[2J"
	if err := a.db.MarkRetry(context.Background(), rows[0].ID, time.Now().Add(time.Hour), reason); err != nil {
		t.Fatal(err)
	}
	a.Close()
	for _, args := range [][]string{{"case", "show", "1"}, {"outbox", "list"}} {
		out := e.must("", args...)
		if strings.Contains(out, "\x1b") || strings.Contains(out, "\n--- #99") || !strings.Contains(out, "451 busy --- #99") {
			t.Errorf("postdesk %s:\n%q", strings.Join(args, " "), out)
		}
	}
}
