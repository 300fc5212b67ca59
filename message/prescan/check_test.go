package prescan

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jhillyerd/enmime/v2"

	"github.com/postdesk/postdesk/internal/corpus"
	"github.com/postdesk/postdesk/internal/mailmix"
)

// fixtures is the folder of message's .eml fixtures, which the pre-scan
// must pass.
var fixtures = filepath.Join("..", "testdata")

// readFixture reads a file of fixtures.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return raw
}

// corpusDir is the shared conformance corpus (see its README), outside the
// repository.
var corpusDir = filepath.Join("..", "..", "..", "shared", "corpus")

// parser is enmime configured as message.Parse configures it: the
// structure it builds is what the pre-scan must cover.
var parser = enmime.NewParser(EnmimeOptions()...)

// The generated bombs are internal/mailmix's.
const mailHead = mailmix.BombHead

var (
	nestedMail    = mailmix.Nested
	manyPartsMail = mailmix.ManyParts
	longLineMail  = mailmix.LongLine
)

// attachedMail wraps a message in depth attached messages (message/rfc822).
func attachedMail(depth int) []byte {
	var b bytes.Buffer
	b.WriteString(mailHead)
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: message/rfc822\r\n\r\nSubject: level %d\r\n", i+1)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nbottom\r\n")
	return b.Bytes()
}

// headerOf is a header section of exactly n bytes (at least 64), blank
// line included, made of short folded lines; body follows it.
func headerOf(n int, body string) []byte {
	var b bytes.Buffer
	b.WriteString("Subject: padded\r\nX-Pad: x")
	for b.Len()+40+4 <= n {
		b.WriteString("\r\n " + strings.Repeat("p", 37))
	}
	b.WriteString(strings.Repeat("q", n-b.Len()-4))
	b.WriteString("\r\n\r\n" + body)
	return b.Bytes()
}

// limitOf returns the name of the limit err reports, "" for nil, or fails.
func limitOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var le *LimitError
	if !errors.As(err, &le) || !errors.Is(err, ErrTooComplex) {
		t.Fatalf("Check error %v (%T) is not a *LimitError wrapping ErrTooComplex", err, err)
	}
	return le.Limit
}

