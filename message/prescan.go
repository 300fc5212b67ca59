package message

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
	"github.com/jhillyerd/enmime/v2"
)

// Limits bound what the pre-scan accepts; zero values mean the defaults.
type Limits struct {
	// Depth is how deep multiparts and attached messages (message/rfc822,
	// message/global) may nest: 20. A multipart at the top is one level.
	Depth int
	// Parts is how many MIME body parts the message may hold in all, at
	// every level: 500.
	Parts int
	// HeaderBytes is the size of one header section, the top one or a
	// part's, with its closing blank line: 256 KiB, Exchange's limit.
	HeaderBytes int
	// LineBytes is the length of one line anywhere, line break not
	// counted: 1 MiB. RFC 5322 §2.1.1 says 998, but real mail breaks it
	// (HTML on one line, base64 without line breaks).
	LineBytes int
	// DecodedBytes bounds the size of all leaf bodies together once their
	// Content-Transfer-Encoding is undone: 100 MiB (mailin.Intake uses 4 × its
	// MaxBytes). Leaves are not decoded: their encoded size is counted, an
	// upper bound (base64 decodes to 3/4, quoted-printable to at most its
	// size, other encodings keep it), so leaves over the limit as sent are
	// refused even if they would decode below it. Leaves are no bigger than
	// the message, so this bites only when set below its size. Encoded
	// attached messages are decoded, to be scanned.
	DecodedBytes int64
	// DepthBytes bounds the deepest nesting times the size of the message,
	// in bytes: 128 MiB. enmime's work grows with both (about 10 ms per MiB
	// per level on this machine: a 25 MiB mail at depth 5 takes 1.3 s), so
	// a big mail may nest 5 levels, a small one up to Depth.
	DepthBytes int64
}

// The default limits. Real mail stays far below them: over the corpus in
// ../shared/corpus (1,040 messages) the most is 9 levels and 28 parts
// (rt/nested-mime-sample), 1.2 MB decoded, 28 KB in a line, and 133 KiB in
// a header section (mimekit stack-overflow.txt, a To field of thousands of
// encoded-words; the next largest is 45 KiB), while enmime takes
// milliseconds over mail at the limits of structure (500 parts, 20 levels).
const (
	DefaultDepth        = 20
	DefaultParts        = 500
	DefaultHeaderBytes  = 256 << 10
	DefaultLineBytes    = 1 << 20
	DefaultDecodedBytes = 100 << 20
	DefaultDepthBytes   = 128 << 20
)

func (l Limits) withDefaults() Limits {
	if l.Depth <= 0 {
		l.Depth = DefaultDepth
	}
	if l.Parts <= 0 {
		l.Parts = DefaultParts
	}
	if l.HeaderBytes <= 0 {
		l.HeaderBytes = DefaultHeaderBytes
	}
	if l.LineBytes <= 0 {
		l.LineBytes = DefaultLineBytes
	}
	if l.DecodedBytes <= 0 {
		l.DecodedBytes = DefaultDecodedBytes
	}
	if l.DepthBytes <= 0 {
		l.DepthBytes = DefaultDepthBytes
	}
	return l
}

// ErrTooComplex is wrapped by every refusal of the pre-scan: the message
// is over one of its Limits.
var ErrTooComplex = errors.New("message too complex")

// LimitError says which limit a message is over and the value the pre-scan
// had seen when it stopped (the message may hold more: the scan stops at
// the first value over the limit).
type LimitError struct {
	Limit string // the Limits field: "Depth", "Parts", "HeaderBytes", "LineBytes", "DecodedBytes" or "DepthBytes"
	Seen  int64
	Max   int64
}

func (e *LimitError) Error() string {
	what := map[string]string{
		"Depth":        "nesting depth %d",
		"Parts":        "%d parts",
		"HeaderBytes":  "a header section of %d+ bytes",
		"LineBytes":    "a line of %d bytes",
		"DecodedBytes": "leaf bodies of %d+ bytes (encoded, an upper bound of decoded)",
		"DepthBytes":   "nesting depth × size %d bytes",
	}[e.Limit]
	if what == "" {
		what = e.Limit + " %d"
	}
	return fmt.Sprintf("%v: "+what+", limit %d", ErrTooComplex, e.Seen, e.Max)
}

