package mailin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/postdesk/postdesk/desk"
)

// faultDesk is a recordingDesk that lists every Receive call, reports the
// database down for some Message-IDs, and can end the poll's context when
// it is given one.
type faultDesk struct {
	*recordingDesk
	mu     sync.Mutex
	tried  []string
	down   map[string]bool // Receive fails with desk.ErrUnavailable
	stopAt string          // Receive of this Message-ID calls stop first
	stop   context.CancelFunc
}

func newFaultDesk() *faultDesk {
	return &faultDesk{recordingDesk: newRecordingDesk(), down: map[string]bool{}}
}

func (d *faultDesk) Receive(ctx context.Context, in *desk.Inbound) (desk.Result, error) {
	d.mu.Lock()
	d.tried = append(d.tried, in.MessageID)
	down := d.down[in.MessageID]
	if in.MessageID == d.stopAt {
		d.stop()
	}
	d.mu.Unlock()
	if down {
		return desk.Result{}, fmt.Errorf("%w: disk I/O error", desk.ErrUnavailable)
	}
	return d.recordingDesk.Receive(ctx, in)
}

// triedIDs lists the Message-IDs Receive was called with, in order.
func (d *faultDesk) triedIDs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.tried)
}

func (d *faultDesk) up() {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.down)
}

// mailIDs are n Message-IDs, m1@acme.example to mn@acme.example.
func mailIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%d@acme.example", i+1)
	}
	return ids
}

// attachmentMail is a multipart mail with a base64 attachment of n bytes:
// slower to parse than its neighbours, so that parsing ends out of order.
func attachmentMail(id string, n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i * 7)
	}
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	b.WriteString("From: Alice <alice@acme.example>\r\nTo: support@example.com\r\nSubject: logs\r\n" +
		"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\nMessage-ID: <" + id + ">\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=app.log\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	return []byte(b.String())
}

// checkNoPipeline fails when a goroutine of the poller's last group is
// still running.
func checkNoPipeline(t *testing.T, p *Poller) {
	t.Helper()
	if n := p.inFlight.Load(); n != 0 {
		t.Errorf("%d goroutines of the group outlived it", n)
	}
}

func TestPipelineRecordsWhileTheFetchStreams(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	px := startProxy(t, s.addr)
	const marker = "HOLD-HERE-0123456789"
	ids := mailIDs(40)
	var mails [][]byte
	for i, id := range ids {
		switch {
		case i == 30:
			mails = append(mails, testMail(id, "held", padded(300, "x")+marker+padded(300, "y")))
		case i%7 == 0:
			mails = append(mails, attachmentMail(id, 64<<10))
		default:
			mails = append(mails, testMail(id, "hello", padded(i*50, "z")))
		}
	}
	s.appendMail(t, "INBOX", mails...)
	d := newRecordingDesk()
	p := newTestPoller(t, px.addr(), d, 0, nil)

	// The server's answer to the FETCH stops in mail 31 until the desk got
	// mail 1: the poll can only end if recording starts while it streams.
	release := px.holdAt(marker)
	var wg sync.WaitGroup
	var n int
	var err error
	wg.Go(func() {
		defer recoverTest(t)
		n, err = p.PollOnce(ctx)
	})
	t.Cleanup(func() { release(); wg.Wait() })
	waitFor(t, ctx, d.received, func(id string) bool { return id == ids[0] })
	release()
	wg.Wait()

	if err != nil || n != len(ids) {
		t.Fatalf("PollOnce = %d, %v; want %d, nil", n, err, len(ids))
	}
	checkNoPipeline(t, p)
	checkEqual(t, "desk got", d.ids(), ids)
	var uids []uint32
	for i := range ids {
		uids = append(uids, uint32(i+1))
	}
	checkEqual(t, "desk UIDs", d.uids(), uids)
	checkEqual(t, "INBOX", s.ids(t, "INBOX"), nil)
	checkEqual(t, "Processed", s.ids(t, "Processed"), ids)
}

