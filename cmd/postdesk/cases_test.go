package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/desk"
)

func TestCaseTakeReleaseArguments(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		args []string
		msg  string // part of stderr
	}{
		{"take without a case number", []string{"case", "take", "-from", "agent@example.com"}, "takes 1 argument"},
		{"take of a word", []string{"case", "take", "seven", "-from", "agent@example.com"}, `"seven" is not a case number`},
		{"take without -from", []string{"case", "take", "1"}, "needs -from ADDR"},
		{"take with two numbers", []string{"case", "take", "1", "2", "-from", "agent@example.com"}, "takes 1 argument"},
		{"release without a message id", []string{"case", "release", "1"}, "takes 2 argument"},
		{"release without arguments", []string{"case", "release"}, "takes 2 argument"},
		{"release of a word", []string{"case", "release", "seven", "3"}, `"seven" is not a case number`},
		{"release of a message word", []string{"case", "release", "1", "twelve"}, `"twelve" is not a message id`},
		{"release of message 0", []string{"case", "release", "1", "0"}, `"0" is not a message id`},
		{"release of a negative message", []string{"case", "release", "1", "-3"}, "flag provided but not defined: -3"},
		{"release with -contact=maybe", []string{"case", "release", "1", "3", "-contact=maybe"}, "-contact"},
		{"release with an unknown flag", []string{"case", "release", "1", "3", "-force"}, "-force"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append(tt.args, "-config", e.cfg)
			code := run(context.Background(), args, nil, &out, &errOut)
			if code != exitUsage {
				t.Errorf("exit %d, want %d (usage); stderr: %s", code, exitUsage, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.msg) || !strings.Contains(errOut.String(), usage) {
				t.Errorf("stderr %q lacks %q and the usage text", errOut.String(), tt.msg)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(e.dir, "postdesk.db")); err == nil {
		t.Error("a command line that does not parse opened the database")
	}
}

func TestCaseListStatus(t *testing.T) {
	e := newEnv(t)
	list := func(status string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"case", "list", "-status", status, "-config", e.cfg}, nil, &out, &errOut)
		return code, errOut.String()
	}
	for _, status := range []string{"open", "pending", "closed", "all"} {
		if code, errOut := list(status); code != 0 {
			t.Errorf("-status %s: exit %d, stderr %q", status, code, errOut)
		}
	}
	for _, status := range []string{"", "Open", "held", "everything"} {
		code, errOut := list(status)
		if want := "postdesk: usage: -status must be open, pending, closed or all\n" + usage; code != exitUsage || errOut != want {
			t.Errorf("-status %q: exit %d, stderr %q, want %d and %q", status, code, errOut, exitUsage, want)
		}
	}
}

func TestCaseTakeReleaseErrors(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("desk says: %w", err) }
	tests := []struct {
		name string
		err  error
		is   error
		msg  string
	}{
		{"take by a non-agent", takeError(wrap(desk.ErrNotAgent)), desk.ErrNotAgent, "desk.agents"},
		{"release over the contact limit", releaseError(wrap(desk.ErrLimit), 7, 12), desk.ErrLimit,
			"case 7: message 12 released, but its sender was not added as a contact"},
		{"release of a message not held", releaseError(wrap(desk.ErrBadValue), 7, 12), desk.ErrBadValue,
			`held message, as in "postdesk case show 7 -json"`},
		{"release by a non-agent", releaseError(wrap(desk.ErrNotAgent), 7, 12), desk.ErrNotAgent, "leave out -from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.is) || errors.Is(tt.err, errUsage) {
				t.Errorf("error %v: want it to wrap %v and not be a usage error (exit 1)", tt.err, tt.is)
			}
			if !strings.Contains(tt.err.Error(), tt.msg) || !strings.Contains(tt.err.Error(), "desk says") {
				t.Errorf("error %q lacks %q or the desk's own message", tt.err, tt.msg)
			}
		})
	}
	t.Run("other errors pass unchanged", func(t *testing.T) {
		other := errors.New("database unavailable")
		if takeError(other) != other || releaseError(other, 1, 2) != other || takeError(nil) != nil || releaseError(nil, 1, 2) != nil {
			t.Error("takeError or releaseError changed an error they do not explain")
		}
	})
}

func TestUsageMatchesREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, _ := strings.Cut(string(readme), "## Command line\n\n```\n")
	block, _, _ = strings.Cut(block, "```")
	for _, want := range []string{"postdesk case take  N -from ADDR", "postdesk case release N MESSAGE_ID [-contact] [-from ADDR]"} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	for line := range strings.Lines(usage) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "postdesk ") && !strings.Contains(block, line) {
			t.Errorf("README's Command line block lacks %q", line)
		}
	}
}

// A command line that is wrong is refused before anything is opened: no
// database or key file is left behind (exit 2).
func TestUsageErrorsOpenNothing(t *testing.T) {
	for _, args := range [][]string{
		{"case", "list", "-status", "bogus"},
		{"case", "reply", "1"},
		{"case", "note", "1"},
		{"ingest", "-mailbox", "nosuch", "testdata/new.eml"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			e := newEnv(t)
			if _, code := e.run("text", args...); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			for _, name := range []string{"postdesk.db", "postdesk.key"} {
				if _, err := os.Stat(filepath.Join(e.dir, name)); err == nil {
					t.Errorf("%s was created", name)
				}
			}
		})
	}
}

// The commands that send nothing do not read the SMTP password file: an
// operator who may not read it still lists and answers cases, and what
// they queue waits for the daemon.
func TestCaseCommandsNeedNoSMTPSecrets(t *testing.T) {
	e := newEnvWith(t, "", "password_file = \"/nonexistent/smtp-password\"\nusername = \"desk\"\n")
	if _, code := e.run("", "outbox", "flush"); code == 0 {
		t.Fatal("outbox flush worked without its password file; the test proves nothing")
	}
	e.ingest("testdata/new.eml")
	e.must("", "case", "list")
	e.must("", "case", "show", "1", "-json")
	e.must("Port 443 is open again.", "case", "reply", "1", "-from", "agent@example.com")
	e.must("", "outbox", "list")
}
