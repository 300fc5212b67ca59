package message

import (
	"bytes"
	"encoding/base64"
)

// b64Value is what enmime's base64 cleaner does with a byte: its value for
// the base64 alphabet, -1 for the bytes it drops silently (CR, LF, space,
// tab and '='), -2 for the rest. enmime drops those with a defect, or
// fails on bytes over 0x7F; the bodies elided hold none of them.
var b64Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -2
	}
	for i, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
		t[c] = int8(i)
	}
	for _, c := range []byte("\r\n \t=") {
		t[c] = -1
	}
	return t
}()

// decode decodes a base64 body as enmime does: the bytes of b64Value -1
// are dropped wherever they are, the rest is decoded with RawStdEncoding.
// ok is false when the body holds another byte or its characters do not
// make whole bytes (one left over); enmime then reports a defect, and the
// body is left to it. A body larger than keep (when keep > 0) is decoded
// in chunks into a reused buffer and only counted: the result has its size
// and first sniffLen bytes, no data.
func (sp *splitter) decode(body []byte) (elidedBody, bool) {
	if sp.chunk == nil {
		sp.chunk = make([]byte, 0, b64Chunk)
	}
	// An upper bound of the decoded size: most bodies only have line breaks.
	chars := len(body) - bytes.Count(body, []byte{'\n'}) - bytes.Count(body, []byte{'\r'})
	bound := int64(base64.RawStdEncoding.DecodedLen(chars))
	if sp.keep <= 0 || bound <= sp.keep {
		s := &b64Sink{out: make([]byte, 0, bound)}
		if !sp.feed(body, s) {
			return elidedBody{}, false
		}
		return elidedBody{data: s.out, size: int64(len(s.out))}, true
	}
	if sp.dec == nil {
		sp.dec = make([]byte, b64Chunk/4*3)
	}
	s := &b64Sink{count: sp.dec}
	if !sp.feed(body, s) {
		return elidedBody{}, false
	}
	if s.size <= sp.keep { // the bound was loose: decode again, keeping it
		k := &b64Sink{out: make([]byte, 0, s.size)}
		sp.feed(body, k)
		return elidedBody{data: k.out, size: s.size}, true
	}
	return elidedBody{head: s.head, size: s.size}, true
}

// feed passes the base64 characters of body to s: line by line when the
// lines hold only the alphabet (with trailing CR, '=' and blanks), else,
// after a failure, byte by byte.
func (sp *splitter) feed(body []byte, s *b64Sink) bool {
	if sp.feedLines(body, s) {
		return true
	}
	s.reset()
	return sp.feedBytes(body, s)
}

// feedLines is the fast path: lines are copied into the chunk buffer, and
// the decoder rejects any byte that is not in the alphabet.
func (sp *splitter) feedLines(body []byte, s *b64Sink) bool {
	chunk := sp.chunk[:0]
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		for len(line) > 0 && b64Value[line[len(line)-1]] == -1 {
			line = line[:len(line)-1] // CR, '=' or blanks at the end
		}
		for len(line) > 0 {
			k := copy(chunk[len(chunk):cap(chunk)], line)
			chunk, line = chunk[:len(chunk)+k], line[k:]
			if len(chunk) == cap(chunk) {
				if !s.write(chunk) {
					return false
				}
				chunk = chunk[:0]
			}
		}
	}
	return s.write(chunk)
}

// feedBytes is the slow path, for bodies with white space or '=' inside
// lines: every byte is looked up in b64Value.
func (sp *splitter) feedBytes(body []byte, s *b64Sink) bool {
	chunk := sp.chunk[:0]
	for _, c := range body {
		switch b64Value[c] {
		case -2:
			return false
		case -1:
			continue
		}
		chunk = append(chunk, c)
		if len(chunk) == cap(chunk) {
			if !s.write(chunk) {
				return false
			}
			chunk = chunk[:0]
		}
	}
	return s.write(chunk)
}

// b64Sink receives base64 characters in chunks, each but the last a
// multiple of 4 long, and decodes them into out, or, when count is set,
// into count, keeping only the size and the first sniffLen bytes.
type b64Sink struct {
	out   []byte
	count []byte
	head  []byte
	size  int64
}

// write decodes one chunk. It fails when the chunk holds a byte outside
// the alphabet (encoding/base64 skips CR and LF, so a decoded length short
// of the characters' is a failure too) or leaves one character over.
func (s *b64Sink) write(chars []byte) bool {
	if len(chars) == 0 {
		return true
	}
	want := base64.RawStdEncoding.DecodedLen(len(chars))
	if len(chars)%4 == 1 {
		return false
	}
	dst := s.count
	if dst == nil {
		dst = s.out[len(s.out):cap(s.out)]
	}
	n, err := base64.RawStdEncoding.Decode(dst, chars)
	if err != nil || n != want {
		return false
	}
	if s.count == nil {
		s.out = s.out[:len(s.out)+n]
	} else if len(s.head) < sniffLen {
		s.head = append(s.head, dst[:min(n, sniffLen-len(s.head))]...)
	}
	s.size += int64(n)
	return true
}

// reset forgets what was written.
func (s *b64Sink) reset() {
	s.out, s.head, s.size = s.out[:0], s.head[:0], 0
}