func TestLimits(t *testing.T) {
	small := Limits{HeaderBytes: 1000, LineBytes: 100, DecodedBytes: 1500}
	b64 := func(n int) string {
		return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xA5}, n))
	}
	b64Body := func(lines int) string { // lines of 58 characters and CR LF: 60 bytes
		return strings.Repeat(strings.Repeat("QUJD", 14)+"QU\r\n", lines)
	}
	wrap76 := func(s string) string {
		var b strings.Builder
		for len(s) > 76 {
			b.WriteString(s[:76] + "\r\n")
			s = s[76:]
		}
		return b.String() + s + "\r\n"
	}
	tests := []struct {
		name   string
		raw    []byte
		limits Limits
		want   string // the limit broken, "" for none
		seen   int64  // the value the error reports, when want is set; -1: any over the limit
	}{
		{"20 nested multiparts pass", nestedMail(20), Limits{}, "", 0},
		{"21 nested multiparts are too deep", nestedMail(21), Limits{}, "Depth", 21},
		{"500 parts pass", manyPartsMail(500), Limits{}, "", 0},
		{"501 parts are too many", manyPartsMail(501), Limits{}, "Parts", 501},
		{"20 attached messages pass", attachedMail(20), Limits{}, "", 0},
		{"21 attached messages are too deep", attachedMail(21), Limits{}, "Depth", 21},
		{
			"message/rfc822 and multipart nesting add up",
			[]byte(mailHead + "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n" +
				"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n" +
				"--c\r\nContent-Type: text/plain\r\n\r\nx\r\n--c--\r\n--a--\r\n"),
			Limits{Depth: 2}, "Depth", 3,
		},
		{
			"an encoded attached message is decoded and walked",
			[]byte(mailHead + "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				wrap76(base64.StdEncoding.EncodeToString(manyPartsMail(20))) + "\r\n"),
			Limits{Parts: 10}, "Parts", 11,
		},
		{"a header section at the limit passes", headerOf(DefaultHeaderBytes, "body\r\n"), Limits{}, "", 0},
		{"a header section over the limit is refused", headerOf(DefaultHeaderBytes+1, "body\r\n"), Limits{}, "HeaderBytes", DefaultHeaderBytes + 1},
		{"a header section at the limit that ends the input passes", headerOf(1000, ""), small, "", 0},
		{
			"a part's header section counts too",
			[]byte(mailHead + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
				string(headerOf(1001, "x\r\n")) + "--b--\r\n"),
			small, "HeaderBytes", 1001,
		},
		{"a 1 MiB line passes", longLineMail(1 << 20), Limits{}, "", 0},
		{"a line over 1 MiB is refused", longLineMail(1<<20 + 1), Limits{}, "LineBytes", 1<<20 + 1},
		{"a line at the limit with LF passes", []byte("Subject: x\n\n" + strings.Repeat("a", 100) + "\n"), small, "", 0},
		{"a line over the limit with LF is refused", []byte("Subject: x\n\n" + strings.Repeat("a", 101) + "\nshort\n"), small, "LineBytes", 101},
		{"a last line at the limit without a break passes", []byte("Subject: x\n\n" + strings.Repeat("a", 100)), small, "", 0},
		{"a last line over the limit without a break is refused", []byte("Subject: x\n\n" + strings.Repeat("a", 101)), small, "LineBytes", 101},
		{"a long line in a header is refused", []byte("Subject: " + strings.Repeat("s", 200) + "\r\n\r\nx\r\n"), small, "LineBytes", 209},
		{"a long line in the epilogue is refused", append(manyPartsMail(2), strings.Repeat("e", 150)+"\r\n"...), small, "LineBytes", 150},
		{
			"a long line in a decoded attached message is refused",
			[]byte("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				wrap76(base64.StdEncoding.EncodeToString([]byte("Subject: in\r\n\r\n"+strings.Repeat("z", 150)+"\r\n")))),
			small, "LineBytes", 150,
		},
		{
			"leaf bodies at the limit pass",
			[]byte(mailHead + "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64Body(25)),
			small, "", 0,
		},
		{
			// 1,560 bytes sent, 1,132 decoded: the encoded size is what counts.
			"leaf bodies count their encoded size, an upper bound",
			[]byte(mailHead + "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64Body(26)),
			small, "DecodedBytes", -1,
		},
		{
			// 1,564 bytes sent, 510 decoded.
			"quoted-printable counts its encoded size",
			[]byte(mailHead + "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
				strings.Repeat(strings.Repeat("=41", 30)+"\r\n", 17)),
			small, "DecodedBytes", -1,
		},
		{
			"decoded bodies over the limit are refused",
			[]byte(mailHead + "Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
				"--b\r\nContent-Transfer-Encoding: base64\r\n\r\n" + wrap76(b64(1000)) +
				"--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n" + wrap76(b64(1000)) + "--b--\r\n"),
			small, "DecodedBytes", -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.raw, tt.limits)
			if got := limitOf(t, err); got != tt.want {
				t.Fatalf("Check = %v, want the %q limit", err, tt.want)
			}
			if err == nil {
				return
			}
			var le *LimitError
			errors.As(err, &le)
			if le.Seen != tt.seen && (tt.seen != -1 || le.Seen <= le.Max) {
				t.Errorf("Check = %v: seen %d, want %d", err, le.Seen, tt.seen)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(le.Max)) || !strings.Contains(err.Error(), fmt.Sprint(le.Seen)) {
				t.Errorf("message %q does not say the limit and the value seen", err)
			}
		})
	}
}

// TestPassesMalformedMail: only limits refuse mail; what go-message
// or enmime find broken is for Parse to repair.
func TestPassesMalformedMail(t *testing.T) {
	tests := map[string]string{
		"empty":                      "",
		"white space":                " \r\n\r\n",
		"no header":                  "just text\r\n",
		"binary":                     "\x00\xff\xfe\x01\r\n\r\n\x00",
		"bad header lines":           ": no name\r\n folded first\r\nBad Name: x\r\nSubject: ok\r\n\r\nbody\r\n",
		"no boundary parameter":      "Content-Type: multipart/mixed\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
		"empty boundary":             "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n\r\nx\r\n",
		"bad content type":           "Content-Type: ;;;===\r\n\r\nx\r\n",
		"no close delimiter":         "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx",
		"no delimiter at all":        "Content-Type: multipart/mixed; boundary=b\r\n\r\nonly a preamble\r\n",
		"truncated in a part header": "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/pl",
		"junk after a part":          "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b junk\r\nmore\r\n--b-x\r\n--b--\r\n",
		"broken base64":              "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!****====AAAA\r\n",
		"broken quoted-printable":    "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=\r\n=\r\n",
		"unknown encoding":           "Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n",
		"broken attached message":    "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%%\r\n",
		"empty attached message":     "Content-Type: message/rfc822\r\n\r\n",
		"mbox From line and BOM":     "\xEF\xBB\xBFFrom mallory@example.net Mon Jan  2 15:04:05 2006\r\nSubject: x\r\n\r\nbody\r\n",
		"bare CR line breaks":        "Subject: x\rContent-Type: text/plain\r\r" + strings.Repeat("a\r", 1000),
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			if err := Check([]byte(raw), Limits{}); err != nil {
				t.Errorf("Check = %v, want nil", err)
			}
		})
	}
}

func TestFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.eml"))
	if len(files) == 0 {
		t.Fatal("no ../testdata/*.eml")
	}
	for _, file := range files {
		raw := readFixture(t, filepath.Base(file))
		if err := Check(raw, Limits{}); err != nil {
			t.Errorf("%s: %v", filepath.Base(file), err)
		}
		checkCoversEnmime(t, filepath.Base(file), raw)
	}
}

// enmimeShape is the number of parts below the root of the tree enmime
// builds for raw, and the depth of the deepest; ok is false when enmime
// builds none.
func enmimeShape(raw []byte) (parts, depth int, ok bool) {
	body, _ := SkipPrefix(raw)
	root, err := parser.ReadParts(bytes.NewReader(body))
	if err != nil || root == nil {
		return 0, 0, false
	}
	var walk func(p *enmime.Part, d int)
	walk = func(p *enmime.Part, d int) {
		depth = max(depth, d)
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			parts++
			walk(c, d+1)
		}
	}
	walk(root, 0)
	return parts, depth, true
}

// checkCoversEnmime fails when the pre-scan of raw, with no limits that
// matter, saw fewer parts or less nesting than enmime builds: the limits
// would not bound enmime's work.
func checkCoversEnmime(t *testing.T, name string, raw []byte) {
	t.Helper()
	s := scan(raw, Limits{Depth: 1 << 20, Parts: 1 << 30, HeaderBytes: 1 << 30, LineBytes: 1 << 30, DecodedBytes: 1 << 40})
	if s.err != nil {
		t.Errorf("%s: scan: %v", name, s.err)
		return
	}
	compareEnmime(t, name, raw, s)
}

// compareEnmime compares a complete scan s of raw with what enmime builds.
func compareEnmime(t *testing.T, name string, raw []byte, s *scanner) {
	t.Helper()
	parts, depth, ok := enmimeShape(raw)
	if ok && (s.parts < parts || s.deepest < depth) {
		t.Errorf("%s: pre-scan saw %d parts, depth %d; enmime builds %d parts, depth %d", name, s.parts, s.deepest, parts, depth)
	}
}

