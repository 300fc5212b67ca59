package dovecot

import (
	"errors"
	"net"
	"os"
	"testing"
)

func TestAppendAndCount(t *testing.T) {
	s := StartTest(t, map[string]string{"alice@example.com": "a-secret", "bob": "b-secret"})
	count := func(user, mailbox string, want int) {
		t.Helper()
		if n, err := s.Count(user, mailbox); err != nil || n != want {
			t.Errorf("Count(%s, %s) = %d, %v; want %d", user, mailbox, n, err, want)
		}
	}
	count("alice@example.com", "INBOX", 0)
	for range 2 {
		if err := s.Append("alice@example.com", "INBOX", []byte("Subject: hi\r\n\r\nhello\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Append("bob", "Archive", []byte("Subject: old\r\n\r\nbye\r\n")); err != nil {
		t.Fatalf("Append to a missing mailbox: %v", err)
	}
	count("alice@example.com", "INBOX", 2)
	count("bob", "INBOX", 0)
	count("bob", "Archive", 1)
	count("alice@example.com", "Missing", 0)
	if err := s.Append("carol", "INBOX", []byte("x")); err == nil {
		t.Error("Append as an unknown user succeeded")
	}
}

func TestCloseStopsEveryProcess(t *testing.T) {
	s := StartTest(t, map[string]string{"alice": "a-secret"})
	// A logged-in session has its own imap process.
	if err := s.Append("alice", "INBOX", []byte("Subject: hi\r\n\r\nhello\r\n")); err != nil {
		t.Fatal(err)
	}
	pgid := s.cmd.Process.Pid
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if alive, err := groupAlive(pgid); alive || err != nil {
		t.Errorf("a process of group %d is alive after Close (%v)", pgid, err)
	}
	if c, err := net.Dial("tcp", s.Addr()); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Close", s.Addr())
	}
	if s.owned {
		if _, err := os.Stat(s.Dir()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the server's own directory is left: %v", err)
		}
	}
}

func TestStartRefusesUsersAPasswdFileCannotHold(t *testing.T) {
	for _, users := range []map[string]string{
		nil,
		{"a:b": "secret"},
		{"alice": "pass\nword"},
		{"": "secret"},
	} {
		if s, err := Start(t.TempDir(), users); err == nil || errors.Is(err, ErrNotInstalled) {
			if s != nil {
				s.Close()
			}
			t.Errorf("Start with users %q: %v, want a refusal", users, err)
		}
	}
}
