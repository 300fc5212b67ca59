package message

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/internal/corpus"
)

// parseBothWays parses raw without elision and with it (bodies from
// minElide bytes), fails the test on any difference, and returns what
// elision did.
func parseBothWays(t *testing.T, name string, raw []byte, minElide int) elideStats {
	t.Helper()
	want, _, werr := parse(raw, parseOptions{minElide: -1})
	got, st, gerr := parse(raw, parseOptions{minElide: minElide})
	if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Errorf("%s: error %v with elision, %v without", name, gerr, werr)
		return st
	}
	if werr != nil {
		return st
	}
	if diff := messageDiff(got, want); len(diff) > 0 {
		t.Errorf("%s (elided %d, fell back %v): with elision, %s differ", name, st.elided, st.fellBack, strings.Join(diff, ", "))
	}
	return st
}

// messageDiff names the fields of two messages that differ.
func messageDiff(a, b *Message) []string {
	var diff []string
	va, vb := reflect.ValueOf(a.Inbound), reflect.ValueOf(b.Inbound)
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			diff = append(diff, va.Type().Field(i).Name)
		}
	}
	if !reflect.DeepEqual(a.Defects, b.Defects) {
		diff = append(diff, fmt.Sprintf("Defects (%q, %q)", a.Defects, b.Defects))
	}
	return diff
}

// TestElisionCorpus parses every corpus mail with and without elision:
// with the real threshold, and eliding every base64 leaf from 1 byte on,
// which puts the splitter and the checks of restore through every shape
// of the corpus.
func TestElisionCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("conformance corpus not present at %s: %v", corpusDir, err)
	}
	var mails, elided, fellBack, mailsElided [2]int
	err := filepath.WalkDir(corpusDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, path)
		if !corpus.IsMessage(filepath.ToSlash(rel)) {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, min := range []int{0, 1} {
			st := parseBothWays(t, rel, raw, min)
			mails[i]++
			elided[i] += st.elided
			if st.elided > 0 {
				mailsElided[i]++
			}
			if st.fellBack {
				fellBack[i]++
				t.Logf("%s (min %d): fell back", rel, min)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, what := range []string{"bodies over 32 KiB", "every base64 leaf"} {
		t.Logf("%s: %d mails, %d bodies elided in %d mails, %d fell back", what, mails[i], elided[i], mailsElided[i], fellBack[i])
	}
	if elided[0] == 0 || elided[1] <= elided[0] {
		t.Errorf("elided %v bodies: the corpus has big base64 attachments, and more small ones", elided)
	}
}

// b64Lines encodes data in lines of width characters ending in eol.
func b64Lines(data []byte, width int, eol string) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > width {
		b.WriteString(enc[:width] + eol)
		enc = enc[width:]
	}
	return b.String() + enc + eol
}

// mixedMail is a multipart/mixed mail with a text part and one file part
// whose header lines are extra and whose body is body.
func mixedMail(extra, body string) []byte {
	return []byte("From: a@b.example\r\nSubject: files\r\nContent-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n" +
		"preamble\r\n--=_b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--=_b\r\n" + extra + "\r\n" + body + "--=_b--\r\n")
}

const zipHeader = "Content-Type: application/zip; name=\"x.zip\"\r\nContent-Disposition: attachment; filename=\"x.zip\"\r\nContent-Transfer-Encoding: base64\r\n"

func TestElisionMatchesEnmime(t *testing.T) {
	data := randomBytes(5, 100<<10)
	crlf := b64Lines(data, 76, "\r\n")
	odd := randomBytes(6, 100<<10+1) // a size that needs padding
	tests := []struct {
		name   string
		raw    []byte
		elided int  // bodies elided
		back   bool // whether restore refuses the parse of the view
	}{
		{"multipart/mixed with an attachment, CRLF", mixedMail(zipHeader, crlf), 1, false},
		{"LF line endings", bytes.ReplaceAll(mixedMail(zipHeader, crlf), []byte("\r\n"), []byte("\n")), 1, false},
		{"one long line", mixedMail(zipHeader, base64.StdEncoding.EncodeToString(data)+"\r\n"), 1, false},
		{"padding", mixedMail(zipHeader, b64Lines(odd, 76, "\r\n")), 1, false},
		{"missing padding", mixedMail(zipHeader, strings.TrimRight(b64Lines(odd, 76, "\r\n"), "=\r\n")+"\r\n"), 1, false},
		{"trailing white space", mixedMail(zipHeader, b64Lines(data, 76, " \t\r\n")), 1, false},
		{"white space and '=' inside lines", mixedMail(zipHeader, strings.ReplaceAll(crlf, "AB", "A B")+"==\r\nQUJD\r\n"), 1, false},
		{"uppercase BASE64", mixedMail(strings.Replace(zipHeader, "base64", "BASE64", 1), crlf), 1, false},
		{"mixed-case Base64", mixedMail(strings.Replace(zipHeader, "base64", "Base64", 1), crlf), 1, false},
		{"an invalid character is not elided", mixedMail(zipHeader, strings.Replace(crlf, "A", "*", 1)), 0, false},
		{"a dash is not elided", mixedMail(zipHeader, strings.Replace(crlf, "A", "-", 1)), 0, false},
		{"a byte over 0x7F is not elided", mixedMail(zipHeader, strings.Replace(crlf, "A", "\xc1", 1)), 0, false},
		{"characters that do not make whole bytes are not elided", mixedMail(zipHeader, crlf+"QUJ\r\n"), 0, false},
		{"a CR, a character, LF before the boundary is not elided", mixedMail(zipHeader, crlf+"\rQ\n"), 0, false},
		{"a text part is not elided", mixedMail("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n", crlf), 0, false},
		{"an attached message is not elided", mixedMail("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n", crlf), 0, false},
		{"quoted-printable is not elided", mixedMail("Content-Type: application/zip\r\nContent-Transfer-Encoding: quoted-printable\r\n", crlf), 0, false},
		{"a part without Content-Type is not elided", mixedMail("Content-Transfer-Encoding: base64\r\n", crlf), 0, false},
		{"a file with a boundary parameter is a multipart to enmime", mixedMail("Content-Type: application/zip; boundary=q\r\nContent-Transfer-Encoding: base64\r\n", crlf), 0, false},
		{"an unterminated last part is not elided", bytes.TrimSuffix(mixedMail(zipHeader, crlf), []byte("--=_b--\r\n")), 0, false},
		{"a close delimiter without line break at the end", bytes.TrimSuffix(mixedMail(zipHeader, crlf), []byte("\r\n")), 1, false},
		{"nested multipart/mixed inside multipart/related", nestedFiles(crlf), 3, false},
		{"a boundary that is a prefix of another", prefixBoundaries(crlf), 2, false},
		{"a single-part file is left to enmime", []byte("Subject: x\r\n" + zipHeader + "\r\n" + crlf), 0, false},
		{"a boundary hidden after CR in a header", hiddenBoundary(crlf), 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := parseBothWays(t, tt.name, tt.raw, 0)
			if st.fellBack != tt.back {
				t.Errorf("fell back = %v, want %v", st.fellBack, tt.back)
			}
			if !tt.back && st.elided != tt.elided {
				t.Errorf("elided %d bodies, want %d", st.elided, tt.elided)
			}
			m, err := Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if tt.elided > 0 && !tt.back && len(m.Attachments) == 0 {
				t.Errorf("no attachments")
			}
		})
	}
}

