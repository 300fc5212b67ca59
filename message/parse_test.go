package message

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/postdesk/postdesk/desk"
)

// readFixture reads a file of testdata/.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return raw
}

// mustParse parses raw and fails the test on an error or a broken
// invariant.
func mustParse(t *testing.T, raw []byte) *Message {
	t.Helper()
	m, err := Parse(raw)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if p := invariantProblems(m); len(p) > 0 {
		t.Fatalf("Parse broke invariants: %s", strings.Join(p, "; "))
	}
	return m
}

// wantAttachment is what a test expects of one attachment.
type wantAttachment struct {
	filename, contentType, contentID string
	inline                           bool
}

// attachmentsOf summarises attachments for comparison.
func attachmentsOf(atts []desk.Attachment) []wantAttachment {
	out := make([]wantAttachment, len(atts))
	for i, a := range atts {
		out[i] = wantAttachment{a.Filename, a.ContentType, a.ContentID, a.Inline}
	}
	return out
}

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		name, file string
		check      func(t *testing.T, m *Message)
	}{
		{"plain mail gives addresses, decoded folded subject, ids and text", "plain.eml", func(t *testing.T, m *Message) {
			eq(t, "From", m.From, "alice@acme.example")
			eq(t, "FromName", m.FromName, "Alice Martin")
			eqList(t, "To", m.To, []string{"support@example.com"})
			eqList(t, "Cc", m.Cc, []string{"bob@acme.example", "cafe@acme.example"})
			eqList(t, "ReplyTo", m.ReplyTo, []string{"alice.replies@acme.example"})
			eq(t, "ReturnPath", m.ReturnPath, "alice@acme.example")
			eq(t, "Subject", m.Subject, "ELB unreachable – café region eu-west-1")
			eq(t, "MessageID", m.MessageID, "20250304.1@acme.example")
			eqList(t, "InReplyTo", m.InReplyTo, []string{"case-7.abc@example.com"})
			eqList(t, "References", m.References, []string{"case-7.root@example.com", "case-7.abc@example.com"})
			eq(t, "ContentLanguage", m.ContentLanguage, "fr")
			if want := time.Date(2025, 3, 4, 9, 15, 0, 0, time.UTC); !m.Date.Equal(want) {
				t.Errorf("Date = %v, want %v", m.Date, want)
			}
			eq(t, "Text", m.Text, "Hello,\n\nour load balancer in eu-west-1 is unreachable since 09:00 UTC.\nCafé is the name of the service.\n\nAlice\n")
			eq(t, "HTML", m.HTML, "")
			eq(t, "Machine", string(m.Machine), string(desk.MachineNone))
		}},
		{"alternative with inline image and attachment", "alternative.eml", func(t *testing.T, m *Message) {
			eq(t, "Text", m.Text, "See the screenshot below.")
			for _, bad := range []string{"<script", "onclick", "javascript:"} {
				if strings.Contains(m.HTML, bad) {
					t.Errorf("HTML keeps %q: %s", bad, m.HTML)
				}
			}
			if !strings.Contains(m.HTML, `src="cid:shot@acme.example"`) {
				t.Errorf("HTML lost the cid: image link: %s", m.HTML)
			}
			got := attachmentsOf(m.Attachments)
			want := []wantAttachment{
				{"report.pdf", "application/pdf", "", false},
				{"screenshot.png", "image/png", "shot@acme.example", true},
				{"image.png", "image/png", "unused@acme.example", false},
			}
			if !slices.Equal(got, want) {
				t.Errorf("attachments = %+v, want %+v", got, want)
			}
			if !bytes.HasPrefix(m.Attachments[0].Data, []byte("%PDF-1.4")) {
				t.Errorf("report.pdf data not decoded: %q", m.Attachments[0].Data)
			}
		}},
		{"ISO-2022-JP subject, name and body decode", "iso2022jp.eml", func(t *testing.T, m *Message) {
			eq(t, "Subject", m.Subject, "障害報告：サーバーが応答しません")
			eq(t, "FromName", m.FromName, "山田 太郎")
			if !strings.Contains(m.Text, "サーバーが応答しません。") {
				t.Errorf("Text not decoded: %q", m.Text)
			}
		}},
		{"hostile attachment names are made safe", "hostile.eml", func(t *testing.T, m *Message) {
			eq(t, "Subject", m.Subject, "Invoice  attached")
			var names []string
			for _, a := range m.Attachments {
				names = append(names, a.Filename)
			}
			want := []string{"passwd", "invoicegpj.exe", "nulbyte.txt", "win.ini", "attachment.bin", strings.Repeat("a", 251) + ".txt"}
			if !slices.Equal(names, want) {
				t.Errorf("file names = %q, want %q", names, want)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustParse(t, readFixture(t, tt.file)))
		})
	}
}

