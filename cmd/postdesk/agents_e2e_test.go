package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jhillyerd/enmime/v2"

	"github.com/postdesk/postdesk/internal/smtpsink"
)

// newAgentEnv is a desk with three agents: Lee (named, told of
// everything), Kim (told of everything) and Max (told of nothing).
func newAgentEnv(t *testing.T, deskKeys ...string) *env {
	t.Helper()
	return newEnvConfig(t, `agents = ["lee@example.com", "kim@example.com", "max@example.com"]
`+strings.Join(deskKeys, "\n")+`

[[agent]]
address = "lee@example.com"
name = "Lee Chen"

[[agent]]
address = "max@example.com"
notify = "none"
`, "")
}

// parsed is a received mail read as a mail client would.
type parsed struct {
	smtpsink.Received
	env *enmime.Envelope
}

func parse(t *testing.T, ms []smtpsink.Received) []parsed {
	t.Helper()
	var out []parsed
	for _, m := range ms {
		e, err := enmime.ReadEnvelope(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatalf("read sent mail: %v\n%s", err, m.Data)
		}
		e.Text = strings.ReplaceAll(e.Text, "\r\n", "\n")
		out = append(out, parsed{m, e})
	}
	return out
}

func (p parsed) header(name string) string { return p.env.GetHeader(name) }

// to returns the mails whose envelope includes addr.
func to(ms []parsed, addr string) []parsed {
	var out []parsed
	for _, m := range ms {
		if slices.Contains(m.To, addr) {
			out = append(out, m)
		}
	}
	return out
}

// recipients lists every envelope recipient of ms, sorted.
func recipients(ms []parsed) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.To...)
	}
	slices.Sort(out)
	return out
}

// flushParsed sends the outbox and returns the mails sent, parsed.
func (e *env) flushParsed() []parsed { return parse(e.t, e.flush()) }

// one returns the only mail of ms, failing the test otherwise.
func one(t *testing.T, ms []parsed, what string) parsed {
	t.Helper()
	if len(ms) != 1 {
		t.Fatalf("%s: %d mails, want 1: %v", what, len(ms), recipients(ms))
	}
	return ms[0]
}

// reply builds an agent's reply to notice n in the shape of client c.
func reply(c agentClient, n parsed, from, fromName, answer string, seq int) string {
	replyTo := strings.Trim(n.header("Reply-To"), "<>")
	return c.reply(clientReply{from: from, fromName: fromName, to: replyTo, subject: n.header("Subject"),
		msgID: n.header("Message-ID"), answer: answer, notice: strings.TrimRight(n.env.Text, "\n"), id: replyID(c.name, seq)})
}

// noticeLines are the lines of a notice an answer must never carry to a
// customer: all but blank ones and the customer's own words.
func noticeLines(n parsed, customerText string) []string {
	var out []string
	for _, l := range strings.Split(n.env.Text, "\n") {
		l = strings.TrimSpace(l)
		if len(l) >= 6 && l != "--" && !strings.Contains(customerText, l) {
			out = append(out, l)
		}
	}
	return out
}

const newCaseWithFile = `From: Alice Martin <alice@acme.example>
To: support@example.com
Cc: bob@acme.example
Subject: ELB unreachable %d
Message-ID: <case-%d@acme.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=utf-8

Severity: high

Our load balancer returns 503 since 09:00.
The targets look healthy.
--b
Content-Type: text/plain; name="app.log"
Content-Disposition: attachment; filename="app.log"
Content-Transfer-Encoding: base64

MDk6MDA6MDEgNTAzIFNlcnZpY2UgVW5hdmFpbGFibGUKMDk6MDA6MDIgNTAzIFNlcnZpY2UgVW5hdmFpbGFibGUK
--b--
`

// openCase opens case n with an attachment and returns the mails it caused.
func openCase(t *testing.T, e *env, n int) (caseNo int64, sent []parsed) {
	t.Helper()
	line := e.ingestText(fmt.Sprintf("case%d.eml", n), fmt.Sprintf(newCaseWithFile, n, n))
	if line.Outcome != "new_case" {
		t.Fatalf("new case: %+v", line)
	}
	return line.Case, parse(t, e.flush())
}

