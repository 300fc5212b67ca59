package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postdesk/postdesk/caseview"
	"github.com/postdesk/postdesk/internal/dovecot"
	"github.com/postdesk/postdesk/internal/smtpsink"
)

// The test binary plays other programs when these are set (see TestMain).
const (
	// envRunMain makes the test binary the postdesk command: it runs main
	// with its arguments. The daemon tests run `postdesk serve` this way:
	// the real main, signals and exit status, built once with the tests
	// (same flags, -race included), without a toolchain at run time.
	envRunMain = "POSTDESK_TEST_RUN_MAIN"
	// envCrashChild makes it the child of TestCrashBetweenCommitAndMove.
	envCrashChild = "POSTDESK_CRASH_CHILD"
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(envRunMain) == "1":
		main() // exits
	case os.Getenv(envCrashChild) == "1":
		os.Exit(crashChild())
	}
	os.Exit(m.Run())
}

// The daemon as an admin runs it: `postdesk serve -config FILE` in its own
// process, reading a real Dovecot and sending to an SMTP server in the test.

const (
	imapUser     = "support@example.com"
	imapPassword = "dovecot-secret"
	// waitLimit bounds every wait on the daemon; reaching it is a failure,
	// never a timing assertion.
	waitLimit = 30 * time.Second
)

// serveEnv is a Dovecot, an SMTP sink, a configuration for both and a way
// to run postdesk commands on the same database.
type serveEnv struct {
	*env
	imap     *dovecot.Server
	httpAddr string
	log      string // the daemon's stdout and stderr, every run appended
}

func newServeEnv(t *testing.T) *serveEnv {
	t.Helper()
	imap := dovecot.StartTest(t, map[string]string{imapUser: imapPassword})
	sink, err := smtpsink.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "imap.password")
	if err := os.WriteFile(pwFile, []byte(imapPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(imap.Addr())
	if err != nil {
		t.Fatal(err)
	}
	e := &serveEnv{
		env:      &env{t: t, dir: dir, cfg: filepath.Join(dir, "postdesk.toml"), sink: sink},
		imap:     imap,
		httpAddr: freeAddr(t),
		log:      filepath.Join(dir, "daemon.log"),
	}
	text := fmt.Sprintf(`[desk]
name = "Example Support"
address = "support@example.com"
database = %q
secret_file = %q
agents = ["agent@example.com"]

# The daemon's tests count what customers get.
[[agent]]
address = "agent@example.com"
notify = "none"

[[mailbox]]
name = "support"
host = %q
port = %s
tls = "none"
username = %q
password_file = %q
poll_interval = "60s"

[smtp]
host = %q
port = %d
tls = "none"

[http]
listen = %q
`, filepath.Join(dir, "postdesk.db"), filepath.Join(dir, "postdesk.key"),
		host, port, imapUser, pwFile, sink.Host(), sink.Port(), e.httpAddr)
	if err := os.WriteFile(e.cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(e.cfg); err != nil {
		t.Fatalf("the test's configuration: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := os.ReadFile(e.log)
			t.Logf("daemon output:\n%s", out)
		}
	})
	return e
}

// freeAddr is a loopback address nobody listens on, for the daemon's HTTP.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveProcess is one `postdesk serve` process.
type serveProcess struct {
	t    *testing.T
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been waited for
}

// startDaemon runs `postdesk serve -config FILE`; the test kills it at the
// end if it still runs.
func (e *serveEnv) startDaemon() *serveProcess {
	e.t.Helper()
	exe, err := os.Executable()
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := os.OpenFile(e.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		e.t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(exe, "serve", "-config", e.cfg)
	cmd.Env = append(os.Environ(), envRunMain+"=1")
	cmd.Dir = e.dir
	cmd.Stdout, cmd.Stderr = out, out
	// Should the test binary die, the daemon goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	d := &serveProcess{t: e.t, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(d.done)
	}()
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-d.done
	})
	return d
}

