package mailout

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	kinds = []string{store.MailConfirmation, store.MailContact, store.MailReply, store.MailStatus, store.MailClosed,
		store.MailRefusal, store.MailAlert}
	langs = []string{"en", "fr", "ja"}
)

var sampleText = map[string]struct{ subject, body, resolution string }{
	"en": {"ELB unreachable since 09:00",
		"Hello Alice,\n\nThe unhealthy targets were restarted; the load balancer answers again.\n\nBest regards,\nSam",
		"The unhealthy targets were restarted."},
	"fr": {"Répartiteur de charge injoignable depuis 9 h",
		"Bonjour Alice,\n\nLes cibles défaillantes ont été redémarrées ; le répartiteur répond de nouveau.\n\nCordialement,\nSam",
		"Les cibles défaillantes ont été redémarrées."},
	"ja": {"ロードバランサーに接続できません",
		"アリス様\n\n異常なターゲットを再起動し、ロードバランサーは再び応答しています。\n\nよろしくお願いいたします。\nSam",
		"異常なターゲットを再起動しました。"},
}

// sampleRow is a filled outbox row of each kind, as the desk would queue it.
func sampleRow(kind, lang string, caseID int64, file store.Attachment) *store.OutboxItem {
	text := sampleText[lang]
	n := store.Notice{
		Case: 1042, Tag: "[Case #1042]", Subject: text.subject, Status: "open", Severity: "high",
		Type: "technical", Service: "ELB", Requester: "alice@acme.example", FirstResponseDue: t0.Add(4 * time.Hour),
	}
	it := &store.OutboxItem{
		Kind: kind, CaseID: caseID, Lang: lang, To: []string{"alice@acme.example"}, CreatedAt: t0,
		MessageID:  fmt.Sprintf("pd.1042.%s.%s@support.example.com", kind, lang),
		InReplyTo:  "CAF=abc123@mail.acme.example",
		References: []string{"CAF=abc123@mail.acme.example", "pd.1042.confirmation." + lang + "@support.example.com"},
	}
	switch kind {
	case store.MailConfirmation:
		n.ContactsAdded = []string{"bob@acme.example"}
		n.ContactsRefused = []store.Refusal{
			{Address: "eve@other.example", Reason: "a case has at most 5 additional contacts", Code: store.CodeTooManyContacts, Limit: 5},
			{Address: "not an address", Reason: "not a valid address", Code: store.CodeInvalidAddress},
		}
		n.Rejected = []store.Rejected{
			{Filename: "core.dump", Size: 6 << 20, Reason: "larger than 5 MiB", Code: store.CodeFileTooLarge, Limit: 5 << 20},
			{Filename: "d.log", Size: 812, Reason: "more than 3 files in one message", Code: store.CodeTooManyFiles, Limit: 3},
		}
		n.Plan, n.Severity, n.SeverityAsked, n.Code = "business", "urgent", "critical", store.CodeSeverityCapped
		it.Cc = []string{"bob@acme.example"}
		it.References = it.References[:1]
	case store.MailContact:
		// Who added them and the case number, as the desk queues it: none
		// of the sender's words (DESIGN §14).
		n = store.Notice{Case: 1042, Tag: "[Case #1042]", Requester: "alice@acme.example", RequesterName: "Alice Martin"}
		it.To = []string{"bob@acme.example", "carol@acme.example"}
		it.References = it.References[:1]
	case store.MailReply:
		n.Author, n.Body, n.Attachments = "sam@example.com", text.body, []store.Attachment{file}
		n.SurveyLinks = surveyLinks("1042.7")
		it.Cc = []string{"bob@acme.example"}
	case store.MailStatus:
		n.Status, n.Reason, n.Code = "pending", "set to pending by sam@example.com", store.CodeStatus
		it.Cc = []string{"bob@acme.example"}
	case store.MailClosed:
		n.Status, n.Resolution, n.Code = "closed", text.resolution, store.CodeClosed
		n.SurveyLinks = surveyLinks("1042.0")
	case store.MailRefusal:
		n = store.Notice{Subject: text.subject, Plan: "basic", Code: store.CodeNoTechnical,
			Reason: "the basic plan does not include technical support"}
		it.CaseID, it.References = 0, it.References[:1]
	case store.MailAlert:
		n.Reason, n.Code = "no first response by 2026-11-21T13:00:00Z", store.CodeOverdue
		it.To, it.InReplyTo, it.References = []string{"oncall@example.com"}, "", nil
	}
	it.Notice = n
	return it
}

// surveyLinks are five rating links like the desk's.
func surveyLinks(target string) []string {
	var links []string
	for r := 1; r <= 5; r++ {
		links = append(links, fmt.Sprintf("https://support.example.com/survey/%s.%d.sig", target, r))
	}
	return links
}

