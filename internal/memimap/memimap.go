// Package memimap runs a real IMAP server in process, with its mailboxes in
// memory (go-imap's imapserver and imapmemserver), on a loopback port. The
// demo uses it so that it needs no setup, and tests use it to drive intake
// over the real protocol, with the faults they need (Options): a folder that
// refuses copies, Gmail's XOAUTH2, TLS, a transcript, the end of each
// session. Its IDLE never misses a delivery: imapmemserver alone misses mail
// appended between its "+ idling" and the moment its IDLE goroutine listens,
// and reports it only after DONE; here every append wakes every session in
// IDLE, which then reports what is new.
package memimap

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// DefaultCaps are what a modern server offers: IMAP4rev1 with IDLE, MOVE
// and UIDPLUS.
var DefaultCaps = imap.CapSet{
	imap.CapIMAP4rev1: {}, imap.CapIdle: {}, imap.CapMove: {}, imap.CapUIDPlus: {},
	imap.CapNamespace: {}, imap.CapESearch: {},
}

// The TLS modes of Options.TLS.
const (
	TLSImplicit = "implicit" // TLS from the first byte
	TLSStartTLS = "starttls" // plain text until STARTTLS
)

// Options shape a Server. The zero value is a plain-text server with
// DefaultCaps, PLAIN login and no faults.
type Options struct {
	// Caps is what the server advertises; nil means DefaultCaps.
	Caps imap.CapSet
	// FailCopy, when set, is a mailbox COPY and MOVE refuse to write to,
	// with NO [CANNOT].
	FailCopy string
	// XOAUTH2Token, when set, is the one bearer token AUTHENTICATE XOAUTH2
	// accepts, for the server's user. Any other gets Gmail's error
	// challenge, which the client must cancel with "*" (answered BAD).
	XOAUTH2Token string
	// TLS is TLSImplicit or TLSStartTLS, with TLSConfig holding the
	// certificate; either way the server then refuses to authenticate
	// without TLS. "" is plain text, with plain-text login allowed
	// (loopback only).
	TLS       string
	TLSConfig *tls.Config
	// Transcript, when set, gets what every session reads and writes,
	// credentials included. Writes are serialised.
	Transcript io.Writer
	// Closed, when set, is sent the user of each session that ends (""
	// before login). The send does not block: when Closed is full, the
	// name is dropped.
	Closed chan<- string
}

// Server is an IMAP server with one user.
type Server struct {
	opts     Options
	username string
	password string
	srv      *imapserver.Server
	user     *imapmemserver.User
	ln       net.Listener
	done     chan error

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at every append
}

// appended wakes the sessions in IDLE.
func (s *Server) appended() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
}

// changes is closed at the next append.
func (s *Server) changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Start listens on 127.0.0.1 with one user whose INBOX exists. caps nil
// means DefaultCaps; plain-text login is allowed (loopback only).
func Start(username, password string, caps imap.CapSet) (*Server, error) {
	return StartWith(username, password, Options{Caps: caps})
}

// StartWith listens on 127.0.0.1 with one user whose INBOX exists, shaped
// by o.
func StartWith(username, password string, o Options) (*Server, error) {
	if o.Caps == nil {
		o.Caps = DefaultCaps
	}
	if o.TLS != "" && o.TLS != TLSImplicit && o.TLS != TLSStartTLS {
		return nil, fmt.Errorf("memimap: unknown TLS mode %q", o.TLS)
	}
	if o.TLS != "" && o.TLSConfig == nil {
		return nil, errors.New("memimap: TLS without a TLSConfig")
	}
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(username, password)
	if err := user.Create("INBOX", nil); err != nil {
		return nil, fmt.Errorf("memimap: create INBOX: %w", err)
	}
	mem.AddUser(user)
	s := &Server{opts: o, username: username, password: password, user: user,
		done: make(chan error, 1), changed: make(chan struct{})}
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &session{SessionIMAP4rev2: mem.NewSession().(imapserver.SessionIMAP4rev2), server: s}, nil, nil
		},
		Caps:         o.Caps,
		InsecureAuth: o.TLS == "",
		Logger:       log.New(io.Discard, "", 0),
	}
	if o.Transcript != nil {
		opts.DebugWriter = &lockedWriter{w: o.Transcript}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("memimap: listen: %w", err)
	}
	switch o.TLS {
	case TLSImplicit:
		ln = tls.NewListener(ln, o.TLSConfig)
	case TLSStartTLS:
		opts.TLSConfig = o.TLSConfig
	}
	s.ln = ln
	s.srv = imapserver.New(opts)
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port is the loopback port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Append adds a message to mailbox, as a delivery would.
func (s *Server) Append(mailbox string, raw []byte) error {
	_, err := s.user.Append(mailbox, literal{bytes.NewReader(raw)}, &imap.AppendOptions{Time: time.Now()})
	if err != nil {
		return fmt.Errorf("memimap: append to %s: %w", mailbox, err)
	}
	s.appended()
	return nil
}

// Count reports how many messages mailbox holds; 0 when it does not exist.
func (s *Server) Count(mailbox string) (int, error) {
	st, err := s.user.Status(mailbox, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		var resp *imap.Error
		if errors.As(err, &resp) && resp.Code == imap.ResponseCodeNonExistent {
			return 0, nil
		}
		return 0, err
	}
	return int(*st.NumMessages), nil
}

// Close stops the server and closes its connections. It reports an error
// from closing the listener or from serving.
func (s *Server) Close() error {
	err := s.srv.Close()
	if serveErr := <-s.done; serveErr != nil {
		err = errors.Join(err, fmt.Errorf("memimap: serve: %w", serveErr))
	}
	return err
}

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }

// lockedWriter serialises the writes of several sessions.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
