package mailin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postdesk/postdesk/desk"
)

const (
	defaultPollInterval = 60 * time.Second
	// maxIdle is how long one IDLE may last before it is ended and the mailbox
	// polled again: RFC 2177 §3 lets servers drop clients idle for 30 minutes.
	maxIdle = 25 * time.Minute
	// fetchBatch is how many UIDs one UID FETCH RFC822.SIZE asks for: each
	// group of a batch starts with the desk waiting for its first body.
	fetchBatch = 200
	// retryMin and retryMax bound the reconnect backoff of Run.
	retryMin = time.Second
	retryMax = 5 * time.Minute
	// replyTimeout bounds the wait for the server to end IDLE or LOGOUT.
	replyTimeout = 30 * time.Second
)

// MailboxOptions configure the intake of one IMAP mailbox. Zero values mean
// the documented defaults.
type MailboxOptions struct {
	// Name is the mailbox in logs and in what the desk records, e.g. "support".
	Name string
	// Addr is the server's host:port.
	Addr string
	// TLS is "implicit" (the default), "starttls" or "none".
	TLS string
	// TLSConfig is used for TLS; nil means the system roots, with ServerName
	// taken from Addr.
	TLSConfig *tls.Config
	// Username logs in with Password (IMAP LOGIN), or with Token.
	Username string
	// Password is used unless Token is set. It is never logged.
	Password string
	// Token, when set, returns an OAuth 2.0 bearer token for AUTHENTICATE
	// XOAUTH2 (Gmail, Microsoft 365), e.g. TokenCommand.Token. It is called
	// on every connect, with the context of the poll (it must return when
	// that ends); the token is never logged.
	Token func(ctx context.Context) (string, error)
	// Folder is where new mail arrives: "INBOX".
	Folder string
	// Processed is where handled mail is moved: "Processed". It is created
	// when missing.
	Processed string
	// Quarantine is where unreadable, oversize and repeatedly failing mail is
	// moved: "Quarantine". It is created when missing.
	Quarantine string
	// PollInterval is how often the mailbox is polled when the server has no
	// IDLE (RFC 2177), and the longest one IDLE lasts before the mailbox is
	// polled again (at most 25 minutes): 60s.
	PollInterval time.Duration
	// MaxAttempts is how many times a message may fail (Intake.Process returns
	// an error) before it is moved to Quarantine: 3. Attempts are counted in
	// memory, per UIDVALIDITY and UID.
	MaxAttempts int
	// OnOversize, when set, is called after a message larger than
	// Intake.Limit() has been moved to Quarantine without being downloaded;
	// the desk is not called for it. Telling the sender belongs to the desk
	// and will be hooked in here.
	OnOversize func(ctx context.Context, uid uint32, size int64)
	// Logger receives the intake's logs; nil discards them.
	Logger *slog.Logger
	// Observer, when set, is told about handled messages and reconnects
	// (metrics); nil tells nobody.
	Observer Observer
}

// Observer is told what a Poller does, for metrics. It is called from the
// goroutine running PollOnce or Run, while the Poller holds its lock: it
// must return quickly and must not call the Poller.
type Observer interface {
	// Processed is called for every message handled, once it has been moved
	// out of the folder: outcome is the desk's decision, Quarantined for
	// mail over the size limit and for mail that failed MaxAttempts times.
	// d runs from the end of the message's download to the end of its move
	// (the download is not counted: messages are fetched in groups; mail
	// over the size limit is not downloaded at all). A failed attempt that
	// leaves the message in the folder is not reported.
	Processed(mailbox string, outcome desk.Outcome, d time.Duration)
	// Reconnected is called when the Poller has logged in again after its
	// connection dropped or a connection attempt failed; not for the first
	// connection, nor after Close.
	Reconnected(mailbox string)
	// Panicked is called for each panic the Poller or its Intake recovered
	// (a PanicXxx name), once it is logged or has quarantined the message.
	// Unlike the others it may be called from the Poller's fetching and
	// parsing goroutines, without the lock: it must be safe for concurrent
	// use.
	Panicked(where string)
}

