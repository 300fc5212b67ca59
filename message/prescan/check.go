package prescan

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// Check checks raw against l before anything parses it for real: enmime
// reads a whole message into memory with no limit of its own (5,000 nested
// parts took it 15 s and 146 MB). It returns nil or an error wrapping
// ErrTooComplex (a *LimitError); a panic recovered inside it is such an
// error that also wraps ErrPanic. Mail that is merely malformed passes:
// message.Parse is more forgiving than a strict reader, so it decides
// about that.
//
// The scan streams over raw once, keeping a few KiB per nesting level and
// never a copy of a part: go-message (textproto.MultipartReader) splits
// multiparts and decodes attached messages (leaves are counted, not
// decoded), and header sections are read the way enmime reads them
// (enmime.ReadHeader, enmime's media type parser, its rules for which
// parts are multiparts), so that the structure checked is the structure enmime will build. Where the two
// libraries disagree on boundary lines, the scan takes the wider reading;
// see gate. Like message.Parse, it skips what SkipPrefix skips (a byte
// order mark, an mbox "From " line and junk lines before the header; their
// line lengths still count).
func Check(raw []byte, l Limits) error {
	return scan(raw, l).err
}

// scan runs the pre-scan and returns its final state.
func scan(raw []byte, l Limits) (s *scanner) {
	s = &scanner{l: l.withDefaults(), buf: make([]byte, 8<<10)}
	defer func() {
		if r := recover(); r != nil {
			s.err = fmt.Errorf("%w: pre-scan: %w: %v", ErrTooComplex, ErrPanic, r)
		}
	}()
	body, _ := SkipPrefix(raw)
	src := &lineReader{r: bytes.NewReader(raw), s: s}
	if _, err := io.CopyN(io.Discard, src, int64(len(raw)-len(body))); err != nil {
		return s
	}
	if len(bytes.TrimSpace(body)) > 0 {
		s.entity(src, 0, true)
	}
	if s.err == nil {
		// Lines the walk did not read (an epilogue, a part it skipped).
		_, _ = io.CopyBuffer(io.Discard, src, s.buf)
	}
	if work := int64(s.deepest) * int64(len(raw)); s.err == nil && work > s.l.DepthBytes {
		s.fail("DepthBytes", work, s.l.DepthBytes)
	}
	return s
}

// scanner is the state of one scan.
type scanner struct {
	l       Limits
	err     error  // the first limit exceeded; once set, every reader fails with it
	parts   int    // body parts seen
	deepest int    // the deepest nesting seen
	decoded int64  // leaf body bytes seen, encoded: an upper bound of the decoded size
	buf     []byte // for reading leaf bodies
}

// fail records that limit is exceeded, unless an earlier one was.
func (s *scanner) fail(limit string, seen, max int64) error {
	if s.err == nil {
		s.err = &LimitError{Limit: limit, Seen: seen, Max: max}
	}
	return s.err
}

// entity scans one entity, header and body, read from r; depth is the
// number of containers around it, root says whether it is a message (the
// top one or an attached one) rather than a body part.
func (s *scanner) entity(r io.Reader, depth int, root bool) {
	hl := &headerLimit{r: r, s: s, n: int64(s.l.HeaderBytes)}
	br := bufio.NewReaderSize(hl, 1024) // a part header is usually smaller
	h, _ := ReadHeader(br)              // an unreadable header leaves a leaf
	if s.err != nil {
		return
	}
	hl.n = math.MaxInt64
	ctype := h.Get("Content-Type")
	cte := strings.TrimSpace(h.Get("Content-Transfer-Encoding"))
	if ctype == "" && root {
		ctype = "text/plain" // RFC 2045 §5.2
	}
	mtype, params, _, err := ParseType(ctype)
	boundary := params["boundary"]
	switch {
	case err != nil || ctype == "":
		s.leaf(br) // enmime skips such a part, or reads it as one body
	case IsContainer(mtype, boundary, root):
		if s.enter(depth + 1) {
			s.multipart(br, boundary, depth+1)
		}
	case IsMessagePart(mtype):
		if s.enter(depth + 1) {
			s.attached(br, cte, depth+1)
		}
	default:
		s.leaf(br)
	}
}

// enter checks the nesting depth of a container's contents.
func (s *scanner) enter(depth int) bool {
	s.deepest = max(s.deepest, depth)
	if depth > s.l.Depth {
		s.fail("Depth", int64(depth), int64(s.l.Depth))
		return false
	}
	return true
}

// multipart scans the parts of a multipart body.
func (s *scanner) multipart(body io.Reader, boundary string, depth int) {
	mr := textproto.NewMultipartReader(newGate(body, boundary, s), gateBoundary)
	for s.err == nil {
		p, err := mr.NextPart()
		if err != nil || s.err != nil {
			return // io.EOF: the gate always ends the stream with a close delimiter
		}
		s.parts++
		if s.parts > s.l.Parts {
			s.fail("Parts", int64(s.parts), int64(s.l.Parts))
			return
		}
		s.entity(p, depth, false)
	}
}

// attached scans an attached message, decoding it first if a mailer
// encoded it (RFC 2046 §5.2.1 forbids that; it happens).
func (s *scanner) attached(body io.Reader, cte string, depth int) {
	r := decoded(body, cte)
	if r != body {
		r = &lineReader{r: r, s: s} // the decoded lines were not checked yet
	}
	s.entity(r, depth, true)
}

// leaf reads a body through the gate, which finds where it ends, counting
// its encoded size (see Limits.DecodedBytes).
func (s *scanner) leaf(body io.Reader) {
	for s.err == nil {
		n, err := body.Read(s.buf)
		s.decoded += int64(n)
		if s.decoded > s.l.DecodedBytes {
			s.fail("DecodedBytes", s.decoded, s.l.DecodedBytes)
			return
		}
		if err != nil {
			return
		}
	}
}

// decoded undoes a Content-Transfer-Encoding with go-message; an unknown
// encoding leaves the body as it is, as enmime does.
func decoded(body io.Reader, cte string) io.Reader {
	var h message.Header
	h.Set("Content-Transfer-Encoding", cte)
	e, err := message.New(h, body)
	if e == nil || err != nil {
		return body
	}
	return e.Body
}
