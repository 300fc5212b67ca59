package message

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net/textproto"
	"strings"
	"unicode"

	"github.com/jhillyerd/enmime/v2"

	"github.com/postdesk/postdesk/message/prescan"
)

// Elision: enmime moves every byte of a body through a byte-at-a-time
// boundary reader and a base64 cleaner, about 16 ms for a mail with a 1 MiB
// attachment. A base64 body made only of base64 characters, '=' and white
// space holds no '-', so it cannot hold a boundary line: where it ends does
// not depend on how it is read. Such bodies are found here with bytes.Index
// over the raw bytes, decoded with encoding/base64 directly, and replaced
// in a view of the message by one base64 line encoding a marker; enmime
// parses the view, and the decoded bytes are put back into the parts whose
// content is a marker. restore checks that enmime saw each marker where the
// splitter put it, so any disagreement about the structure of the message
// falls back to parsing the raw bytes: the result is always what enmime
// makes of the raw bytes.

const (
	// elideMin is the smallest body elided: below it enmime is cheap.
	elideMin = 32 << 10
	// elideDepth bounds the nesting the splitter follows; deeper bodies
	// are left to enmime.
	elideDepth = 2 * prescan.DefaultDepth
	// sniffLen is what http.DetectContentType reads, and what is kept of a
	// file whose data is dropped.
	sniffLen = 512
	// b64Chunk is how many base64 characters are decoded at a time.
	b64Chunk = 64 << 10
)

// markerPrefix starts every marker; then come a random token of the parse
// and the index of the body.
var markerPrefix = [16]byte{0, 0, 'p', 'o', 's', 't', 'd', 'e', 's', 'k', '-', 'e', 'l', 'i', 'd', 'e'}

// markerLen is the length of a marker: prefix, 16 random bytes, index. A
// multiple of 3, so its base64 line has no padding.
const markerLen = len(markerPrefix) + 16 + 4

// elidedBody is one leaf body cut out of the view.
type elidedBody struct {
	start, end int    // the bytes replaced by the marker line
	mtype      string // the media type enmime will give the part
	data       []byte // the decoded body; nil when dropped
	head       []byte // the first sniffLen bytes, when data is dropped
	size       int64  // the decoded size
}

// parseOptions are the knobs of parse; the zero value is Parse.
type parseOptions struct {
	// keep is the largest file whose data is held (0: no limit); a larger
	// one keeps its decoded size and no data (fileSizes).
	keep int64
	// minElide is the smallest body elided: 0 means elideMin, a negative
	// value turns elision off (tests compare both ways), and with it the
	// cutting of text bodies in the view (textcut.go).
	minElide int
	// textBytes caps the text and HTML bodies (textcap.go): 0 means
	// DefaultTextBytes.
	textBytes int
	// panicked, when set, is told of each panic recovered on the way (a
	// PanicXxx name); nil tells nobody.
	panicked func(where string)
}

// panic tells o.panicked, if set, of a panic recovered at where.
func (o parseOptions) panic(where string) {
	if o.panicked != nil {
		o.panicked(where)
	}
}

// envelope is readEnvelope, telling o of a panic inside enmime.
func (o parseOptions) envelope(body []byte) (*enmime.Envelope, error) {
	env, err := readEnvelope(body)
	if errors.Is(err, ErrPanic) {
		o.panic(PanicEnmime)
	}
	return env, err
}

// textLimit is the cap on the text and HTML bodies (textLimit's rule; 0
// is the default).
func (o parseOptions) textLimit() int { return textLimit(int64(o.textBytes)) }

// elideStats says what elision did for one message (for tests).
type elideStats struct {
	elided   int      // bodies decoded outside enmime and put back
	fellBack bool     // enmime disagreed with the splitter: the raw bytes were parsed
	cut      viewCuts // the text bodies cut in the view (textcut.go)
}