func (o MailboxOptions) withDefaults() MailboxOptions {
	setDefault := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	setDefault(&o.TLS, "implicit")
	setDefault(&o.Folder, "INBOX")
	setDefault(&o.Processed, "Processed")
	setDefault(&o.Quarantine, "Quarantine")
	if o.PollInterval <= 0 {
		o.PollInterval = defaultPollInterval
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Poller reads one mailbox and hands every message to an Intake. Handled mail
// leaves the folder: UID MOVE (RFC 6851) when the server has it, else UID COPY,
// then \Deleted and UID EXPUNGE (RFC 4315 UIDPLUS). A server with neither
// MOVE nor UIDPLUS cannot remove one message without expunging what other
// clients marked deleted: there handled mail is copied and flagged \Seen, and
// polls look at UNSEEN mail only, so mail someone read in the folder is skipped.
// Messages flagged \Deleted are always skipped.
//
// PollOnce, Run and Close may be called from several goroutines; they take
// turns on the one connection.
type Poller struct {
	o   MailboxOptions
	in  *Intake
	log *slog.Logger

	mu          sync.Mutex // guards what follows and the connection's use
	conn        *conn      // nil when not connected
	uidValidity uint32
	attempts    map[attemptKey]int
	// lost is set when a connection dropped or could not be made: the
	// next login is a reconnect (Observer.Reconnected).
	lost bool

	newMail     chan struct{} // an EXISTS arrived; buffered, never blocks the client
	lastSuccess atomic.Int64  // unix nanoseconds

	// For tests: the first reconnect delay; a hook Run calls when it starts
	// to wait (IDLE running), with how many mails the poll before handled;
	// polling instead of IDLE; the goroutines of the group in hand.
	retryMin time.Duration
	onWait   func(handled int)
	noIdle   bool
	inFlight atomic.Int32
}

// conn is one logged-in connection and the capabilities it advertised.
type conn struct {
	c    *imapclient.Client
	caps imap.CapSet
}

// attemptKey names a message across connections: a UID means the same
// message only while the folder's UIDVALIDITY stays the same (RFC 3501 §2.3.1.1).
type attemptKey struct {
	uidValidity uint32
	uid         imap.UID
}

// NewPoller returns a Poller for the mailbox o that hands mail to in. It does
// not connect: PollOnce and Run do.
func NewPoller(o MailboxOptions, in *Intake) *Poller {
	o = o.withDefaults()
	return &Poller{
		o:        o,
		in:       in,
		log:      o.Logger.With("mailbox", o.Name),
		attempts: make(map[attemptKey]int),
		newMail:  make(chan struct{}, 1),
		retryMin: retryMin,
	}
}

// LastSuccess reports when the mailbox was last polled or idled successfully
// (for /healthz); the zero time before the first success.
func (p *Poller) LastSuccess() time.Time {
	if n := p.lastSuccess.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

func (p *Poller) succeeded() { p.lastSuccess.Store(time.Now().UnixNano()) }

// processed tells the Observer, if any, that a message was handled with
// outcome; start is when its handling began.
func (p *Poller) processed(outcome desk.Outcome, start time.Time) {
	if p.o.Observer != nil {
		p.o.Observer.Processed(p.o.Name, outcome, time.Since(start))
	}
}

// loggedIn tells the Observer, if any, about a login that replaces a lost
// connection.
func (p *Poller) loggedIn() {
	if p.lost && p.o.Observer != nil {
		p.o.Observer.Reconnected(p.o.Name)
	}
	p.lost = false
}

// PollOnce connects if needed, processes every message in Folder in UID
// order, moves each handled one, and returns how many it handled: moved to
// Processed or Quarantine. A message whose processing fails stays in Folder
// and does not count. Used by `postdesk demo` and tests; when ctx ends the
// connection is cut at once.
func (p *Poller) PollOnce(ctx context.Context) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now()
	n, err := p.poll(ctx)
	if err != nil {
		p.dropAfter(err)
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("poll %s: %w (%w)", p.o.Name, ctx.Err(), err)
		}
		return n, err
	}
	p.succeeded()
	p.log.Debug("polled", "handled", n, "duration", time.Since(start))
	return n, nil
}

// Close logs out and closes the connection, if any. The Poller may be used
// again afterwards: it reconnects.
func (p *Poller) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.logout()
	return nil
}

