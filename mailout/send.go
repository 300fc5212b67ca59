package mailout

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/postdesk/postdesk/store"
)

const (
	// batch is how many due rows one claim takes.
	batch = 100
	// recordEvery is how many mails the server accepted are recorded as
	// sent in one transaction. Until they are, a crash sends them again
	// (after claimLease), as it would one mail sent but not yet recorded.
	recordEvery = 32
	// claimLease is how long a claimed row is left alone by other senders;
	// longer than sending a batch takes.
	claimLease = 10 * time.Minute
	// commandTimeout bounds connecting, the greeting, EHLO, STARTTLS, AUTH
	// and every command.
	commandTimeout = time.Minute
	// minRate is the slowest upload tolerated, in bytes per second, on top
	// of commandTimeout for each message.
	minRate = 32 << 10
)

// Flush sends every mail due now over one SMTP connection and reports
// counts. Rows that cannot be built are failed without connecting; when the
// server cannot be reached, or the connection breaks, the remaining rows are
// queued again for later rather than dialled for one by one. Flush returns an
// error when the database fails or ctx ends; a row being sent when ctx ends
// stays queued as it was.
func (s *Sender) Flush(ctx context.Context) (Stats, error) {
	s.flush.Lock()
	defer s.flush.Unlock()
	f := &flushRun{s: s, now: s.o.Now()}
	defer f.hangUp()
	for {
		items, err := s.db.ClaimOutbox(ctx, f.now, claimLease, batch)
		if err != nil {
			return f.stats, err
		}
		if len(items) == 0 {
			return f.stats, nil
		}
		for _, it := range items {
			if err = ctx.Err(); err == nil {
				err = f.deliver(ctx, it)
			}
			if err != nil {
				break
			}
		}
		if rerr := f.record(ctx); err != nil || rerr != nil {
			return f.stats, errors.Join(err, rerr)
		}
	}
}

// flushRun is the state of one Flush.
type flushRun struct {
	s    *Sender
	now  time.Time
	conn *conn
	// accepted are mails the server took that are not recorded yet.
	accepted []acceptedMail
	down     error // why no mail can go out in this flush any more
	stats    Stats
}