func TestPipelineManyBatchesInUIDOrder(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	ids := mailIDs(2*fetchBatch + 3)
	var mails [][]byte
	for _, id := range ids {
		mails = append(mails, testMail(id, "hello", id))
	}
	s.appendMail(t, "INBOX", mails...)
	d := newRecordingDesk()
	// A limit of 20 mails' bytes: each batch falls into several groups.
	p := newTestPoller(t, s.addr, d, int64(20*len(mails[0])), nil)
	if n, err := p.PollOnce(ctx); err != nil || n != len(ids) {
		t.Fatalf("PollOnce = %d, %v; want %d, nil", n, err, len(ids))
	}
	checkNoPipeline(t, p)
	checkEqual(t, "desk got", d.ids(), ids)
	checkEqual(t, "INBOX", s.ids(t, "INBOX"), nil)
	checkEqual(t, "Processed", s.ids(t, "Processed"), ids)
}

func TestPipelineStopsTheGroup(t *testing.T) {
	ids := mailIDs(8)
	tests := []struct {
		name string
		// setup arranges the fault; stop ends the poll's context.
		setup   func(d *faultDesk, stop context.CancelFunc)
		wantErr func(error) bool
		// tried is what the desk is asked, in order; the first moved of
		// them stay moved.
		tried, moved []string
	}{{
		name:    "database down at the third mail: the rest is not tried, the first two are moved",
		setup:   func(d *faultDesk, _ context.CancelFunc) { d.down[ids[2]] = true },
		wantErr: func(err error) bool { return errors.Is(err, desk.ErrUnavailable) },
		tried:   ids[:3],
		moved:   ids[:2],
	}, {
		name:    "stop while the third mail is recorded: it is finished and moved, the rest is not started",
		setup:   func(d *faultDesk, stop context.CancelFunc) { d.stopAt, d.stop = ids[2], stop },
		wantErr: func(err error) bool { return errors.Is(err, context.Canceled) },
		tried:   ids[:3],
		moved:   ids[:3],
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, serverConfig{})
			var mails [][]byte
			for _, id := range ids {
				mails = append(mails, testMail(id, "hello", padded(2000, id)))
			}
			s.appendMail(t, "INBOX", mails...)
			d := newFaultDesk()
			ctx, cancel := context.WithCancel(testContext(t))
			tt.setup(d, cancel)
			// One attempt quarantines: a failure counted for the mail that
			// met the outage, or for those not tried, would show.
			p := newTestPoller(t, s.addr, d, 0, func(o *MailboxOptions) { o.MaxAttempts = 1 })

			n, err := p.PollOnce(ctx)
			if !tt.wantErr(err) || n != len(tt.moved) {
				t.Fatalf("PollOnce = %d, %v; want %d and the fault's error", n, err, len(tt.moved))
			}
			checkNoPipeline(t, p)
			checkEqual(t, "desk tried", d.triedIDs(), tt.tried)
			checkEqual(t, "Processed", s.ids(t, "Processed"), tt.moved)
			checkEqual(t, "INBOX", s.ids(t, "INBOX"), ids[len(tt.moved):])

			d.up()
			n, err = p.PollOnce(testContext(t))
			if err != nil || n != len(ids)-len(tt.moved) {
				t.Fatalf("next PollOnce = %d, %v; want %d, nil", n, err, len(ids)-len(tt.moved))
			}
			checkEqual(t, "Processed", s.ids(t, "Processed"), ids)
			checkEqual(t, "Quarantine", s.ids(t, "Quarantine"), nil)
		})
	}
}

