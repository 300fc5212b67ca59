package message

import (
	"bytes"
	"fmt"
	"mime/quotedprintable"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/postdesk/postdesk/message/prescan"
)

// parseCutBothWays parses raw with bodies capped at limit, without the
// view (every cut made after enmime) and with it (bodies from minElide
// bytes), fails the test on any difference, and returns the message and
// what the view did.
func parseCutBothWays(t *testing.T, name string, raw []byte, limit, minElide int) (*Message, elideStats) {
	t.Helper()
	want, _, werr := parse(raw, parseOptions{minElide: -1, textBytes: limit})
	got, st, gerr := parse(raw, parseOptions{minElide: minElide, textBytes: limit})
	if werr != nil || gerr != nil {
		t.Fatalf("%s: parse: %v / %v", name, werr, gerr)
	}
	if diff := messageDiff(got, want); len(diff) > 0 {
		t.Errorf("%s (cut %+v, fell back %v): with the view cut, %s differ", name, st.cut, st.fellBack, strings.Join(diff, ", "))
	}
	return got, st
}

// singlePart is a mail of one text part of type ctype, encoded with cte.
func singlePart(ctype, cte, body string) []byte {
	return []byte("From: a@b.example\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: " + ctype +
		"\r\nContent-Transfer-Encoding: " + cte + "\r\n\r\n" + encodeBody(cte, body))
}

// alternative is multipart/alternative with a text and an HTML part,
// both encoded with cte, and a small file after them.
func alternative(cte, text, html string) []byte {
	return []byte("From: a@b.example\r\nSubject: big\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"=_m\"\r\n\r\n--=_m\r\n" +
		"Content-Type: multipart/alternative; boundary=\"=_a\"\r\n\r\n" +
		"--=_a\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: " + cte + "\r\n\r\n" +
		encodeBody(cte, text) + "\r\n--=_a\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: " + cte +
		"\r\n\r\n" + encodeBody(cte, html) + "\r\n--=_a--\r\n" +
		"\r\n--=_m\r\nContent-Type: text/csv; name=\"data.csv\"\r\nContent-Disposition: attachment; filename=\"data.csv\"\r\n\r\n" +
		"a,b\r\n1,2\r\n--=_m--\r\n")
}

func encodeBody(cte, body string) string {
	switch cte {
	case "base64":
		return b64Lines([]byte(body), 76, "\r\n")
	case "quoted-printable":
		var b bytes.Buffer
		w := quotedprintable.NewWriter(&b)
		_, _ = w.Write([]byte(body))
		_ = w.Close()
		return b.String()
	}
	return body
}

// bigText is about n bytes of lines mixing 1- to 4-byte characters; of
// lines of 300,000 bytes of "€" when long is set, so that a cut falls
// inside a line and inside a character ("€" is 3 bytes, the caps are
// powers of two; lines stay under the pre-scan's limit).
func bigText(n int, long bool) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		if long {
			b.WriteString(strings.Repeat("€", 100000) + "\n")
			continue
		}
		fmt.Fprintf(&b, "line %d: déjà vu, 日本語, 🙂 and €\r\n", i)
	}
	return b.String()
}

// checkCapped checks a body cut at limit bytes: short enough, valid
// UTF-8, ending with the marker, and what precedes the marker is a
// prefix of the whole, no shorter than the cut needs.
func checkCapped(t *testing.T, field, got, whole string, limit int) {
	t.Helper()
	marker := cutMarker(limit)
	switch {
	case len(got) > limit:
		t.Errorf("%s is %d bytes, over the cap of %d", field, len(got), limit)
	case !utf8.ValidString(got):
		t.Errorf("%s is not valid UTF-8", field)
	case !strings.HasSuffix(got, marker):
		t.Errorf("%s does not end with the marker: …%q", field, got[max(0, len(got)-80):])
	}
	kept := strings.TrimSuffix(strings.TrimSuffix(got, marker), "\n")
	if whole == "" {
		return
	}
	if !strings.HasPrefix(whole, kept) {
		t.Errorf("%s: the text kept is not the start of the whole text", field)
	}
	if len(kept) < limit-len(marker)-cutSlack-utf8.UTFMax {
		t.Errorf("%s keeps %d bytes, want close to %d", field, len(kept), limit)
	}
}

