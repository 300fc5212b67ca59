// Package mailout is the outbox worker: it renders the templates, builds
// each message with go-mail, sends it over SMTP and records the result in
// the store, retrying temporary failures with backoff. It never decides
// anything about cases: what to send, to whom, was decided when the outbox
// row was written.
package mailout

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
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
	MaxAge    time.Duration    // how long to keep retrying; 0 = 5 days
	Boundary  string           // fixed MIME boundary for golden tests; "" = random
	Observer  Observer         // told what became of each mail (metrics); nil = nobody
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
	// 5xx reply, a row that cannot be built, or MaxAge reached); otherwise
	// it is queued again for a later attempt.
	Failed(kind string, permanent bool)
}

// The TLS modes of Options.TLS.
const (
	TLSImplicit = "implicit" // TLS from the first byte (RFC 8314), port 465
	TLSStartTLS = "starttls" // STARTTLS required (RFC 3207), port 587
	TLSNone     = "none"     // plain text: loopback and tests only
)

// DefaultMaxAge is how long a mail is retried when Options.MaxAge is 0.
const DefaultMaxAge = 5 * 24 * time.Hour

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
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{db: db, o: opts, log: log, kick: make(chan struct{}, 1)}, nil
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

// Run flushes, then waits until the next row is due, Kick is called, or ctx
// ends; returns nil on ctx end. A failed Flush (the database, or a panic) is
// logged and tried again after maxWait or a Kick.
func (s *Sender) Run(ctx context.Context) error {
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

// safeFlush is Flush with a panic turned into an error, so that one bad row
// cannot stop the worker.
func (s *Sender) safeFlush(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
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