// nestedFiles is multipart/related holding HTML, an inline image, and a
// multipart/mixed with text and two files.
func nestedFiles(body string) []byte {
	return []byte("From: a@b.example\r\nContent-Type: multipart/related; boundary=rel\r\n\r\n" +
		"--rel\r\nContent-Type: text/html\r\n\r\n<p><img src=\"cid:img1\"></p>\r\n" +
		"--rel\r\nContent-Type: image/png\r\nContent-ID: <img1>\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body +
		"--rel\r\nContent-Type: multipart/mixed; boundary=mix\r\n\r\n" +
		"--mix\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
		"--mix\r\n" + zipHeader + "\r\n" + body +
		"--mix\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body +
		"--mix--\r\n\r\n--rel--\r\n")
}

// prefixBoundaries nests a multipart whose boundary starts with the outer
// one's.
func prefixBoundaries(body string) []byte {
	return []byte("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"=_p\"\r\n\r\n" +
		"--=_p\r\nContent-Type: multipart/mixed; boundary=\"=_p_2\"\r\n\r\n" +
		"--=_p_2\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
		"--=_p_2\r\n" + zipHeader + "\r\n" + body + "--=_p_2--\r\n" +
		"--=_p\r\n" + zipHeader + "\r\n" + body + "--=_p--\r\n")
}

