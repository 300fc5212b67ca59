package mailout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/store"
)

const comment = "support+comment@example.com"

// agentText is what the customer, a stranger and an agent write in the
// sample mails to agents, per language.
var agentText = map[string]struct{ name, customer, stranger, note string }{
	"en": {"Alice Martin",
		"Hello,\n\nSince 09:00 our load balancer answers 503 to every request.\nThe log is attached.\n\nAlice",
		"Hi, I saw your case number on a forum. Could you check my account too?",
		"Checked the target group: two targets fail their health check. Restarting them."},
	"fr": {"Amélie Durand",
		"Bonjour,\n\nDepuis 9 h, notre répartiteur de charge répond 503 à toutes les requêtes.\nLe journal est joint.\n\nAmélie",
		"Bonjour, j'ai vu votre numéro de dossier sur un forum. Pouvez-vous vérifier mon compte aussi ?",
		"Groupe cible vérifié : deux cibles échouent au contrôle de santé. Je les redémarre."},
	"ja": {"山田 花子",
		"お世話になっております。\n\n9時からロードバランサーがすべてのリクエストに503を返します。\nログを添付します。\n\n山田",
		"フォーラムでケース番号を見ました。私のアカウントも確認してもらえますか。",
		"ターゲットグループを確認しました。2つのターゲットがヘルスチェックに失敗しているため再起動します。"},
}

// agentRow is a mail to the agent lee@example.com about case 1042, as the
// desk queues it; edit makes it one notice or transcript.
func agentRow(kind, name, lang string, caseID int64, edit func(*store.Notice)) *store.OutboxItem {
	n := store.Notice{
		Case: 1042, Tag: "[Case #1042]", Subject: sampleText[lang].subject, Status: "open", Severity: "high",
		Type: "technical", Service: "ELB", Plan: "business", Requester: "alice@acme.example",
		RequesterName: agentText[lang].name, Contacts: []string{"bob@acme.example"},
		FirstResponseDue: t0.Add(4 * time.Hour), At: t0.Add(12 * time.Minute),
	}
	edit(&n)
	return &store.OutboxItem{
		Kind: kind, CaseID: caseID, Lang: lang, To: []string{"lee@example.com"}, CreatedAt: t0, Notice: n,
		MessageID:  fmt.Sprintf("pd.1042.%s.%s@support.example.com", name, lang),
		InReplyTo:  "CAF=abc123@mail.acme.example",
		References: []string{"CAF=abc123@mail.acme.example", "pd.1042.confirmation." + lang + "@support.example.com"},
	}
}

// agentGoldens are the golden mails to agents, and an agent's named answer.
func agentGoldens(lang string, caseID int64, file store.Attachment) map[string]*store.OutboxItem {
	text := agentText[lang]
	return map[string]*store.OutboxItem{
		"notice-new-case": agentRow(store.MailNotice, "new-case", lang, caseID, func(n *store.Notice) {
			n.Code, n.FromName, n.Author, n.Body = store.CodeNewCase, text.name, "alice@acme.example", text.customer
			n.Attachments, n.RelatedTag = []store.Attachment{file}, "[Case #1017]"
		}),
		"notice-held": agentRow(store.MailNotice, "held", lang, caseID, func(n *store.Notice) {
			n.Code, n.FromName, n.Author, n.Body = store.CodeHeld, "Eve Stranger", "eve@other.example", text.stranger
			n.Reason, n.ReplyTo, n.Assignee = "eve@other.example is not a participant of the case", comment, "lee@example.com"
		}),
		"notice-note": agentRow(store.MailNotice, "note", lang, caseID, func(n *store.Notice) {
			n.Code, n.FromName, n.Author, n.Body = store.CodeNote, "Sam Rivera", "sam@example.com", text.note
			n.ReplyTo, n.Assignee, n.FirstResponseDue = comment, "sam@example.com", time.Time{}
		}),
		"notice-overdue": agentRow(store.MailNotice, "overdue", lang, caseID, func(n *store.Notice) {
			n.Code, n.Reason, n.ReplyTo = store.CodeOverdue, "no first response by 2026-11-21T13:00:00Z", comment
			n.At = n.FirstResponseDue.Add(2*time.Hour + 5*time.Minute)
		}),
		"transcript-answered": agentRow(store.MailTranscript, "answered", lang, caseID, func(n *store.Notice) {
			n.Code, n.ReplyTo, n.Assignee = store.CodeAnswered, comment, "lee@example.com"
			n.Commands = []store.CommandResult{
				{Line: "#take", Code: store.ResultDone, Arg: "lee@example.com"},
				{Line: "#frobnicate", Code: store.ResultUnknown},
			}
		}),
		"transcript-forged": agentRow(store.MailTranscript, "forged", lang, caseID, func(n *store.Notice) {
			n.Code, n.ReplyTo = store.CodeForged, comment
			n.Reason = "not in reply to a mail sent to lee@example.com, and DMARC did not pass"
			n.Commands = []store.CommandResult{{Line: "#close", Code: store.ResultNotRun}}
		}),
		"reply-agent-name": func() *store.OutboxItem {
			it := sampleRow(store.MailReply, lang, caseID, file)
			it.Notice.FromName = "Lee Chen"
			it.MessageID = "pd.1042.reply-agent-name." + lang + "@support.example.com"
			return it
		}(),
	}
}

