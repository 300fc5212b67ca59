package main

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postdesk/postdesk/internal/smtpsink"
)

// The daemon stopped while mail arrives and is sent (DESIGN §10, issue 12):
// `postdesk serve` in its own process against Dovecot, killed with SIGKILL
// or stopped with SIGTERM, then started again. Every wait is on something
// the test can see (the SMTP server's count, the process's exit), bounded
// by waitLimit.

// senderMail is a new request from its own sender, so that no sender meets
// the per-sender limits and each confirmation names the mail it answers.
func senderMail(from, subject string) []byte {
	return []byte("From: " + from + "\r\n" +
		"To: support@example.com\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n" +
		"Message-ID: <" + strings.ReplaceAll(from, "@", ".") + "@test>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		subject + " since this morning.\r\n")
}

// confirmationsBySender counts the confirmations the SMTP server got for
// each envelope recipient.
func confirmationsBySender(got []smtpsink.Received) map[string]int {
	n := map[string]int{}
	for _, m := range got {
		if strings.Contains(headerOf(m, "Subject"), "[Case #") {
			for _, to := range m.To {
				n[to]++
			}
		}
	}
	return n
}

// waitConfirmed waits until every sender in senders has a confirmation
// and returns how many each got.
func (e *serveEnv) waitConfirmed(senders []string) map[string]int {
	e.t.Helper()
	var per map[string]int
	err := waitUntil(within(e.t), func() (bool, error) {
		per = confirmationsBySender(e.sink.Messages())
		return !slices.ContainsFunc(senders, func(s string) bool { return per[s] == 0 }), nil
	})
	if err != nil {
		var missing []string
		for _, s := range senders {
			if per[s] == 0 {
				missing = append(missing, s)
			}
		}
		e.t.Fatalf("%d of %d senders have no confirmation %v after the last start: %v", len(missing), len(senders), missing, err)
	}
	return per
}

// checkCasesOnce checks that the delivered mails made one case each, all
// of them in Processed.
func (e *serveEnv) checkCasesOnce(subjects []string) {
	e.t.Helper()
	e.waitMailboxes(within(e.t), 0, len(subjects))
	count := map[string]int{}
	for _, c := range e.cases() {
		count[c.Subject]++
	}
	for _, s := range subjects {
		if count[s] != 1 {
			e.t.Errorf("mail %q made %d cases, want 1", s, count[s])
		}
	}
	if len(count) != len(subjects) {
		e.t.Errorf("%d distinct case subjects for %d mails", len(count), len(subjects))
	}
}

// TestServeKilledTwentyTimesWhileSending kills the daemon with SIGKILL 20
// times while mail arrives and is sent: every other time at the worst
// moment, after the SMTP server accepted a mail and before the daemon
// heard so (replyHolder), the other times once the server has a mail of
// the run. Then every sender has one case and a confirmation soon after
// the last start, and a confirmation goes twice only for a kill that cut
// a send: at least one for each kill at the worst moment, at most one a
// kill. (The mail cut is the first the daemon sends after its start, which
// may be one cut before: a mail may go out more than twice.)
func TestServeKilledTwentyTimesWhileSending(t *testing.T) {
	const kills, before, during = 20, 3, 3 // mails delivered each round while down, and after the start
	e := newServeEnv(t)
	holder := holdReplies(t, e.env)
	var senders, subjects []string
	deliver := func(round, n, from int) {
		for i := range n {
			s := fmt.Sprintf("r%02d-%d@acme.example", round, from+i)
			subject := fmt.Sprintf("round %d mail %d", round, from+i)
			senders, subjects = append(senders, s), append(subjects, subject)
			e.deliver(senderMail(s, subject))
		}
	}
	cut := 0 // kills between the server's acceptance and the daemon's hearing of it
	for round := range kills {
		deliver(round, before, 0)
		start := len(e.sink.Messages())
		var held <-chan struct{}
		if round%2 == 0 {
			held = holder.Arm()
		}
		d := e.startDaemon()
		deliver(round, during, before)
		if held != nil {
			select {
			case <-held:
				cut++
			case <-within(t).Done():
				t.Fatalf("round %d: no mail sent", round)
			}
		} else if _, err := e.sink.Wait(within(t), start+1); err != nil {
			t.Fatalf("round %d: nothing sent: %v", round, err)
		}
		if ws := d.signal(syscall.SIGKILL, waitLimit); ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: the daemon ended with %v, want killed", round, ws)
		}
	}
	restarted := time.Now()
	e.startDaemon()
	per := e.waitConfirmed(senders)
	t.Logf("last start → every sender confirmed: %v (informative, not asserted)", time.Since(restarted))
	e.checkCasesOnce(subjects)

	repeated := 0
	for _, s := range senders {
		repeated += per[s] - 1
	}
	t.Logf("%d mails, %d kills (%d after the server accepted a mail the daemon had not heard of), %d confirmations sent twice",
		len(senders), kills, cut, repeated)
	if repeated < cut || repeated > kills {
		t.Errorf("%d repeated confirmations; want one for each of the %d cut sends, and at most one a kill (%d)", repeated, cut, kills)
	}
}