// hiddenBoundary has a multipart whose body starts with "Z--b ": enmime
// takes that for a delimiter of the outer multipart (its look-ahead after
// a CR skips a byte, and it finds the boundary anywhere in the line), so
// it reads the inner parts as one base64 text part, while the splitter
// reads an inner file part. restore finds no marker and the raw bytes are
// parsed.
func hiddenBoundary(body string) []byte {
	return []byte("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\nZ--b \r\n" +
		"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"--c\r\n" + zipHeader + "\r\n" + body + "--c--\r\n--b--\r\n")
}

func TestElisionKeepLimit(t *testing.T) {
	data := randomBytes(8, 300<<10)
	copy(data, "%PDF-1.4\n")
	pdf := "Content-Type: application/octet-stream; name=\"r.pdf\"\r\nContent-Transfer-Encoding: base64\r\n"
	tests := []struct {
		name string
		raw  []byte
		keep int64
		held bool
	}{
		{"a file over the limit keeps its size only", mixedMail(pdf, b64Lines(data, 76, "\r\n")), 200 << 10, false},
		{"a file under the limit is held", mixedMail(pdf, b64Lines(data, 76, "\r\n")), 400 << 10, true},
		{"a file at the limit is held", mixedMail(pdf, b64Lines(data, 76, "\r\n")), 300 << 10, true},
		{"a bound loosened by white space still holds a file under the limit", mixedMail(pdf, b64Lines(data, 8, "    \r\n")), 300 << 10, true},
		{"a file over the limit that is not elided keeps its size only", mixedMail(strings.Replace(pdf, "base64", "quoted-printable", 1), "%PDF-1.4\r\n"+strings.Repeat("x", 300<<10)+"\r\n"), 200 << 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := parse(tt.raw, parseOptions{keep: tt.keep})
			if err != nil {
				t.Fatal(err)
			}
			full, err := Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Attachments) != 1 || len(full.Attachments) != 1 {
				t.Fatalf("attachments %+v", attachmentsOf(m.Attachments))
			}
			a, want := m.Attachments[0], full.Attachments[0]
			if a.Size != int64(len(want.Data)) || a.ContentType != "application/pdf" || a.ContentType != want.ContentType || a.Filename != want.Filename {
				t.Errorf("attachment %s %s size %d, want %s %s size %d", a.Filename, a.ContentType, a.Size, want.Filename, want.ContentType, len(want.Data))
			}
			if held := a.Data != nil; held != tt.held || (held && !bytes.Equal(a.Data, want.Data)) {
				t.Errorf("data held = %v (%d bytes), want %v", held, len(a.Data), tt.held)
			}
		})
	}
}

// TestElisionCountsBigFilesInPlace parses the 25 MiB mail with a 19 MB
// attachment over the keep limit: the attachment is counted, and what the
// parse allocates stays far below its size (it is decoded in chunks).
func TestElisionCountsBigFilesInPlace(t *testing.T) {
	raw := benchBigMail()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, st, err := parse(raw, parseOptions{keep: 5 << 20})
	runtime.ReadMemStats(&after)
	if err != nil || st.elided != 1 {
		t.Fatalf("parse: %v, %+v", err, st)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Data != nil || m.Attachments[0].Size < 18<<20 {
		t.Fatalf("attachments %+v", attachmentsOf(m.Attachments))
	}
	if m.Attachments[0].ContentType != "application/zip" || m.Attachments[0].Filename != "full-logs.zip" {
		t.Errorf("attachment %s %s", m.Attachments[0].Filename, m.Attachments[0].ContentType)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Errorf("parse allocated %d bytes for a mail of %d", alloc, len(raw))
	}
}

// TestRestoreRefuses: restore gives up, so that the raw bytes are parsed,
// whenever a marker is not where the splitter put it.
func TestRestoreRefuses(t *testing.T) {
	raw := mixedMail(zipHeader, b64Lines(randomBytes(9, 100<<10), 76, "\r\n"))
	tests := []struct {
		name   string
		change func(found []elidedBody) []elidedBody
		want   string
	}{
		{"as split", func(f []elidedBody) []elidedBody { return f }, ""},
		{"a marker enmime did not see", func(f []elidedBody) []elidedBody { return append(f, f[0]) }, "marker not found"},
		{"a marker in a part of another type", func(f []elidedBody) []elidedBody { f[0].mtype = "image/png"; return f }, "marker in an unexpected part"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := &splitter{raw: raw, min: elideMin}
			if !sp.run() || len(sp.found) != 1 {
				t.Fatalf("splitter found %d bodies", len(sp.found))
			}
			token := [16]byte{1, 2, 3}
			env, err := readEnvelope(cutView(raw, sp.found, nil, token))
			if err != nil {
				t.Fatal(err)
			}
			_, err = restore(env, tt.change(sp.found), token)
			if got := fmt.Sprint(err); (tt.want == "" && err != nil) || !strings.Contains(got, tt.want) {
				t.Errorf("restore = %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzElision parses with elision of every base64 leaf and without, and
// fails on any difference.
func FuzzElision(f *testing.F) {
	body := b64Lines(randomBytes(10, 300), 76, "\r\n")
	for _, seed := range [][]byte{
		mixedMail(zipHeader, body),
		bytes.ReplaceAll(mixedMail(zipHeader, body), []byte("\r\n"), []byte("\n")),
		nestedFiles(body),
		prefixBoundaries(body),
		hiddenBoundary(body),
		mixedMail(zipHeader, strings.ReplaceAll(body, "A", "A =")),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		parseBothWays(t, "fuzz input", raw, 1)
	})
}