// signal sends sig to the daemon and waits, within limit, for it to exit.
func (d *serveProcess) signal(sig syscall.Signal, limit time.Duration) syscall.WaitStatus {
	d.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Fatalf("signal %v: %v", sig, err)
	}
	return d.wait(limit, sig.String())
}

// wait waits, within limit, for the daemon to exit after what.
func (d *serveProcess) wait(limit time.Duration, what string) syscall.WaitStatus {
	d.t.Helper()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-d.done:
	case <-timer.C:
		d.t.Fatalf("the daemon did not exit within %v of %s", limit, what)
	}
	return d.cmd.ProcessState.Sys().(syscall.WaitStatus)
}

// deliver appends mails to the desk's INBOX, as the MTA would.
func (e *serveEnv) deliver(mails ...[]byte) {
	e.t.Helper()
	for _, raw := range mails {
		if err := e.imap.Append(imapUser, "INBOX", raw); err != nil {
			e.t.Fatal(err)
		}
	}
}

// waitMailboxes waits until INBOX and Processed hold inbox and processed
// mails. Dovecot tells no other client about a move, so it asks every 50 ms.
func (e *serveEnv) waitMailboxes(ctx context.Context, inbox, processed int) {
	e.t.Helper()
	var in, done int
	err := waitUntil(ctx, func() (bool, error) {
		var err1, err2 error
		in, err1 = e.imap.Count(imapUser, "INBOX")
		done, err2 = e.imap.Count(imapUser, "Processed")
		return in == inbox && done == processed, errors.Join(err1, err2)
	})
	if err != nil {
		e.t.Fatalf("INBOX holds %d, Processed %d; want %d and %d: %v", in, done, inbox, processed, err)
	}
}

// cases lists every case with `postdesk case list -json`.
func (e *env) cases() []caseview.Case {
	e.t.Helper()
	var list []caseview.Case
	out := e.must("", "case", "list", "-status", "all", "-json")
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		e.t.Fatalf("case list -json: %v\n%s", err, out)
	}
	return list
}

// outbox lists the outbox with `postdesk outbox list -json`.
func (e *env) outbox() []caseview.OutboxRow {
	e.t.Helper()
	var rows []caseview.OutboxRow
	out := e.must("", "outbox", "list", "-json")
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		e.t.Fatalf("outbox list -json: %v\n%s", err, out)
	}
	return rows
}

// waitUntil calls cond every 50 ms until it holds or ctx ends; for states that
// announce no event.
func waitUntil(ctx context.Context, cond func() (bool, error)) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := cond()
		if ok && err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// within is a context that ends after waitLimit.
