// Package mailout is the outbox worker: it renders the templates, builds
// each message with go-mail, sends it over SMTP and records the result in
// the store, retrying temporary failures with backoff. It never decides
// anything about cases: what to send, to whom, was decided when the outbox
// row was written.
package mailout

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/templates"
)

// Options configure a Sender. The zero value of each field is its default.
type Options struct {
	From      string         // the desk address (From, the envelope sender, and Reply-To unless a row names another)
	Name      string         // the desk's display name; "" = no display name
	Host      string         // the SMTP server (a submission server or smarthost)
	Port      int            // 0 = 465 for "implicit", 587 for "starttls", 25 for "none"
	TLS       string         // "implicit", "starttls" (default), "none"
	RootCAs   *x509.CertPool // CAs trusted for the server's certificate (a private CA); nil = the system roots
	Username  string         // SMTP AUTH when set
	Password  string
	Templates *templates.Set
	Now       func() time.Time // nil = time.Now
	Logger    *slog.Logger     // nil = discard
	Boundary  string           // fixed MIME boundary for golden tests; "" = random
	Observer  Observer         // told what became of each mail (metrics); nil = nobody

	// Helo is the name given in EHLO (and HELO): a fully qualified domain
	// name, as servers enforcing it (Postfix's
	// reject_non_fqdn_helo_hostname) require. "" = the machine's host
	// name if it has a dot, else the domain of From (DESIGN §10).
	Helo string
	// Node names this sender as the owner of the outbox rows it claims, e.g.
	// "serve@" + the host name. It must be stable across restarts and used
	// by one running sender at a time: Run starts by taking back every
	// claim held under its Node, so that a restarted daemon sends at once
	// what its dead or stopped predecessor had claimed. A flush from the
	// command line must therefore use another Node than the daemon (e.g.
	// "flush@" + the host name), or the daemon's start would take back
	// the claims of a flush at work, and the same mail could go out twice.
	// "" = a name unique to this Sender (host, process id and a random
	// part), whose claims only lapse.
	Node string
	// RetryFirst is the wait after a first temporary failure; each further
	// failure doubles it, up to RetryMax. 0 = DefaultRetryFirst.
	RetryFirst time.Duration
	// RetryMax is the longest wait between two attempts. 0 =
	// DefaultRetryMax.
	RetryMax time.Duration
	// GiveUpAfter is how long after it was queued a mail that still fails
	// temporarily is failed for good. 0 = DefaultGiveUpAfter.
	GiveUpAfter time.Duration

	// OnFailure records what the desk does about a mail that failed for
	// good (an alert to the support team, notices to agents), in the
	// transaction that marks it failed; nil: nothing. The desk decides who
	// is told and what.
	OnFailure func(tx *store.Tx, failed *store.OutboxItem, reason string) error
}

// Observer is told what became of each mail a Flush tried, once the result
// is recorded in the store; kind is the outbox row's kind ("confirmation",
// "reply"...). It is called from the flushing goroutine and must return
// quickly.
type Observer interface {
	// Sent: the SMTP server accepted the mail.
	Sent(kind string)
	// Failed: the mail was not sent. permanent means it never will be (a
	// 5xx reply, a row that cannot be built, or GiveUpAfter reached);
	// otherwise it is queued again for a later attempt.
	Failed(kind string, permanent bool)
	// Panicked: a panic was recovered into a logged error, at where
	// (PanicFlush or PanicClaims). It may be called from the goroutine
	// renewing claims too: it must be safe for concurrent use.
	Panicked(where string)
}

// Where a recovered panic happened, as Observer.Panicked names it.
const (
	// PanicFlush: a flush of the worker (Run); the worker goes on.
	PanicFlush = "mailout.flush"
	// PanicClaims: renewing the claims during a long send; they lapse
	// unless the send ends first.
	PanicClaims = "mailout.claims"
)

// panicked tells the Observer, if any, of a panic recovered at where.
func (s *Sender) panicked(where string) {
	if s.o.Observer != nil {
		s.o.Observer.Panicked(where)
	}
}

// The TLS modes of Options.TLS.
const (
	TLSImplicit = "implicit" // TLS from the first byte (RFC 8314), port 465
	TLSStartTLS = "starttls" // STARTTLS required (RFC 3207), port 587
	TLSNone     = "none"     // plain text: loopback and tests only
)

// The defaults of the retry options ([smtp] retry_first, retry_max,
// give_up_after).
const (
	DefaultRetryFirst  = time.Minute
	DefaultRetryMax    = time.Hour
	DefaultGiveUpAfter = 120 * time.Hour
)

// Stats counts what one Flush did.
type Stats struct {
	Sent    int // accepted by the SMTP server
	Retried int // failed for now; queued again for later
	Failed  int // given up: permanent failure, bad row, or too old
}