// readElided parses body with enmime like readEnvelope, eliding the big
// base64 leaves. A decoded body larger than o.keep (when set) is not held:
// its part gets the first sniffLen bytes as Content and its size is in
// dropped.
func readElided(body []byte, o parseOptions) (env *enmime.Envelope, dropped map[*enmime.Part]int64, st elideStats, err error) {
	minBody := o.minElide
	if minBody == 0 {
		minBody = elideMin
	}
	if minBody < 0 || len(body) < minBody {
		env, err = o.envelope(body)
		return env, nil, st, err
	}
	sp := &splitter{raw: body, keep: o.keep, min: minBody, text: o.textLimit()}
	ran := sp.run()
	if !ran {
		o.panic(PanicElide)
	}
	if !ran || len(sp.found)+len(sp.cuts) == 0 {
		env, err = o.envelope(body)
		return env, nil, st, err
	}
	var token [16]byte
	_, _ = rand.Read(token[:]) // crypto/rand.Read never fails
	env, err = o.envelope(cutView(body, sp.found, sp.cuts, token))
	if err == nil {
		dropped, err = restore(env, sp.found, token)
	}
	if err == nil {
		st.cut, err = uncut(env, sp.cuts, token)
	}
	if err != nil {
		env, err = o.envelope(body)
		return env, nil, elideStats{fellBack: true}, err
	}
	st.elided = len(sp.found)
	return env, dropped, st, nil
}

// marker returns marker i of a parse.
func marker(token [16]byte, i int) []byte {
	m := make([]byte, 0, markerLen)
	m = append(append(m, markerPrefix[:]...), token[:]...)
	return binary.BigEndian.AppendUint32(m, uint32(i))
}

// errDisagree says enmime did not read the view as the splitter did.
type errDisagree string

// Error says what restore found.
func (e errDisagree) Error() string { return "elision: " + string(e) }

// restore puts the decoded bodies back into the parts whose Content is a
// marker. It fails when a marker is not found exactly once, as the whole
// content of a leaf of the expected type decoded without a base64 defect,
// or when the random token shows up anywhere else: then enmime may have
// read the raw bytes differently.
func restore(env *enmime.Envelope, found []elidedBody, token [16]byte) (map[*enmime.Part]int64, error) {
	key := make([]byte, 0, markerLen-4)
	key = append(append(key, markerPrefix[:]...), token[:]...)
	if strings.Contains(env.Text, string(token[:])) || strings.Contains(env.HTML, string(token[:])) {
		return nil, errDisagree("marker in the text")
	}
	parts := make([]*enmime.Part, len(found))
	var bad error
	env.Root.DepthMatchAll(func(p *enmime.Part) bool {
		if strings.ContainsAny(p.Boundary, "\r\n") {
			bad = errDisagree("line break in a boundary")
		}
		c := p.Content
		if len(c) == markerLen && bytes.HasPrefix(c, key) {
			i := int(binary.BigEndian.Uint32(c[len(key):]))
			switch {
			case i >= len(found) || parts[i] != nil:
				bad = errDisagree("marker seen twice")
			case p.FirstChild != nil || p.ContentType != found[i].mtype || !cleanBase64(p):
				bad = errDisagree("marker in an unexpected part")
			default:
				parts[i] = p
			}
		} else if bytes.Contains(c, token[:]) || bytes.Contains(p.Epilogue, token[:]) {
			bad = errDisagree("marker inside a part")
		}
		return false
	})
	if bad != nil {
		return nil, bad
	}
	var dropped map[*enmime.Part]int64
	for i, p := range parts {
		switch {
		case p == nil:
			return nil, errDisagree("marker not found")
		case found[i].data == nil:
			if dropped == nil {
				dropped = map[*enmime.Part]int64{}
			}
			p.Content, dropped[p] = found[i].head, found[i].size
		default:
			p.Content = found[i].data
		}
	}
	return dropped, nil
}

// cleanBase64 reports whether enmime decoded p without a base64 defect or
// partial content, so that its content is exactly the marker's line.
func cleanBase64(p *enmime.Part) bool {
	for _, e := range p.Errors {
		if e.Name == enmime.ErrorMalformedBase64 || e.Name == enmime.ErrorMalformedChildPart {
			return false
		}
	}
	return true
}

// splitter finds the elidable bodies of a message. It reads boundaries the
// way enmime's boundaryReader does, but it need not be exact: restore
// catches every disagreement.
type splitter struct {
	raw   []byte
	keep  int64
	min   int // the smallest body elided
	found []elidedBody
	chunk []byte // base64 characters waiting to be decoded
	dec   []byte // decoded bytes of a body that is only counted
	// text is the cap on text bodies (0: none are cut); cuts are the
	// bodies cut (textcut.go), htmlSeen says the first HTML body was
	// met, dashes are the delimiters of the multiparts the walk is in.
	text     int
	cuts     []textCut
	htmlSeen bool
	dashes   [][]byte
}