func TestPipelineCutMidFetchLosesNothing(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	px := startProxy(t, s.addr)
	const marker = "CUT-HERE-0123456789"
	ids := mailIDs(6)
	var mails [][]byte
	for i, id := range ids {
		body := padded(3000, id)
		if i == 3 {
			body = padded(1500, id) + marker + padded(1500, id)
		}
		mails = append(mails, testMail(id, "hello", body))
	}
	s.appendMail(t, "INBOX", mails...)
	d := newRecordingDesk()
	p := newTestPoller(t, px.addr(), d, 0, nil)

	px.cutAt(marker)
	if n, err := p.PollOnce(ctx); err == nil {
		t.Fatalf("poll through a cut connection = %d, nil; want an error", n)
	}
	checkNoPipeline(t, p)
	before := d.ids()
	t.Logf("recorded before the cut: %v", before)
	if !slices.Equal(before, ids[:len(before)]) || len(before) > 3 {
		t.Errorf("desk got %v before the cut, want a prefix of %v", before, ids[:3])
	}
	// The connection is gone: nothing could be moved.
	checkEqual(t, "INBOX after the cut", s.ids(t, "INBOX"), ids)

	px.cutAt("")
	if n, err := p.PollOnce(ctx); err != nil || n != len(ids) {
		t.Fatalf("poll after reconnect = %d, %v; want %d, nil", n, err, len(ids))
	}
	checkNoPipeline(t, p)
	// Those recorded before the cut come again: the real desk knows them
	// as duplicates.
	checkEqual(t, "desk got", d.ids(), append(before, ids...))
	checkEqual(t, "INBOX", s.ids(t, "INBOX"), nil)
	checkEqual(t, "Processed", s.ids(t, "Processed"), ids)
}

// pollGroup connects p, selects the folder and runs one group as if the
// server had announced the sizes given.
func pollGroup(t *testing.T, ctx context.Context, p *Poller, group []sized) (int, error) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	c, err := p.connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.unhandled(c); err != nil {
		t.Fatal(err)
	}
	return p.group(ctx, c, group)
}

func TestPipelineMailLargerThanTheServerSaid(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	big := testMail("big@acme.example", "core dump", padded(4000, "dump"))
	s.appendMail(t, "INBOX", testMail("a@acme.example", "one", "x"), big, testMail("b@acme.example", "two", "y"))
	d := newRecordingDesk()
	var over oversized
	p := newTestPoller(t, s.addr, d, 2000, func(o *MailboxOptions) { o.OnOversize = over.hook })

	n, err := pollGroup(t, ctx, p, []sized{{1, 100}, {2, 100}, {3, 100}})
	if err != nil || n != 3 {
		t.Fatalf("group = %d, %v; want 3, nil", n, err)
	}
	checkNoPipeline(t, p)
	checkEqual(t, "desk got", d.ids(), []string{"a@acme.example", "b@acme.example"})
	if len(d.big) != 1 || d.big[0].MessageID != "big@acme.example" || strings.Contains(string(d.big[0].Raw), "dump line") {
		t.Errorf("TooLarge got %+v, want the header of big@acme.example alone", d.big)
	}
	checkEqual(t, "OnOversize calls", over.calls, [][2]int64{{2, int64(len(big))}})
	checkEqual(t, "Quarantine", s.ids(t, "Quarantine"), []string{"big@acme.example"})
	checkEqual(t, "Processed", s.ids(t, "Processed"), []string{"a@acme.example", "b@acme.example"})
}

func TestPipelineSkipsMailExpungedMeanwhile(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	// More than leadBytes after the gap: the FETCH must read on past the
	// lead while the desk waits for the mail that never comes.
	ids := mailIDs(2 + leadBytes/(1<<20) + 2)
	mails := [][]byte{testMail(ids[0], "one", "x"), testMail(ids[1], "gone", "y")}
	for _, id := range ids[2:] {
		mails = append(mails, testMail(id, "big", padded(1<<20, id)))
	}
	s.appendMail(t, "INBOX", mails...)
	c := s.client(t)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	if err := c.Store(imap.UIDSetNum(2), store, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.UIDExpunge(imap.UIDSetNum(2)).Close(); err != nil {
		t.Fatal(err)
	}
	d := newRecordingDesk()
	p := newTestPoller(t, s.addr, d, 0, nil)

	var group []sized
	for i := range ids {
		group = append(group, sized{imap.UID(i + 1), 100})
	}
	n, err := pollGroup(t, ctx, p, group)
	want := append([]string{ids[0]}, ids[2:]...)
	if err != nil || n != len(want) {
		t.Fatalf("group = %d, %v; want %d, nil", n, err, len(want))
	}
	checkNoPipeline(t, p)
	checkEqual(t, "desk got", d.ids(), want)
	checkEqual(t, "Processed", s.ids(t, "Processed"), want)
}
