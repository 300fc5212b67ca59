package mailin

import (
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/postdesk/postdesk/internal/dovecot"
)

// The Poller against a real Dovecot (Debian's dovecot-imapd, DESIGN §7):
// the same checks as against the in-process server, on the server postdesk
// meets in production. Skipped when Dovecot is not installed, failed then
// when POSTDESK_REQUIRE_DOVECOT is set (CI).

// startDovecot starts Dovecot with the mailbox of newTestPoller, and a view
// of it through the test helpers of the in-process server (which only need
// its address: plain IMAP, logged in as testUser).
func startDovecot(t *testing.T) (*dovecot.Server, *testServer) {
	t.Helper()
	dv := dovecot.StartTest(t, map[string]string{testUser: testPassword})
	return dv, &testServer{addr: dv.Addr()}
}

// deliver appends mails to the INBOX of testUser, as the MTA would.
func deliver(t *testing.T, dv *dovecot.Server, mails ...[]byte) {
	t.Helper()
	for _, raw := range mails {
		if err := dv.Append(testUser, "INBOX", raw); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDovecotAdvertisesWhatThePollerUses(t *testing.T) {
	_, view := startDovecot(t)
	c := view.client(t)
	caps, err := c.Capability().Wait()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []imap.Cap{imap.CapIdle, imap.CapMove, imap.CapUIDPlus} {
		if !caps.Has(want) {
			t.Errorf("Dovecot lacks %s; the tests below would not exercise it", want)
		}
	}
}

func TestDovecotPollOnceMovesMailInUIDOrder(t *testing.T) {
	ctx := testContext(t)
	dv, view := startDovecot(t)
	deliver(t, dv,
		testMail("a@acme.example", "one", "first"),
		testMail("b@acme.example", "two", "second"),
		testMail("c@acme.example", "three", "third"))
	d := newRecordingDesk()
	p := newTestPoller(t, dv.Addr(), d, 0, nil)

	if n, err := p.PollOnce(ctx); err != nil || n != 3 {
		t.Fatalf("PollOnce = %d, %v; want 3, nil", n, err)
	}
	if n, err := p.PollOnce(ctx); err != nil || n != 0 {
		t.Fatalf("second PollOnce = %d, %v; want 0, nil", n, err)
	}
	all := []string{"a@acme.example", "b@acme.example", "c@acme.example"}
	checkEqual(t, "desk got", d.ids(), all)
	checkEqual(t, "desk UIDs", d.uids(), []uint32{1, 2, 3})
	checkEqual(t, "INBOX", view.ids(t, "INBOX"), nil)
	// Processed did not exist: the Poller created it.
	checkEqual(t, "Processed", view.ids(t, "Processed"), all)
	checkEqual(t, "Quarantine", view.ids(t, "Quarantine"), nil)
	if n, err := dv.Count(testUser, "Processed"); err != nil || n != 3 {
		t.Errorf("Count(Processed) = %d, %v; want 3", n, err)
	}
}

func TestDovecotRunIdlePicksUpNewMail(t *testing.T) {
	ctx := testContext(t)
	dv, view := startDovecot(t)
	d := newRecordingDesk()
	// An hour between polls: within the test's 30 s only IDLE can wake it.
	p := newTestPoller(t, dv.Addr(), d, 0, func(o *MailboxOptions) { o.PollInterval = time.Hour })
	waits := watchWaits(p)
	run := startRun(t, ctx, p)

	waitFor(t, ctx, waits, func(w waitCount) bool { return w.waits >= 1 })
	deliver(t, dv, testMail("idle@acme.example", "while idling", "hello"))
	waitFor(t, ctx, d.received, func(id string) bool { return id == "idle@acme.example" })
	// The next wait comes after the move.
	waitFor(t, ctx, waits, func(w waitCount) bool { return w.handled == 1 })
	if err := run.stop(); err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
	checkEqual(t, "desk got", d.ids(), []string{"idle@acme.example"})
	checkEqual(t, "INBOX", view.ids(t, "INBOX"), nil)
	checkEqual(t, "Processed", view.ids(t, "Processed"), []string{"idle@acme.example"})
}

func TestDovecotQuarantinedMailGoesToQuarantine(t *testing.T) {
	ctx := testContext(t)
	dv, view := startDovecot(t)
	deliver(t, dv, testMail("q@acme.example", "spam?", "x"), testMail("ok@acme.example", "hi", "y"))
	d := newRecordingDesk()
	d.quarantine["q@acme.example"] = true
	p := newTestPoller(t, dv.Addr(), d, 0, nil)

	if n, err := p.PollOnce(ctx); err != nil || n != 2 {
		t.Fatalf("PollOnce = %d, %v; want 2, nil", n, err)
	}
	checkEqual(t, "desk got", d.ids(), []string{"q@acme.example", "ok@acme.example"})
	checkEqual(t, "INBOX", view.ids(t, "INBOX"), nil)
	checkEqual(t, "Processed", view.ids(t, "Processed"), []string{"ok@acme.example"})
	checkEqual(t, "Quarantine", view.ids(t, "Quarantine"), []string{"q@acme.example"})
}