func TestAgentsAreToldOfNewCasesWithTheFullMessage(t *testing.T) {
	e := newAgentEnv(t)
	_, sent := openCase(t, e, 1)
	if got, want := recipients(sent), []string{"alice@acme.example", "bob@acme.example", "kim@example.com", "lee@example.com"}; !slices.Equal(got, want) {
		t.Fatalf("recipients %v, want %v (max has notify none)", got, want)
	}
	lee, kim := one(t, to(sent, "lee@example.com"), "notice to Lee"), one(t, to(sent, "kim@example.com"), "notice to Kim")
	for _, n := range []parsed{lee, kim} {
		if !strings.Contains(n.env.Text, "Our load balancer returns 503 since 09:00.\nThe targets look healthy.") {
			t.Errorf("notice lacks the customer's text:\n%s", n.env.Text)
		}
		if len(n.env.Attachments) != 1 || n.env.Attachments[0].FileName != "app.log" ||
			string(n.env.Attachments[0].Content) != "09:00:01 503 Service Unavailable\n09:00:02 503 Service Unavailable\n" {
			t.Errorf("notice attachments %+v", n.env.Attachments)
		}
		if got := n.header("From"); !strings.Contains(got, "Alice Martin via Example Support") || !strings.Contains(got, "<support@example.com>") {
			t.Errorf("From %q", got)
		}
		if n.header("Reply-To") != "<support@example.com>" || n.header("Auto-Submitted") != "auto-generated" {
			t.Errorf("Reply-To %q Auto-Submitted %q", n.header("Reply-To"), n.header("Auto-Submitted"))
		}
		if !strings.HasPrefix(n.header("Subject"), "[Case #1] ELB unreachable 1") {
			t.Errorf("Subject %q", n.header("Subject"))
		}
		for _, want := range []string{"Alice Martin <alice@acme.example>", "bob@acme.example", "high", "#note"} {
			if !strings.Contains(n.env.Text, want) {
				t.Errorf("notice lacks %q:\n%s", want, n.env.Text)
			}
		}
	}
	if lee.header("Message-ID") == kim.header("Message-ID") {
		t.Error("Lee and Kim got the same Message-ID: the token must name its recipient")
	}
}

func TestAgentsAnswerFromTheirMailClients(t *testing.T) {
	e := newAgentEnv(t)
	for i, client := range agentClients {
		t.Run(client.name, func(t *testing.T) {
			n, sent := openCase(t, e, i+1)
			notice := one(t, to(sent, "lee@example.com"), "notice to Lee")
			answer := "Hello Alice,\n\nPlease drain the unhealthy target and retry.\n\nLee"
			line := e.ingestText(fmt.Sprintf("answer%d.eml", i), reply(client, notice, "lee@example.com", "Lee Chen", answer, i))
			if line.Outcome != "reply" || line.Case != n || line.Reason != "agent reply" {
				t.Fatalf("answer: %+v", line)
			}
			out := parse(t, e.flush())
			customer := one(t, out, "the answer")
			if !slices.Equal(customer.To, []string{"alice@acme.example", "bob@acme.example"}) || customer.header("Cc") != "<bob@acme.example>" && !strings.Contains(customer.header("Cc"), "bob@acme.example") {
				t.Errorf("answer to %v, Cc %q", customer.To, customer.header("Cc"))
			}
			if !strings.Contains(customer.env.Text, "Please drain the unhealthy target and retry.") {
				t.Errorf("the answer lost its text:\n%s", customer.env.Text)
			}
			for _, l := range noticeLines(notice, "") {
				if strings.Contains(customer.env.Text, l) {
					t.Errorf("the customer got a line of the notice: %q\n%s", l, customer.env.Text)
				}
			}
			if !strings.Contains(customer.header("From"), "Lee Chen via Example Support") {
				t.Errorf("answer From %q", customer.header("From"))
			}
			if c := e.show(n); c.Status != "pending" {
				t.Errorf("status %s, want pending", c.Status)
			}
		})
	}
}