// deliver builds, sends and records one row. Only a database failure or the
// end of ctx is returned.
func (f *flushRun) deliver(ctx context.Context, it *store.OutboxItem) error {
	m, err := f.s.build(ctx, it, f.now)
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
	err = f.conn.send(f.s.o.From, m.rcpts, m.raw)
	if err == nil {
		return f.sent(ctx, it, m.raw)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if f.conn.broken {
		f.down = fmt.Errorf("the connection failed: %w", err)
		f.hangUp()
	}
	if temporary(err) {
		return f.retry(ctx, it, err.Error())
	}
	return f.fail(ctx, it, err.Error())
}

// The database is written with context.WithoutCancel: once the server has
// answered, the answer is recorded even when shutdown has begun, so that a
// mail is not sent twice.

// acceptedMail is a mail the server accepted, waiting to be recorded.
type acceptedMail struct {
	it  *store.OutboxItem
	raw []byte
}

// sent notes a mail the server accepted; every recordEvery mails, and at
// the end of each claimed batch, they are recorded together.
func (f *flushRun) sent(ctx context.Context, it *store.OutboxItem, raw []byte) error {
	f.accepted = append(f.accepted, acceptedMail{it, raw})
	if len(f.accepted) < recordEvery {
		return nil
	}
	return f.record(ctx)
}

// record marks the accepted mails sent in one transaction.
func (f *flushRun) record(ctx context.Context) error {
	if len(f.accepted) == 0 {
		return nil
	}
	done := f.accepted
	f.accepted = nil
	sent := make([]store.SentMail, len(done))
	for i, m := range done {
		sent[i] = store.SentMail{ID: m.it.ID, Raw: m.raw}
	}
	if err := f.s.db.MarkAllSent(context.WithoutCancel(ctx), sent, f.now); err != nil {
		for _, m := range done {
			f.s.log.Error("outbox mail sent but not recorded; it will be sent again", logAttrs(m.it, "sent", err)...)
		}
		return err
	}
	for _, m := range done {
		f.stats.Sent++
		if o := f.s.o.Observer; o != nil {
			o.Sent(m.it.Kind)
		}
		f.s.log.Info("outbox mail", logAttrs(m.it, "sent", nil)...)
	}
	return nil
}

func (f *flushRun) retry(ctx context.Context, it *store.OutboxItem, reason string) error {
	if age := f.now.Sub(it.CreatedAt); age > f.s.o.MaxAge {
		return f.fail(ctx, it, fmt.Sprintf("gave up after %s: %s", age.Round(time.Minute), reason))
	}
	next := f.now.Add(backoff(it.Attempts + 1))
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
	if err := f.s.db.MarkFailed(context.WithoutCancel(ctx), it.ID, f.now, reason, then); err != nil {
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

// backoff is the wait before attempt n+1 after n failed attempts:
// 1 min × 2^(n-1), at most 1 h.
func backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 7 {
		return time.Hour
	}
	return min(time.Minute<<(n-1), time.Hour)
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

// conn is one SMTP connection, sending raw messages.
type conn struct {
	c      *smtp.Client
	raw    net.Conn    // the socket, closed to interrupt a blocked read when ctx ends
	stop   func() bool // stops the context.AfterFunc that does so
	broken bool        // no further command can be sent
}

// dial connects, says EHLO, starts TLS and authenticates as configured,
// using go-mail's client for all of that.
func (s *Sender) dial(ctx context.Context) (*conn, error) {
	tlsConfig := &tls.Config{ServerName: s.o.Host, MinVersion: tls.VersionTLS12, RootCAs: s.o.RootCAs}
	cn := &conn{}
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		var err error
		if s.o.TLS == TLSImplicit {
			c, err = (&tls.Dialer{Config: tlsConfig}).DialContext(ctx, network, addr)
		} else {
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		cn.raw = c
		return c, err
	}
	opts := []mail.Option{
		mail.WithPort(s.o.Port), mail.WithTimeout(commandTimeout),
		mail.WithDialContextFunc(dialer), mail.WithTLSConfig(tlsConfig),
		mail.WithTLSPolicy(mail.NoTLS), // implicit TLS is done by the dialer
	}
	if s.o.TLS == TLSStartTLS {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.o.Username != "" {
		// PLAIN and LOGIN refuse to send the password in clear text except
		// to localhost (go-mail's smtp package, like net/smtp).
		opts = append(opts, mail.WithUsername(s.o.Username), mail.WithPassword(s.o.Password),
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain, mail.SMTPAuthLogin,
				mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1))
	}
	client, err := mail.NewClient(s.o.Host, opts...)
	if err != nil {
		return nil, err
	}
	c, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if cn.raw != nil {
			cn.raw.Close() // go-mail leaves it open when EHLO, STARTTLS or AUTH fail
		}
		return nil, err
	}
	cn.c = c
	cn.stop = context.AfterFunc(ctx, func() { cn.raw.Close() })
	return cn, nil
}

// send runs one mail transaction: MAIL, RCPT for each recipient, DATA.
// After a refusal the transaction is reset; the connection is marked broken
// when that fails, when the server closes it (421) or when there is no
// reply at all.
func (c *conn) send(from string, rcpts []string, raw []byte) error {
	if err := c.c.UpdateDeadline(commandTimeout + time.Duration(len(raw)/minRate)*time.Second); err != nil {
		c.broken = true
		return err
	}
	if err := c.c.Mail("<" + from + ">"); err != nil {
		return c.refused("MAIL FROM:<"+from+">", err)
	}
	for _, r := range rcpts {
		if err := c.c.Rcpt("<" + r + ">"); err != nil {
			return c.refused("RCPT TO:<"+r+">", err)
		}
	}
	w, err := c.c.Data()
	if err != nil {
		return c.refused("DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		c.broken = true
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		// The server answered the message itself: the transaction is over.
		c.broken = !isReply(err) || closing(err)
		return fmt.Errorf("end of DATA: %w", err)
	}
	return nil
}

func (c *conn) refused(stage string, err error) error {
	err = fmt.Errorf("%s: %w", stage, err)
	if !isReply(err) || closing(err) || c.c.Reset() != nil {
		c.broken = true
	}
	return err
}

// close says QUIT when the connection still works, and closes it.
func (c *conn) close() {
	c.stop()
	if !c.broken {
		_ = c.c.Quit()
	}
	_ = c.raw.Close()
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