// variants are golden mails for notices that change what a kind says.
var variants = map[string]func(*store.OutboxItem){
	"status-severity-fixed": func(it *store.OutboxItem) {
		it.Notice.Code, it.Notice.SeverityAsked, it.Notice.Status = store.CodeSeverityFixed, "critical", "open"
		it.Cc = nil
	},
	"closed-autoclosed": func(it *store.OutboxItem) {
		it.Notice.Code, it.Notice.Resolution = store.CodeAutoclosed, ""
	},
	// Cc entries that are no address are counted, never listed (DESIGN
	// §14); the confirmation goes to the requester alone.
	"confirmation-invalid-addresses": func(it *store.OutboxItem) {
		it.Notice.ContactsRefused = it.Notice.ContactsRefused[:1]
		it.Notice.InvalidAddresses = 2
		it.Cc = nil
	},
}

func TestGoldenVariants(t *testing.T) {
	db := openDB(t)
	s, _ := newSender(t, db, nil, nil)
	c := newCase(t, db, "en")
	for name, edit := range variants {
		kind, _, _ := strings.Cut(name, "-")
		for _, lang := range langs {
			t.Run(name+"."+lang, func(t *testing.T) {
				it := sampleRow(kind, lang, c, store.Attachment{})
				edit(it)
				got, err := s.Build(context.Background(), it)
				if err != nil {
					t.Fatal(err)
				}
				compareGolden(t, filepath.Join("testdata", name+"."+lang+".golden.eml"), got)
			})
		}
	}
}

func TestGoldenMessages(t *testing.T) {
	db := openDB(t)
	s, _ := newSender(t, db, nil, nil)
	c := newCase(t, db, "en")
	file := storeFile(t, db, c, "app.log", "text/plain", []byte("09:00:01 ERROR target unhealthy\n09:00:02 ERROR 503\n"))
	for _, kind := range kinds {
		for _, lang := range langs {
			t.Run(kind+"."+lang, func(t *testing.T) {
				got, err := s.Build(context.Background(), sampleRow(kind, lang, c, file))
				if err != nil {
					t.Fatal(err)
				}
				again, _ := s.Build(context.Background(), sampleRow(kind, lang, c, file))
				if !bytes.Equal(got, again) {
					t.Fatal("Build is not deterministic")
				}
				compareGolden(t, filepath.Join("testdata", kind+"."+lang+".golden.eml"), got)
			})
		}
	}
}

// compareGolden compares got with the golden file at path, rewriting it
// first with -update.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mailout -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Build differs from %s (run go test ./mailout -update and review the diff):\n%s", path, got)
	}
}

// parsed is a built message read back the way a mail client would.
type parsed struct {
	header  mail.Header
	subject string
	body    string
	files   map[string][]byte
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatal("a line does not end in CRLF")
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{header: m.Header, files: map[string][]byte{}}
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	p.readPart(t, m.Header, m.Body)
	return p
}

func (p *parsed) readPart(t *testing.T, h map[string][]string, body io.Reader) {
	get := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	mt, params, err := mime.ParseMediaType(get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p.readPart(t, part.Header, part)
		}
	}
	switch get("Content-Transfer-Encoding") {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if _, dp, err := mime.ParseMediaType(get("Content-Disposition")); err == nil && dp["filename"] != "" {
		p.files[dp["filename"]] = data
		return
	}
	if mt != "text/plain" || params["charset"] != "UTF-8" {
		t.Errorf("body is %s charset %s", mt, params["charset"])
	}
	p.body = strings.ReplaceAll(string(data), "\r\n", "\n")
}

