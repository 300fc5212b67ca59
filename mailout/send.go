package mailout

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"sync"
	"time"

	"github.com/postdesk/postdesk/store"
)

const (
	// batch is how many due rows one claim takes.
	batch = 100
	// claimLease is how long a claimed row is left alone by other senders
	// (DESIGN §10: another node's claims lapse within a minute). The holder
	// renews its claims every renewEvery while it works through them, so
	// that a slow batch is not taken over.
	claimLease = time.Minute
	renewEvery = claimLease / 3
	// renewCheck is how often, while a Flush runs, a goroutine looks
	// whether the claims are due for renewal (a single mail can take
	// longer than claimLease to upload).
	renewCheck = 5 * time.Second
	// commandTimeout bounds connecting, the greeting, EHLO, STARTTLS, AUTH
	// and every command.
	commandTimeout = time.Minute
	// minRate is the slowest upload tolerated, in bytes per second, on top
	// of commandTimeout for each message.
	minRate = 32 << 10
	// stopGrace bounds the wait for the server's reply to the mail in
	// flight once the context of a Flush ends. It is shorter than what is
	// left of a lease renewed on time (claimLease - renewEvery -
	// renewCheck), so the claim holds until the reply is recorded.
	stopGrace = 30 * time.Second
)

// Flush sends every mail due when it begins over one SMTP connection and
// reports counts; mail queued meanwhile waits for the next Flush (Run's
// next turn, or its Kick). Each mail the server accepts is recorded as
// sent before the next one is begun, so that a crash sends again at most
// the one mail in flight.
// Rows that cannot be built are failed without connecting; when the server
// cannot be reached, or the connection breaks, the remaining rows are
// queued again for later rather than dialled for one by one.
//
// When ctx ends, no further mail is started; the mail whose transaction has
// begun is finished (nothing is cut in the middle of DATA), its reply
// awaited for at most stopGrace and recorded. Claimed rows not reached are
// given back, due as they were. Flush returns an error when the database
// fails or ctx ends.
func (s *Sender) Flush(ctx context.Context) (Stats, error) {
	s.flush.Lock()
	defer s.flush.Unlock()
	f := &flushRun{s: s}
	defer f.hangUp()
	defer f.keepClaims(ctx)()
	start := s.o.Now()
	for {
		// Due by start, claimed until claimLease from now: a row retried
		// in this flush is not taken again by it.
		now := s.o.Now()
		items, err := s.db.ClaimOutbox(ctx, s.o.Node, start, claimLease+max(now.Sub(start), 0), batch)
		if err != nil {
			return f.stats, err
		}
		if len(items) == 0 {
			return f.stats, nil
		}
		f.claimed(items, now)
		if err := f.work(ctx, items); err != nil {
			return f.stats, err
		}
	}
}

// flushRun is the state of one Flush.
type flushRun struct {
	s     *Sender
	conn  *conn
	down  error // why no mail can go out in this flush any more
	stats Stats

	claimMu sync.Mutex
	ids     []int64   // the batch claimed last
	renewed time.Time // when its claim was taken or renewed last
}

// work delivers the claimed items one by one. When ctx ends or the
// database fails, the items not done are given back and the error is
// returned.
func (f *flushRun) work(ctx context.Context, items []*store.OutboxItem) error {
	for i, it := range items {
		err := ctx.Err()
		if err == nil {
			f.renewIfDue(ctx)
			err = f.deliver(ctx, it)
		}
		if err != nil {
			f.release(ctx, items[i:])
			return err
		}
	}
	return nil
}

// deliver builds, sends and records one row. Only a database failure or the
// end of ctx is returned; the row is then still queued.
func (f *flushRun) deliver(ctx context.Context, it *store.OutboxItem) error {
	m, err := f.s.build(ctx, it)
	var perm *permanentError
	if errors.As(err, &perm) {
		return f.fail(ctx, it, err.Error())
	}
	if err != nil {
		return err
	}
	if f.conn == nil && f.down == nil {
		f.conn, err = f.s.dial(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			f.down = fmt.Errorf("connect to %s: %w", net.JoinHostPort(f.s.o.Host, strconv.Itoa(f.s.o.Port)), err)
		}
	}
	if f.down != nil {
		return f.retry(ctx, it, f.down.Error())
	}
	err = f.conn.send(ctx, f.s.o.From, m.rcpts, m.raw)
	if err == nil {
		return f.sent(ctx, it, m.raw)
	}
	if f.conn.broken {
		f.down = fmt.Errorf("the connection failed: %w", err)
		f.hangUp()
	}
	if !isReply(err) && ctx.Err() != nil {
		// Stopped before DATA, or no reply within stopGrace: the mail
		// was not sent, or may have been; it stays queued either way
		// (sent at least once).
		return ctx.Err()
	}
	if temporary(err) {
		return f.retry(ctx, it, err.Error())
	}
	return f.fail(ctx, it, err.Error())
}

// The database is written with context.WithoutCancel: once the server has
// answered, the answer is recorded even when shutdown has begun, so that a
// mail is not sent twice.