func TestParseKeepsRawSlice(t *testing.T) {
	raw := readFixture(t, "plain.eml")
	m := mustParse(t, raw)
	if len(m.Raw) != len(raw) || &m.Raw[0] != &raw[0] {
		t.Fatal("m.Raw is not the slice given to Parse")
	}
}

func TestParseSkipsPrefixes(t *testing.T) {
	plain := readFixture(t, "plain.eml")
	tests := []struct {
		name   string
		prefix string
	}{
		{"byte order mark", "\xEF\xBB\xBF"},
		{"mbox From line", "From alice@acme.example Tue Mar  4 09:15:02 2025\n"},
		{"byte order mark and mbox From line", "\xEF\xBB\xBFFrom alice@acme.example Tue Mar  4 09:15:02 2025\r\n"},
		{"banner line before the header", "---- Original email message ----\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, append([]byte(tt.prefix), plain...))
			eq(t, "From", m.From, "alice@acme.example")
			eq(t, "ReturnPath", m.ReturnPath, "alice@acme.example")
		})
	}
	t.Run("From field with space before the colon is not an mbox line", func(t *testing.T) {
		m := mustParse(t, []byte("From  : John Doe <jdoe@machine(comment).  example>\r\nSubject: hi\r\n\r\nbody\r\n"))
		eq(t, "From", m.From, "jdoe@machine.example")
		eq(t, "Subject", m.Subject, "hi")
	})
}

func TestParseRefusesNothing(t *testing.T) {
	for _, in := range []string{"", "\r\n\r\n", "\xEF\xBB\xBF", "From x Tue Mar  4 09:15:02 2025\n"} {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrNoMessage) {
			t.Errorf("Parse(%q) error = %v, want ErrNoMessage", in, err)
		}
	}
}