func TestBuiltMessagesCarryTheirHeaders(t *testing.T) {
	db := openDB(t)
	s, _ := newSender(t, db, nil, nil)
	c := newCase(t, db, "en")
	logData := []byte("09:00:01 ERROR target unhealthy\n")
	file := storeFile(t, db, c, "app.log", "text/plain", logData)
	ts := loadTemplates(t)
	for _, kind := range kinds {
		for _, lang := range langs {
			t.Run(kind+"."+lang, func(t *testing.T) {
				it := sampleRow(kind, lang, c, file)
				raw, err := s.Build(context.Background(), it)
				if err != nil {
					t.Fatal(err)
				}
				p := parse(t, raw)
				wantSubject, wantBody, _ := ts.Render(lang, kind, s.view(it.Notice))
				auto := map[string]string{"reply": "", "confirmation": "auto-replied", "contact": "auto-replied",
					"refusal": "auto-replied", "status": "auto-generated", "closed": "auto-generated",
					"alert": "auto-generated"}[kind]
				h := p.header
				for _, c := range []struct{ name, got, want string }{
					{"From", h.Get("From"), `"Example Support" <support@example.com>`},
					{"Reply-To", h.Get("Reply-To"), "<support@example.com>"},
					{"To", h.Get("To"), "<" + strings.Join(it.To, ">, <") + ">"},
					{"Message-ID", h.Get("Message-ID"), "<" + it.MessageID + ">"},
					{"Date", h.Get("Date"), "Sat, 21 Nov 2026 09:00:00 +0000"},
					{"Content-Language", h.Get("Content-Language"), lang},
					{"X-Postdesk-Loop", h.Get("X-Postdesk-Loop"), desk},
					{"X-Auto-Response-Suppress", h.Get("X-Auto-Response-Suppress"), "All"},
					{"Auto-Submitted", h.Get("Auto-Submitted"), auto},
					{"MIME-Version", h.Get("MIME-Version"), "1.0"},
					{"Subject", p.subject, wantSubject},
					{"body", p.body, wantBody},
				} {
					if c.got != c.want {
						t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
					}
				}
				if _, ok := h["Auto-Submitted"]; ok == (kind == "reply") {
					t.Errorf("Auto-Submitted present = %v for %s", ok, kind)
				}
				if it.InReplyTo != "" && h.Get("In-Reply-To") != "<"+it.InReplyTo+">" {
					t.Errorf("In-Reply-To = %q", h.Get("In-Reply-To"))
				}
				if refs := strings.Join(strings.Fields(h.Get("References")), " "); len(it.References) > 0 &&
					refs != "<"+strings.Join(it.References, "> <")+">" {
					t.Errorf("References = %q", refs)
				}
				if len(it.Cc) > 0 && h.Get("Cc") != "<bob@acme.example>" {
					t.Errorf("Cc = %q", h.Get("Cc"))
				}
				if kind == "reply" && !bytes.Equal(p.files["app.log"], logData) {
					t.Errorf("attachment app.log = %q, want %q", p.files["app.log"], logData)
				}
				if lang == "ja" && kind != "alert" && !strings.Contains(p.body, "ケース") {
					t.Errorf("Japanese body did not decode:\n%s", p.body)
				}
			})
		}
	}
}

func TestBuildRefusesRowsThatCannotBeSent(t *testing.T) {
	db := openDB(t)
	s, _ := newSender(t, db, nil, nil)
	c := newCase(t, db, "en")
	tests := []struct {
		name   string
		change func(*store.OutboxItem)
		want   string
	}{
		{"ESMTP parameters smuggled in a quoted local part", func(it *store.OutboxItem) { it.To = []string{`"a@x> NOTIFY=NEVER"@y`} }, "not a plain address"},
		{"a display name", func(it *store.OutboxItem) { it.To = []string{"Alice <alice@acme.example>"} }, "not a plain address"},
		{"two addresses in one", func(it *store.OutboxItem) { it.Cc = []string{"a@acme.example,b@acme.example"} }, "not a plain address"},
		{"a header break in an address", func(it *store.OutboxItem) { it.Cc = []string{"a@acme.example\r\nBcc: x@evil.example"} }, "not a plain address"},
		{"no recipient", func(it *store.OutboxItem) { it.To = nil }, "no recipient"},
		{"a Message-ID with brackets", func(it *store.OutboxItem) { it.MessageID = "<x@example.com>" }, "bad Message-ID"},
		{"a kind without template", func(it *store.OutboxItem) { it.Kind = "survey-thanks" }, "no template"},
		{"an attachment the store does not have", func(it *store.OutboxItem) {
			it.Kind, it.Notice.Attachments = store.MailReply, []store.Attachment{{Filename: "gone.txt", SHA256: strings.Repeat("0", 64)}}
		}, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := confirmation(c)
			it.MessageID = "pd.1.x@example.com"
			tt.change(it)
			_, err := s.Build(context.Background(), it)
			var perm *permanentError
			if !errors.As(err, &perm) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Build error = %v, want a permanent error with %q", err, tt.want)
			}
		})
	}
}

func TestUnsafeThreadIDsAreLeftOut(t *testing.T) {
	db := openDB(t)
	s, _ := newSender(t, db, nil, nil)
	it := confirmation(newCase(t, db, "en"))
	it.MessageID = "pd.2.x@example.com"
	it.InReplyTo = "evil@x.example>\r\nBcc: <victim@example.com"
	it.References = []string{"<ok@acme.example>", "no-at-sign", "sp ace@acme.example", "ok2@acme.example"}
	raw, err := s.Build(context.Background(), it)
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, raw)
	if got := p.header.Get("In-Reply-To"); got != "" {
		t.Errorf("In-Reply-To = %q, want none", got)
	}
	if got := p.header.Get("References"); got != "<ok@acme.example> <ok2@acme.example>" {
		t.Errorf("References = %q", got)
	}
	if _, ok := p.header["Bcc"]; ok {
		t.Error("a Bcc header was injected")
	}
}

func TestEveryNoticeFieldReachesTheTemplates(t *testing.T) {
	view := map[string]bool{}
	for _, f := range fieldsOf(templates.View{}) {
		view[f] = true
	}
	for _, f := range fieldsOf(store.Notice{}) {
		if !view[f] {
			t.Errorf("store.Notice.%s has no field in templates.View", f)
		}
	}
}
