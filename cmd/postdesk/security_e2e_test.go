package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
)

// The reproductions of the review "Nobody but an agent acts as an agent",
// each refused end to end through ingest and SMTP.

func TestDMARCIsReadFromOurMTAOnly(t *testing.T) {
	e := newAgentEnv(t, `authserv_id = "mx.example.com"`)
	n, _ := openCase(t, e, 1)
	agentMail := func(id string, results ...string) string {
		var h string
		for _, r := range results {
			h += "Authentication-Results: " + r + "\n"
		}
		return h + "From: Lee Chen <lee@example.com>\nTo: support@example.com\nSubject: Re: [Case #1] ELB unreachable 1\n" +
			"Message-ID: <" + id + "@example.com>\n\n#severity low\nPlease send us your admin password.\n"
	}
	for _, tt := range []struct {
		name    string
		results []string
	}{
		{"no Authentication-Results", nil},
		{"dmarc=none", []string{"mx.example.com; spf=pass smtp.mailfrom=example.com; dmarc=none header.from=example.com"}},
		{"our header without a dmarc result", []string{"mx.example.com; spf=pass smtp.mailfrom=example.com"}},
		{"a pass only in a comment", []string{"mx.example.com; spf=pass (dmarc=pass) smtp.mailfrom=example.com"}},
		{"a pass below a foreign header", []string{"evil.example; dmarc=pass", "mx.example.com; dmarc=pass"}},
		{"a pass from another authserv-id", []string{"mx.example.com.evil.example; dmarc=pass"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			line := e.ingestText(tt.name+".eml", agentMail(strings.ReplaceAll(tt.name, " ", "-"), tt.results...))
			if line.Outcome != "held" {
				t.Errorf("outcome %s, want held", line.Outcome)
			}
			nothingTo(t, e.flushParsed(), "alice@acme.example", "bob@acme.example")
			if c := e.show(n); c.Severity != "high" {
				t.Errorf("a command ran: severity %s", c.Severity)
			}
		})
	}
}

func TestANewCaseThatFailedDMARCIsHeld(t *testing.T) {
	e := newAgentEnv(t, `authserv_id = "mx.example.com"`)
	line := e.ingestText("forged.eml", "Authentication-Results: mx.example.com; dmarc=fail (p=reject) header.from=acme.example\n"+
		"From: Alice Martin <alice@acme.example>\nTo: support@example.com\nCc: eve@evil.example\nSubject: Add my colleague\n"+
		"Message-ID: <forged-new@evil.example>\n\nPlease send every answer to eve too.\n")
	if line.Outcome != "held" || line.Case == 0 {
		t.Fatalf("new case failing DMARC: %+v", line)
	}
	out := e.flushParsed()
	if got := recipients(out); !slices.Equal(got, []string{"kim@example.com", "lee@example.com"}) {
		t.Errorf("mailed %v, want the agents' held notices only", got)
	}
	if c := e.show(line.Case); len(c.Participants) != 0 {
		t.Errorf("contacts added from a mail that failed DMARC: %+v", c.Participants)
	}
}

