// Package memimap runs a real IMAP server in process, with its mailboxes in
// memory (go-imap's imapserver and imapmemserver), on a loopback port. The
// demo uses it so that it needs no setup, and tests use it to drive intake
// over the real protocol. Its IDLE never misses a delivery: imapmemserver
// alone misses mail appended between its "+ idling" and the moment its IDLE
// goroutine listens, and reports it only after DONE; here every append wakes
// every session in IDLE, which then reports what is new.
package memimap

import (
	"bytes"
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

// Server is an IMAP server with one user.
type Server struct {
	srv  *imapserver.Server
	user *imapmemserver.User
	ln   net.Listener
	done chan error

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

// session is a memserver session whose IDLE wakes at every append.
type session struct {
	imapserver.SessionIMAP4rev2
	server *Server
}

// Append appends as memserver does, then wakes the sessions in IDLE.
func (s *session) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	data, err := s.SessionIMAP4rev2.Append(mailbox, r, options)
	if err == nil {
		s.server.appended()
	}
	return data, err
}

// Idle writes pending updates, then again after every append, until stop.
func (s *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	for {
		changes := s.server.changes()
		if err := s.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-changes:
		}
	}
}

// Start listens on 127.0.0.1 with one user whose INBOX exists. caps nil
// means DefaultCaps; plain-text login is allowed (loopback only).
func Start(username, password string, caps imap.CapSet) (*Server, error) {
	if caps == nil {
		caps = DefaultCaps
	}
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(username, password)
	if err := user.Create("INBOX", nil); err != nil {
		return nil, fmt.Errorf("memimap: create INBOX: %w", err)
	}
	mem.AddUser(user)
	s := &Server{user: user, done: make(chan error, 1), changed: make(chan struct{})}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &session{SessionIMAP4rev2: mem.NewSession().(imapserver.SessionIMAP4rev2), server: s}, nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("memimap: listen: %w", err)
	}
	s.ln = ln
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

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

// Close stops the server and closes its connections.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }
