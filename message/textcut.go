package message

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/jhillyerd/enmime/v2"
	"github.com/postdesk/postdesk/message/prescan"
)

// Cutting big text bodies in the view (see elide.go for the view): enmime
// reads every byte of a body one at a time, decodes it and copies it into
// strings several times, so a 24 MB HTML body cost hundreds of MB before
// bodies could cut it. The splitter shortens each text/plain body, and the
// first text/html one, of more than what the cap needs: it keeps the
// encoded bytes that decode to what bodies clips and more (times 4 when the
// charset is not UTF-8, which may shrink when converted), up to a line end
// when one is near, and replaces the rest with one line holding a token.
// The removed bytes hold no boundary of any enclosing multipart, so enmime
// reads the same structure; after parsing, the token must end the content
// of exactly one part, a body of the expected type that is not a file, or
// the raw bytes are parsed instead. The token is then taken out, and the
// text is the raw parse's text up to at least limit bytes: bodies cuts both
// the same way.

// maxCutFactor bounds the encoded bytes kept per decoded byte needed, for
// bodies whose decoded size the splitter cannot count exactly (white space
// in quoted-printable): the work stays bounded, the cut a little early.
const maxCutFactor = 8

// textCut is one body cut in the view: the bytes [start, end) are replaced
// by sep and the token line.
type textCut struct {
	start, end int
	sep        string // the line break before the token line, when start is inside a line
	mtype      string // text/plain or text/html
	base64     bool   // the token line is base64, as the body
}

// viewCuts says which bodies the parsed view was cut in.
type viewCuts struct {
	text bool // a text/plain body that is part of the text
	html bool // the HTML body
}

// cutToken is the token of cut i of a parse; tokenPrefix is the part all
// cuts of a parse share.
func cutToken(token [16]byte, i int) string { return fmt.Sprintf("%s%08d.", tokenPrefix(token), i) }

func tokenPrefix(token [16]byte) string { return fmt.Sprintf("postdesk-cut-%x-", token) }

// cutText cuts the body raw[bodyStart:end] of a leaf of type mtype with
// header h, when it is a text body (not a file) that decodes to more than
// sp.text bytes. It reports whether the part was taken.
func (sp *splitter) cutText(h textproto.MIMEHeader, mtype string, params map[string]string, bodyStart, end int) bool {
	if sp.text <= 0 || (mtype != "text/plain" && mtype != "text/html") || !isBodyHeader(h, params) {
		return false
	}
	if mtype == "text/html" {
		if sp.htmlSeen {
			return false // a later HTML part is a file (attachments)
		}
		sp.htmlSeen = true
	}
	cs := strings.ToLower(strings.Trim(strings.TrimSpace(params["charset"]), `"'`))
	if strings.HasPrefix(cs, "utf-16") || strings.HasPrefix(cs, "utf-32") || strings.HasPrefix(cs, "ucs") ||
		strings.HasPrefix(cs, "unicode") || cs == "utf-7" {
		return false // the token line would not survive the conversion
	}
	need := sp.text + 64 // bodies clips HTML at the cap, text at textWork × the cap
	if mtype == "text/plain" {
		need += (textWork - 1) * sp.text
	}
	if cs != "utf-8" && cs != "utf8" && cs != "us-ascii" {
		need *= 4
	}
	c := textCut{mtype: mtype}
	var ok bool
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) { // as enmime compares
	case "base64":
		c.base64 = true
		c.start, ok = cutBase64(sp.raw, bodyStart, end, need)
	case "quoted-printable":
		c.start, ok = cutQP(sp.raw, bodyStart, end, need)
	default:
		c.start, ok = cutPlain(sp.raw, bodyStart, end, need, cs == "utf-8" || cs == "utf8")
	}
	if !ok || sp.holdsBoundary(sp.raw[c.start:end]) {
		return false
	}
	if c.start > bodyStart && sp.raw[c.start-1] != '\n' {
		c.sep = "\r\n"
		if bytes.IndexByte(sp.raw[bodyStart:c.start], '\r') < 0 {
			c.sep = "\n"
		}
	}
	c.end = end
	sp.cuts = append(sp.cuts, c)
	return true
}

// isBodyHeader reports whether a text part's header makes it a body, not
// a file: no file name, not an attachment (enmime's FileName and
// Disposition, as isFilePart reads them).
func isBodyHeader(h textproto.MIMEHeader, params map[string]string) bool {
	if params["name"] != "" || params["file"] != "" {
		return false
	}
	cd := h.Get("Content-Disposition")
	if cd == "" {
		return true
	}
	disp, dparams, _, err := prescan.ParseType(cd)
	return err == nil && !strings.EqualFold(disp, "attachment") && dparams["filename"] == ""
}

// holdsBoundary reports whether b holds the delimiter of a multipart the
// splitter is in: cutting it out could change what enmime reads.
func (sp *splitter) holdsBoundary(b []byte) bool {
	for _, dash := range sp.dashes {
		if bytes.Contains(b, dash) {
			return true
		}
	}
	return false
}

// lineEndNear moves a cut at i forward to just after the next line end,
// when there is one within cutSlack bytes before end.
func lineEndNear(raw []byte, i, end int) int {
	if j := bytes.IndexByte(raw[i:min(end, i+cutSlack)], '\n'); j >= 0 {
		return i + j + 1
	}
	return i
}

