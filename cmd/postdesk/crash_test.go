package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/internal/memimap"
	"github.com/postdesk/postdesk/mailin"
)

// A crash between the commit of a mail and its MOVE out of INBOX: a real
// SIGKILL of a real process, no hooks in production code. The mail is then
// still in INBOX with its case recorded; the next poll must see a
// duplicate, move it, and neither open a second case nor queue a second
// confirmation.

// envCrashConfig is the configuration file of the crash test's child.
const envCrashConfig = "POSTDESK_CRASH_CONFIG"

const (
	crashUser     = "support@example.com"
	crashPassword = "memimap-secret"
)

func TestCrashBetweenCommitAndMove(t *testing.T) {
	srv, err := memimap.Start(crashUser, crashPassword, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := crashEnv(t, srv.Addr())
	if err := srv.Append("INBOX", customerMail("crash-1@acme.example", "Database down")); err != nil {
		t.Fatal(err)
	}

	stdout, ws := runCrashChild(t, e.cfg)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended with %v, want killed by SIGKILL", ws)
	}
	if !strings.Contains(stdout, "committed new_case case 1") {
		t.Fatalf("the child was not killed after committing the mail; stdout %q", stdout)
	}
	checkCount(t, srv, "INBOX", 1)
	checkCount(t, srv, "Processed", 0)
	checkCrashDB(t, e, "queued")

	// The next poll, by the real app on the same database.
	var outcomes handledLog
	cfg, err := LoadConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(t.Context(), cfg, appOptions{logger: slog.New(&outcomes)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	p, err := a.poller(cfg.Mailboxes[0])
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := within(t)
	if n, err := p.PollOnce(ctx); err != nil || n != 1 {
		t.Fatalf("PollOnce = %d, %v; want 1, nil", n, err)
	}
	if got := outcomes.list(); len(got) != 1 || got[0] != string(desk.Duplicate) {
		t.Errorf("outcomes %q, want [duplicate]", got)
	}
	checkCount(t, srv, "INBOX", 0)
	checkCount(t, srv, "Processed", 1)
	checkCrashDB(t, e, "queued")
}

// crashEnv writes a configuration with the mailbox at addr and no SMTP
// server: confirmations stay queued.
func crashEnv(t *testing.T, addr string) *env {
	t.Helper()
	dir := t.TempDir()
	host, port, _ := strings.Cut(addr, ":")
	cfg := filepath.Join(dir, "postdesk.toml")
	text := fmt.Sprintf(`[desk]
address = "support@example.com"
database = %q
secret_file = %q

[[mailbox]]
name = "support"
host = %q
port = %s
tls = "none"
username = %q
password = %q
`, filepath.Join(dir, "postdesk.db"), filepath.Join(dir, "postdesk.key"), host, port, crashUser, crashPassword)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, dir: dir, cfg: cfg}
}

// runCrashChild runs the test binary as the crash child and returns its
// stdout and how it ended. A child still running after waitLimit gets
// SIGQUIT, which prints its goroutines and cannot pass for the SIGKILL.
func runCrashChild(t *testing.T, cfg string) (string, syscall.WaitStatus) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(within(t), exe)
	cmd.Env = append(os.Environ(), envCrashChild+"=1", envCrashConfig+"="+cfg)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if stderr.Len() > 0 {
		t.Logf("child stderr:\n%s", stderr.String())
	}
	if cmd.ProcessState == nil {
		t.Fatalf("run the child: %v", err)
	}
	return stdout.String(), cmd.ProcessState.Sys().(syscall.WaitStatus)
}

func checkCount(t *testing.T, srv *memimap.Server, mailbox string, want int) {
	t.Helper()
	if n, err := srv.Count(mailbox); err != nil || n != want {
		t.Errorf("%s holds %d (%v), want %d", mailbox, n, err, want)
	}
}

// checkCrashDB checks that the database holds the one case and its one
// confirmation, with the given outbox status.
func checkCrashDB(t *testing.T, e *env, status string) {
	t.Helper()
	if cases := e.cases(); len(cases) != 1 || cases[0].ID != 1 || cases[0].Subject != "Database down" {
		t.Errorf("cases %+v, want case 1 alone", cases)
	}
	if rows := e.outbox(); len(rows) != 1 || rows[0].Kind != "confirmation" || rows[0].Case != 1 || rows[0].Status != status {
		t.Errorf("outbox %+v, want one %s confirmation of case 1", rows, status)
	}
}

// crashChild is the child process: it polls the mailbox once through the
// real desk, and SIGKILLs itself as soon as the desk has committed the
// first mail, before the Poller can move it. It returns only on failure.
func crashChild() int {
	ctx := context.Background()
	cfg, err := LoadConfig(os.Getenv(envCrashConfig))
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	a, err := openApp(ctx, cfg, appOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	m := cfg.Mailboxes[0]
	in, err := a.intake(m.Name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	in.Desk = killAfterReceive{a.desk}
	p := mailin.NewPoller(mailin.MailboxOptions{
		Name: m.Name, Addr: fmt.Sprintf("%s:%d", m.Host, m.Port), TLS: m.TLS,
		Username: m.Username, Password: m.Password,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}, in)
	n, err := p.PollOnce(ctx)
	fmt.Fprintf(os.Stderr, "crash child: PollOnce = %d, %v: the child was not killed\n", n, err)
	return 3
}

// killAfterReceive is the real desk, except that once Receive has returned
// (its transaction committed) the process kills itself.
type killAfterReceive struct{ *desk.Desk }

func (k killAfterReceive) Receive(ctx context.Context, in *desk.Inbound) (desk.Result, error) {
	res, err := k.Desk.Receive(ctx, in)
	if err != nil {
		return res, err
	}
	fmt.Printf("committed %s case %d\n", res.Outcome, res.Case)
	// A process-directed SIGKILL ends the process before kill(2) returns.
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// handledLog is a slog.Handler that keeps the outcome of every "message
// handled" record of a Poller.
type handledLog struct {
	mu       sync.Mutex
	outcomes []string
}

func (h *handledLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *handledLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *handledLog) WithGroup(string) slog.Handler            { return h }

func (h *handledLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "message handled" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "outcome" {
			h.mu.Lock()
			h.outcomes = append(h.outcomes, a.Value.String())
			h.mu.Unlock()
		}
		return true
	})
	return nil
}

func (h *handledLog) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.outcomes...)
}
