package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/caseview"
	"github.com/postdesk/postdesk/internal/smtpsink"
)

// The internet's tricks, end to end: every mail goes in through `postdesk
// ingest`, every answer out through `postdesk outbox flush` to the SMTP
// sink, and the assertions read the sink and `case show -json`.

// newDeskEnv is newEnv for a desk with its own address that sends to sink,
// which other desks may share.
func newDeskEnv(t *testing.T, sink *smtpsink.Sink, address string) *env {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "postdesk.toml")
	text := fmt.Sprintf(`[desk]
name = "Support"
address = %q
agents = ["agent@%s"]
database = %q
secret_file = %q

# Only mail between the desks is of interest here, not notices to agents.
[[agent]]
address = "agent@%s"
notify = "none"

[smtp]
host = "127.0.0.1"
port = %d
tls = "none"
`, address, domainOf(address), filepath.Join(dir, "postdesk.db"), filepath.Join(dir, "postdesk.key"), domainOf(address), sink.Port())
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, dir: dir, cfg: cfg, sink: sink}
}

// ingestRaw ingests bytes exactly as given (ingestText turns every LF into
// CRLF, which would double the CR of mail taken from the sink).
func (e *env) ingestRaw(name string, raw []byte) ingestLine {
	e.t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		e.t.Fatal(err)
	}
	return e.ingest(path)
}

// crlf writes a message given with LF line ends the way it travels.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// headerLines returns the unfolded header fields of a message, one string
// each.
func headerLines(raw []byte) []string {
	s := strings.ReplaceAll(string(raw), "\r\n", "\n")
	head, _, _ := strings.Cut(s, "\n\n")
	var out []string
	for _, line := range strings.Split(head, "\n") {
		if (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) && len(out) > 0 {
			out[len(out)-1] += " " + strings.TrimSpace(line)
			continue
		}
		out = append(out, line)
	}
	return out
}

// namesOnly reports whether the header line l is the field called name
// (with its colon) and holds exactly one address, addr, whatever its
// display name.
func namesOnly(l, name, addr string) bool {
	value, ok := strings.CutPrefix(l, name)
	if !ok {
		return false
	}
	list, err := (&mail.AddressParser{WordDecoder: &mime.WordDecoder{}}).ParseList(value)
	return err == nil && len(list) == 1 && list[0].Address == addr
}

// fieldCount counts the header fields called name.
func fieldCount(raw []byte, name string) int {
	n := 0
	for _, line := range headerLines(raw) {
		if k, _, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			n++
		}
	}
	return n
}

// openCaseOne ingests testdata/new.eml (alice, contacts bob and carol) and
// returns the confirmation the sink received (the contacts get their own
// mail, second).
func openCaseOne(t *testing.T, e *env) smtpsink.Received {
	t.Helper()
	if line := e.ingest("testdata/new.eml"); line.Outcome != "new_case" || line.Case != 1 {
		t.Fatalf("ingest new.eml = %+v", line)
	}
	sent := e.flush()
	if len(sent) != 2 || !slices.Equal(sent[0].To, []string{"alice@acme.example"}) {
		t.Fatalf("opening case 1 sent %d mails, want the confirmation to alice and the contacts' mail", len(sent))
	}
	if headerOf(sent[0], "Message-ID") == "" {
		t.Fatal("the confirmation has no Message-ID")
	}
	return sent[0]
}

// envelopeRecipients lists every RCPT TO of the given mails.
func envelopeRecipients(ms []smtpsink.Received) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.To...)
	}
	return out
}

// kindsFrom counts the kinds of the messages of c sent by from.
func kindsFrom(c caseview.Case, from string) map[string]int {
	kinds := map[string]int{}
	for _, m := range c.Messages {
		if strings.EqualFold(m.From, from) {
			kinds[m.Kind]++
		}
	}
	return kinds
}

