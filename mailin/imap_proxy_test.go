package mailin

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
)

// proxy forwards TCP between the poller and the server, recording both
// ways; it can cut the server→client stream in the middle of a marker,
// hold it there until the test lets it go on, and drop every connection.
type proxy struct {
	t       *testing.T
	sent    lockedBuffer // client→server, every connection
	got     lockedBuffer // server→client, as read from the server
	ln      net.Listener
	target  string
	wg      sync.WaitGroup
	closing chan struct{} // closed at cleanup: nothing is held any more

	mu      sync.Mutex
	marker  []byte // where to cut
	conns   map[net.Conn]bool
	cuts    int
	hold    []byte        // where to hold
	release chan struct{} // closed when a hold may end
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target, conns: map[net.Conn]bool{}, closing: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		close(p.closing)
		ln.Close()
		p.dropAll()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

// cutAt makes the proxy cut server→client traffic halfway through marker;
// nil lets everything through.
func (p *proxy) cutAt(marker string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.marker = []byte(marker)
	if marker == "" {
		p.marker = nil
	}
}

// holdAt makes the proxy stop server→client traffic of the next connection
// to show marker halfway through it, until the returned function is
// called.
func (p *proxy) holdAt(marker string) (release func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = []byte(marker)
	ch := make(chan struct{})
	p.release = ch
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

func (p *proxy) cutCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

// dropAll closes every proxied connection.
func (p *proxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *proxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c] = true
}

func (p *proxy) accept() {
	defer p.wg.Done()
	defer recoverTest(p.t)
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			p.t.Errorf("proxy dial: %v", err)
			return
		}
		p.track(client)
		p.track(server)
		p.wg.Add(2)
		go p.up(client, server)
		go p.down(server, client)
	}
}

// up copies client→server untouched.
func (p *proxy) up(client, server net.Conn) {
	defer p.wg.Done()
	defer recoverTest(p.t)
	io.Copy(server, io.TeeReader(client, &p.sent))
	server.Close()
	client.Close()
}

// down copies server→client until the cut marker shows up, holding it at
// the hold marker until released.
func (p *proxy) down(server, client net.Conn) {
	defer p.wg.Done()
	defer recoverTest(p.t)
	defer client.Close()
	defer server.Close()
	var seenCut, seenHold []byte
	buf := make([]byte, 4096)
	for {
		n, err := server.Read(buf)
		chunk := buf[:n]
		p.got.Write(chunk)
		if cut, ok := p.cutPoint(&seenCut, chunk); ok {
			client.Write(chunk[:cut])
			return
		}
		if at, release, ok := p.holdPoint(&seenHold, chunk); ok {
			if _, werr := client.Write(chunk[:at]); werr != nil {
				return
			}
			select {
			case <-release:
			case <-p.closing:
				return
			}
			chunk = chunk[at:]
		}
		if _, werr := client.Write(chunk); werr != nil || err != nil {
			return
		}
	}
}

// cutPoint reports where in chunk to cut, if the marker is complete in seen
// plus chunk.
func (p *proxy) cutPoint(seen *[]byte, chunk []byte) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.marker == nil {
		return 0, false
	}
	at, ok := markerAt(seen, chunk, p.marker)
	if ok {
		p.cuts++
	}
	return at, ok
}

// holdPoint reports where in chunk to hold, if the hold marker is complete
// in seen plus chunk; it holds once.
func (p *proxy) holdPoint(seen *[]byte, chunk []byte) (int, <-chan struct{}, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hold == nil {
		return 0, nil, false
	}
	at, ok := markerAt(seen, chunk, p.hold)
	if !ok {
		return 0, nil, false
	}
	p.hold = nil
	return at, p.release, true
}

// markerAt appends chunk to seen and reports the offset in chunk of the
// middle of marker, once marker is complete.
func markerAt(seen *[]byte, chunk, marker []byte) (int, bool) {
	start := len(*seen)
	*seen = append(*seen, chunk...)
	i := bytes.Index(*seen, marker)
	if i < 0 {
		return 0, false
	}
	return max(0, i+len(marker)/2-start), true
}
