package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/internal/smtpsink"
)

// Machine mail and mail loops, end to end as in abuse_test.go.

func TestAbuseTwoDesksDoNotLoop(t *testing.T) {
	// What a relay between the two desks does to each mail.
	relays := []struct {
		name  string
		strip []string
	}{
		{"as sent", nil},
		{"relay strips X-Postdesk-Loop", []string{"X-Postdesk-Loop"}},
		{"relay strips X-Postdesk-Loop and Auto-Submitted", []string{"X-Postdesk-Loop", "Auto-Submitted"}},
	}
	for _, relay := range relays {
		t.Run(relay.name, func(t *testing.T) {
			sink, err := smtpsink.Start()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sink.Close() })
			desks := map[string]*env{
				"support@a.example": newDeskEnv(t, sink, "support@a.example"),
				"support@b.example": newDeskEnv(t, sink, "support@b.example"),
			}
			a := desks["support@a.example"]
			// As if desk B had written to desk A.
			first := a.ingestText("from-b.eml", "From: Support <support@b.example>\nTo: support@a.example\n"+
				"Subject: Your order\nMessage-ID: <first@b.example>\n\nHello from B.\n")
			t.Logf("round 0: A: %s case %d", first.Outcome, first.Case)
			seen, total, quietRound := 0, 0, 0
			for round := 1; round <= 10; round++ {
				for _, d := range desks {
					d.must("", "outbox", "flush")
				}
				msgs := sink.Messages()
				fresh := msgs[seen:]
				seen = len(msgs)
				total += len(fresh)
				if len(fresh) == 0 {
					quietRound = round
					break
				}
				for i, m := range fresh {
					for _, rcpt := range m.To {
						d, ok := desks[rcpt]
						if !ok {
							t.Errorf("round %d: mail to %s, who is neither desk", round, rcpt)
							continue
						}
						raw := append([]byte("Return-Path: <"+m.From+">\r\n"), stripFields(m.Data, relay.strip)...)
						line := d.ingestRaw(fmt.Sprintf("r%d-%d.eml", round, i), raw)
						t.Logf("round %d: %s -> %s: %q: %s case %d (%s)", round, m.From, rcpt,
							headerOf(m, "Subject"), line.Outcome, line.Case, line.Reason)
					}
				}
			}
			if quietRound == 0 || quietRound > 3 {
				t.Errorf("the exchange went quiet in round %d (0: never in 10 rounds), want by round 3", quietRound)
			}
			if total > 3 {
				t.Errorf("%d mails exchanged, want at most 3", total)
			}
			t.Logf("%d mails exchanged; quiet from round %d", total, quietRound)
		})
	}
}

// stripFields removes the named header fields (and their continuation
// lines) from a CRLF message.
func stripFields(raw []byte, names []string) []byte {
	if len(names) == 0 {
		return raw
	}
	head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	var out [][]byte
	dropping := false
	for _, line := range bytes.Split(head, []byte("\r\n")) {
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if !dropping {
				out = append(out, line)
			}
			continue
		}
		name, _, _ := bytes.Cut(line, []byte(":"))
		dropping = slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, string(name)) })
		if !dropping {
			out = append(out, line)
		}
	}
	return append(append(bytes.Join(out, []byte("\r\n")), "\r\n\r\n"...), body...)
}

func TestAbuseMachineMailOpensNothing(t *testing.T) {
	machine := []struct {
		name, header string
	}{
		{"mailer-daemon", "From: MAILER-DAEMON@mx.acme.example\n"},
		{"no-reply", "From: Vendor <no-reply@vendor.example>\n"},
		{"Precedence bulk", "From: news@vendor.example\nPrecedence: bulk\n"},
		{"List-Id", "From: dave@lists.example\nList-Id: Dev list <dev.lists.example>\n"},
		{"null Return-Path", "Return-Path: <>\nFrom: dave@initech.example\n"},
	}
	t.Run("new mail", func(t *testing.T) {
		e := newEnv(t)
		for i, m := range machine {
			line := e.ingestText(fmt.Sprintf("m%d.eml", i), m.header+"To: support@example.com\n"+
				"Subject: Your weekly summary\nMessage-ID: <machine-"+fmt.Sprint(i)+"@x.example>\n\nHello.\n")
			if line.Case != 0 || (line.Outcome != "auto_dropped" && line.Outcome != "bounce") {
				t.Errorf("%s: %+v, want auto_dropped or bounce without a case", m.name, line)
			}
		}
		if out := e.must("", "case", "list", "-status", "all", "-json"); strings.TrimSpace(out) != "[]" {
			t.Errorf("machine mail opened cases: %s", out)
		}
		if sent := e.flush(); len(sent) != 0 {
			t.Errorf("machine mail caused %d mails, to %v", len(sent), envelopeRecipients(sent))
		}
	})
	t.Run("threaded to a case", func(t *testing.T) {
		e := newEnv(t)
		conf := openCaseOne(t, e)
		for i, m := range machine {
			// The machine sender is made a participant's address, so only
			// the classification stands between the mail and the case.
			h := strings.NewReplacer("MAILER-DAEMON@mx.acme.example", "alice@acme.example",
				"no-reply@vendor.example", "alice@acme.example", "news@vendor.example", "alice@acme.example",
				"dave@lists.example", "alice@acme.example", "dave@initech.example", "alice@acme.example").Replace(m.header)
			if m.name == "mailer-daemon" || m.name == "no-reply" {
				h = m.header // the robot address is the point
			}
			line := e.ingestText(fmt.Sprintf("t%d.eml", i), h+"To: support@example.com\n"+
				"Subject: Re: [Case #1] ELB unreachable\nIn-Reply-To: "+headerOf(conf, "Message-ID")+"\n"+
				"Message-ID: <threaded-"+fmt.Sprint(i)+"@x.example>\n\n#close\nThanks.\n")
			if line.Outcome != "auto_dropped" && line.Outcome != "bounce" {
				t.Errorf("%s: %+v, want auto_dropped or bounce", m.name, line)
			}
		}
		if sent := e.flush(); len(sent) != 0 {
			t.Errorf("machine mail caused %d mails, to %v", len(sent), envelopeRecipients(sent))
		}
		c := e.show(1)
		if c.Status != "open" {
			t.Errorf("machine mail changed the status to %q", c.Status)
		}
		if out := e.must("", "case", "list", "-status", "all", "-json"); strings.Count(out, `"id":`) != 1 {
			t.Errorf("machine mail opened cases: %s", out)
		}
	})
}