// stopGrace is how long a poll may go on after its context ended, to
// finish the message in hand.
const stopGrace = 5 * time.Second

func (p *Poller) poll(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c, err := p.connect(ctx)
	if err != nil {
		return 0, err
	}
	// When ctx ends, the message in hand is still recorded and moved; the
	// connection is cut only if that takes longer than stopGrace.
	var grace atomic.Pointer[time.Timer]
	stop := context.AfterFunc(ctx, func() { grace.Store(time.AfterFunc(stopGrace, func() { c.c.Close() })) })
	defer func() {
		stop()
		if t := grace.Load(); t != nil {
			t.Stop()
		}
	}()
	uids, err := p.unhandled(c)
	if err != nil {
		return 0, err
	}
	handled := 0
	for batch := range slices.Chunk(uids, fetchBatch) {
		n, err := p.batch(ctx, c, batch)
		handled += n
		if err != nil {
			return handled, err
		}
	}
	return handled, nil
}

// dropAfter closes the connection after err unless err is a server's NO or
// BAD, after which the connection is still in a known state.
func (p *Poller) dropAfter(err error) {
	if p.conn == nil {
		return
	}
	var imapErr *imap.Error
	select {
	case <-p.conn.c.Closed():
	default:
		if errors.As(err, &imapErr) {
			return
		}
	}
	p.conn.c.Close()
	p.conn = nil
	p.lost = true
}

// logout ends the session politely, within replyTimeout.
func (p *Poller) logout() {
	if p.conn == nil {
		return
	}
	c := p.conn.c
	p.conn = nil
	guard := time.AfterFunc(replyTimeout, func() { c.Close() })
	defer guard.Stop()
	if err := c.Logout().Wait(); err != nil {
		p.log.Debug("logout", "err", err)
	}
	c.Close()
}

// connect returns the open connection, or dials, logs in and makes sure the
// Processed and Quarantine folders exist.
func (p *Poller) connect(ctx context.Context) (*conn, error) {
	if p.conn != nil {
		select {
		case <-p.conn.c.Closed():
			p.conn = nil
			p.lost = true
		default:
			return p.conn, nil
		}
	}
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", p.o.Addr)
	if err != nil {
		p.lost = true
		return nil, fmt.Errorf("connect to %s: %w", p.o.Addr, err)
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	c, err := p.session(ctx, raw)
	if err != nil {
		raw.Close()
		p.lost = true
		return nil, fmt.Errorf("connect to %s: %w", p.o.Addr, err)
	}
	p.conn = c
	p.loggedIn()
	p.log.Debug("connected", "addr", p.o.Addr, "move", c.caps.Has(imap.CapMove),
		"uidplus", c.caps.Has(imap.CapUIDPlus), "idle", c.caps.Has(imap.CapIdle))
	return c, nil
}

// session turns a TCP connection into a logged-in one.
func (p *Poller) session(ctx context.Context, raw net.Conn) (*conn, error) {
	c, plain, err := p.handshake(ctx, raw)
	if err != nil {
		return nil, err
	}
	if err := p.login(ctx, c, plain); err != nil {
		// DESIGN §8: after a failed SASL exchange the connection is not reused.
		c.Close()
		return nil, err
	}
	caps := c.Caps()
	if caps == nil {
		c.Close()
		return nil, errors.New("no CAPABILITY from server")
	}
	cn := &conn{c: c, caps: caps}
	for _, name := range []string{p.o.Processed, p.o.Quarantine} {
		if err := ensureFolder(c, name); err != nil {
			c.Close()
			return nil, err
		}
	}
	return cn, nil
}

// mailboxUpdate runs on the client's reader goroutine: it only signals.
func (p *Poller) mailboxUpdate(d *imapclient.UnilateralDataMailbox) {
	if d.NumMessages == nil {
		return
	}
	select {
	case p.newMail <- struct{}{}:
	default:
	}
}

// unhandled selects Folder and returns the UIDs of the mail still to handle,
// ascending.
func (p *Poller) unhandled(c *conn) ([]imap.UID, error) {
	data, err := c.c.Select(p.o.Folder, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("select %s: %w", p.o.Folder, err)
	}
	if p.uidValidity != 0 && data.UIDValidity != p.uidValidity {
		// The desk recognises mail it has seen by Message-ID and bytes, so
		// nothing but the attempt counts depends on the old UIDs.
		p.log.Warn("UIDVALIDITY changed: UIDs renumbered", "old", p.uidValidity, "new", data.UIDValidity)
		clear(p.attempts)
	}
	p.uidValidity = data.UIDValidity
	drain(p.newMail) // the search below sees whatever those EXISTS announced
	criteria := &imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}
	if c.seenOnly() {
		criteria.NotFlag = append(criteria.NotFlag, imap.FlagSeen)
	}
	res, err := c.c.UIDSearch(criteria, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("uid search %s: %w", p.o.Folder, err)
	}
	set, _ := res.All.(imap.UIDSet)
	uids, ok := set.Nums()
	if !ok {
		return nil, errors.New("uid search: server returned a dynamic UID set")
	}
	slices.Sort(uids)
	return uids, nil
}

