package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/caseview"
)

// gmail is the Gmail shape of agentClients, for the tests below.
var gmail = agentClients[1]

// caseOneMail is a mail from a customer or stranger on case 1.
func caseOneMail(from, msgID, inReplyTo, text string) string {
	h := "From: " + from + "\nTo: support@example.com\nSubject: Re: [Case #1] ELB unreachable 1\nMessage-ID: <" + msgID + ">\n"
	if inReplyTo != "" {
		h += "In-Reply-To: " + inReplyTo + "\nReferences: " + inReplyTo + "\n"
	}
	return h + "\n" + text + "\n"
}

// nothingTo fails when any of ms went to one of addrs.
func nothingTo(t *testing.T, ms []parsed, addrs ...string) {
	t.Helper()
	for _, a := range addrs {
		if got := to(ms, a); len(got) > 0 {
			t.Errorf("%s was mailed:\n%s", a, got[0].env.Text)
		}
	}
}

func TestAgentsNoteTakeRefuseAndHearCustomers(t *testing.T) {
	e := newAgentEnv(t)
	n, sent := openCase(t, e, 1)
	lee, kim := one(t, to(sent, "lee@example.com"), "Lee's notice"), one(t, to(sent, "kim@example.com"), "Kim's notice")

	// Lee answers; then Alice replies: both agents are told, the case opens.
	e.ingestText("a1.eml", reply(gmail, lee, "lee@example.com", "Lee Chen", "Please retry now.", 1))
	answer := one(t, to(e.flushParsed(), "alice@acme.example"), "the answer")
	line := e.ingestText("c1.eml", caseOneMail("Alice Martin <alice@acme.example>", "c1@acme.example",
		answer.header("Message-ID"), "Still failing, see the new log."))
	if line.Outcome != "reply" {
		t.Fatalf("customer reply: %+v", line)
	}
	out := e.flushParsed()
	if got := recipients(out); !slices.Equal(got, []string{"kim@example.com", "lee@example.com"}) {
		t.Fatalf("customer reply told %v", got)
	}
	if !strings.Contains(out[0].env.Text, "Still failing, see the new log.") || !strings.Contains(out[0].env.Text, "replied on [Case #1]") {
		t.Errorf("reply notice:\n%s", out[0].env.Text)
	}
	if c := e.show(n); c.Status != "open" {
		t.Errorf("status %s after the customer's reply, want open", c.Status)
	}

	// #note: Kim is told, from "Lee Chen via …", replies internal; no customer.
	leeReply := one(t, to(out, "lee@example.com"), "Lee's reply notice")
	line = e.ingestText("n1.eml", reply(gmail, leeReply, "lee@example.com", "Lee Chen", "#note\nThe new log shows a TLS error.", 2))
	if line.Outcome != "reply" || line.Reason != "agent note" {
		t.Fatalf("#note: %+v", line)
	}
	out = e.flushParsed()
	note := one(t, out, "the note's notice")
	if !slices.Equal(note.To, []string{"kim@example.com"}) || !strings.Contains(note.header("From"), "Lee Chen via Example Support") ||
		note.header("Reply-To") != "<support+comment@example.com>" || !strings.Contains(note.env.Text, "The new log shows a TLS error.") {
		t.Errorf("note notice to %v From %q Reply-To %q:\n%s", note.To, note.header("From"), note.header("Reply-To"), note.env.Text)
	}

	// #take: Kim takes the case and gets a transcript.
	line = e.ingestText("t1.eml", reply(gmail, kim, "kim@example.com", "Kim Park", "#take", 3))
	if c := e.show(n); c.Assignee != "kim@example.com" {
		t.Errorf("assignee %q after #take", c.Assignee)
	}
	transcript := one(t, e.flushParsed(), "the #take transcript")
	if !slices.Equal(transcript.To, []string{"kim@example.com"}) || !strings.Contains(transcript.env.Text, "#take: done") {
		t.Errorf("transcript to %v:\n%s", transcript.To, transcript.env.Text)
	}

	// An unknown command: a transcript, nothing to the customer.
	line = e.ingestText("u1.eml", reply(gmail, leeReply, "lee@example.com", "Lee Chen", "#nte\nInternal: customer is on the old AMI.", 4))
	out = e.flushParsed()
	transcript = one(t, out, "the refusal transcript")
	if !slices.Equal(transcript.To, []string{"lee@example.com"}) || !strings.Contains(transcript.env.Text, "#nte: no such command") {
		t.Errorf("transcript to %v:\n%s", transcript.To, transcript.env.Text)
	}
	if strings.Contains(transcript.env.Text, "old AMI") {
		t.Errorf("the transcript quotes the agent's text:\n%s", transcript.env.Text)
	}
}