func (e *LimitError) Unwrap() error { return ErrTooComplex }

// Prescan checks raw against l before anything parses it for real: enmime
// reads a whole message into memory with no limit of its own (5,000 nested
// parts took it 15 s and 146 MB). It returns nil or an error wrapping
// ErrTooComplex (a *LimitError). Mail that is merely malformed passes:
// Parse is more forgiving than a strict reader, so it decides about that.
//
// The scan streams over raw once, keeping a few KiB per nesting level and
// never a copy of a part: go-message (textproto.MultipartReader) splits
// multiparts and decodes attached messages (leaves are counted, not
// decoded), and header sections are read the way enmime reads them
// (enmime.ReadHeader, enmime's media type parser, its rules for which
// parts are multiparts), so that the structure checked is the structure enmime will build. Where the two
// libraries disagree on boundary lines, the scan takes the wider reading;
// see gate. Like Parse, it skips a byte order mark, an mbox "From " line
// and junk lines before the header (their line lengths still count).
func Prescan(raw []byte, l Limits) error {
	return scan(raw, l).err
}

// scan runs the pre-scan and returns its final state.
func scan(raw []byte, l Limits) (s *prescan) {
	s = &prescan{l: l.withDefaults(), buf: make([]byte, 8<<10)}
	defer func() {
		if r := recover(); r != nil {
			s.err = fmt.Errorf("%w: pre-scan: %w: %v", ErrTooComplex, ErrPanic, r)
		}
	}()
	body, _ := skipPrefix(raw)
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

// prescan is the state of one scan.
type prescan struct {
	l       Limits
	err     error  // the first limit exceeded; once set, every reader fails with it
	parts   int    // body parts seen
	deepest int    // the deepest nesting seen
	decoded int64  // leaf body bytes seen, encoded: an upper bound of the decoded size
	buf     []byte // for reading leaf bodies
}

// fail records that limit is exceeded, unless an earlier one was.
func (s *prescan) fail(limit string, seen, max int64) error {
	if s.err == nil {
		s.err = &LimitError{Limit: limit, Seen: seen, Max: max}
	}
	return s.err
}

// noDefects drops the defects enmime.ReadHeader reports.
type noDefects struct{}

func (noDefects) AddError(string, string, ...any)   {}
func (noDefects) AddWarning(string, string, ...any) {}

// entity scans one entity, header and body, read from r; depth is the
// number of containers around it, root says whether it is a message (the
// top one or an attached one) rather than a body part.
func (s *prescan) entity(r io.Reader, depth int, root bool) {
	hl := &headerLimit{r: r, s: s, n: int64(s.l.HeaderBytes)}
	br := bufio.NewReaderSize(hl, 1024)        // a part header is usually smaller
	h, _ := enmime.ReadHeader(br, noDefects{}) // an unreadable header leaves a leaf
	if s.err != nil {
		return
	}
	hl.n = math.MaxInt64
	ctype := h.Get("Content-Type")
	cte := strings.TrimSpace(h.Get("Content-Transfer-Encoding"))
	if ctype == "" && root {
		ctype = "text/plain" // RFC 2045 §5.2
	}
	mtype, params, _, err := parseType(ctype)
	boundary := params["boundary"]
	switch {
	case err != nil || ctype == "":
		s.leaf(br) // enmime skips such a part, or reads it as one body
	case isContainer(mtype, boundary, root):
		if s.enter(depth + 1) {
			s.multipart(br, boundary, depth+1)
		}
	case isMessagePart(mtype):
		if s.enter(depth + 1) {
			s.attached(br, cte, depth+1)
		}
	default:
		s.leaf(br)
	}
}

// isContainer reports whether enmime parses an entity as a multipart: a
// message when its type is multipart/* with a boundary (ReadParts, with
// MultipartWOBoundaryAsSinglePart), a body part whenever it has a boundary
// and is not text/plain or text/html, whatever its type (parseParts).
func isContainer(mtype, boundary string, root bool) bool {
	if boundary == "" {
		return false
	}
	if root {
		return strings.HasPrefix(mtype, "multipart/")
	}
	return mtype != "text/plain" && mtype != "text/html"
}

// enter checks the nesting depth of a container's contents.
func (s *prescan) enter(depth int) bool {
	s.deepest = max(s.deepest, depth)
	if depth > s.l.Depth {
		s.fail("Depth", int64(depth), int64(s.l.Depth))
		return false
	}
	return true
}

// multipart scans the parts of a multipart body.
func (s *prescan) multipart(body io.Reader, boundary string, depth int) {
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
func (s *prescan) attached(body io.Reader, cte string, depth int) {
	r := decoded(body, cte)
	if r != body {
		r = &lineReader{r: r, s: s} // the decoded lines were not checked yet
	}
	s.entity(r, depth, true)
}

// leaf reads a body through the gate, which finds where it ends, counting
// its encoded size (see Limits.DecodedBytes).
func (s *prescan) leaf(body io.Reader) {
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

// headerLimit lets a header section be read up to n bytes; the reader on
// top of it buffers, so n is lifted (set to MaxInt64) once the header is
// read.
type headerLimit struct {
	r io.Reader
	s *prescan
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
	s   *prescan
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

// gateBoundary is the boundary the gate writes for go-message; content
// lines that start with it are escaped.
const gateBoundary = "=_prescan_="

// gate sits between a multipart body and go-message's MultipartReader. It
// finds the boundary lines the way enmime does and rewrites them into
// lines go-message reads the same way, so that go-message splits the body
// where enmime will (or more often), and it never lets go-message read a
// part header:
//
//   - a line holding "--boundary" and a space byte (RFC 2046 §5.1.1 allows
//     only trailing white space; enmime takes any, and before the first
//     part anywhere in the line) becomes "--gateBoundary", then an empty
//     header section: the real one is read by entity with its limit;
//   - a line starting with "--boundary--", or holding it anywhere before
//     the first part, becomes the close delimiter, and ends the stream;
//   - a content line that go-message would take for a boundary line
//     ("--boundary-x", "--gateBoundary") gets a leading space;
//   - the preamble is dropped; at the end of the input, or on any read
//     error, a close delimiter is added, so NextPart always ends in io.EOF.
//
// Line breaks of the rewritten lines are LF, which go-message then expects
// (it takes CR LF as content with a trailing CR). The gate keeps at most a
// few KiB: the current read, and the start of a line until it knows what
// the line is.
type gate struct {
	src     io.Reader
	s       *prescan
	dash    []byte // "--" + the real boundary
	term    []byte // dash + "--"
	need    int    // bytes of a line's start needed to decide on escaping it
	in      []byte // the current read
	win     []byte // held + the segment being looked at
	held    []byte // bytes of the current line not yet written
	out     []byte // output not yet read, from off
	off     int
	atStart bool // held starts at the start of a line
	skip    bool // dropping the rest of the current line
	pre     bool // before the first delimiter
	done    bool // the close delimiter is written
}

var (
	gateDash      = []byte("--" + gateBoundary)
	gateDelimiter = []byte("--" + gateBoundary + "\n\n")
	gateClose     = []byte("\n--" + gateBoundary + "--")
)

func newGate(src io.Reader, boundary string, s *prescan) *gate {
	dash := []byte("--" + boundary + "--")
	return &gate{
		src: src, s: s, dash: dash[:len(dash)-2], term: dash, need: max(len(dash), len(gateDash)+1),
		in: make([]byte, 4096), atStart: true, pre: true,
	}
}

func (g *gate) Read(p []byte) (int, error) {
	for g.off == len(g.out) {
		if g.s.err != nil {
			return 0, g.s.err
		}
		if g.done {
			return 0, io.EOF
		}
		g.out, g.off = g.out[:0], 0
		n, err := g.src.Read(g.in)
		g.process(g.in[:n])
		if err != nil && !g.done {
			if !g.pre {
				g.out = append(g.out, g.held...)
			}
			g.close()
		}
	}
	n := copy(p, g.out[g.off:])
	g.off += n
	return n, nil
}

// process looks at b line by line. Whole lines up to the next occurrence
// of the boundary (or of gateBoundary) go through at once: only lines
// holding one can change.
func (g *gate) process(b []byte) {
	nextDash, nextGate := -2, -2 // where the next one is, from pos; -1: none; -2: not looked for
	for pos := 0; pos < len(b) && !g.done; {
		if !g.skip && len(g.held) == 0 {
			if nextDash != -1 && nextDash < pos {
				nextDash = indexFrom(b, g.dash, pos)
			}
			if nextGate != -1 && nextGate < pos {
				nextGate = indexFrom(b, gateDash, pos)
			}
			limit := len(b)
			for _, next := range []int{nextDash, nextGate} {
				if next >= 0 {
					limit = min(limit, next)
				}
			}
			if i := bytes.LastIndexByte(b[pos:limit], '\n'); i >= 0 {
				if !g.pre {
					g.out = append(g.out, b[pos:pos+i+1]...)
				}
				pos += i + 1
				g.atStart = true
				continue
			}
		}
		i := bytes.IndexByte(b[pos:], '\n')
		seg := b[pos:]
		if i >= 0 {
			seg = seg[:i+1]
		}
		pos += len(seg)
		if g.skip {
			if i >= 0 {
				g.skip, g.atStart = false, true
			}
			continue
		}
		g.segment(seg, i >= 0)
	}
}

// indexFrom is bytes.Index of sep in b[from:], as an index into b.
func indexFrom(b, sep []byte, from int) int {
	i := bytes.Index(b[from:], sep)
	if i < 0 {
		return -1
	}
	return from + i
}

// segment looks at the next piece of the current line; complete says that
// it ends the line.
func (g *gate) segment(seg []byte, complete bool) {
	g.win = append(append(g.win[:0], g.held...), seg...)
	w := g.win
	g.held = g.held[:0]
	if g.atStart && !complete && len(w) < g.need {
		g.held = append(g.held, w...)
		return
	}
	if (g.atStart && bytes.HasPrefix(w, g.term)) || (g.pre && bytes.Contains(w, g.term)) {
		g.close()
		return
	}
	k := g.delimiter(w)
	if g.atStart && k != 0 && !g.pre && (bytes.HasPrefix(w, g.term[:len(g.dash)+1]) || bytes.HasPrefix(w, gateDash)) {
		g.out = append(g.out, ' ') // content, not a boundary line
	}
	switch {
	case k >= 0:
		if !g.pre {
			g.out = append(g.out, w[:k]...)
			if k > 0 || !g.atStart {
				g.out = append(g.out, '\n')
			}
		}
		g.out = append(g.out, gateDelimiter...)
		g.pre, g.skip, g.atStart = false, !complete, complete
	case complete:
		if !g.pre {
			g.out = append(g.out, w...)
		}
		g.atStart = true
	default:
		// The last bytes may start a boundary: hold them.
		keep := min(len(w), len(g.dash)+1)
		if !g.pre {
			g.out = append(g.out, w[:len(w)-keep]...)
		}
		g.held = append(g.held, w[len(w)-keep:]...)
		g.atStart = false
	}
}

// delimiter returns where in w the dash boundary starts followed by a
// white space byte (enmime's test, unicode.IsSpace on the byte), or -1.
func (g *gate) delimiter(w []byte) int {
	for off := 0; ; {
		i := bytes.Index(w[off:], g.dash)
		if i < 0 {
			return -1
		}
		k := off + i
		if k+len(g.dash) < len(w) && unicode.IsSpace(rune(w[k+len(g.dash)])) {
			return k
		}
		off = k + 1
	}
}

// close writes the close delimiter; the stream ends there.
func (g *gate) close() {
	g.out = append(g.out, gateClose...)
	g.done = true
}
