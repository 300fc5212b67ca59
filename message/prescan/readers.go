package prescan

import (
	"bytes"
	"io"
)

// headerLimit lets a header section be read up to n bytes; the reader on
// top of it buffers, so n is lifted (set to MaxInt64) once the header is
// read.
type headerLimit struct {
	r io.Reader
	s *scanner
	n int64
}

func (h *headerLimit) Read(p []byte) (int, error) {
	if h.s.err != nil {
		return 0, h.s.err
	}
	if h.n <= 0 {
		var one [1]byte
		if n, err := h.r.Read(one[:]); n == 0 && err != nil {
			return 0, err // the input ends exactly at the limit
		}
		return 0, h.s.fail("HeaderBytes", int64(h.s.l.HeaderBytes)+1, int64(h.s.l.HeaderBytes))
	}
	if int64(len(p)) > h.n {
		p = p[:h.n]
	}
	n, err := h.r.Read(p)
	h.n -= int64(n)
	return n, err
}

// lineReader passes r through, checking the length of every line. Over the
// limit, it reads on to the end of the line to report its length, then
// fails.
type lineReader struct {
	r   io.Reader
	s   *scanner
	cur int64 // bytes since the last LF
	cr  bool  // the last byte was CR
}

func (lr *lineReader) Read(p []byte) (int, error) {
	if lr.s.err != nil {
		return 0, lr.s.err
	}
	n, err := lr.r.Read(p)
	over, ended := lr.over(p[:n])
	if !over && err != nil && lr.cur > int64(lr.s.l.LineBytes) {
		over, ended = true, true // the last line, without a line break
	}
	if over {
		if !ended {
			lr.measure(p, err)
		}
		return 0, lr.s.fail("LineBytes", lr.cur, int64(lr.s.l.LineBytes))
	}
	return n, err
}

// over scans b and reports whether a line in it is over the limit, and
// whether that line ended in b; cur is then the length of the line so far.
func (lr *lineReader) over(b []byte) (over, ended bool) {
	max := int64(lr.s.l.LineBytes)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			lr.cur += int64(len(b))
			lr.cr = b[len(b)-1] == '\r'
			// Over unless a CR that may start the line break ends it.
			return lr.cur > max+1 || (lr.cur == max+1 && !lr.cr), false
		}
		n := lr.cur + int64(i)
		if (i > 0 && b[i-1] == '\r') || (i == 0 && lr.cr) {
			n-- // the CR of a CR LF
		}
		if n > max {
			lr.cur = n
			return true, true
		}
		lr.cur, lr.cr, b = 0, false, b[i+1:]
	}
	return false, false
}

// measure reads on to the end of the line that is over the limit, using p
// as scratch space, to report its length in cur.
func (lr *lineReader) measure(p []byte, err error) {
	if len(p) == 0 {
		p = make([]byte, 4096)
	}
	for err == nil {
		var n int
		n, err = lr.r.Read(p)
		b := p[:n]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			lr.cur += int64(i)
			if (i > 0 && b[i-1] == '\r') || (i == 0 && lr.cr) {
				lr.cur--
			}
			return
		}
		lr.cur += int64(n)
		if n > 0 {
			lr.cr = b[n-1] == '\r'
		}
	}
}