// cutPlain finds the cut of an unencoded body: after need bytes, at a line
// end when near, else at a character boundary (UTF-8) or a byte. ok is
// false when the body is not longer.
func cutPlain(raw []byte, start, end, need int, utf8 bool) (int, bool) {
	if end-start <= need {
		return 0, false
	}
	i := lineEndNear(raw, start+need, end)
	if i == start+need && utf8 {
		for n := 0; n < 3 && i > start && raw[i]&0xC0 == 0x80; n++ {
			i--
		}
	}
	return i, i < end
}

// cutBase64 finds the cut of a base64 body: after the characters that
// decode to need bytes and more, a multiple of 4, so that what is kept
// decodes whole; at a line end when that keeps the count whole.
func cutBase64(raw []byte, start, end, need int) (int, bool) {
	want := (need + 2) / 3 * 4
	chars := 0
	for i := start; i < end; i++ {
		if b64Value[raw[i]] < 0 {
			continue
		}
		if chars++; chars < want {
			continue
		}
		j := lineEndNear(raw, i+1, end)
		if bytes.ContainsFunc(raw[i+1:j], func(r rune) bool { return r < 0x80 && b64Value[r] >= 0 }) {
			j = i + 1 // the rest of the line would break the count
		}
		return j, j < end
	}
	return 0, false
}

// cutQP finds the cut of a quoted-printable body: after what decodes to
// need bytes and more, counting "=XX" as one byte, soft line breaks and
// white space (which may be trailing, hence dropped) as none; never inside
// an "=XX"; at a line end when near. At most maxCutFactor × need bytes are
// kept.
func cutQP(raw []byte, start, end, need int) (int, bool) {
	limit := min(end, start+maxCutFactor*need)
	n := 0
	i := start
	for i < limit && n < need {
		switch c := raw[i]; {
		case c == '=' && i+2 < end && isHex(raw[i+1]) && isHex(raw[i+2]):
			n++
			i += 3
			continue
		case c != '=' && c != ' ' && c != '\t' && c != '\r' && c != '\n':
			n++
		}
		i++
	}
	if n < need && i < limit {
		return 0, false
	}
	j := lineEndNear(raw, i, end)
	return j, j < end
}

// cutView is body with the elided bodies replaced by their markers and
// the cut bodies by their token lines, in the order of body.
func cutView(body []byte, found []elidedBody, cuts []textCut, token [16]byte) []byte {
	enc := base64.StdEncoding
	size := len(body) + len(found)*enc.EncodedLen(markerLen)
	for _, e := range found {
		size -= e.end - e.start
	}
	for i, c := range cuts {
		size += len(c.sep) + base64.RawStdEncoding.EncodedLen(len(cutToken(token, i))) - (c.end - c.start)
	}
	view := make([]byte, 0, size)
	last, fi := 0, 0
	for ci := 0; fi < len(found) || ci < len(cuts); {
		if ci == len(cuts) || (fi < len(found) && found[fi].start < cuts[ci].start) {
			e := found[fi]
			view = append(view, body[last:e.start]...)
			view, last = enc.AppendEncode(view, marker(token, fi)), e.end
			fi++
			continue
		}
		c := cuts[ci]
		view = append(append(view, body[last:c.start]...), c.sep...)
		if tok := cutToken(token, ci); c.base64 {
			view = base64.RawStdEncoding.AppendEncode(view, []byte(tok))
		} else {
			view = append(view, tok...)
		}
		last = c.end
		ci++
	}
	return append(view, body[last:]...)
}

// uncut finds the token of every cut at the end of one body part, checks
// that enmime made of it what the splitter expected, and takes the token
// out of the part and of the text and HTML bodies.
func uncut(env *enmime.Envelope, cuts []textCut, token [16]byte) (viewCuts, error) {
	var vc viewCuts
	if len(cuts) == 0 {
		return vc, nil
	}
	prefix := []byte(tokenPrefix(token))
	parts := make([]*enmime.Part, len(cuts))
	var bad error
	env.Root.DepthMatchAll(func(p *enmime.Part) bool {
		if bytes.Contains(p.Epilogue, prefix) {
			bad = errDisagree("cut token in an epilogue")
		}
		k := bytes.Index(p.Content, prefix)
		if k < 0 {
			return false
		}
		i, err := strconv.Atoi(strings.TrimSuffix(string(p.Content[k+len(prefix):]), "."))
		switch {
		case err != nil || i < 0 || i >= len(cuts) || parts[i] != nil ||
			!bytes.HasSuffix(p.Content, []byte(cutToken(token, i))):
			bad = errDisagree("cut token not at the end of a part")
		case p.FirstChild != nil || p.ContentType != cuts[i].mtype || p.FileName != "" ||
			strings.EqualFold(p.Disposition, "attachment"):
			bad = errDisagree("cut token in an unexpected part")
		default:
			parts[i] = p
		}
		return false
	})
	if bad != nil {
		return vc, bad
	}
	html := env.Root.DepthMatchFirst(isHTMLBody)
	for i, p := range parts {
		tok := cutToken(token, i)
		switch {
		case p == nil:
			return vc, errDisagree("cut token not found")
		case cuts[i].mtype == "text/html":
			if p != html || !strings.HasSuffix(env.HTML, tok) {
				return vc, errDisagree("cut HTML part is not the HTML body")
			}
			env.HTML, vc.html = strings.TrimSuffix(env.HTML, tok), true
		case strings.Count(env.Text, tok) == 1:
			env.Text, vc.text = strings.Replace(env.Text, tok, "", 1), true
		}
		p.Content = p.Content[:len(p.Content)-len(tok)]
	}
	if strings.Contains(env.Text, string(prefix)) || strings.Contains(env.HTML, string(prefix)) {
		return vc, errDisagree("cut token left in the text")
	}
	return vc, nil
}
