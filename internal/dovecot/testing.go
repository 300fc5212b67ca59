package dovecot

import (
	"errors"
	"os"
)

// RequireEnv names the environment variable that makes a Dovecot that
// cannot start a test failure instead of a skip. CI sets it (.ci/run), so
// that tests needing Dovecot never skip there unnoticed.
const RequireEnv = "POSTDESK_REQUIRE_DOVECOT"

// T is the part of testing.TB that StartTest uses.
type T interface {
	Helper()
	TempDir() string
	Cleanup(func())
	Failed() bool
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// StartTest starts a server for the test t in t.TempDir() and closes it
// when t ends, logging Dovecot's logs if t failed; a Dovecot that died
// during the test fails it. When Dovecot is not
// installed, t is skipped, unless RequireEnv is set: then it fails, like it
// does whenever an installed Dovecot does not start.
func StartTest(t T, users map[string]string) *Server {
	t.Helper()
	return StartTestWith(t, users, Options{})
}

// StartTestWith is StartTest with options.
func StartTestWith(t T, users map[string]string, o Options) *Server {
	t.Helper()
	s, err := StartWith(t.TempDir(), users, o)
	if errors.Is(err, ErrNotInstalled) {
		if os.Getenv(RequireEnv) == "" {
			t.Skipf("needs a real Dovecot: %v (with %s=1 this is a failure)", err, RequireEnv)
		}
		t.Fatalf("%v; %s is set, so this test must not skip", err, RequireEnv)
	}
	if err != nil {
		t.Fatalf("start dovecot: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dovecot logs (%s):\n%s", s.Dir(), s.Log())
		}
		switch err := s.Close(); {
		case errors.Is(err, ErrExited):
			t.Errorf("%v", err)
		case err != nil:
			t.Logf("stop dovecot: %v", err)
		}
	})
	return s
}
