// Package smtpsink is a real SMTP server on a loopback port that records
// every message it accepts, and refuses on demand. Tests of several
// packages use it, and so does `postdesk demo`: it is not test-only.
package smtpsink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"sync"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the sink accepted.
type Received struct {
	From string   // the envelope sender (MAIL FROM)
	To   []string // the envelope recipients (RCPT TO)
	Data []byte   // the message exactly as received, CRLF line ends
	User string   // the name the client authenticated as; "" without AUTH
}

// Sink is an SMTP server on a loopback port that records every message it
// accepts.
type Sink struct {
	srv  *smtp.Server
	ln   net.Listener
	done chan struct{} // closed when Serve has returned

	mu       sync.Mutex
	msgs     []Received
	changed  chan struct{} // closed and replaced whenever msgs grows
	rejCode  int
	rejLeft  int
	conns    map[net.Conn]struct{}
	closed   bool
	closeErr error
}

// Start listens on 127.0.0.1:0 with github.com/emersion/go-smtp, no TLS,
// AllowInsecureAuth (AUTH PLAIN with any user name and password).
func Start() (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtpsink: %w", err)
	}
	s := &Sink{done: make(chan struct{}), changed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	s.ln = &listener{Listener: ln, sink: s}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{sink: s}, nil
	}))
	s.srv.Domain = "smtpsink.localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(s.ln)
	}()
	return s, nil
}

// Addr is where the sink listens, "127.0.0.1:PORT".
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Host is the sink's IP address, "127.0.0.1".
func (s *Sink) Host() string {
	host, _, _ := net.SplitHostPort(s.Addr())
	return host
}

// Port is the sink's TCP port.
func (s *Sink) Port() int {
	_, port, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(port)
	return n
}

// Messages returns a copy of what was received so far, oldest first.
func (s *Sink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copyLocked()
}

func (s *Sink) copyLocked() []Received {
	out := make([]Received, len(s.msgs))
	for i, m := range s.msgs {
		out[i] = Received{From: m.From, To: append([]string(nil), m.To...), Data: append([]byte(nil), m.Data...), User: m.User}
	}
	return out
}

// Wait blocks until n messages were received, and returns them all, or
// until ctx ends.
func (s *Sink) Wait(ctx context.Context, n int) ([]Received, error) {
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			out := s.copyLocked()
			s.mu.Unlock()
			return out, nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return s.Messages(), fmt.Errorf("smtpsink: waiting for %d messages: %w", n, ctx.Err())
		}
	}
}

// Reject makes the server answer RCPT for the next n messages (mail
// transactions) with code (e.g. 451 or 550); every recipient of such a
// transaction is refused. Reject(0, 0) accepts again.
func (s *Sink) Reject(code int, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejCode, s.rejLeft = code, n
}

// Close stops the server and waits until every connection is closed and
// every goroutine of the sink has returned. A closed sink refuses
// connections, which is how tests play an SMTP server that is down.
func (s *Sink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.closeErr
	}
	s.closed = true
	s.mu.Unlock()

	err := s.ln.Close() // Serve returns, no new connections
	<-s.done
	s.mu.Lock()
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	// Shutdown waits for the connection goroutines, which end now that
	// their sockets are closed.
	if serr := s.srv.Shutdown(context.Background()); serr != nil && !errors.Is(serr, net.ErrClosed) && err == nil {
		err = serr
	}
	s.mu.Lock()
	s.closeErr = err
	s.mu.Unlock()
	return err
}

// deliver records an accepted message.
func (s *Sink) deliver(m Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

// takeRejection reports the code to refuse the next transaction with, if any.
func (s *Sink) takeRejection() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rejLeft <= 0 {
		return 0
	}
	s.rejLeft--
	return s.rejCode
}

// listener tracks the connections it accepts so that Close can end them.
type listener struct {
	net.Listener
	sink *Sink
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.sink.mu.Lock()
	defer l.sink.mu.Unlock()
	if l.sink.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, sink: l.sink}
	l.sink.conns[tc] = struct{}{}
	return tc, nil
}

type trackedConn struct {
	net.Conn
	sink *Sink
}

func (c *trackedConn) Close() error {
	c.sink.mu.Lock()
	delete(c.sink.conns, c)
	c.sink.mu.Unlock()
	return c.Conn.Close()
}

// session is one SMTP connection's state.
type session struct {
	sink   *Sink
	user   string
	from   string
	to     []string
	reject int // the code refusing every RCPT of this transaction; 0 = accept
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from, s.to = from, nil
	s.reject = s.sink.takeRejection()
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.reject != 0 {
		return &smtp.SMTPError{
			Code:         s.reject,
			EnhancedCode: smtp.EnhancedCode{s.reject / 100, 0, 0},
			Message:      "refused by smtpsink as asked",
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.sink.deliver(Received{From: s.from, To: s.to, Data: data, User: s.user})
	return nil
}

func (s *session) Reset() { s.from, s.to, s.reject = "", nil, 0 }

func (s *session) Logout() error { return nil }
