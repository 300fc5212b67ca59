package mailout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/internal/smtpsink"
	"github.com/postdesk/postdesk/store"
)

// TestEachMailIsRecordedBeforeTheNextIsSent: when the server sees MAIL
// FROM for the n-th mail, the n-1 mails before are already recorded as
// sent, with the bytes the server got, so that a crash re-sends at most the
// one mail in flight.
func TestEachMailIsRecordedBeforeTheNextIsSent(t *testing.T) {
	const n = 40
	db := openDB(t)
	late := make(chan string, n)
	srv := startScripted(t, smtpsink.Script{Mail: func(k int) error {
		rows, err := db.Outbox(context.Background(), 0)
		if err != nil {
			return err
		}
		sent := 0
		for _, r := range rows {
			if r.Status == store.OutboxSent {
				sent++
			}
		}
		if sent != k-1 {
			late <- fmt.Sprintf("at MAIL FROM of mail %d, %d mails are recorded sent, want %d", k, sent, k-1)
		}
		return nil
	}})
	s, _ := newSender(t, db, srv, nil)
	c := newCase(t, db, "en")
	var items []*store.OutboxItem
	for i := range n {
		items = append(items, enqueue(t, db, confirmation(c, fmt.Sprintf("user%d@acme.example", i))))
	}
	bad := enqueue(t, db, confirmation(c, "bad address"))

	flush(t, s, Stats{Sent: n, Failed: 1})

	close(late)
	for msg := range late {
		t.Error(msg)
	}
	_, mails, _, accepted := seen(srv)
	if mails != n || len(accepted) != n {
		t.Fatalf("the server saw %d transactions and accepted %d mails, want %d", mails, len(accepted), n)
	}
	for i, it := range items {
		r := row(t, db, it.ID)
		if r.Status != store.OutboxSent || r.Attempts != 1 || r.ClaimedBy != "" || !bytes.Equal(r.Raw, accepted[i]) {
			t.Errorf("row %d: %s after %d attempts, claimed by %q, %d bytes; want sent once, unclaimed, with the bytes the server got",
				it.ID, r.Status, r.Attempts, r.ClaimedBy, len(r.Raw))
		}
	}
	if r := row(t, db, bad.ID); r.Status != store.OutboxFailed {
		t.Errorf("bad row: %s, want failed", r.Status)
	}
}

// TestDroppedAfterDataIsRetried: a server that reads the whole message and
// drops the connection before its reply. The mail may or may not have been
// taken: it is retried after RetryFirst and then recorded as sent once. The
// server sees it twice, as any SMTP client without a reply would make it
// (RFC 5321 §4.1.1.4, RFC 1047).
func TestDroppedAfterDataIsRetried(t *testing.T) {
	db := openDB(t)
	srv := startScripted(t, smtpsink.Script{AfterData: func(n int) error {
		if n == 1 {
			return smtpsink.ErrDrop
		}
		return nil
	}})
	s, clk := newSender(t, db, srv, nil)
	it := enqueue(t, db, confirmation(newCase(t, db, "en")))

	flush(t, s, Stats{Retried: 1})
	r := row(t, db, it.ID)
	if r.Status != store.OutboxQueued || r.Attempts != 1 || !r.NextAttemptAt.Equal(t0.Add(time.Minute)) ||
		!strings.Contains(r.LastError, "end of DATA") {
		t.Errorf("row: %s, %d attempts, next %v, error %q; want queued for a retry at %v",
			r.Status, r.Attempts, r.NextAttemptAt, r.LastError, t0.Add(time.Minute))
	}

	clk.Advance(time.Minute)
	flush(t, s, Stats{Sent: 1})
	flush(t, s, Stats{})

	r = row(t, db, it.ID)
	_, mails, data, accepted := seen(srv)
	if r.Status != store.OutboxSent || r.Attempts != 2 || len(accepted) != 1 || !bytes.Equal(r.Raw, accepted[0]) {
		t.Errorf("row: %s after %d attempts; the server accepted %d; want sent once on the second attempt",
			r.Status, r.Attempts, len(accepted))
	}
	id := []byte("Message-ID: <" + it.MessageID + ">")
	if mails != 2 || len(data) != 2 || !bytes.Contains(data[0], id) || !bytes.Contains(data[1], id) {
		t.Errorf("the server saw %d transactions and %d messages, want the same mail twice", mails, len(data))
	}
}

// TestStopDuringData: ctx ends while the server is receiving the first
// mail's DATA (its Data blocks until the test lets it go; the mail is
// larger than the socket buffers, so the client is still writing). The
// mail is finished, its reply read and recorded; the second is not
// started and is given back, due as it was.
func TestStopDuringData(t *testing.T) {
	db := openDB(t)
	entered, release := make(chan int, 2), make(chan struct{})
	srv := startScripted(t, smtpsink.Script{BeforeData: func(n int, done <-chan struct{}) {
		entered <- n
		select {
		case <-release:
		case <-done:
		}
	}})
	s, _ := newSender(t, db, srv, nil)
	c := newCase(t, db, "en")
	file := storeFile(t, db, c, "core.dump", "application/octet-stream", bytes.Repeat([]byte("0123456789abcdef"), 512<<10))
	first := enqueue(t, db, &store.OutboxItem{Kind: store.MailReply, CaseID: c, To: []string{"alice@acme.example"},
		Notice: store.Notice{Case: c, Tag: "[Case #1]", Subject: "ELB unreachable", Author: "sam@example.com",
			Body: "The dump you asked for.", Attachments: []store.Attachment{file}}})
	second := enqueue(t, db, confirmation(c))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := flushAsync(s, ctx)
	if n := await(t, entered, "DATA"); n != 1 {
		t.Fatalf("DATA of mail %d first", n)
	}
	cancel()
	close(release)
	got := await(t, res, "Flush after the stop")

	if !errors.Is(got.err, context.Canceled) || got.st != (Stats{Sent: 1}) {
		t.Errorf("Flush = %+v, %v; want 1 sent and the context's end", got.st, got.err)
	}
	_, mails, _, accepted := seen(srv)
	if mails != 1 || len(accepted) != 1 {
		t.Fatalf("the server saw %d transactions and accepted %d mails, want the first only", mails, len(accepted))
	}
	r := row(t, db, first.ID)
	if r.Status != store.OutboxSent || r.Attempts != 1 || !bytes.Equal(r.Raw, accepted[0]) {
		t.Errorf("first row: %s after %d attempts; want recorded sent once with the bytes the server got", r.Status, r.Attempts)
	}
	if len(accepted[0]) < 8<<20 {
		t.Errorf("the server got %d bytes, want the whole mail (over 8 MiB)", len(accepted[0]))
	}
	queuedUnclaimed(t, db, second.ID, 0)
}

// TestStopWithoutReply: ctx ends while the server holds the reply to DATA
// past the grace (shortened to nothing here). The mail may have been
// taken: it stays queued, unclaimed and uncounted, to be sent again (at
// least once), and no other mail is started.
func TestStopWithoutReply(t *testing.T) {
	db := openDB(t)
	entered := make(chan int, 2)
	srv := startScripted(t, smtpsink.Script{BeforeData: func(n int, done <-chan struct{}) {
		entered <- n
		<-done
	}})
	s, _ := newSender(t, db, srv, nil)
	s.stopGrace = 0
	c := newCase(t, db, "en")
	first := enqueue(t, db, confirmation(c))
	second := enqueue(t, db, confirmation(c))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := flushAsync(s, ctx)
	await(t, entered, "DATA")
	cancel()
	got := await(t, res, "Flush after the stop")

	if !errors.Is(got.err, context.Canceled) || got.st != (Stats{}) {
		t.Errorf("Flush = %+v, %v; want nothing counted and the context's end", got.st, got.err)
	}
	if _, mails, _, _ := seen(srv); mails != 1 {
		t.Errorf("the server saw %d transactions, want 1", mails)
	}
	queuedUnclaimed(t, db, first.ID, 0)
	queuedUnclaimed(t, db, second.ID, 0)
}

// TestStopBeforeData: ctx ends while the server answers MAIL FROM. The
// transaction is reset before DATA: nothing of the mail goes out, and it
// stays queued, unclaimed and uncounted.
func TestStopBeforeData(t *testing.T) {
	db := openDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := startScripted(t, smtpsink.Script{Mail: func(int) error {
		cancel()
		return nil
	}})
	s, _ := newSender(t, db, srv, nil)
	c := newCase(t, db, "en")
	first := enqueue(t, db, confirmation(c))
	second := enqueue(t, db, confirmation(c))

	st, err := s.Flush(ctx)

	if !errors.Is(err, context.Canceled) || st != (Stats{}) {
		t.Errorf("Flush = %+v, %v; want nothing counted and the context's end", st, err)
	}
	if _, mails, data, _ := seen(srv); mails != 1 || len(data) != 0 {
		t.Errorf("the server saw %d transactions and %d messages, want 1 and none", mails, len(data))
	}
	queuedUnclaimed(t, db, first.ID, 0)
	queuedUnclaimed(t, db, second.ID, 0)
}
