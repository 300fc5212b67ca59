package mailin

import (
	"bytes"
	"context"
	"testing"

	"github.com/postdesk/postdesk/desk"
)

func TestOversizeMailReachesTheDeskAsItsHeader(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	big := testMail("big@acme.example", "core dump", string(bytes.Repeat([]byte("dump line\r\n"), 400)))
	s.appendMail(t, "INBOX", big)
	d := newRecordingDesk()
	p := newTestPoller(t, s.addr, d, 2000, nil)
	if n, err := p.PollOnce(ctx); n != 1 || err != nil {
		t.Fatalf("PollOnce = %d, %v", n, err)
	}
	if len(d.big) != 1 {
		t.Fatalf("TooLarge called %d times", len(d.big))
	}
	in := d.big[0]
	if in.MessageID != "big@acme.example" || in.From != "alice@acme.example" || in.Subject != "core dump" {
		t.Errorf("header read as %+v", in)
	}
	if bytes.Contains(in.Raw, []byte("dump line")) {
		t.Error("the body was downloaded")
	}
	checkEqual(t, "Quarantine", s.ids(t, "Quarantine"), []string{"big@acme.example"})
}

func TestDeskOutageLeavesMailUncounted(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	s.appendMail(t, "INBOX", testMail("a@acme.example", "one", "x"))
	d := newRecordingDesk()
	d.down = true
	p := newTestPoller(t, s.addr, d, 0, func(o *MailboxOptions) { o.MaxAttempts = 2 })
	for i := 0; i < 4; i++ {
		if _, err := p.PollOnce(ctx); err == nil {
			t.Fatalf("poll %d during the outage succeeded", i+1)
		}
	}
	checkEqual(t, "INBOX during the outage", s.ids(t, "INBOX"), []string{"a@acme.example"})
	checkEqual(t, "Quarantine", s.ids(t, "Quarantine"), nil)
	d.mu.Lock()
	d.down = false
	d.mu.Unlock()
	if n, err := p.PollOnce(ctx); n != 1 || err != nil {
		t.Fatalf("after the outage: %d, %v", n, err)
	}
	checkEqual(t, "Processed", s.ids(t, "Processed"), []string{"a@acme.example"})
}

// stoppingDesk ends the poll's context while it records a message, as a
// SIGTERM arriving mid-message does.
type stoppingDesk struct {
	*recordingDesk
	stop context.CancelFunc
}

func (d stoppingDesk) Receive(ctx context.Context, in *desk.Inbound) (desk.Result, error) {
	d.stop()
	if ctx.Err() != nil {
		return desk.Result{}, ctx.Err()
	}
	return d.recordingDesk.Receive(ctx, in)
}

func TestStopFinishesTheMessageInHand(t *testing.T) {
	s := startServer(t, serverConfig{})
	s.appendMail(t, "INBOX", testMail("first@acme.example", "one", "x"), testMail("second@acme.example", "two", "y"))
	ctx, cancel := context.WithCancel(testContext(t))
	d := stoppingDesk{recordingDesk: newRecordingDesk(), stop: cancel}
	p := newTestPoller(t, s.addr, d, 0, nil)
	n, err := p.PollOnce(ctx)
	if n != 1 {
		t.Fatalf("PollOnce = %d, %v; want the message in hand handled", n, err)
	}
	checkEqual(t, "desk got", d.ids(), []string{"first@acme.example"})
	checkEqual(t, "Processed", s.ids(t, "Processed"), []string{"first@acme.example"})
	checkEqual(t, "INBOX", s.ids(t, "INBOX"), []string{"second@acme.example"})
}