// prescanParse does to raw what mailin's Intake with its defaults does:
// the pre-scan with the limits of a 25 MiB size gate, then ParseWith with
// the zero options. It fails the test where the Intake would quarantine.
func prescanParse(t *testing.T, raw []byte) *Message {
	t.Helper()
	if err := prescan.Check(raw, prescan.Limits{DecodedBytes: 4 * (25 << 20)}); err != nil {
		t.Fatalf("pre-scan: %v", err)
	}
	m, err := ParseWith(raw, ParseOptions{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return m
}

func TestTextCapped(t *testing.T) {
	const limit = 1 << 20
	lines, long := bigText(3<<20, false), bigText(3<<20, true)
	wholeLines := strings.ReplaceAll(lines, "\r\n", "\n")
	tests := []struct {
		name, whole string
		raw         []byte
		view        bool // cut in the view: 3 MiB is over 2 × 1 MiB, not over 4 × 2 MiB
	}{
		{"8bit lines", wholeLines, singlePart("text/plain; charset=utf-8", "8bit", lines), true},
		{"8bit, long lines: the cut falls inside a character", long, singlePart("text/plain; charset=utf-8", "8bit", long), true},
		{"quoted-printable", wholeLines, singlePart("text/plain; charset=utf-8", "quoted-printable", lines), true},
		{"base64, long lines", long, singlePart("text/plain; charset=utf-8", "base64", long), true},
		{"no charset", wholeLines, singlePart("text/plain", "8bit", lines), false},
		{"in multipart/alternative", wholeLines, alternative("quoted-printable", lines, "<p>short</p>"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, st := parseCutBothWays(t, tt.name, tt.raw, limit, 0)
			if st.cut.text != tt.view || st.fellBack {
				t.Errorf("cut in the view %v, fell back %v; want %v", st.cut.text, st.fellBack, tt.view)
			}
			checkCapped(t, "Text", m.Text, tt.whole, limit)
		})
	}
	t.Run("through ParseWith with the default cap", func(t *testing.T) {
		raw := singlePart("text/plain; charset=utf-8", "8bit", long)
		m := prescanParse(t, raw)
		checkCapped(t, "Text", m.Text, long, DefaultTextBytes)
		if !bytes.Equal(m.Raw, raw) {
			t.Error("the raw mail is not kept whole")
		}
	})
	t.Run("a text under the cap is kept whole", func(t *testing.T) {
		short := bigText(limit-100, false)
		m, st := parseCutBothWays(t, "short", singlePart("text/plain; charset=utf-8", "8bit", short), limit, 0)
		if st.cut.text || m.Text != strings.ReplaceAll(short, "\r\n", "\n") {
			t.Errorf("a text of %d bytes was changed (cut %v)", len(short), st.cut.text)
		}
	})
}

func TestHTMLCapped(t *testing.T) {
	raw := benchHTMLMail()
	m := prescanParse(t, raw)
	checkCapped(t, "Text", m.Text, "", DefaultTextBytes)
	if len(m.HTML) > DefaultTextBytes || !strings.HasSuffix(m.HTML, "<p>"+cutMarker(DefaultTextBytes)+"</p>") {
		t.Errorf("HTML is %d bytes, ends …%q: want at most %d ending with the marker", len(m.HTML), m.HTML[max(0, len(m.HTML)-80):], DefaultTextBytes)
	}
	if !strings.Contains(m.HTML, "<table") || strings.Contains(m.HTML, "<style") || len(m.HTML) < DefaultTextBytes/2 {
		t.Errorf("HTML (%d bytes) is not the sanitised start of the table", len(m.HTML))
	}
	if !strings.Contains(m.Text, "web-") {
		t.Errorf("Text does not hold the table's text: %q…", m.Text[:min(len(m.Text), 200)])
	}
	_, st, err := parse(raw, parseOptions{})
	if err != nil || !st.cut.html || st.fellBack {
		t.Errorf("the HTML was not cut in the view: %+v, %v", st, err)
	}
}

func TestViewCutMatchesRawParse(t *testing.T) {
	const limit = 2 << 10
	text, html := bigText(40<<10, false), "<table>"+strings.Repeat("<tr><td class=\"x\">cell é</td></tr>\r\n", 2000)+"</table>"
	file := "Content-Type: text/plain; name=\"log.txt\"\r\nContent-Disposition: attachment; filename=\"log.txt\"\r\n"
	laterHTML := []byte("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--b\r\nContent-Type: text/html\r\n\r\n" + html + "\r\n--b--\r\n")
	tests := []struct {
		name     string
		raw      []byte
		min      int // parts the splitter looks at, in bytes
		cut      viewCuts
		fellBack bool
	}{
		{"8bit", alternative("8bit", text, html), 1, viewCuts{text: true, html: true}, false},
		{"quoted-printable", alternative("quoted-printable", text, html), 1, viewCuts{text: true, html: true}, false},
		{"base64", alternative("base64", text, html), 1, viewCuts{text: true, html: true}, false},
		{"LF line ends", bytes.ReplaceAll(alternative("8bit", text, html), []byte("\r\n"), []byte("\n")), 1, viewCuts{text: true, html: true}, false},
		{"ISO-8859-1", singlePart("text/plain; charset=iso-8859-1", "8bit", strings.Repeat("caf\xe9 cr\xe8me\r\n", 20000)), 1, viewCuts{text: true}, false},
		{"single-part HTML", singlePart("text/html; charset=utf-8", "quoted-printable", html), 1, viewCuts{html: true}, false},
		{"a text file is kept whole", mixedMail(file, text), 1, viewCuts{}, false},
		{"a later HTML part is a file, kept whole", laterHTML, 1, viewCuts{}, false},
		{"a later HTML part taken for the body is found out", laterHTML, 32 << 10, viewCuts{}, true},
		{"UTF-16 is left to the cut after parsing", singlePart("text/plain; charset=utf-16le", "base64", strings.Repeat("h\x00i\x00\n\x00", 20000)), 1, viewCuts{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, st := parseCutBothWays(t, tt.name, tt.raw, limit, tt.min)
			if st.cut != tt.cut || st.fellBack != tt.fellBack {
				t.Errorf("cut %+v, fell back %v; want %+v, %v", st.cut, st.fellBack, tt.cut, tt.fellBack)
			}
			if len(m.Text) > limit || len(m.HTML) > limit {
				t.Errorf("Text %d, HTML %d bytes: over the cap of %d", len(m.Text), len(m.HTML), limit)
			}
			for _, a := range m.Attachments {
				if a.Filename == "log.txt" && string(a.Data) != strings.TrimSuffix(text, "\r\n") {
					t.Errorf("file %s has %d bytes, want all %d", a.Filename, len(a.Data), len(text))
				}
				if a.ContentType == "text/html" && len(a.Data) != len(html) {
					t.Errorf("HTML file has %d bytes, want all %d", len(a.Data), len(html))
				}
			}
		})
	}
}

// TestUncutRefuses: the raw bytes are parsed whenever a cut body is not
// what the splitter took it for.
func TestUncutRefuses(t *testing.T) {
	raw := alternative("8bit", bigText(40<<10, false), "<p>"+strings.Repeat("x", 40<<10)+"</p>")
	tests := []struct {
		name   string
		change func(c []textCut) []textCut
		want   string
	}{
		{"as split", func(c []textCut) []textCut { return c }, ""},
		{"a cut enmime did not see", func(c []textCut) []textCut { return append(c, c[0]) }, "cut token not found"},
		{"a cut in a part of another type", func(c []textCut) []textCut { c[0].mtype = "text/calendar"; return c }, "unexpected part"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := &splitter{raw: raw, min: 1, text: 1 << 10}
			if !sp.run() || len(sp.cuts) != 2 {
				t.Fatalf("splitter cut %d bodies, want 2", len(sp.cuts))
			}
			token := [16]byte{1, 2, 3}
			env, err := readEnvelope(cutView(raw, nil, sp.cuts, token))
			if err != nil {
				t.Fatal(err)
			}
			_, err = uncut(env, tt.change(sp.cuts), token)
			if got := fmt.Sprint(err); (tt.want == "" && err != nil) || !strings.Contains(got, tt.want) {
				t.Errorf("uncut = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestReferencesCapped(t *testing.T) {
	ids := make([]string, 14000)
	var refs strings.Builder
	for i := range ids {
		ids[i] = fmt.Sprintf("m%d@x.example", i)
		fmt.Fprintf(&refs, " <%s>\r\n", ids[i])
	}
	raw := []byte("From: a@b.example\r\nSubject: re\r\nIn-Reply-To: <p1@x.example> <p2@x.example> <p3@x.example>\r\n" +
		"References:" + strings.TrimSuffix(refs.String(), "\r\n") + "\r\n\r\nhello\r\n")
	m := mustParse(t, raw)
	want := append([]string{ids[0]}, ids[len(ids)-lastReferences:]...)
	if !slices.Equal(m.References, want) {
		t.Errorf("References: %d ids, first %q, last %q; want the first and the last %d in order",
			len(m.References), m.References[0], m.References[len(m.References)-1], lastReferences)
	}
	eqList(t, "InReplyTo", m.InReplyTo, []string{"p1@x.example"})
	if !slices.ContainsFunc(m.Defects, func(d string) bool { return strings.HasPrefix(d, "References holds 14000") }) {
		t.Errorf("no defect about the References cut: %q", m.Defects)
	}
	short := mustParse(t, []byte("From: a@b.example\r\nReferences: <r1@x> <r2@x>\r\nIn-Reply-To: <r2@x>\r\n\r\nhi\r\n"))
	eqList(t, "short References", short.References, []string{"r1@x", "r2@x"})
	eqList(t, "short InReplyTo", short.InReplyTo, []string{"r2@x"})
}

func TestCutAt(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		pref byte
		want string
	}{
		{"short", 10, '\n', "short"},
		{"ab€cd", 3, '\n', "ab"},
		{"ab€cd", 4, '\n', "ab"},
		{"ab€cd", 5, '\n', "ab€"},
		{"one\ntwo three", 9, '\n', "one\n"},
		{"<p>a</p><p>bc", 11, '>', "<p>a</p><p>"},
	}
	for _, tt := range tests {
		if got := tt.s[:cutAt(tt.s, tt.n, tt.pref)]; got != tt.want {
			t.Errorf("cutAt(%q, %d) keeps %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
	if got := cutMarker(1 << 20); got != "[… text cut at 1 MiB; the whole mail is kept]" {
		t.Errorf("marker %q", got)
	}
}

// FuzzTextCut parses with every text body cut in the view and without:
// the files, the header fields and the classification must be the same,
// and both bodies within the cap and valid UTF-8.
func FuzzTextCut(f *testing.F) {
	text, html := bigText(3000, false), "<div>"+strings.Repeat("<p class=x>é</p>\r\n", 200)+"</div>"
	for _, seed := range [][]byte{
		alternative("8bit", text, html), alternative("quoted-printable", text, html), alternative("base64", text, html),
		singlePart("text/html; charset=utf-8", "8bit", html), mixedMail("Content-Type: text/plain\r\n", text),
	} {
		f.Add(seed)
	}
	const limit = 1 << 10
	f.Fuzz(func(t *testing.T, raw []byte) {
		want, _, werr := parse(raw, parseOptions{minElide: -1, textBytes: limit})
		got, _, gerr := parse(raw, parseOptions{minElide: 1, textBytes: limit})
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("error %v with the view cut, %v without", gerr, werr)
		}
		if werr != nil {
			return
		}
		a, b := got.Inbound, want.Inbound
		a.Text, a.HTML, b.Text, b.HTML = "", "", "", ""
		if diff := messageDiff(&Message{Inbound: a}, &Message{Inbound: b}); len(diff) > 0 {
			t.Errorf("with the view cut, %s differ", strings.Join(diff, ", "))
		}
		for _, s := range []string{got.Text, got.HTML} {
			if len(s) > limit || !utf8.ValidString(s) {
				t.Errorf("a body of %d bytes over the cap or not UTF-8", len(s))
			}
		}
	})
}
