package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/internal/demo"
	"github.com/postdesk/postdesk/internal/smtpsink"
)

// lifecycleEnv has customers on each plan and a notify list.
func lifecycleEnv(t *testing.T) *env {
	return newEnvWith(t, `notify = ["oncall@example.com"]
`, `
[[customer]]
match = "@devco.example"
plan = "developer"

[[customer]]
match = "@ent.example"
plan = "enterprise"

[[customer]]
match = "@cheap.example"
plan = "basic"
`)
}

// body is a sent mail as its reader sees it (the demo's rendering).
func body(t *testing.T, m smtpsink.Received) string {
	t.Helper()
	return demo.Readable(m.Data)
}

func TestLifecycleAsSupportRunsIt(t *testing.T) {
	e := lifecycleEnv(t)

	// 1. A developer asking urgent gets normal and is told why; an
	// enterprise customer gets critical with a 15-minute target.
	line := e.ingestText("dev.eml", "From: dev@devco.example\nTo: support@example.com\nSubject: API errors\n"+
		"Message-ID: <dev-1@devco.example>\n\nSeverity: urgent\n\nOur API returns 500.\n")
	if c := e.show(line.Case); c.Severity != "normal" || c.Plan != "developer" {
		t.Errorf("developer case: severity %s plan %s", c.Severity, c.Plan)
	}
	sent := e.flush()
	if len(sent) != 1 || !strings.Contains(body(t, sent[0]), "You asked for urgent; your support plan, developer, allows severities up to normal") {
		t.Errorf("developer confirmation does not explain the cap:\n%s", body(t, sent[0]))
	}
	line = e.ingestText("ent.eml", "From: cto@ent.example\nTo: support@example.com\nSubject: Site down\n"+
		"Message-ID: <ent-1@ent.example>\n\nSeverity: critical\n\nEverything is down.\n")
	c := e.show(line.Case)
	if c.Severity != "critical" || c.FirstResponseDue == nil || c.FirstResponseDue.Sub(c.CreatedAt) != 15*time.Minute {
		t.Errorf("enterprise case: severity %s, due %v after creation", c.Severity, c.FirstResponseDue.Sub(c.CreatedAt))
	}
	e.flush()

	// 2. A basic customer's technical mail: a refusal, no case.
	line = e.ingestText("basic.eml", "From: joe@cheap.example\nTo: support@example.com\nSubject: EC2 help\n"+
		"Message-ID: <basic-1@cheap.example>\n\nHow do I resize?\n")
	if line.Outcome != "refused" || line.Case != 0 {
		t.Errorf("basic plan: %+v", line)
	}
	sent = e.flush()
	if len(sent) != 1 || !slices.Equal(sent[0].To, []string{"joe@cheap.example"}) ||
		!strings.Contains(body(t, sent[0]), "does not include technical support") {
		t.Errorf("refusal %v", sent)
	}

	// 3. URGENT or 【緊急】 in the subject leaves the default severity.
	for i, subject := range []string{"URGENT!!! production down", "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte("【緊急】本番停止")) + "?="} {
		line = e.ingestText(fmt.Sprintf("urgent%d.eml", i), "From: ops@acme.example\nTo: support@example.com\nSubject: "+subject+
			fmt.Sprintf("\nMessage-ID: <urgent-%d@acme.example>\n\nPlease help, it is urgent.\n", i))
		if c := e.show(line.Case); c.Severity != "normal" {
			t.Errorf("%q: severity %s", subject, c.Severity)
		}
	}
	e.flush()

	// 4. ISO-2022-JP: decoded subject, language ja, a Japanese
	// confirmation; Language: fr gets French.
	line = e.ingest("../../message/testdata/iso2022jp.eml")
	c = e.show(line.Case)
	if c.Language != "ja" || c.Subject != "障害報告：サーバーが応答しません" {
		t.Errorf("Japanese case: language %s subject %q", c.Language, c.Subject)
	}
	sent = e.flush()
	if len(sent) != 1 || headerOf(sent[0], "Content-Language") != "ja" || !strings.Contains(body(t, sent[0]), "サポートケースを作成いたしました") {
		t.Errorf("Japanese confirmation:\n%s", body(t, sent[0]))
	}
	line = e.ingestText("fr.eml", "From: claire@acme.example\nTo: support@example.com\nSubject: Facture\n"+
		"Message-ID: <fr-1@acme.example>\n\nLanguage: fr\n\nBonjour, où est ma facture ?\n")
	sent = e.flush()
	if len(sent) != 1 || !strings.Contains(body(t, sent[0]), "Nous avons bien reçu votre demande") {
		t.Errorf("French confirmation:\n%s", body(t, sent[0]))
	}

	// 5. Seven Cc addresses: five contacts, the confirmation names the two
	// not added.
	var cc []string
	for i := 1; i <= 7; i++ {
		cc = append(cc, fmt.Sprintf("c%d@acme.example", i))
	}
	line = e.ingestText("cc.eml", "From: alice@acme.example\nTo: support@example.com\nCc: "+strings.Join(cc, ", ")+
		"\nSubject: Team issue\nMessage-ID: <cc-1@acme.example>\n\nAll of us are affected.\n")
	if c := e.show(line.Case); len(c.Participants) != 5 {
		t.Errorf("%d contacts, want 5", len(c.Participants))
	}
	sent = e.flush()
	text := body(t, sent[0])
	if !strings.Contains(text, "c6@acme.example: a case can have at most 5 additional contacts") ||
		!strings.Contains(text, "c7@acme.example: a case can have at most 5 additional contacts") {
		t.Errorf("confirmation does not name the two left out:\n%s", text)
	}

	// 6. Five attachments, one over 5 MiB: three kept, two rejected.
	line = e.ingestText("files.eml", filesMail())
	msg := e.show(line.Case).Messages[0]
	if len(msg.Attachments) != 3 || len(msg.RejectedAttachments) != 2 {
		t.Fatalf("kept %d, rejected %d", len(msg.Attachments), len(msg.RejectedAttachments))
	}
	reasons := msg.RejectedAttachments[0].Reason + " / " + msg.RejectedAttachments[1].Reason
	if !strings.Contains(reasons, "larger than 5 MiB") || !strings.Contains(reasons, "more than 3 files") {
		t.Errorf("reasons %q", reasons)
	}
	e.flush()
}