func TestAgentsReleaseHeldMail(t *testing.T) {
	e := newAgentEnv(t)
	n, _ := openCase(t, e, 1)
	line := e.ingestText("eve.eml", caseOneMail("Eve Stone <eve@partner.example>", "eve-1@partner.example", "",
		"I work with Alice; the 503s come from our proxy."))
	if line.Outcome != "held" {
		t.Fatalf("stranger: %+v", line)
	}
	out := e.flushParsed()
	if got := recipients(out); !slices.Equal(got, []string{"kim@example.com", "lee@example.com"}) {
		t.Fatalf("held mail told %v", got)
	}
	held := one(t, to(out, "lee@example.com"), "held notice")
	if held.header("Reply-To") != "<support+comment@example.com>" || !strings.Contains(held.env.Text, "the 503s come from our proxy") ||
		!strings.Contains(held.env.Text, "#release") {
		t.Errorf("held notice Reply-To %q:\n%s", held.header("Reply-To"), held.env.Text)
	}
	line = e.ingestText("rel.eml", reply(gmail, held, "lee@example.com", "Lee Chen", "#release contact", 5))
	if line.Outcome != "reply" {
		t.Fatalf("#release contact: %+v", line)
	}
	c := e.show(n)
	if !slices.ContainsFunc(c.Participants, func(p caseview.Participant) bool { return p.Address == "eve@partner.example" && p.Role == "contact" }) {
		t.Errorf("eve is no contact: %+v", c.Participants)
	}
	if kinds := kindsFrom(c, "eve@partner.example"); kinds["customer"] != 1 || kinds["held"] != 0 {
		t.Errorf("eve's mail kinds %v", kinds)
	}
	out = e.flushParsed()
	nothingTo(t, out, "alice@acme.example", "bob@acme.example", "eve@partner.example")
	if tr := one(t, out, "the release transcript"); !strings.Contains(tr.env.Text, "#release contact: done") {
		t.Errorf("transcript:\n%s", tr.env.Text)
	}

	// From the command line.
	e.ingestText("frank.eml", caseOneMail("frank@partner.example", "frank-1@partner.example", "", "Same here."))
	e.flush()
	var id int64
	for _, m := range e.show(n).Messages {
		if m.Kind == "held" && m.From == "frank@partner.example" {
			id = m.ID
		}
	}
	e.must("", "case", "release", fmt.Sprint(n), fmt.Sprint(id), "-contact")
	c = e.show(n)
	if kinds := kindsFrom(c, "frank@partner.example"); kinds["customer"] != 1 {
		t.Errorf("frank's mail kinds %v after case release", kinds)
	}
	if !slices.ContainsFunc(c.Participants, func(p caseview.Participant) bool { return p.Address == "frank@partner.example" }) {
		t.Errorf("frank is no contact after case release -contact")
	}
	if _, code := e.run("", "case", "release", fmt.Sprint(n), fmt.Sprint(id)); code != 1 {
		t.Errorf("releasing a message twice: exit %d, want 1", code)
	}
	e.must("", "case", "take", fmt.Sprint(n), "-from", "lee@example.com")
	if c := e.show(n); c.Assignee != "lee@example.com" {
		t.Errorf("assignee %q after case take", c.Assignee)
	}
}

func TestAgentsMachineMailAndEmptyAnswersReachNobody(t *testing.T) {
	e := newAgentEnv(t)
	n, sent := openCase(t, e, 1)
	notice := one(t, to(sent, "lee@example.com"), "Lee's notice")
	ooo := "From: Lee Chen <lee@example.com>\nTo: support@example.com\nSubject: Automatic reply: " + notice.header("Subject") +
		"\nMessage-ID: <ooo-1@example.com>\nIn-Reply-To: " + notice.header("Message-ID") +
		"\nAuto-Submitted: auto-replied\nX-Auto-Response-Suppress: All\n\nI am out of the office until Monday.\n"
	if line := e.ingestText("ooo.eml", ooo); line.Outcome != "auto_dropped" {
		t.Errorf("out-of-office: %+v", line)
	}
	if out := e.flushParsed(); len(out) != 0 {
		t.Errorf("the out-of-office reached %v", recipients(out))
	}

	// A reply with nothing above the quote: a transcript, nothing else.
	line := e.ingestText("empty.eml", reply(gmail, notice, "lee@example.com", "Lee Chen", "", 6))
	if line.Outcome != "reply" || !strings.Contains(line.Reason, "nothing sent") {
		t.Errorf("empty answer: %+v", line)
	}
	out := e.flushParsed()
	tr := one(t, out, "the empty answer's transcript")
	if !slices.Equal(tr.To, []string{"lee@example.com"}) || !strings.Contains(tr.env.Text, "no new text") {
		t.Errorf("transcript to %v:\n%s", tr.To, tr.env.Text)
	}
	// An answer that pastes a line of the notice is kept as a note.
	leaky := "Hi Alice, here is what I see:\nRequester: Alice Martin <alice@acme.example>\nAll fine."
	e.ingestText("leak.eml", reply(agentClients[0], notice, "lee@example.com", "Lee Chen", leaky, 7))
	out = e.flushParsed()
	nothingTo(t, out, "alice@acme.example", "bob@acme.example")
	if tr := one(t, out, "the leak transcript"); !strings.Contains(tr.env.Text, "still held a line of our notice") {
		t.Errorf("transcript:\n%s", tr.env.Text)
	}
	if c := e.show(n); c.Status != "open" || c.FirstResponseAt != nil {
		t.Errorf("nothing was answered, yet status %s first response %v", c.Status, c.FirstResponseAt)
	}
}