// run finds the elidable bodies; false if the splitter panicked (a bug:
// enmime then parses the raw bytes as if there were no splitter).
func (sp *splitter) run() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	sp.root()
	return true
}

// root looks at the top-level header: enmime parses a multipart only with a
// boundary (MultipartWOBoundaryAsSinglePart).
func (sp *splitter) root() {
	h, bodyStart, ok := readPartHeader(sp.raw, 0, len(sp.raw))
	if !ok {
		return
	}
	ctype := h.Get("Content-Type")
	if ctype == "" {
		ctype = "text/plain"
	}
	mtype, params, _, err := prescan.ParseType(ctype)
	switch {
	case err != nil:
	case prescan.IsContainer(mtype, params["boundary"], true):
		sp.multipart(bodyStart, len(sp.raw), params["boundary"], 1)
	case strings.HasPrefix(mtype, "text/"):
		sp.cutText(h, mtype, params, bodyStart, len(sp.raw))
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

// readPartHeader reads the header of the entity raw[start:end] with
// enmime.ReadHeader and returns where its body starts. ok is false when
// the header is unreadable or not closed by a blank line within
// prescan.DefaultHeaderBytes (the pre-scan refuses longer ones; without a
// blank line, enmime.ReadHeader would read the whole entity).
func readPartHeader(raw []byte, start, end int) (textproto.MIMEHeader, int, bool) {
	if !headerEnds(raw[start:min(end, start+prescan.DefaultHeaderBytes)]) {
		return nil, 0, false
	}
	r := bytes.NewReader(raw[start:end])
	br := bufio.NewReader(r)
	h, err := prescan.ReadHeader(br)
	bodyStart := end - r.Len() - br.Buffered()
	if err != nil || bodyStart <= start || bodyStart >= end || raw[bodyStart-1] != '\n' {
		return nil, 0, false
	}
	return h, bodyStart, true
}

// headerEnds reports whether b holds the blank line that ends a header.
func headerEnds(b []byte) bool {
	return len(b) > 0 && (b[0] == '\n' || bytes.HasPrefix(b, []byte("\r\n")) ||
		bytes.Contains(b, []byte("\n\n")) || bytes.Contains(b, []byte("\n\r\n")))
}

// multipart walks the parts of the multipart body raw[start:end].
func (sp *splitter) multipart(start, end int, boundary string, depth int) {
	if depth > elideDepth || strings.ContainsAny(boundary, "\r\n") {
		return
	}
	dash := []byte("--" + boundary)
	sp.dashes = append(sp.dashes, dash)
	defer func() { sp.dashes = sp.dashes[:len(sp.dashes)-1] }()
	// The preamble: lines up to the first delimiter line (enmime's Next).
	pos := start
	for {
		q := indexFrom(sp.raw[:end], dash, pos)
		if q < 0 {
			return
		}
		line := sp.raw[lineStart(sp.raw, start, q):lineEnd(sp.raw, q, end)]
		if isTerminatorLine(line, dash) {
			return
		}
		pos = lineEnd(sp.raw, q, end)
		if line[len(line)-1] == '\n' && isDelimiterLine(line, dash) {
			break
		}
	}
	for pos < end {
		q := sp.nextBoundary(pos, end, dash)
		if q < 0 {
			return // the last part runs to the end: enmime reads it unbounded
		}
		sp.part(pos, q, end, depth)
		line := sp.raw[q:lineEnd(sp.raw, q, end)]
		if isTerminatorLine(line, dash) || line[len(line)-1] != '\n' || !isDelimiterLine(line, dash) {
			return
		}
		pos = q + len(line)
	}
}

// nextBoundary returns where the boundary line that ends the part starting
// at pos starts: "--boundary" at the start of a line, then white space or
// "--", with enough input after it for enmime's look-ahead; -1 if none.
func (sp *splitter) nextBoundary(pos, end int, dash []byte) int {
	for from := pos; ; {
		q := indexFrom(sp.raw[:end], dash, from)
		if q < 0 {
			return -1
		}
		after := q + len(dash)
		if (q == pos || sp.raw[q-1] == '\n') && after+2 <= end &&
			(isSpaceByte(sp.raw[after]) || (sp.raw[after] == '-' && sp.raw[after+1] == '-')) {
			return q
		}
		from = q + 1
	}
}

// part looks at the part raw[start:delim], where delim starts the boundary
// line after it; the part's content, as enmime cuts it, ends before the
// line break in front of delim.
func (sp *splitter) part(start, delim, end, depth int) {
	cut := delim
	if cut > start && sp.raw[cut-1] == '\n' {
		cut--
		if cut > start && sp.raw[cut-1] == '\r' {
			cut--
		}
	}
	if cut-start < sp.min {
		return
	}
	h, bodyStart, ok := readPartHeader(sp.raw, start, cut)
	if !ok {
		return
	}
	mtype, params, _, err := prescan.ParseType(h.Get("Content-Type"))
	if err != nil || h.Get("Content-Type") == "" {
		return
	}
	if b := params["boundary"]; b != "" {
		if prescan.IsContainer(mtype, b, false) {
			sp.multipart(bodyStart, cut, b, depth+1)
		}
		return
	}
	if sp.cutText(h, mtype, params, bodyStart, cut) {
		return
	}
	switch {
	case strings.ToLower(h.Get("Content-Transfer-Encoding")) != "base64", // as enmime compares
		strings.HasPrefix(mtype, "text/"), strings.HasPrefix(mtype, "message/"), strings.HasPrefix(mtype, "multipart/"),
		cut-bodyStart < sp.min, tailCutsBase64(sp.raw[bodyStart:delim]):
		return
	}
	if e, ok := sp.decode(sp.raw[bodyStart:delim]); ok {
		e.start, e.end, e.mtype = bodyStart, cut, mtype
		sp.found = append(sp.found, e)
	}
}

// tailCutsBase64 reports whether body ends in CR, a base64 character and
// LF: enmime then ends the part at that CR (its look-ahead from a CR skips
// one byte) and loses the character.
func tailCutsBase64(body []byte) bool {
	n := len(body)
	return n >= 3 && body[n-3] == '\r' && body[n-1] == '\n' && b64Value[body[n-2]] >= 0
}

// isDelimiterLine is enmime's test for a line that opens a part: the first
// "--boundary" in it is followed by a white space byte.
func isDelimiterLine(line, dash []byte) bool {
	i := bytes.Index(line, dash)
	return i >= 0 && i+len(dash) < len(line) && isSpaceByte(line[i+len(dash)])
}

// isTerminatorLine is enmime's test for the close delimiter: the line
// holds "--boundary--" anywhere.
func isTerminatorLine(line, dash []byte) bool {
	for off := 0; ; {
		i := bytes.Index(line[off:], dash)
		if i < 0 {
			return false
		}
		off += i + len(dash)
		if bytes.HasPrefix(line[off:], []byte("--")) {
			return true
		}
	}
}

// fileSizes says which files keep their data.
type fileSizes struct {
	// dropped are the elided bodies over keep, with their decoded size;
	// their Content is the first sniffLen bytes.
	dropped map[*enmime.Part]int64
	keep    int64 // 0: no limit
}

// data returns the data a file keeps and its decoded size: no data when
// it is larger than keep.
func (fs fileSizes) data(p *enmime.Part) ([]byte, int64) {
	if n, ok := fs.dropped[p]; ok {
		return nil, n
	}
	n := int64(len(p.Content))
	if fs.keep > 0 && n > fs.keep {
		return nil, n
	}
	return p.Content, n
}

// isSpaceByte is enmime's white space test on a byte.
func isSpaceByte(c byte) bool { return unicode.IsSpace(rune(c)) }

// lineStart returns the start of the line holding raw[i], not before min.
func lineStart(raw []byte, min, i int) int {
	return bytes.LastIndexByte(raw[min:i], '\n') + 1 + min
}

// lineEnd returns the end of the line holding raw[i], after its LF, not
// after max.
func lineEnd(raw []byte, i, max int) int {
	if j := bytes.IndexByte(raw[i:max], '\n'); j >= 0 {
		return i + j + 1
	}
	return max
}