func drain(ch chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// Run polls, then waits with IDLE (or the poll interval when the server lacks
// IDLE) for new mail, forever. It reconnects with exponential backoff and
// jitter (1s doubling to 5 min) when the connection drops. It returns nil when
// ctx ends, logging out cleanly; a poll in progress is cut off (each message
// is recorded in one desk transaction and only moved after it, so nothing is
// half done).
func (p *Poller) Run(ctx context.Context) error {
	defer p.Close()
	failures := 0
	for {
		err := p.cycle(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			failures = 0
			continue
		}
		failures++
		delay := backoff(p.retryMin, failures)
		p.log.Warn("imap intake failed; retrying", "err", err, "attempt", failures, "retry_in", delay)
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// cycle polls once, then waits for new mail.
func (p *Poller) cycle(ctx context.Context) error {
	handled, err := p.PollOnce(ctx)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil { // Close was called meanwhile
		return nil
	}
	if p.noIdle || !p.conn.caps.Has(imap.CapIdle) {
		p.waiting(handled)
		p.sleep(ctx)
		return nil
	}
	if err := p.idle(ctx, p.conn, handled); err != nil {
		p.conn.c.Close()
		p.conn = nil
		p.lost = true
		return fmt.Errorf("idle: %w", err)
	}
	p.succeeded()
	return nil
}

func (p *Poller) waiting(handled int) {
	if p.onWait != nil {
		p.onWait(handled)
	}
}

// sleep waits for the poll interval.
func (p *Poller) sleep(ctx context.Context) {
	timer := time.NewTimer(p.o.PollInterval)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// idle runs IDLE (RFC 2177) until new mail, the end of ctx, the connection's
// end, or the IDLE period, then ends it and waits for the server's reply.
func (p *Poller) idle(ctx context.Context, c *conn, handled int) error {
	cmd, err := c.c.Idle()
	if err != nil {
		return err
	}
	p.waiting(handled)
	timer := time.NewTimer(min(p.o.PollInterval, maxIdle))
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-p.newMail:
	case <-timer.C:
	case <-c.c.Closed():
	}
	guard := time.AfterFunc(replyTimeout, func() { c.c.Close() })
	defer guard.Stop()
	if err := cmd.Close(); err != nil {
		return err
	}
	return cmd.Wait()
}

// backoff is the delay before reconnect attempt n (from 1): first, doubling
// up to retryMax, then a random point in its upper half so that
// several pollers do not reconnect in step.
func backoff(first time.Duration, n int) time.Duration {
	d := first
	for i := 1; i < n && d < retryMax; i++ {
		d *= 2
	}
	d = min(d, retryMax)
	return d/2 + rand.N(d/2+1)
}