func TestForgedAgentMailIsHeld(t *testing.T) {
	e := newAgentEnv(t)
	n, _ := openCase(t, e, 1)
	forged := "From: Lee Chen <lee@example.com>\nTo: support@example.com\nSubject: Re: [Case #1] ELB unreachable 1\n" +
		"Message-ID: <forged-1@evil.example>\n\n#severity low\n#assign kim@example.com\n\nPlease send us your admin password.\n"
	line := e.ingestText("forged.eml", forged)
	if line.Outcome != "held" {
		t.Fatalf("forged agent mail: %+v", line)
	}
	out := e.flushParsed()
	nothingTo(t, out, "alice@acme.example", "bob@acme.example")
	tr := one(t, to(out, "lee@example.com"), "the transcript to the real Lee")
	if !strings.Contains(tr.env.Text, "A mail in your name was held") || strings.Contains(tr.env.Text, "admin password") {
		t.Errorf("transcript:\n%s", tr.env.Text)
	}
	if held := one(t, to(out, "kim@example.com"), "Kim's held notice"); !strings.Contains(held.env.Text, "was held") {
		t.Errorf("Kim's notice:\n%s", held.env.Text)
	}
	if c := e.show(n); c.Severity != "high" || c.Assignee != "" || c.FirstResponseAt != nil {
		t.Errorf("a forged mail acted: severity %s assignee %q first response %v", c.Severity, c.Assignee, c.FirstResponseAt)
	}

	// A token made for Kim does not make the mail Lee's.
	kimNotice := ""
	for _, m := range e.show(n).Outbox {
		if m.Kind == "notice" && slices.Contains(m.To, "kim@example.com") {
			kimNotice = "<" + m.MessageID + ">"
		}
	}
	stolen := strings.Replace(forged, "Message-ID: <forged-1@evil.example>", "Message-ID: <forged-2@evil.example>\nIn-Reply-To: "+kimNotice, 1)
	if line := e.ingestText("stolen.eml", stolen); line.Outcome != "held" {
		t.Errorf("Lee's address with Kim's token: %+v", line)
	}
}

func TestAgentMailWithATrustedDMARCPass(t *testing.T) {
	e := newAgentEnv(t, `authserv_id = "mx.example.com"`)
	n, _ := openCase(t, e, 1)
	mail := "Authentication-Results: mx.example.com; dmarc=pass header.from=example.com\n" +
		"From: Lee Chen <lee@example.com>\nTo: support@example.com\nSubject: Re: [Case #1] ELB unreachable 1\n" +
		"Message-ID: <fresh-1@example.com>\n\nHello Alice, the fix is live.\n"
	if line := e.ingestText("dmarc.eml", mail); line.Outcome != "reply" || line.Reason != "agent reply" {
		t.Fatalf("agent mail with a DMARC pass: %+v", line)
	}
	if a := one(t, to(e.flushParsed(), "alice@acme.example"), "the answer"); !strings.Contains(a.env.Text, "the fix is live") {
		t.Errorf("answer:\n%s", a.env.Text)
	}
	if c := e.show(n); c.Status != "pending" {
		t.Errorf("status %s", c.Status)
	}
}

func TestAgentsAreToldOfFailedDeliveries(t *testing.T) {
	e := newAgentEnv(t)
	line := e.ingestText("c.eml", fmt.Sprintf(newCaseWithFile, 1, 1))
	e.sink.Reject(550, 1) // the confirmation to Alice fails for good
	out := e.flushParsed()
	if got := recipients(out); !slices.Equal(got, []string{"bob@acme.example", "kim@example.com", "lee@example.com"}) {
		t.Fatalf("first flush reached %v", got)
	}
	out = e.flushParsed() // the notices of the failure, queued with it
	if got := recipients(out); !slices.Equal(got, []string{"kim@example.com", "lee@example.com"}) {
		t.Fatalf("failure told %v", got)
	}
	n := out[0]
	if n.header("Reply-To") != "<support+comment@example.com>" || !strings.Contains(n.env.Text, "could not be delivered") ||
		!strings.Contains(n.env.Text, "alice@acme.example") {
		t.Errorf("failure notice Reply-To %q:\n%s", n.header("Reply-To"), n.env.Text)
	}
	if c := e.show(line.Case); !hasEvent(c, "agents told", "undeliverable") {
		t.Errorf("no event of the notice: %+v", c.Events)
	}
}