// sent records a mail the server accepted, before anything else is sent.
func (f *flushRun) sent(ctx context.Context, it *store.OutboxItem, raw []byte) error {
	if err := f.s.db.MarkSent(context.WithoutCancel(ctx), it.ID, raw, f.s.o.Now()); err != nil {
		f.s.log.Error("outbox mail sent but not recorded; it will be sent again", logAttrs(it, "sent", err)...)
		return err
	}
	f.stats.Sent++
	if o := f.s.o.Observer; o != nil {
		o.Sent(it.Kind)
	}
	f.s.log.Info("outbox mail", logAttrs(it, "sent", nil)...)
	return nil
}

func (f *flushRun) retry(ctx context.Context, it *store.OutboxItem, reason string) error {
	now := f.s.o.Now()
	if age := now.Sub(it.CreatedAt); age > f.s.o.GiveUpAfter {
		return f.fail(ctx, it, fmt.Sprintf("gave up after %s: %s", age.Round(time.Minute), reason))
	}
	next := now.Add(f.s.backoff(it.Attempts + 1))
	if err := f.s.db.MarkRetry(context.WithoutCancel(ctx), it.ID, next, reason); err != nil {
		return err
	}
	f.stats.Retried++
	if o := f.s.o.Observer; o != nil {
		o.Failed(it.Kind, false)
	}
	f.s.log.Warn("outbox mail", append(logAttrs(it, "retry", errors.New(reason)), "next", next)...)
	return nil
}

func (f *flushRun) fail(ctx context.Context, it *store.OutboxItem, reason string) error {
	var then func(*store.Tx) error
	if on := f.s.o.OnFailure; on != nil {
		then = func(tx *store.Tx) error { return on(tx, it, reason) }
	}
	if err := f.s.db.MarkFailed(context.WithoutCancel(ctx), it.ID, f.s.o.Now(), reason, then); err != nil {
		return err
	}
	f.stats.Failed++
	if o := f.s.o.Observer; o != nil {
		o.Failed(it.Kind, true)
	}
	f.s.log.Error("outbox mail", logAttrs(it, "failed", errors.New(reason))...)
	return nil
}

// logAttrs are the keys of the one log line per mail. Never the body, never
// a password.
func logAttrs(it *store.OutboxItem, outcome string, err error) []any {
	attrs := []any{"kind", it.Kind, "case", it.CaseID, "msgid", it.MessageID, "outcome", outcome,
		"attempt", it.Attempts + 1}
	if err != nil {
		attrs = append(attrs, "error", err.Error())
	}
	return attrs
}

// hangUp ends the connection of this flush, if any.
func (f *flushRun) hangUp() {
	if f.conn != nil {
		f.conn.close()
		f.conn = nil
	}
}

// claimed notes the batch just claimed at now.
func (f *flushRun) claimed(items []*store.OutboxItem, now time.Time) {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	f.claimMu.Lock()
	f.ids, f.renewed = ids, now
	f.claimMu.Unlock()
}

// renewIfDue extends the claim on the batch at work when renewEvery has
// passed since it was taken or renewed. The rows done are no longer
// claimed and are left as they are. A failure is logged: the next write
// of the flush meets it too.
func (f *flushRun) renewIfDue(ctx context.Context) {
	f.claimMu.Lock()
	defer f.claimMu.Unlock()
	now := f.s.o.Now()
	if len(f.ids) == 0 || now.Sub(f.renewed) < renewEvery {
		return
	}
	if _, err := f.s.db.RenewClaims(context.WithoutCancel(ctx), f.s.o.Node, f.ids, now.Add(claimLease)); err != nil {
		f.s.log.Warn("outbox claims not renewed", "node", f.s.o.Node, "error", err)
		return
	}
	f.renewed = now
}

// keepClaims renews the claims from a goroutine while a single mail takes
// long to send, until ctx ends or the returned func is called (which waits
// for the goroutine).
func (f *flushRun) keepClaims(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer func() {
			if p := recover(); p != nil {
				f.s.panicked(PanicClaims)
				f.s.log.Error("panic renewing outbox claims", "panic", p)
			}
		}()
		t := time.NewTicker(renewCheck)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-t.C:
				f.renewIfDue(ctx)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// release gives back the claims on rows this flush did not finish.
func (f *flushRun) release(ctx context.Context, items []*store.OutboxItem) {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	if err := f.s.db.ReleaseRows(context.WithoutCancel(ctx), f.s.o.Node, ids); err != nil {
		f.s.log.Error("outbox claims not given back; they lapse", "node", f.s.o.Node, "rows", len(ids), "error", err)
	}
}

// backoff is the wait before attempt n+1 after n failed attempts:
// RetryFirst × 2^(n-1), at most RetryMax.
func (s *Sender) backoff(n int) time.Duration {
	d := s.o.RetryFirst
	for i := 1; i < n && d < s.o.RetryMax; i++ {
		if d > s.o.RetryMax/2 {
			return s.o.RetryMax
		}
		d *= 2
	}
	return min(d, s.o.RetryMax)
}

// temporary tells a failure worth retrying: a 4xx reply (RFC 5321 §4.2.1),
// or no reply at all (connection refused, dropped, timed out). A 5xx reply
// is permanent.
func temporary(err error) bool {
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return reply.Code < 500
	}
	return true
}

func isReply(err error) bool {
	var reply *textproto.Error
	return errors.As(err, &reply)
}

// closing reports a 421 reply: the server is closing the connection.
func closing(err error) bool {
	var reply *textproto.Error
	return errors.As(err, &reply) && reply.Code == 421
}