// TestServeStoppedDuringABurstSendsEachOnce stops the daemon with SIGTERM
// while it sends a burst, with the reply to one mail held back by the
// server until the daemon is stopping: the stop waits for that reply and
// records it, and after a start every sender has exactly one confirmation.
func TestServeStoppedDuringABurstSendsEachOnce(t *testing.T) {
	const burst = 60
	e := newServeEnv(t)
	holder := holdReplies(t, e.env)
	var senders, subjects []string
	for i := range burst {
		s, subject := fmt.Sprintf("burst-%d@acme.example", i), fmt.Sprintf("burst mail %d", i)
		senders, subjects = append(senders, s), append(subjects, subject)
		e.deliver(senderMail(s, subject))
	}
	held := holder.Arm()
	d := e.startDaemon()
	select {
	case <-held:
	case <-within(t).Done():
		t.Fatal("no mail sent")
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	e.waitLog("stopping: finishing the message in hand")
	holder.Release()
	ws := d.wait(15*time.Second, "SIGTERM")
	if !ws.Exited() || ws.ExitStatus() != 0 {
		t.Errorf("after SIGTERM the daemon ended with %v, want exit status 0", ws)
	}
	sentBefore := len(e.sink.Messages())
	restarted := time.Now()
	e.startDaemon()
	per := e.waitConfirmed(senders)
	t.Logf("SIGTERM during a send: %d of %d sent before the stop; last start → every sender confirmed: %v (informative)",
		sentBefore, burst, time.Since(restarted))
	e.checkCasesOnce(subjects)
	for _, s := range slices.Sorted(maps.Keys(per)) {
		if per[s] != 1 {
			t.Errorf("%s got %d confirmations, want 1", s, per[s])
		}
	}
}

// waitLog waits until the daemon's output holds text.
func (e *serveEnv) waitLog(text string) {
	e.t.Helper()
	err := waitUntil(within(e.t), func() (bool, error) {
		out, err := os.ReadFile(e.log)
		return strings.Contains(string(out), text), err
	})
	if err != nil {
		e.t.Fatalf("the daemon never logged %q: %v", text, err)
	}
}

// TestServeSMTPOutage: the SMTP server is down (421 to every connection)
// while a mail waits: /healthz says so once it has waited longer than
// health_outbox_age; when the server is back, the retry (retry_first 1s,
// retry_max 2s) sends it once and /healthz is 200 again.
func TestServeSMTPOutage(t *testing.T) {
	e := newServeEnv(t)
	text, err := os.ReadFile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(text), "\n[http]\n", "retry_first = \"1s\"\nretry_max = \"2s\"\n\n[http]\n", 1) +
		"health_outbox_age = \"1s\"\n"
	if err := os.WriteFile(e.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	holder := holdReplies(t, e.env)
	holder.SetDown(true)
	e.startDaemon()
	e.deliver(senderMail("outage@acme.example", "outage"))
	var body string
	err = waitUntil(within(t), func() (bool, error) {
		code, b, err := e.healthz()
		body = b
		return code == http.StatusServiceUnavailable && strings.Contains(body, `"outbox: 1 mail waits to be sent`), err
	})
	if err != nil {
		t.Fatalf("/healthz never named the waiting mail while the server was down; last %s: %v", body, err)
	}
	t.Logf("server down: %s", strings.TrimSpace(body))
	holder.SetDown(false)
	if _, err := e.sink.Wait(within(t), 1); err != nil {
		t.Fatal(err)
	}
	err = waitUntil(within(t), func() (bool, error) {
		code, b, err := e.healthz()
		body = b
		return code == http.StatusOK, err
	})
	if err != nil {
		t.Fatalf("/healthz not 200 after the mail went out; last %s: %v", body, err)
	}
	rows := e.outbox()
	if len(rows) != 1 || rows[0].Status != "sent" || rows[0].Attempts < 2 || len(e.sink.Messages()) != 1 {
		t.Errorf("outbox %+v, %d mails at the server; want one sent after a failed try, once", rows, len(e.sink.Messages()))
	}
}

// healthz asks the daemon's /healthz once; an error while it is not
// listening yet.
func (e *serveEnv) healthz() (int, string, error) {
	resp, err := http.Get("http://" + e.httpAddr + "/healthz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}