// filesMail has five attachments, the second over 5 MiB.
func filesMail() string {
	var b strings.Builder
	b.WriteString("From: alice@acme.example\nTo: support@example.com\nSubject: Logs\nMessage-ID: <files-1@acme.example>\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=bnd\n\n--bnd\nContent-Type: text/plain\n\nLogs attached.\n")
	for i, size := range []int{100, 6 << 20, 200, 300, 400} {
		data := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{byte('a' + i)}, size))
		var wrapped strings.Builder
		for len(data) > 76 {
			wrapped.WriteString(data[:76] + "\n")
			data = data[76:]
		}
		wrapped.WriteString(data + "\n")
		fmt.Fprintf(&b, "--bnd\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=f%d.bin\n"+
			"Content-Transfer-Encoding: base64\n\n%s", i+1, wrapped.String())
	}
	b.WriteString("--bnd--\n")
	return b.String()
}

func TestCloseSurveyAndEscalation(t *testing.T) {
	e := lifecycleEnv(t)
	e.ingest("testdata/new.eml")
	conf := e.flush()[0]

	// 7. Severity: critical in a later reply changes nothing.
	e.ingestText("sev.eml", "From: alice@acme.example\nTo: support@example.com\nSubject: Re: [Case #1] ELB unreachable\n"+
		"Message-ID: <alice-sev@acme.example>\n\nSeverity: critical\n\nIt is worse now.\n")
	if c := e.show(1); c.Severity != "high" {
		t.Errorf("severity changed to %s", c.Severity)
	}
	sent := e.flush()
	if len(sent) != 1 || !strings.Contains(body(t, sent[0]), "cannot be changed once a case is open") {
		t.Errorf("no notice about the fixed severity: %v", sent)
	}

	// 9. Past its target with no agent answer: the notify list is mailed
	// exactly once.
	cfg, err := LoadConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(5 * time.Hour)
	a, err := openApp(context.Background(), cfg, appOptions{now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.sink.Messages())
	for range 2 {
		if _, err := a.desk.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := a.sender.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	sent = e.sink.Messages()[before:]
	if len(sent) != 1 || !slices.Equal(sent[0].To, []string{"oncall@example.com"}) {
		t.Errorf("escalation mails: %d, to %v", len(sent), func() []string {
			if len(sent) > 0 {
				return sent[0].To
			}
			return nil
		}())
	}

	// 8. #close from the requester closes the case and mails a survey;
	// "4 thanks" records 4 and the case stays closed; a later 5 replaces it.
	e.ingestText("close.eml", "From: alice@acme.example\nTo: support@example.com\nSubject: Re: [Case #1] ELB unreachable\n"+
		"Message-ID: <alice-close@acme.example>\nIn-Reply-To: "+headerOf(conf, "Message-ID")+"\n\n#close\nThe security group was the cause.\n")
	c := e.show(1)
	if c.Status != "closed" {
		t.Fatalf("status %s after #close", c.Status)
	}
	sent = e.flush()
	var closing, closingID string
	for _, m := range sent {
		if slices.Equal(m.To, []string{"alice@acme.example"}) {
			closing, closingID = body(t, m), headerOf(m, "Message-ID")
		}
	}
	if !strings.Contains(closing, "reply to this mail with a number from 1 (poor) to 5 (excellent)") &&
		!strings.Contains(closing, "Reply to this mail with a number from 1 (poor) to 5 (excellent)") {
		t.Errorf("closing mail without the survey:\n%s", closing)
	}
	if !strings.Contains(closing, "/survey/1.0.5.") {
		t.Errorf("closing mail without rating links:\n%s", closing)
	}
	for i, answer := range []string{"4 thanks", "5"} {
		line := e.ingestText(fmt.Sprintf("rate%d.eml", i), "From: alice@acme.example\nTo: support@example.com\n"+
			fmt.Sprintf("Subject: Re: [Case #1] ELB unreachable\nMessage-ID: <rate-%d@acme.example>\nIn-Reply-To: %s\n\n%s\n", i, closingID, answer))
		if line.Outcome != "reply" {
			t.Errorf("answer %q: %+v", answer, line)
		}
	}
	c = e.show(1)
	if c.Status != "closed" || c.Rating == nil || *c.Rating != 5 {
		t.Errorf("after the answers: status %s rating %v", c.Status, c.Rating)
	}
	if sent := e.flush(); len(sent) != 0 {
		t.Errorf("survey answers were answered: %d mails", len(sent))
	}
}