func TestParseDamagedMail(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		check func(t *testing.T, m *Message)
	}{
		{"no MIME header at all, 8-bit body", "Subject: x\n\nraw \xff body\r\n", func(t *testing.T, m *Message) {
			if !strings.HasPrefix(m.Text, "raw ") || !strings.HasSuffix(m.Text, " body\n") {
				t.Errorf("Text = %q, want the body as valid UTF-8", m.Text)
			}
		}},
		{"part without Content-Type is body text", "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nuntyped text\r\n--b--\r\n", func(t *testing.T, m *Message) {
			eq(t, "Text", m.Text, "untyped text")
			if len(m.Attachments) != 0 {
				t.Errorf("attachments = %+v, want none", attachmentsOf(m.Attachments))
			}
		}},
		{"multipart without boundary is read as one part", "From: a@b.example\r\nContent-Type: multipart/mixed\r\n\r\nhello\r\n", func(t *testing.T, m *Message) {
			eq(t, "From", m.From, "a@b.example")
		}},
		{"unclosed boundary keeps the text", "From: a@b.example\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\ncut off", func(t *testing.T, m *Message) {
			eq(t, "Text", m.Text, "cut off")
			if len(m.Defects) == 0 {
				t.Error("no defect reported for the unclosed boundary")
			}
		}},
		{"raw Latin-1 subject is decoded", "From: a@b.example\r\nSubject: Gr\xfc\xdfe aus K\xf6ln\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nx\r\n", func(t *testing.T, m *Message) {
			eq(t, "Subject", m.Subject, "Grüße aus Köln")
		}},
		{"badly padded encoded-word is decoded", "From: a@b.example\r\nSubject: =?gb18030?B?suLK1A===?=\r\n\r\nx\r\n", func(t *testing.T, m *Message) {
			eq(t, "Subject", m.Subject, "测试")
		}},
		{"HTML-only mail gets text from the HTML", "From: a@b.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>there</b></p><script>x()</script>\r\n", func(t *testing.T, m *Message) {
			if !strings.Contains(m.Text, "Hello") || strings.Contains(m.Text, "<p>") {
				t.Errorf("Text = %q, want the HTML as text", m.Text)
			}
			if strings.Contains(m.HTML, "script") {
				t.Errorf("HTML not sanitised: %q", m.HTML)
			}
		}},
		{"attached message without name is named after its subject", "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: Re: a/b =?utf-8?q?caf=C3=A9?=\r\n\r\ninner\r\n--b--\r\n", func(t *testing.T, m *Message) {
			got := attachmentsOf(m.Attachments)
			want := []wantAttachment{{"Re: a_b café.eml", "message/rfc822", "", false}}
			if !slices.Equal(got, want) {
				t.Errorf("attachments = %+v, want %+v", got, want)
			}
		}},
		{"unreadable date is zero", "From: a@b.example\r\nDate: someday\r\n\r\nx\r\n", func(t *testing.T, m *Message) {
			if !m.Date.IsZero() {
				t.Errorf("Date = %v, want zero", m.Date)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustParse(t, []byte(tt.raw)))
		})
	}
}

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		name, field string
		want        []address
		wantOK      bool
	}{
		{"display name and domain case", `"Doe, Jane" <Jane.Doe@Example.COM>`, []address{{"Doe, Jane", "Jane.Doe@example.com"}}, true},
		{"encoded display name", `=?utf-8?q?Ren=C3=A9?= <rene@example.com>`, []address{{"René", "rene@example.com"}}, true},
		{"encoded-word in the addr-spec stays literal", `=?utf-8?Q?attacker?Q?agent?=@victim.example`, []address{{"", "=?utf-8?Q?attacker?Q?agent?=@victim.example"}}, true},
		{"encoded local part is not decoded into another address", `=?utf-8?Q?agent?=@example.com`, []address{{"", "=?utf-8?Q?agent?=@example.com"}}, true},
		{"quoted local part keeps its quotes", `"john doe"@example.com`, []address{{"", `"john doe"@example.com`}}, true},
		{"group", `undisclosed-recipients:;`, nil, true},
		{"empty", ``, nil, true},
		{"spaces inside angle brackets", `"your secret past" <power quadrant system@example.com>`, []address{{"your secret past", "powerquadrantsystem@example.com"}}, false},
		{"local part only", `MAILER-DAEMON (Mail Delivery System)`, []address{{"Mail Delivery System", "MAILER-DAEMON"}}, false},
		{"source route and obsolete spacing", `Mary Smith <@machine.tld:mary@example.net>, , jdoe@test   . example`, []address{{"Mary Smith", "mary@example.net"}, {"", "jdoe@test.example"}}, false},
		{"missing comma", `a@example.com b@example.com`, []address{{"", "a@example.com"}, {"", "b@example.com"}}, false},
		{"raw Latin-1 display name", "J\xfcrgen <j@example.de>", []address{{"Jürgen", "j@example.de"}}, true},
		{"null address", `<>`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseAddressList(tt.field, "iso-8859-1")
			if !slices.Equal(got, tt.want) || ok != tt.wantOK {
				t.Errorf("parseAddressList(%q) = %+v, %v; want %+v, %v", tt.field, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestDecodeSubject(t *testing.T) {
	tests := []struct{ name, raw, cs, want string }{
		{"adjacent encoded-words join", "=?utf-8?q?a?= =?utf-8?q?b?=", "", "ab"},
		{"control characters become spaces", "a\tb\x00c\x1bd\u0085e", "", "a b c d e"},
		{"CR LF inside an encoded-word becomes space", "=?utf-8?q?a=0D=0Ab?=", "", "a  b"},
		{"invalid UTF-8 in an encoded-word is replaced", "=?utf-8?b?/w==?=", "", "\uFFFD"},
		{"unknown charset keeps the bytes valid", "=?x-unknown?q?caf=E9?=", "", "caf\uFFFD"},
		{"UTF-7", "=?utf-7?Q?+ANw-bermittlung?=", "", "Übermittlung"},
		{"raw ISO-2022-JP", "\x1b$B%F%9%H\x1b(B", "", "テスト"},
		{"surrounding space trimmed", "  hello  ", "", "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decodeSubject(tt.raw, tt.cs); got != tt.want {
				t.Errorf("decodeSubject(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestParseMsgIDs(t *testing.T) {
	tests := []struct {
		name, field string
		want        []string
	}{
		{"angle brackets removed", "<a@b>", []string{"a@b"}},
		{"several, folded, repeated", "<a@b>\r\n <c@d> <a@b>", []string{"a@b", "c@d"}},
		{"comments and white space inside", "<1234   @   local(blah)  .machine .example>", []string{"1234@local.machine.example"}},
		{"phrase around ids ignored", `"Bob's message of" <a@b> (comment)`, []string{"a@b"}},
		{"without angle brackets", "a@b, c@d", []string{"a@b", "c@d"}},
		{"unclosed bracket", "<a@b", []string{"a@b"}},
		{"empty", "  ", nil},
		{"empty brackets", "<>", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseMsgIDs(tt.field); !slices.Equal(got, tt.want) {
				t.Errorf("parseMsgIDs(%q) = %q, want %q", tt.field, got, tt.want)
			}
		})
	}
}

func TestReturnPath(t *testing.T) {
	tests := []struct{ name, raw, want string }{
		{"null path", "Return-Path: <>\r\n", "<>"},
		{"null path with space", "Return-Path: < >\r\n", "<>"},
		{"address", "Return-Path: <bounce+x@Lists.Example>\r\n", "bounce+x@lists.example"},
		{"address without brackets", "Return-Path: a@b.example\r\n", "a@b.example"},
		{"absent", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, []byte(tt.raw+"From: x@y.example\r\n\r\nbody\r\n"))
			eq(t, "ReturnPath", m.ReturnPath, tt.want)
		})
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(2003, 7, 1, 8, 52, 37, 0, time.UTC)
	tests := []struct{ name, field string }{
		{"RFC 5322", "Tue, 1 Jul 2003 10:52:37 +0200"},
		{"comment and zone name", "Tue, 1 Jul 2003 10:52:37 +0200 (CEST)"},
		{"no weekday", "1 Jul 2003 10:52:37 +0200"},
		{"glued Received field", "Tue, 1 Jul 2003 10:52:37 +0200 Received: from x by y"},
		{"asctime", "Tue Jul  1 08:52:37 2003"},
		{"ISO 8601", "2003-07-01T10:52:37+02:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseDate(tt.field); !got.Equal(want) {
				t.Errorf("parseDate(%q) = %v, want %v", tt.field, got, want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, file := range files {
		f.Add(readFixture(f, filepath.Base(file)))
	}
	f.Add([]byte("From: =?utf-8?b?/w==?= <a@b>\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Disposition: attachment; filename*=UTF-8''%00%E2%80%AE..%2F\r\n\r\nx\r\n--x--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw)
		if errors.Is(err, ErrPanic) {
			t.Fatalf("Parse panicked: %v", err)
		}
		if err != nil {
			return
		}
		if p := panicDefect(m); p != "" {
			t.Fatalf("enmime panicked: %s", p)
		}
		if p := invariantProblems(m); len(p) > 0 {
			t.Fatalf("%s", strings.Join(p, "; "))
		}
	})
}

// invariantProblems lists the promises of Parse that m breaks: decoded text
// is valid UTF-8, the subject is one trimmed line, file names are safe and
// content types bare and lower-case.
func invariantProblems(m *Message) []string {
	var p []string
	for name, s := range map[string]string{"Subject": m.Subject, "Text": m.Text, "HTML": m.HTML, "FromName": m.FromName, "From": m.From} {
		if !utf8.ValidString(s) {
			p = append(p, name+" is not valid UTF-8")
		}
	}
	if strings.ContainsFunc(m.Subject, unicode.IsControl) || strings.TrimSpace(m.Subject) != m.Subject {
		p = append(p, "Subject has control characters or surrounding space: "+quote(m.Subject))
	}
	if strings.ContainsAny(m.Text, "\r\x00") {
		p = append(p, "Text has CR or NUL")
	}
	for _, a := range m.Attachments {
		if problem := filenameProblem(a.Filename); problem != "" || SafeFilename(a.Filename, a.ContentType) != a.Filename {
			p = append(p, "unsafe file name "+quote(a.Filename)+": "+problem)
		}
		if a.ContentType == "" || a.ContentType != strings.ToLower(a.ContentType) || strings.ContainsAny(a.ContentType, "; ") {
			p = append(p, "bad content type "+quote(a.ContentType))
		}
	}
	return p
}

// eq reports a field that differs.
func eq(t *testing.T, field, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", field, got, want)
	}
}

// eqList reports a list field that differs.
func eqList(t *testing.T, field string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", field, got, want)
	}
}