func within(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

// customerMail is a new request from alice@acme.example.
func customerMail(id, subject string) []byte {
	return []byte("From: Alice <alice@acme.example>\r\n" +
		"To: support@example.com\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n" +
		"Message-ID: <" + id + ">\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Severity: high\r\n\r\n" + subject + " since this morning.\r\n")
}

func TestServeConfirmsMailFromDovecot(t *testing.T) {
	e := newServeEnv(t)
	e.startDaemon()

	appended := time.Now()
	e.deliver(customerMail("vpn-1@acme.example", "VPN down"))
	got, err := e.sink.Wait(within(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("append→confirmation, daemon just started: %v (informative, not asserted)", time.Since(appended))
	conf := got[0]
	if subj := headerOf(conf, "Subject"); !strings.Contains(subj, "[Case #1]") {
		t.Errorf("confirmation subject %q lacks [Case #1]", subj)
	}
	if !slices.Equal(conf.To, []string{"alice@acme.example"}) {
		t.Errorf("confirmation went to %v", conf.To)
	}
	e.waitMailboxes(within(t), 0, 1)
	if cases := e.cases(); len(cases) != 1 || cases[0].Subject != "VPN down" || cases[0].Severity != "high" {
		t.Errorf("cases = %+v", cases)
	}
	if code, body := e.get(within(t), "/healthz"); code != http.StatusOK || !strings.Contains(body, `"status":"ok"`) {
		t.Errorf("GET /healthz after the first mail = %d %s, want 200 ok", code, body)
	}

	// The daemon now waits in IDLE; with poll_interval 60s, only IDLE can
	// bring the next mail within the 30 s the test waits.
	appended = time.Now()
	e.deliver(customerMail("dns-1@acme.example", "DNS slow"))
	got, err = e.sink.Wait(within(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("append→confirmation, daemon idling: %v (informative, not asserted)", time.Since(appended))
	if subj := headerOf(got[1], "Subject"); !strings.Contains(subj, "[Case #2]") {
		t.Errorf("second confirmation subject %q lacks [Case #2]", subj)
	}
	e.waitMailboxes(within(t), 0, 2)
	values, _ := scrape(t, "http://"+e.httpAddr) // loopback: /metrics answers
	checkNoPanics(t, values)
}

// get fetches path from the daemon's HTTP listener.
func (e *serveEnv) get(ctx context.Context, path string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+e.httpAddr+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

func TestServeAfterKillHandlesMailThatArrivedMeanwhile(t *testing.T) {
	e := newServeEnv(t)
	d := e.startDaemon()
	// The daemon is up and working before it is killed.
	e.deliver(customerMail("first@acme.example", "first"))
	if _, err := e.sink.Wait(within(t), 1); err != nil {
		t.Fatal(err)
	}
	e.waitMailboxes(within(t), 0, 1)

	if ws := d.signal(syscall.SIGKILL, waitLimit); ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the daemon ended with %v, want killed", ws)
	}
	e.deliver(customerMail("a@acme.example", "while down A"),
		customerMail("b@acme.example", "while down B"),
		customerMail("c@acme.example", "while down C"))
	e.startDaemon()

	got, err := e.sink.Wait(within(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	e.waitMailboxes(within(t), 0, 4)
	var subjects []string
	for _, c := range e.cases() {
		subjects = append(subjects, c.Subject)
	}
	slices.Sort(subjects)
	if want := []string{"first", "while down A", "while down B", "while down C"}; !slices.Equal(subjects, want) {
		t.Errorf("case subjects %q, want %q: exactly three new cases", subjects, want)
	}

	// Every outbox row sent, one confirmation per case, and no more mail
	// than rows: nothing was sent twice.
	var rows []caseview.OutboxRow
	err = waitUntil(within(t), func() (bool, error) {
		rows = e.outbox()
		return !slices.ContainsFunc(rows, func(r caseview.OutboxRow) bool { return r.Status != "sent" }), nil
	})
	if err != nil {
		t.Fatalf("outbox rows not all sent: %+v: %v", rows, err)
	}
	perCase := map[int64]int{}
	for _, r := range rows {
		if r.Kind == "confirmation" {
			perCase[r.Case]++
		}
	}
	want := map[int64]int{1: 1, 2: 1, 3: 1, 4: 1}
	if len(rows) != 4 || !maps.Equal(perCase, want) {
		t.Errorf("outbox: %d rows, confirmations per case %v; want only one confirmation for each of cases 1-4", len(rows), perCase)
	}
	if n := len(e.sink.Messages()); n != len(rows) {
		t.Errorf("the SMTP server got %d mails for %d outbox rows", n, len(rows))
	}
	var tags []string
	for _, m := range got[1:] {
		_, tag, _ := strings.Cut(headerOf(m, "Subject"), "[")
		tag, _, _ = strings.Cut(tag, "]")
		tags = append(tags, tag)
	}
	slices.Sort(tags)
	if want := []string{"Case #2", "Case #3", "Case #4"}; !slices.Equal(tags, want) {
		t.Errorf("confirmations after the restart are for %q, want %q", tags, want)
	}
}

func TestServeExitsZeroOnSIGTERM(t *testing.T) {
	e := newServeEnv(t)
	d := e.startDaemon()
	e.deliver(customerMail("up@acme.example", "is it up"))
	if _, err := e.sink.Wait(within(t), 1); err != nil {
		t.Fatal(err)
	}
	ws := d.signal(syscall.SIGTERM, 15*time.Second)
	if !ws.Exited() || ws.ExitStatus() != 0 {
		t.Errorf("after SIGTERM the daemon ended with %v, want exit status 0", ws)
	}
}