// TestCoversEnmime: mail written to make go-message and enmime
// disagree on its structure; the pre-scan must see at least what enmime
// builds, or a bomb behind the disagreement would reach enmime.
func TestCoversEnmime(t *testing.T) {
	inner := "Content-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n\r\nx\r\n--c\r\n\r\ny\r\n--c--\r\n"
	long := strings.Repeat("L", 5000)
	tests := map[string]string{
		"delimiter in the middle of a preamble line": "Content-Type: multipart/mixed; boundary=b\r\n\r\nsee x--b \r\n" + inner,
		"delimiter with trailing junk":               "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b junk\r\n" + inner + "--b\tmore\r\n\r\nz\r\n--b--\r\n",
		"delimiter followed by a vertical tab":       "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\v\r\n" + inner + "--b--\r\n",
		"bare LF delimiters in CR LF mail":           "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b\n" + inner + "--b--\n",
		"malformed line in a part header":            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n: bad\r\nBad Key: x\r\n" + inner + "--b--\r\n",
		"boundary on an unindented line":             "Content-Type: multipart/mixed;\r\nboundary=b\r\n\r\n--b\r\n" + inner + "--b--\r\n",
		"boundary of 5000 bytes":                     "Content-Type: multipart/mixed; boundary=" + long + "\r\n\r\n--" + long + "\r\n" + inner + "--" + long + "--\r\n",
		"boundary on a non-multipart part":           "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf; boundary=c\r\n\r\n--c\r\n\r\nx\r\n--c--\r\n--b--\r\n",
		"the gate's own boundary in content":         "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n--=_prescan_=\r\n--=_prescan_=--\r\n--b\r\n" + inner + "--b--\r\n",
		"the gate's own boundary as boundary":        "Content-Type: multipart/mixed; boundary=\"=_prescan_=\"\r\n\r\n--=_prescan_=\r\n" + inner + "--=_prescan_=\r\n\r\nx\r\n--=_prescan_=--\r\n",
		"CR before a boundary":                       "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\rZ--b \r\n" + inner + "--b--\r\n",
		"same boundary nested":                       "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n--b--\r\n",
		"close delimiter with junk":                  "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + inner + "--b--junk\r\n--b\r\n\r\nafter\r\n",
		"no close delimiter":                         "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + inner + "--b\r\n" + inner,
		"header without a blank line":                "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=c\r\n--c\r\nX: y\r\n\r\nz\r\n--c--\r\n--b--\r\n",
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			checkCoversEnmime(t, name, []byte(raw))
		})
	}
}

// TestCorpus runs the shared corpus through the pre-scan with the
// default limits: real mail must all pass.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("no corpus at %s: %v", corpusDir, err)
	}
	n, deepest, parts, longest := 0, 0, 0, 0
	err := filepath.WalkDir(corpusDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, path)
		if !corpus.IsMessage(rel) {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		s := scan(raw, Limits{})
		if s.err != nil {
			t.Errorf("%s: %v", rel, s.err)
			return nil
		}
		compareEnmime(t, rel, raw, s)
		deepest, parts = max(deepest, s.deepest), max(parts, s.parts)
		for line := range bytes.Lines(raw) {
			longest = max(longest, len(bytes.TrimRight(line, "\r\n")))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d corpus messages pre-scanned; at most %d levels, %d parts, a line of %d bytes", n, deepest, parts, longest)
}

func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.eml"))
	for _, file := range files {
		f.Add(readFixture(f, filepath.Base(file)))
	}
	f.Add(nestedMail(4))
	f.Add(manyPartsMail(6))
	f.Add(attachedMail(3))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\nx--b \r\n--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA0KDQp5DQo=\r\n--b--junk\r\n"))
	small := Limits{Depth: 3, Parts: 5, HeaderBytes: 300, LineBytes: 120, DecodedBytes: 400}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, l := range []Limits{{}, small} {
			err := Check(raw, l)
			if errors.Is(err, ErrPanic) {
				t.Fatalf("Check panicked: %v", err)
			}
			limitOf(t, err)
		}
		checkCoversEnmime(t, "input", raw)
	})
}

func TestDepthTimesSize(t *testing.T) {
	deep := func(depth, size int) []byte {
		var b bytes.Buffer
		b.WriteString("From: a@b.example\r\nSubject: x\r\nMIME-Version: 1.0\r\n")
		for i := 0; i < depth; i++ {
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
		}
		b.WriteString("Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		for b.Len() < size {
			b.WriteString(strings.Repeat("QUFB", 19) + "\r\n")
		}
		for i := depth - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "--b%d--\r\n", i)
		}
		return b.Bytes()
	}
	if err := Check(deep(5, 25<<20), Limits{}); err != nil {
		t.Errorf("a 25 MiB mail 5 levels deep: %v", err)
	}
	err := Check(deep(20, 8<<20), Limits{})
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "DepthBytes" {
		t.Errorf("an 8 MiB mail 20 levels deep: %v, want a DepthBytes refusal", err)
	}
}