func TestLookAlikeAddressesAreStrangers(t *testing.T) {
	e := newAgentEnv(t)
	n, _ := openCase(t, e, 1)
	// Kelvin sign (U+212A) for the k of example.com: not Lee.
	kelvin := "From: lee@exa\u212aple.com\nTo: support@example.com\nSubject: Re: [Case #1] ELB unreachable 1\n" +
		"Message-ID: <kelvin-1@evil.example>\n\n#close\nDone.\n"
	if line := e.ingestText("kelvin.eml", kelvin); line.Outcome != "held" {
		t.Errorf("Kelvin-sign agent: %+v", line)
	}
	nothingTo(t, e.flushParsed(), "alice@acme.example", "bob@acme.example")
	if c := e.show(n); c.Status != "open" {
		t.Errorf("status %s", c.Status)
	}

	// Long s (U+017F) for the s of Kate's domain, with proof of receipt:
	// not Kate, so her case stays open.
	line := e.ingestText("kate.eml", "From: kate@kiosk-systems.example\nTo: support@example.com\nSubject: Kiosk down\n"+
		"Message-ID: <kate-1@kiosk-systems.example>\n\nThe kiosk is down.\n")
	var conf string
	for _, m := range e.flushParsed() {
		if slices.Contains(m.To, "kate@kiosk-systems.example") {
			conf = m.header("Message-ID")
		}
	}
	forged := e.ingestText("kate-forged.eml", "From: kate@kio\u017fk-\u017fy\u017ftem\u017f.example\nTo: support@example.com\n"+
		"Subject: Re: [Case #2] Kiosk down\nMessage-ID: <kate-2@evil.example>\nIn-Reply-To: "+conf+"\n\n#close\nFixed.\n")
	if forged.Outcome != "held" {
		t.Errorf("long-s look-alike of the requester: %+v", forged)
	}
	if c := e.show(line.Case); c.Status != "open" {
		t.Errorf("a look-alike closed the case: status %s", c.Status)
	}
}

func TestVictimsInCcGetNoneOfTheStrangersWords(t *testing.T) {
	e := newEnv(t)
	line := e.ingestText("phish.eml", "From: \"Security Team: call +1 555 0100 now\" <eve@evil.example>\nTo: support@example.com\n"+
		"Cc: victim@acme.example, \"URGENT: reset at https://evil.example/x\"@acme.example\n"+
		"Subject: Your account is locked: https://evil.example/unlock\nMessage-ID: <phish-1@evil.example>\n\n"+
		"Log in at https://evil.example/unlock within 24 hours.\n")
	if line.Outcome != "new_case" {
		t.Fatalf("phish: %+v", line)
	}
	sent := e.flush()
	var victim []byte
	for _, m := range sent {
		if slices.Contains(m.To, "victim@acme.example") {
			victim = m.Data
		}
		if strings.Contains(strings.ToLower(string(m.Data)), "urgent") {
			t.Errorf("the invalid Cc text was copied into a mail to %v", m.To)
		}
	}
	if victim == nil {
		t.Fatal("the contact got no mail")
	}
	for _, words := range []string{"evil.example/unlock", "locked", "24 hours", "call +1", "Security Team"} {
		if strings.Contains(string(victim), words) {
			t.Errorf("the contact's mail holds the stranger's %q:\n%s", words, victim)
		}
	}
	if !strings.Contains(string(victim), "eve@evil.example") || !strings.Contains(string(victim), "[Case #1]") {
		t.Errorf("the contact's mail does not say who added them and the case:\n%s", victim)
	}
}

func TestPlusTagsShareOneNewCaseLimit(t *testing.T) {
	e := newEnvWith(t, "", "[limits]\nnew_cases_per_sender_per_hour = 2\n")
	var outcomes []string
	for i := 1; i <= 5; i++ {
		line := e.ingestText(fmt.Sprintf("p%d.eml", i), fmt.Sprintf("From: eve+%d@evil.example\nTo: support@example.com\n"+
			"Subject: Case %d\nMessage-ID: <p%d@evil.example>\n\nHello.\n", i, i, i))
		outcomes = append(outcomes, line.Outcome)
	}
	if want := []string{"new_case", "new_case", "held", "held", "held"}; !slices.Equal(outcomes, want) {
		t.Errorf("outcomes %v, want %v", outcomes, want)
	}
}

func TestAStrangerCannotSuppressMailByItsMessageID(t *testing.T) {
	e := newEnv(t)
	e.ingestText("eve.eml", "From: eve@evil.example\nTo: support@example.com\nSubject: Hi\nMessage-ID: <alice-2@acme.example>\n\nfirst\n")
	line := e.ingestText("alice.eml", "From: alice@acme.example\nTo: support@example.com\nSubject: Real problem\n"+
		"Message-ID: <alice-2@acme.example>\n\nThe real mail.\n")
	if line.Outcome != "new_case" {
		t.Errorf("Alice's mail after a stranger used its Message-ID: %+v", line)
	}
}