func hasEvent(c caseview.Case, kind string, contains ...string) bool {
	for _, ev := range c.Events {
		if ev.Kind != kind {
			continue
		}
		ok := true
		for _, s := range contains {
			ok = ok && strings.Contains(ev.Detail, s)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestAbuseThirdPartyWithValidTagIsHeld(t *testing.T) {
	e := newEnv(t)
	conf := openCaseOne(t, e)
	confID := headerOf(conf, "Message-ID")
	// The ticket trick: whoever learns a case number and our Message-ID
	// (a forwarded confirmation) writes in, hoping to reach the customer.
	line := e.ingestText("mallory.eml", "From: Mallory <mallory@evil.example>\n"+
		"To: support@example.com\nCc: alice@acme.example, bob@acme.example\n"+
		"Subject: Re: [Case #1] ELB unreachable\nMessage-ID: <mallory-2@evil.example>\n"+
		"In-Reply-To: "+confID+"\nReferences: <alice-1@acme.example> "+confID+"\n"+
		"Date: Sat, 21 Nov 2026 10:00:00 +0000\n\nPlease send me the full history of this case.\n")
	if line.Outcome != "held" || line.Case != 1 {
		t.Fatalf("stranger's reply = %+v, want held on case 1", line)
	}
	if sent := e.flush(); len(sent) != 0 {
		t.Errorf("a held mail caused %d mails, to %v", len(sent), envelopeRecipients(sent))
	}
	c := e.show(1)
	if kinds := kindsFrom(c, "mallory@evil.example"); kinds["held"] != 1 || len(kinds) != 1 {
		t.Errorf("case show lists mallory's mail as %v, want one held", kinds)
	}
	for _, p := range c.Participants {
		if p.Address == "mallory@evil.example" {
			t.Errorf("the stranger became a participant: %v", c.Participants)
		}
	}
	if c.Status != "open" {
		t.Errorf("status after a held mail %q, want open", c.Status)
	}
}

func TestAbuseReplyToIsNotIdentity(t *testing.T) {
	e := newEnv(t)
	conf := openCaseOne(t, e)
	confID := headerOf(conf, "Message-ID")

	// A stranger naming the requester anywhere but in the From addr-spec
	// is still a stranger.
	posing := []struct{ name, header string }{
		{"Reply-To", "From: mallory@evil.example\nReply-To: alice@acme.example\n"},
		{"display name", "From: \"alice@acme.example\" <mallory@evil.example>\n"},
		{"Sender", "From: mallory@evil.example\nSender: alice@acme.example\n"},
		{"encoded-word local part", "From: =?utf-8?q?alice?=@acme.example\n"},
		{"Cyrillic a", "From: =?utf-8?q?=D0=B0lice?= <\u0430lice@acme.example>\n"},
		{"zero-width space", "From: alice\u200b@acme.example\n"},
	}
	for i, p := range posing {
		line := e.ingestText(fmt.Sprintf("spoof-%d.eml", i), p.header+"To: support@example.com\n"+
			"Subject: Re: [Case #1] ELB unreachable\nContent-Type: text/plain; charset=utf-8\n"+
			fmt.Sprintf("Message-ID: <mallory-%d@evil.example>\n", i)+"In-Reply-To: "+confID+"\n\nWhat is the status?\n")
		if line.Outcome != "held" || line.Case != 1 {
			t.Errorf("stranger posing as the requester by %s = %+v, want held", p.name, line)
		}
	}
	if sent := e.flush(); len(sent) != 0 {
		t.Errorf("the held mail caused %d mails, to %v", len(sent), envelopeRecipients(sent))
	}
	if kinds := kindsFrom(e.show(1), "alice@acme.example"); kinds["customer"] != 1 || len(kinds) != 1 {
		t.Errorf("alice's messages on the case: %v, want only her first", kinds)
	}

	// The requester with an attacker's Reply-To is the requester; answers
	// still go to the participants, never to the Reply-To address.
	line := e.ingestText("alice-rt.eml", "From: alice@acme.example\nReply-To: mallory@evil.example\n"+
		"To: support@example.com\nSubject: Re: [Case #1] ELB unreachable\n"+
		"Message-ID: <alice-rt@acme.example>\nIn-Reply-To: "+confID+"\n\nStill down.\n")
	if line.Outcome != "reply" || line.Case != 1 {
		t.Fatalf("requester with a foreign Reply-To = %+v, want reply", line)
	}
	e.must("Please check the security group.\n", "case", "reply", "1", "-from", "agent@example.com", "-file", "-")
	sent := e.flush()
	if len(sent) != 1 {
		t.Fatalf("the agent's answer sent %d mails", len(sent))
	}
	rcpts := envelopeRecipients(sent)
	if !slices.Contains(rcpts, "alice@acme.example") || slices.Contains(rcpts, "mallory@evil.example") {
		t.Errorf("the agent's answer went to %v; want alice, never mallory", rcpts)
	}
	for _, name := range []string{"To", "Cc", "Bcc"} {
		if v := headerOf(sent[0], name); strings.Contains(v, "mallory") {
			t.Errorf("%s: %s", name, v)
		}
	}
	for _, p := range e.show(1).Participants {
		if p.Address == "mallory@evil.example" {
			t.Errorf("the Reply-To address became a participant")
		}
	}
}

func TestAbuseOutOfOfficeIsNotAnswered(t *testing.T) {
	e := newEnv(t)
	conf := openCaseOne(t, e)
	ooo := func(name, from, inReplyTo string) ingestLine {
		return e.ingestText(name, "From: "+from+"\nTo: support@example.com\n"+
			"Subject: Automatic reply: [Case #1] ELB unreachable\nAuto-Submitted: auto-replied\n"+
			"Message-ID: <"+name+"@acme.example>\nIn-Reply-To: "+inReplyTo+"\n\n"+
			"I am out of the office until Monday.\n#close\n")
	}

	// To the confirmation, while the case waits on support.
	line := ooo("ooo-1", "alice@acme.example", headerOf(conf, "Message-ID"))
	if line.Outcome != "auto_dropped" || line.Case != 1 {
		t.Errorf("out-of-office to the confirmation = %+v, want auto_dropped on case 1", line)
	}
	if sent := e.flush(); len(sent) != 0 {
		t.Errorf("the out-of-office caused %d mails, to %v", len(sent), envelopeRecipients(sent))
	}
	if st := e.show(1).Status; st != "open" {
		t.Errorf("status %q after an out-of-office, want open", st)
	}

	// To an agent's answer, while the case waits on the customer: an
	// automatic reply is not the customer answering (nor closing).
	e.must("Which region?\n", "case", "reply", "1", "-from", "agent@example.com", "-file", "-")
	sent := e.flush()
	if len(sent) != 1 {
		t.Fatalf("the agent's answer sent %d mails", len(sent))
	}
	line = ooo("ooo-2", "bob@acme.example", headerOf(sent[0], "Message-ID"))
	if line.Outcome != "auto_dropped" || line.Case != 1 {
		t.Errorf("out-of-office to the answer = %+v, want auto_dropped on case 1", line)
	}
	if sent := e.flush(); len(sent) != 0 {
		t.Errorf("the out-of-office caused %d mails, to %v", len(sent), envelopeRecipients(sent))
	}
	if st := e.show(1).Status; st != "pending" {
		t.Errorf("status %q after an out-of-office, want pending", st)
	}
}

func TestAbuseBounceMarksTheCase(t *testing.T) {
	for _, part := range []string{"message/rfc822", "text/rfc822-headers"} {
		t.Run(part, func(t *testing.T) {
			e := newEnv(t)
			conf := openCaseOne(t, e)
			returned := conf.Data
			if part == "text/rfc822-headers" {
				head, _, _ := bytes.Cut(conf.Data, []byte("\r\n\r\n"))
				returned = append(head, "\r\n"...)
			}
			dsn := append(crlf("Return-Path: <>\n"+
				"From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>\n"+
				"To: support@example.com\nSubject: Undelivered Mail Returned to Sender\n"+
				"Message-ID: <dsn-1@mx.acme.example>\nDate: Sat, 21 Nov 2026 09:05:00 +0000\n"+
				"MIME-Version: 1.0\n"+
				"Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn\"\n\n"+
				"--dsn\nContent-Type: text/plain\n\nYour message could not be delivered to bob@acme.example.\n\n"+
				"--dsn\nContent-Type: message/delivery-status\n\n"+
				"Reporting-MTA: dns; mx.acme.example\n\n"+
				"Final-Recipient: rfc822; bob@acme.example\nAction: failed\nStatus: 5.1.1\n"+
				"Diagnostic-Code: smtp; 550 5.1.1 <bob@acme.example>: Recipient address rejected: User unknown\n\n"+
				"--dsn\nContent-Type: "+part+"\n\n"), returned...)
			dsn = append(dsn, crlf("\n--dsn--\n")...)

			line := e.ingestRaw("dsn.eml", dsn)
			if line.Outcome != "bounce" || line.Case != 1 {
				t.Fatalf("bounce = %+v, want bounce on case 1", line)
			}
			if sent := e.flush(); len(sent) != 0 {
				t.Errorf("the bounce caused %d mails, to %v", len(sent), envelopeRecipients(sent))
			}
			if out := e.must("", "case", "list", "-status", "all", "-json"); strings.Count(out, `"id":`) != 1 {
				t.Errorf("after the bounce the cases are %s", out)
			}
			c := e.show(1)
			if !hasEvent(c, "delivery failed", "bob@acme.example", "5.1.1") {
				t.Errorf("no \"delivery failed\" event naming bob and 5.1.1: %+v", c.Events)
			}
			if c.Status != "open" || len(kindsFrom(c, "mailer-daemon@mx.acme.example")) != 0 {
				t.Errorf("status %q, messages %+v: a bounce is not a message of the case", c.Status, c.Messages)
			}
		})
	}
}

func TestAbuseHeaderInjection(t *testing.T) {
	tests := []struct {
		name, from, subject string
	}{
		{"encoded CR LF in subject and display name (Q)",
			"=?utf-8?q?Eve=0D=0ABcc:_evil@attacker.example?= <eve@acme.example>",
			"=?utf-8?q?Hello=0D=0ABcc:_evil@attacker.example?="},
		{"encoded CR LF in subject and display name (B)",
			"=?utf-8?b?" + b64("Eve\r\nBcc: evil@attacker.example") + "?= <eve@acme.example>",
			"=?utf-8?b?" + b64("Hello\r\nBcc: evil@attacker.example\r\n\r\nbody") + "?="},
		{"bare CR in the raw subject", "Eve <eve@acme.example>", "Hello\rBcc: evil@attacker.example"},
		{"NUL and Unicode line separators", "Eve <eve@acme.example>",
			"=?utf-8?q?Hello=00=E2=80=A8Bcc:_evil@attacker.example=C2=85To:_evil@attacker.example?="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			raw := append(crlf("From: "+tt.from+"\nTo: support@example.com\nMessage-ID: <eve-1@acme.example>\n"), "Subject: "+tt.subject+"\r\n"...)
			raw = append(raw, crlf("\nMy server is down.\n")...)
			line := e.ingestRaw("eve.eml", raw)
			if line.Outcome != "new_case" || line.Case != 1 {
				t.Fatalf("ingest = %+v", line)
			}
			c := e.show(1)
			if !strings.HasPrefix(c.Subject, "Hello") {
				t.Errorf("case subject %q, want the mail's subject", c.Subject)
			}
			if strings.ContainsAny(c.Subject, "\r\n\x00\u2028\u0085") || strings.ContainsAny(c.Messages[0].Subject, "\r\n\x00") {
				t.Errorf("case subject %q, message subject %q carry a line break", c.Subject, c.Messages[0].Subject)
			}
			sent := e.flush()
			if len(sent) != 1 {
				t.Fatalf("sent %d mails, want the confirmation", len(sent))
			}
			conf := sent[0]
			t.Logf("case subject %q; confirmation Subject %q", c.Subject, headerOf(conf, "Subject"))
			if n := fieldCount(conf.Data, "Subject"); n != 1 {
				t.Errorf("the confirmation has %d Subject fields:\n%s", n, conf.Data)
			}
			if n := fieldCount(conf.Data, "Bcc"); n != 0 {
				t.Errorf("the confirmation has %d Bcc fields", n)
			}
			for _, l := range headerLines(conf.Data) {
				// The subject, and since display names are kept (DESIGN
				// §10) the requester's name, may carry the text: as
				// words of one field, which names eve alone.
				if strings.Contains(l, "attacker") && !strings.HasPrefix(l, "Subject:") && !namesOnly(l, "To:", "eve@acme.example") {
					t.Errorf("header field carries the attacker: %q", l)
				}
				if strings.ContainsAny(l, "\r\x00") {
					t.Errorf("header field carries a control character: %q", l)
				}
			}
			if rcpts := envelopeRecipients(sent); !slices.Equal(rcpts, []string{"eve@acme.example"}) {
				t.Errorf("envelope recipients %v, want only eve", rcpts)
			}
		})
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// plainEnvelopeAddress is what may follow RCPT TO: a bare addr-spec, no
// room for a parameter or a second address.
func plainEnvelopeAddress(a string) bool {
	return a != "" && strings.Count(a, "@") == 1 && !strings.ContainsAny(a, " \t\r\n<>\"(),;:=[]\\")
}

func TestAbuseESMTPParameterSmuggling(t *testing.T) {
	e := newEnv(t)
	// Addresses that would add ESMTP parameters (RFC 3461 NOTIFY, ORCPT)
	// or a second recipient if they reached RCPT TO unchecked.
	line := e.ingestText("smuggle.eml", "From: alice@acme.example\n"+
		"To: support@example.com, <victim@x.example> NOTIFY=SUCCESS\n"+
		"Cc: \"a@x> NOTIFY=NEVER\"@y.example, <victim2@x.example> NOTIFY=SUCCESS ORCPT=rfc822;evil@attacker.example,\n"+
		" \"evil@attacker.example>\\r\\nRCPT TO:<evil2@attacker.example\"@y.example, bob@acme.example\n"+
		"Subject: Smuggling\nMessage-ID: <smuggle-1@acme.example>\n\nHello.\n")
	if line.Outcome != "new_case" || line.Case != 1 {
		t.Fatalf("ingest = %+v", line)
	}
	sent := e.flush()
	if len(sent) != 2 {
		t.Fatalf("sent %d mails, want the confirmation and the contacts' mail", len(sent))
	}
	rcpts := envelopeRecipients(sent)
	for _, a := range rcpts {
		if !plainEnvelopeAddress(a) || strings.Contains(strings.ToLower(a), "notify") ||
			strings.Contains(a, "attacker") || strings.HasSuffix(a, "@y.example") {
			t.Errorf("envelope recipient %q", a)
		}
	}
	if !slices.Contains(rcpts, "alice@acme.example") || !slices.Contains(rcpts, "bob@acme.example") {
		t.Errorf("envelope recipients %v lack alice (requester) or bob (plain contact)", rcpts)
	}
	c := e.show(1)
	for _, p := range c.Participants {
		if !plainEnvelopeAddress(p.Address) {
			t.Errorf("participant %q", p.Address)
		}
	}
	if !hasEvent(c, "contact refused", "NOTIFY=NEVER") {
		t.Errorf("no \"contact refused\" event for the quoted NOTIFY address: %+v", c.Events)
	}
	for _, ev := range c.Events {
		if ev.Kind == "contact refused" && !strings.Contains(ev.Detail, ": ") {
			t.Errorf("refusal without a reason: %q", ev.Detail)
		}
	}
	// The refused entries are counted; their text never reaches a mail.
	body := string(sent[0].Data)
	if !strings.Contains(body, "2 entries in Cc were not valid addresses") || strings.Contains(strings.ToLower(body), "notify") {
		t.Errorf("the confirmation does not count the refused entries, or copies them:\n%s", body)
	}
	t.Logf("participants %v, envelope %v", c.Participants, rcpts)
}

// A contact that the desk accepts but mailout will not put on the wire
// (a single-label domain, a domain literal, a non-ASCII address) would
// fail every mail of the case, the requester's included.
func TestAbuseUnsendableContactDoesNotSinkTheCase(t *testing.T) {
	for _, cc := range []string{"root@localhost", "ops@[192.0.2.1]", "jdöe@mächine.example"} {
		t.Run(cc, func(t *testing.T) {
			e := newEnv(t)
			line := e.ingestText("cc.eml", "From: alice@acme.example\nTo: support@example.com\n"+
				"Cc: bob@acme.example, "+cc+"\nSubject: Help\nMessage-ID: <cc-1@acme.example>\n"+
				"Content-Type: text/plain; charset=utf-8\n\nHello.\n")
			if line.Outcome != "new_case" {
				t.Fatalf("ingest = %+v", line)
			}
			sent := e.flush()
			if rcpts := envelopeRecipients(sent); !slices.Contains(rcpts, "alice@acme.example") {
				c := e.show(line.Case)
				t.Errorf("the confirmation did not reach the requester (envelopes %v); participants %v, outbox %+v",
					rcpts, c.Participants, c.Outbox)
			}
			e.must("Fixed, please check.\n", "case", "reply", fmt.Sprint(line.Case), "-from", "agent@example.com", "-file", "-")
			if rcpts := envelopeRecipients(e.flush()); !slices.Contains(rcpts, "alice@acme.example") ||
				!slices.Contains(rcpts, "bob@acme.example") {
				t.Errorf("the agent's answer reached %v, want alice and bob", rcpts)
			}
		})
	}
}