func TestGoldenAgentMail(t *testing.T) {
	db := openDB(t)
	s, _ := newSender(t, db, nil, nil)
	c := newCase(t, db, "en")
	file := storeFile(t, db, c, "app.log", "text/plain", []byte("09:00:01 ERROR target unhealthy\n09:00:02 ERROR 503\n"))
	for _, lang := range langs {
		for name, it := range agentGoldens(lang, c, file) {
			t.Run(name+"."+lang, func(t *testing.T) {
				got, err := s.Build(context.Background(), it)
				if err != nil {
					t.Fatal(err)
				}
				compareGolden(t, filepath.Join("testdata", name+"."+lang+".golden.eml"), got)
			})
		}
	}
}

func TestAgentMailHeaders(t *testing.T) {
	db := openDB(t)
	s, _ := newSender(t, db, nil, nil)
	c := newCase(t, db, "en")
	logData := []byte("09:00:01 ERROR target unhealthy\n")
	file := storeFile(t, db, c, "app.log", "text/plain", logData)
	ts := loadTemplates(t)
	for _, lang := range langs {
		for name, it := range agentGoldens(lang, c, file) {
			t.Run(name+"."+lang, func(t *testing.T) {
				raw, err := s.Build(context.Background(), it)
				if err != nil {
					t.Fatal(err)
				}
				p := parse(t, raw)
				from := fromOf(t, p.header)
				wantName := "Example Support"
				if it.Notice.FromName != "" {
					wantName = it.Notice.FromName + " via Example Support"
				}
				wantReplyTo, wantAuto := "<"+desk+">", "auto-generated"
				if it.Notice.ReplyTo != "" {
					wantReplyTo = "<" + it.Notice.ReplyTo + ">"
				}
				if it.Kind == store.MailReply {
					wantAuto = ""
				}
				wantSubject, wantBody, _ := ts.Render(lang, it.Kind, s.view(it.Notice))
				for _, c := range []struct{ name, got, want string }{
					{"From address", from.Address, desk},
					{"From name", from.Name, wantName},
					{"Reply-To", p.header.Get("Reply-To"), wantReplyTo},
					{"To", p.header.Get("To"), "<" + it.To[0] + ">"},
					{"Auto-Submitted", p.header.Get("Auto-Submitted"), wantAuto},
					{"Subject", p.subject, wantSubject},
					{"body", p.body, wantBody},
				} {
					if c.got != c.want {
						t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
					}
				}
				if it.Kind == store.MailNotice && p.subject != it.Notice.Tag+" "+it.Notice.Subject {
					t.Errorf("notice subject = %q, want the tag and the case subject", p.subject)
				}
				if len(it.Notice.Attachments) > 0 && !bytes.Equal(p.files["app.log"], logData) {
					t.Errorf("attachment app.log = %q, want %q", p.files["app.log"], logData)
				}
			})
		}
	}
}

// fromOf parses the From header as a mail client does: exactly one address.
func fromOf(t *testing.T, h mail.Header) *mail.Address {
	t.Helper()
	list, err := h.AddressList("From")
	if err != nil {
		t.Fatalf("From %q: %v", h.Get("From"), err)
	}
	if len(list) != 1 {
		t.Fatalf("From %q holds %d addresses", h.Get("From"), len(list))
	}
	return list[0]
}