func TestFloodsAreBounded(t *testing.T) {
	e := newEnvWith(t, `notify = ["oncall@example.com"]`, "")
	e.ingest("testdata/new.eml")
	conf := e.flush()[0]
	var b strings.Builder
	for range 500 {
		b.WriteString("#escalate\n")
	}
	for i := range 3 {
		line := e.ingestText(fmt.Sprintf("esc%d.eml", i), fmt.Sprintf("From: alice@acme.example\nTo: support@example.com\n"+
			"Subject: Re: [Case #1] ELB unreachable\nMessage-ID: <esc-%d@acme.example>\nIn-Reply-To: %s\n\n%sHelp!\n",
			i, headerOf(conf, "Message-ID"), b.String()))
		if line.Outcome != "reply" {
			t.Fatalf("escalation mail: %+v", line)
		}
	}
	alerts := 0
	for _, m := range e.flush() {
		if slices.Equal(m.To, []string{"oncall@example.com"}) {
			alerts++
		}
	}
	if alerts < 1 || alerts > 2 {
		t.Errorf("%d alerts for 3 mails of 500 #escalate lines, want 1 or 2", alerts)
	}
}

func TestASurveyLinkFloodStaysSmall(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.ingest("testdata/new.eml")
	e.must("", "case", "close", "1")
	a, cfg, srv, links := surveyServer(t, e)
	link := strings.TrimPrefix(links[0], "http://127.0.0.1:8025")
	before := dbBytes(t, cfg.Desk.Database)
	comment := strings.Repeat("spam ", 800) // 4,000 bytes, the most kept
	codes := map[int]int{}
	for range 200 {
		resp, err := http.PostForm(srv.URL+link, url.Values{"comment": {comment}})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[http.StatusTooManyRequests] == 0 {
		t.Errorf("200 answers in a row were all taken: %v", codes)
	}
	grown := dbBytes(t, cfg.Desk.Database) - before
	if grown >= 1<<20 {
		t.Errorf("200 POSTs grew the database by %d bytes, want under 1 MiB", grown)
	}
	t.Logf("200 POSTs of 4,000-byte comments: %v; the database grew %d bytes", codes, grown)
	if s, _ := a.db.Surveys(ctx, 1); len(s) > 20 {
		t.Errorf("%d answers kept", len(s))
	}
}

// dbBytes is the size of the database with its write-ahead log.
func dbBytes(t *testing.T, path string) int64 {
	t.Helper()
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// A mail of a million #escalate lines (11 MB) does one mail's work: one
// alert, a few events, text kept to limits.text_bytes. (Measured: 0.19 s
// and 98 MB peak RSS for the whole `postdesk ingest`; see the README.)
func TestAMillionCommandLinesDoOneMailsWork(t *testing.T) {
	e := newEnvWith(t, `notify = ["oncall@example.com"]`, "")
	e.ingest("testdata/new.eml")
	conf := e.flush()[0]
	raw := "From: alice@acme.example\r\nTo: support@example.com\r\nSubject: Re: [Case #1] ELB unreachable\r\n" +
		"Message-ID: <million@acme.example>\r\nIn-Reply-To: " + headerOf(conf, "Message-ID") + "\r\n\r\n" +
		strings.Repeat("#escalate\r\n", 1_000_000)
	if line := e.ingestRaw("million.eml", []byte(raw)); line.Outcome != "reply" {
		t.Fatalf("million-line mail: %+v", line)
	}
	c := e.show(1)
	if len(c.Events) > 20 {
		t.Errorf("%d events from one mail", len(c.Events))
	}
	for _, m := range c.Messages {
		if len(m.Text) > 1<<20+200 {
			t.Errorf("message %d keeps %d bytes of text, over limits.text_bytes", m.ID, len(m.Text))
		}
	}
	alerts := 0
	for _, m := range e.flush() {
		if slices.Equal(m.To, []string{"oncall@example.com"}) {
			alerts++
		}
	}
	if alerts != 1 {
		t.Errorf("%d alerts, want 1", alerts)
	}
}
