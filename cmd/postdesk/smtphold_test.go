package main

import (
	"bytes"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// replyHolder is a TCP proxy in front of an SMTP server that, when armed,
// holds back the server's reply to the end of the next message (the 250
// after DATA's final "."): the server has accepted the mail and the client
// does not know it yet. It is how the tests stop the daemon at the worst
// moment of a send without a hook in production code. It can also play a
// server that is down (SetDown).
type replyHolder struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu      sync.Mutex
	down    bool          // greet with 421 and hang up: the server is down
	armed   bool          // hold the reply to the next end of data
	held    chan struct{} // gets a value once a reply is held
	release chan struct{} // closed by Release: send the held reply on
}

// holdReplies puts a replyHolder between e's daemon and its SMTP server,
// rewriting the configuration's [smtp] port.
func holdReplies(t *testing.T, e *env) *replyHolder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &replyHolder{t: t, ln: ln, target: e.sink.Addr()}
	t.Cleanup(func() { ln.Close() })
	setSMTPPort(t, e, ln.Addr().(*net.TCPAddr).Port)
	go h.serve()
	return h
}

// setSMTPPort points e's configuration at another SMTP port.
func setSMTPPort(t *testing.T, e *env, port int) {
	t.Helper()
	text, err := os.ReadFile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	from, to := "port = "+strconv.Itoa(e.sink.Port())+"\n", "port = "+strconv.Itoa(port)+"\n"
	if !strings.Contains(string(text), from) {
		t.Fatalf("no %q in the configuration", from)
	}
	if err := os.WriteFile(e.cfg, []byte(strings.Replace(string(text), from, to, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Arm makes the holder hold the reply to the next message's end of data
// and returns a channel that gets a value once it does.
func (h *replyHolder) Arm() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed, h.held, h.release = true, make(chan struct{}, 1), make(chan struct{})
	return h.held
}

// SetDown makes the server answer every new connection with 421 (down),
// or pass them on again (!down).
func (h *replyHolder) SetDown(down bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.down = down
}

// Release sends the held reply on to the client.
func (h *replyHolder) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	close(h.release)
}

func (h *replyHolder) serve() {
	for {
		client, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		down := h.down
		h.mu.Unlock()
		if down {
			client.Write([]byte("421 4.3.2 down for maintenance\r\n"))
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", h.target)
		if err != nil {
			client.Close()
			continue
		}
		go h.pipe(client, server)
	}
}

// hold is one reply to hold: where to say it is held, and its release.
type hold struct{ held, release chan struct{} }

// pipe copies both ways until either side closes; the server's reply to
// an end of data it took while armed is held.
func (h *replyHolder) pipe(client, server net.Conn) {
	holding := make(chan hold, 1)
	clientDone := make(chan struct{})
	go func() {
		defer close(clientDone)
		defer server.Close()
		h.fromClient(client, server, holding)
	}()
	defer client.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			select {
			case r := <-holding:
				r.held <- struct{}{}
				select {
				case <-r.release:
				case <-clientDone: // the client is gone (killed)
					return
				}
			default:
			}
			if _, err := client.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// fromClient copies the client's bytes to the server; when armed, the end
// of a message's data ("\r\n.\r\n") is announced on holding before it is
// passed on.
func (h *replyHolder) fromClient(client, server net.Conn, holding chan<- hold) {
	var tail []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			seen := append(tail, buf[:n]...)
			if bytes.Contains(seen, []byte("\r\n.\r\n")) {
				h.mu.Lock()
				if h.armed {
					h.armed = false
					holding <- hold{held: h.held, release: h.release}
				}
				h.mu.Unlock()
			}
			tail = append(tail[:0], seen[max(len(seen)-4, 0):]...)
			if _, err := server.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