func TestFromNameCannotAddAnAddress(t *testing.T) {
	db := openDB(t)
	c := newCase(t, db, "en")
	tests := []struct{ name, fromName, wantName string }{
		{"a quote closing the name early", `Mallory" <evil@evil.example>, "x`, `Mallory" <evil@evil.example>, "x via Example Support`},
		{"an address in the name", "Mallory <evil@evil.example>", "Mallory <evil@evil.example> via Example Support"},
		{"a group and a comment", `evil: a@evil.example; (x) "b"@evil.example`, `evil: a@evil.example; (x) "b"@evil.example via Example Support`},
		{"a header break", "Lee\r\nBcc: evil@evil.example", "Lee Bcc: evil@evil.example via Example Support"},
		{"non-ASCII with specials", `Jérôme "JJ" Dupont <jj@evil.example>`, `Jérôme "JJ" Dupont <jj@evil.example> via Example Support`},
		{"Japanese", "山田 花子", "山田 花子 via Example Support"},
		{"a long name folded over lines", strings.Repeat("Lee Chen ", 12), strings.Repeat("Lee Chen ", 12)[:9*12-1] + " via Example Support"},
		{"only spaces: the desk's name alone", " \t ", "Example Support"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newSender(t, db, nil, nil)
			it := sampleRow(store.MailReply, "en", c, store.Attachment{})
			it.Notice.FromName, it.Notice.Attachments = tt.fromName, nil
			raw, err := s.Build(context.Background(), it)
			if err != nil {
				t.Fatal(err)
			}
			p := parse(t, raw)
			from := fromOf(t, p.header)
			if from.Address != desk || from.Name != tt.wantName {
				t.Errorf("From = %q <%s>, want %q <%s>", from.Name, from.Address, tt.wantName, desk)
			}
			for _, h := range []string{"Bcc", "Sender", "Return-Path"} {
				if _, ok := p.header[h]; ok {
					t.Errorf("a %s header was injected", h)
				}
			}
			if !strings.Contains(string(raw), "\r\nTo: <alice@acme.example>\r\n") {
				t.Errorf("To changed:\n%s", raw)
			}
		})
	}
}

func TestFromNameWithoutADeskName(t *testing.T) {
	db := openDB(t)
	s, _ := newSender(t, db, nil, func(o *Options) { o.Name = "" })
	it := sampleRow(store.MailReply, "en", newCase(t, db, "en"), store.Attachment{})
	it.Notice.FromName, it.Notice.Attachments = "Lee Chen", nil
	raw, err := s.Build(context.Background(), it)
	if err != nil {
		t.Fatal(err)
	}
	from := fromOf(t, parse(t, raw).header)
	if from.Name != "Lee Chen via "+desk || from.Address != desk {
		t.Errorf("From = %q <%s>, want \"Lee Chen via %s\" <%s>", from.Name, from.Address, desk, desk)
	}
	it.Notice.FromName = ""
	raw, err = s.Build(context.Background(), it)
	if err != nil {
		t.Fatal(err)
	}
	if got := parse(t, raw).header.Get("From"); got != "<"+desk+">" {
		t.Errorf("From = %q, want the bare desk address", got)
	}
}

func TestBadReplyToFailsTheRow(t *testing.T) {
	db := openDB(t)
	s, _ := newSender(t, db, nil, nil)
	c := newCase(t, db, "en")
	for _, replyTo := range []string{"Comment <support+comment@example.com>", "a@example.com\r\nBcc: x@evil.example",
		"a@example.com, b@example.com", "no-at-sign"} {
		t.Run(replyTo, func(t *testing.T) {
			it := agentGoldens("en", c, store.Attachment{})["notice-note"]
			it.Notice.ReplyTo = replyTo
			_, err := s.Build(context.Background(), it)
			var perm *permanentError
			if !errors.As(err, &perm) || !errors.Is(err, ErrBadAddress) || !strings.Contains(err.Error(), "reply-to") {
				t.Fatalf("Build error = %v, want a permanent reply-to ErrBadAddress", err)
			}
		})
	}
}