// Sender sends the outbox. Its methods are safe for concurrent use; Flushes
// run one at a time.
type Sender struct {
	db    *store.DB
	o     Options
	log   *slog.Logger
	kick  chan struct{}
	flush sync.Mutex // one Flush at a time, so no row is sent twice by this process
	// stopGrace bounds the wait for the reply to the mail in flight once
	// the context of a Flush ends (tests shorten it).
	stopGrace time.Duration
}

// New checks opts, fills in the defaults and returns a Sender for db.
func New(db *store.DB, opts Options) (*Sender, error) {
	if db == nil {
		return nil, errors.New("mailout: no database")
	}
	if opts.Templates == nil {
		return nil, errors.New("mailout: no templates")
	}
	if err := checkAddress(opts.From); err != nil {
		return nil, fmt.Errorf("mailout: from address %w", err)
	}
	if opts.Host == "" {
		return nil, errors.New("mailout: no SMTP host")
	}
	switch opts.TLS {
	case "":
		opts.TLS = TLSStartTLS
	case TLSImplicit, TLSStartTLS, TLSNone:
	default:
		return nil, fmt.Errorf("mailout: tls %q: want %q, %q or %q", opts.TLS, TLSImplicit, TLSStartTLS, TLSNone)
	}
	if opts.Port == 0 {
		opts.Port = map[string]int{TLSImplicit: 465, TLSStartTLS: 587, TLSNone: 25}[opts.TLS]
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("mailout: port %d out of range", opts.Port)
	}
	// A display name is free text from the configuration: keep it on one line.
	opts.Name = squash(opts.Name)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := retryDefaults(&opts); err != nil {
		return nil, err
	}
	if opts.Helo == "" {
		host, _ := os.Hostname()
		opts.Helo = defaultHelo(host, opts.From)
	}
	if strings.ContainsFunc(opts.Helo, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return nil, fmt.Errorf("mailout: helo %q: want a domain name", opts.Helo)
	}
	if opts.Node == "" {
		opts.Node = uniqueNode()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{db: db, o: opts, log: log, kick: make(chan struct{}, 1), stopGrace: stopGrace}, nil
}

// retryDefaults fills in and checks the retry options.
func retryDefaults(o *Options) error {
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{{"retry_first", &o.RetryFirst, DefaultRetryFirst}, {"retry_max", &o.RetryMax, DefaultRetryMax},
		{"give_up_after", &o.GiveUpAfter, DefaultGiveUpAfter}} {
		if *d.v < 0 {
			return fmt.Errorf("mailout: %s %s is negative", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if o.RetryMax < o.RetryFirst {
		return fmt.Errorf("mailout: retry_max %s is shorter than retry_first %s", o.RetryMax, o.RetryFirst)
	}
	return nil
}

// defaultHelo is the EHLO name when none is configured: host when it is
// fully qualified (has a dot), else the domain of the desk address.
func defaultHelo(host, from string) string {
	host = strings.TrimSuffix(host, ".")
	if strings.Contains(host, ".") {
		return host
	}
	return from[strings.LastIndexByte(from, '@')+1:]
}

// uniqueNode is the claim owner of a Sender without Options.Node.
func uniqueNode() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("mailout@%s/%d/%s", host, os.Getpid(), rand.Text()[:8])
}

// Kick wakes Run (non-blocking; safe from any goroutine).
func (s *Sender) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// maxWait is the longest Run sleeps: other processes (the command line)
// queue mail without being able to Kick this one.
const maxWait = 5 * time.Second

// Run takes back the claims held under Options.Node (left by a sender that
// died or stopped), then flushes, waits until the next row is due, Kick is
// called, or ctx ends, and again; returns nil on ctx end. A failed Flush
// (the database, or a panic) is logged and tried again after maxWait or a
// Kick.
func (s *Sender) Run(ctx context.Context) error {
	s.takeBack(ctx)
	for {
		wait := maxWait
		if err := s.safeFlush(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Error("outbox flush failed", "error", err)
		} else {
			wait = s.untilNext(ctx)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-s.kick:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// takeBack releases every claim held under this Sender's node. When it
// fails, the claims lapse after claimLease instead.
func (s *Sender) takeBack(ctx context.Context) {
	n, err := s.db.ReleaseClaims(ctx, s.o.Node)
	if err != nil {
		s.log.Error("outbox claims not taken back; they lapse", "node", s.o.Node, "error", err)
		return
	}
	if n > 0 {
		s.log.Info("outbox claims taken back", "node", s.o.Node, "rows", n)
	}
}

// safeFlush is Flush with a panic turned into an error, so that one bad row
// cannot stop the worker.
func (s *Sender) safeFlush(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.panicked(PanicFlush)
			err = fmt.Errorf("panic in flush: %v", p)
		}
	}()
	_, err = s.Flush(ctx)
	return err
}

// untilNext is how long to sleep before the next row is due, between 0 and
// maxWait.
func (s *Sender) untilNext(ctx context.Context) time.Duration {
	at, ok, err := s.db.NextDue(ctx)
	if err != nil || !ok {
		return maxWait
	}
	return min(max(at.Sub(s.o.Now()), 0), maxWait)
}
