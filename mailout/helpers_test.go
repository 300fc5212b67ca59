package mailout

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/internal/smtpsink"
	"github.com/postdesk/postdesk/internal/testclock"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/templates"
)

// t0 is the fixed time of every test.
var t0 = testclock.T0

const desk = "support@example.com"

var (
	tmplOnce sync.Once
	tmplSet  *templates.Set
	tmplErr  error
)

func loadTemplates(tb testing.TB) *templates.Set {
	tb.Helper()
	tmplOnce.Do(func() { tmplSet, tmplErr = templates.New("") })
	if tmplErr != nil {
		tb.Fatal(tmplErr)
	}
	return tmplSet
}

func openDB(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "t.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func startSink(tb testing.TB) *smtpsink.Sink {
	tb.Helper()
	return startSinkWith(tb, smtpsink.Options{})
}

// startSinkWith starts a sink shaped by o (a script, TLS), closed when the
// test ends.
func startSinkWith(tb testing.TB, o smtpsink.Options) *smtpsink.Sink {
	tb.Helper()
	sink, err := smtpsink.StartWith(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sink.Close() })
	return sink
}

// startScripted starts a sink that answers as sc says.
func startScripted(tb testing.TB, sc smtpsink.Script) *smtpsink.Sink {
	tb.Helper()
	return startSinkWith(tb, smtpsink.Options{Script: sc})
}

// seen reports what the sink saw so far: the EHLO names, the MAIL FROM
// commands, every message read whatever the answer, and the messages
// accepted.
func seen(sink *smtpsink.Sink) (helos []string, mails int, data, accepted [][]byte) {
	sn := sink.Seen()
	for _, m := range sink.Messages() {
		accepted = append(accepted, m.Data)
	}
	return sn.Helos, sn.Mails, sn.Data, accepted
}

// newSender returns a Sender on db that sends to sink in plain text, with a
// fake clock at t0; change adjusts the options.
func newSender(tb testing.TB, db *store.DB, sink *smtpsink.Sink, change func(*Options)) (*Sender, *testclock.Clock) {
	tb.Helper()
	clk := testclock.Start(t0)
	o := Options{
		From: desk, Name: "Example Support", Host: "127.0.0.1", Port: 25, TLS: TLSNone,
		Templates: loadTemplates(tb), Now: clk.Now, Boundary: "postdesk-test-boundary",
	}
	if sink != nil {
		o.Host, o.Port = sink.Host(), sink.Port()
	}
	if change != nil {
		change(&o)
	}
	s, err := New(db, o)
	if err != nil {
		tb.Fatal(err)
	}
	return s, clk
}

// newCase stores an open case and returns its number.
func newCase(tb testing.TB, db *store.DB, lang string) int64 {
	tb.Helper()
	c := &store.Case{
		Subject: "ELB unreachable", Status: "open", Severity: "high", Type: "technical", Language: lang,
		Requester: "alice@acme.example", CreatedAt: t0, UpdatedAt: t0, FirstResponseDue: t0.Add(4 * time.Hour),
	}
	err := db.Tx(context.Background(), func(tx *store.Tx) error { return tx.InsertCase(c) })
	if err != nil {
		tb.Fatal(err)
	}
	return c.ID
}

// storeFile keeps data as an attachment of a message on the case and
// returns how a Notice refers to it.
func storeFile(tb testing.TB, db *store.DB, caseID int64, name, ctype string, data []byte) store.Attachment {
	tb.Helper()
	m := &store.Message{
		CaseID: caseID, Direction: "out", Kind: "agent", From: "agent@example.com", CreatedAt: t0,
		Attachments: []store.Attachment{{Filename: name, ContentType: ctype, Data: data}},
	}
	if err := db.Tx(context.Background(), func(tx *store.Tx) error { return tx.InsertMessage(m) }); err != nil {
		tb.Fatal(err)
	}
	a := m.Attachments[0]
	a.Data = nil
	return a
}

var idSeq struct {
	sync.Mutex
	n int
}

// enqueue stores it (filling the Message-ID and the creation time when
// unset) and returns it with its ID.
func enqueue(tb testing.TB, db *store.DB, it *store.OutboxItem) *store.OutboxItem {
	tb.Helper()
	if it.MessageID == "" {
		idSeq.Lock()
		idSeq.n++
		it.MessageID = fmt.Sprintf("pd.%d.test@example.com", idSeq.n)
		idSeq.Unlock()
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = t0
	}
	if it.Lang == "" {
		it.Lang = "en"
	}
	if err := db.Tx(context.Background(), func(tx *store.Tx) error { return tx.Enqueue(it) }); err != nil {
		tb.Fatal(err)
	}
	return it
}

// confirmation is a queued confirmation of case c.
func confirmation(c int64, to ...string) *store.OutboxItem {
	if len(to) == 0 {
		to = []string{"alice@acme.example"}
	}
	return &store.OutboxItem{
		Kind: store.MailConfirmation, CaseID: c, To: to,
		Notice: store.Notice{Case: c, Tag: fmt.Sprintf("[Case #%d]", c), Subject: "ELB unreachable",
			Status: "open", Severity: "high", Type: "technical", Requester: "alice@acme.example",
			FirstResponseDue: t0.Add(4 * time.Hour)},
	}
}

func row(tb testing.TB, db *store.DB, id int64) *store.OutboxItem {
	tb.Helper()
	it, err := db.OutboxItem(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return it
}

// flushed is what a Flush run in a goroutine returned.
type flushed struct {
	st  Stats
	err error
}

// flushAsync runs s.Flush(ctx) in a goroutine; its result arrives on the
// channel.
func flushAsync(s *Sender, ctx context.Context) <-chan flushed {
	ch := make(chan flushed, 1)
	go func() {
		st, err := s.Flush(ctx)
		ch <- flushed{st, err}
	}()
	return ch
}

// await returns the next value of ch; it fails the test when none comes
// within waitCtx (a guard against hanging, not a timing assertion).
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-waitCtx(t).Done():
		t.Fatalf("%s: nothing came", what)
	}
	panic("unreachable")
}

// queuedUnclaimed fails the test unless row id is queued, unclaimed and
// was tried attempts times.
func queuedUnclaimed(t *testing.T, db *store.DB, id int64, attempts int) {
	t.Helper()
	r := row(t, db, id)
	if r.Status != store.OutboxQueued || r.ClaimedBy != "" || r.Attempts != attempts {
		t.Errorf("row %d: %s, claimed by %q, %d attempts; want queued, unclaimed, %d attempts",
			id, r.Status, r.ClaimedBy, r.Attempts, attempts)
	}
}
