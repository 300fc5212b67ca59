package desk_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/desk/calendar"
	"github.com/postdesk/postdesk/store"
)

// withCustomers maps acme to enterprise, devco to developer, cheap to basic
// and notifies oncall; survey links are on.
func withCustomers(o *desk.Options) {
	o.Customers = []desk.Customer{
		{Match: "@ent.example", Plan: "enterprise"},
		{Match: "@ramp.example", Plan: "enterprise-on-ramp"},
		{Match: "@devco.example", Plan: "developer"},
		{Match: "@cheap.example", Plan: "basic"},
		{Match: "boss@cheap.example", Plan: "business", Language: "fr"},
	}
	o.Notify = []string{"oncall@example.com"}
	o.SurveyURL, o.SurveyKey = "https://help.example.com/survey/", []byte("0123456789abcdef0123")
}

func (f *fixture) last() *store.OutboxItem {
	f.t.Helper()
	out := f.outbox()
	if len(out) == 0 {
		f.t.Fatal("outbox is empty")
	}
	return out[len(out)-1]
}

func TestPlansCapSeverity(t *testing.T) {
	t.Run("developer asking urgent gets normal and is told why", func(t *testing.T) {
		f := newFixture(t, withCustomers)
		res := f.receive(f.mail("dev@devco.example", "Down", "Severity: urgent\n\nIt is down."))
		c := f.kase(res.Case)
		if c.Severity != "normal" || c.Plan != "developer" {
			t.Errorf("severity %s plan %s", c.Severity, c.Plan)
		}
		n := f.last().Notice
		if n.Code != store.CodeSeverityCapped || n.SeverityAsked != "urgent" || n.Plan != "developer" {
			t.Errorf("confirmation notice %+v", n)
		}
	})
	t.Run("enterprise gets critical with a 15-minute target", func(t *testing.T) {
		f := newFixture(t, withCustomers)
		c := f.kase(f.receive(f.mail("cto@ent.example", "Down", "Severity: critical\n")).Case)
		if c.Severity != "critical" || !c.FirstResponseDue.Equal(f.now.Add(15*time.Minute)) {
			t.Errorf("severity %s due %v", c.Severity, c.FirstResponseDue)
		}
		if n := f.last().Notice; n.Code != "" {
			t.Errorf("nothing was capped, yet code %q", n.Code)
		}
	})
	t.Run("enterprise-on-ramp critical has a 30-minute target", func(t *testing.T) {
		f := newFixture(t, withCustomers)
		c := f.kase(f.receive(f.mail("ops@ramp.example", "Down", "Severity: Business-critical system down\n")).Case)
		if c.Severity != "critical" || !c.FirstResponseDue.Equal(f.now.Add(30*time.Minute)) {
			t.Errorf("severity %s due %v", c.Severity, c.FirstResponseDue)
		}
	})
	t.Run("urgent words in the subject leave the default severity", func(t *testing.T) {
		f := newFixture(t, withCustomers)
		for _, subject := range []string{"【緊急】本番が停止", "URGENT!!! site down"} {
			c := f.kase(f.receive(f.mail("cto@ent.example", subject, "緊急です。URGENT.")).Case)
			if c.Severity != "normal" {
				t.Errorf("%q: severity %s", subject, c.Severity)
			}
		}
	})
	t.Run("developer plan counts business hours", func(t *testing.T) {
		f := newFixture(t, withCustomers, func(o *desk.Options) {
			o.Hours = calendar.Hours{Start: 8 * time.Hour, End: 18 * time.Hour, Location: time.UTC,
				Days: [7]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true}}
		})
		// Saturday 09:00: the 12 h normal target runs Monday 08:00–18:00
		// and Tuesday 08:00–10:00.
		c := f.kase(f.receive(f.mail("dev@devco.example", "Question", "How do I?")).Case)
		if want := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC); !c.FirstResponseDue.Equal(want) {
			t.Errorf("due %v, want %v", c.FirstResponseDue, want)
		}
	})
}

func TestBasicPlanTechnicalIsRefused(t *testing.T) {
	f := newFixture(t, withCustomers)
	res := f.receive(f.mail("joe@cheap.example", "EC2 question", "How do I resize?"))
	if res.Outcome != desk.Refused || res.Case != 0 {
		t.Fatalf("got %+v", res)
	}
	if cases, _ := f.db.Cases(context.Background(), "all"); len(cases) != 0 {
		t.Errorf("%d cases opened", len(cases))
	}
	it := f.last()
	if it.Kind != store.MailRefusal || !slices.Equal(it.To, []string{"joe@cheap.example"}) || it.Notice.Code != store.CodeNoTechnical {
		t.Errorf("refusal %+v", it)
	}
	if res := f.receive(f.mail("joe@cheap.example", "Billing", "x")); res.Outcome != desk.Refused {
		t.Errorf("second technical mail: %+v", res)
	}
	billing := f.mail("joe@cheap.example", "Invoice", "x")
	billing.Route = desk.TypeAccountBilling
	if res := f.receive(billing); res.Outcome != desk.NewCase {
		t.Errorf("billing case on basic: %+v", res)
	}
	boss := f.kase(f.receive(f.mail("boss@cheap.example", "EC2", "x")).Case)
	if boss.Plan != "business" || boss.Language != "fr" {
		t.Errorf("address match should win over the domain: %+v", boss)
	}
}

func TestDeveloperPlanHasNoContacts(t *testing.T) {
	f := newFixture(t, withCustomers)
	in := f.mail("dev@devco.example", "Q", "x")
	in.Cc = []string{"colleague@devco.example"}
	n := f.receive(in).Case
	if len(f.participants(n)) != 1 {
		t.Errorf("participants %v", f.participants(n))
	}
	if r := f.last().Notice.ContactsRefused; len(r) != 1 || !strings.Contains(r[0].Reason, "developer plan") {
		t.Errorf("refused %+v", r)
	}
}

func TestLanguage(t *testing.T) {
	tests := []struct {
		name string
		edit func(*desk.Inbound)
		want string
	}{
		{"Japanese script", func(in *desk.Inbound) { in.Text = "サーバーが応答しません。" }, "ja"},
		{"Language field", func(in *desk.Inbound) { in.Text = "Language: fr\n\nHello" }, "fr"},
		{"Content-Language header", func(in *desk.Inbound) { in.ContentLanguage = "fr-FR" }, "fr"},
		{"nothing says", func(in *desk.Inbound) {}, "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			in := f.mail("alice@acme.example", "Help", "Hello")
			tt.edit(in)
			n := f.receive(in).Case
			if got := f.kase(n).Language; got != tt.want {
				t.Errorf("language %s, want %s", got, tt.want)
			}
			if got := f.last().Lang; got != tt.want {
				t.Errorf("confirmation language %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSeverityIsFixedForCustomers(t *testing.T) {
	f := newFixture(t)
	n := f.open()
	res := f.receive(f.mail("alice@acme.example", fmt.Sprintf("Re: [Case #%d] ELB down", n), "Severity: critical\n\nPlease hurry."))
	if res.Outcome != desk.Reply {
		t.Fatalf("got %+v", res)
	}
	if c := f.kase(n); c.Severity != "high" {
		t.Errorf("severity changed to %s", c.Severity)
	}
	it := f.last()
	if it.Kind != store.MailStatus || it.Notice.Code != store.CodeSeverityFixed || !slices.Equal(it.To, []string{"alice@acme.example"}) {
		t.Errorf("notice %+v", it)
	}
	if !strings.Contains(it.Notice.Reason, fmt.Sprintf("[Case #%d]", n)) {
		t.Errorf("reason %q does not cite the case", it.Notice.Reason)
	}
	follow := f.receive(f.mail("alice@acme.example", "ELB down, critical now", fmt.Sprintf("Severity: critical\n\nFollows case #%d.", n)))
	if c := f.kase(follow.Case); c.RelatedCase != n {
		t.Errorf("new case citing #%d: related %d", n, c.RelatedCase)
	}
	stranger := f.receive(f.mail("eve@other.example", "About #1", fmt.Sprintf("See case #%d", n)))
	if c := f.kase(stranger.Case); c.RelatedCase != 0 {
		t.Errorf("a stranger's case links to %d", c.RelatedCase)
	}
}

func TestCustomerCloseAndSurvey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, withCustomers)
	n := f.open()
	tag := fmt.Sprintf("Re: [Case #%d] ELB down", n)
	// The tag alone is no proof of receipt: the text joins, #close does not run.
	f.receive(f.mail("alice@acme.example", tag, "#close\nForged by someone who knows the number."))
	if c := f.kase(n); desk.Status(c.Status) == desk.StatusClosed {
		t.Fatal("a #close with the subject tag alone closed the case")
	}
	f.receive(f.reply("alice@acme.example", n, "#close\nThe restart fixed it.\n\n> old quote"))
	c := f.kase(n)
	if desk.Status(c.Status) != desk.StatusClosed {
		t.Fatalf("status %s", c.Status)
	}
	out := f.outbox()
	closed := out[len(out)-2]
	// The customer's resolution is theirs; it is not relayed to anyone.
	if closed.Kind != store.MailClosed || closed.Notice.Resolution != "" || len(closed.Notice.SurveyLinks) != 5 {
		t.Errorf("closing mail %+v", closed.Notice)
	}
	if st := out[len(out)-1]; strings.Contains(fmt.Sprint(st.Notice), "restart fixed") {
		t.Errorf("the contacts got the customer's resolution: %+v", st.Notice)
	}
	if !strings.HasPrefix(closed.Notice.SurveyLinks[3], "https://help.example.com/survey/") {
		t.Errorf("link %q", closed.Notice.SurveyLinks[3])
	}
	if f.receive(f.mail("alice@acme.example", tag, "1")); desk.Status(f.kase(n).Status) != desk.StatusOpen {
		t.Errorf("a rating with the tag alone: status %s, want reopened as a plain reply", f.kase(n).Status)
	}
	if _, ok, _ := f.db.CaseRating(ctx, n); ok {
		t.Error("a rating with the subject tag alone counted")
	}
	f.receive(f.reply("alice@acme.example", n, "#close"))
	before := len(f.outbox())
	res := f.receive(f.reply("alice@acme.example", n, "4 thanks, quick help"))
	if res.Outcome != desk.Reply || desk.Status(f.kase(n).Status) != desk.StatusClosed {
		t.Errorf("survey answer: %+v, status %s", res, f.kase(n).Status)
	}
	if r, ok, _ := f.db.CaseRating(ctx, n); !ok || r != 4 {
		t.Errorf("rating %d %v, want 4", r, ok)
	}
	f.now = f.now.Add(time.Minute)
	f.receive(f.reply("alice@acme.example", n, "5"))
	if r, _, _ := f.db.CaseRating(ctx, n); r != 5 {
		t.Errorf("a later answer should replace: rating %d", r)
	}
	if got := len(f.outbox()); got != before {
		t.Errorf("survey answers caused %d mails", got-before)
	}
	// The signed link, as the web page uses it.
	token := strings.TrimPrefix(closed.Notice.SurveyLinks[1], "https://help.example.com/survey/")
	f.now = f.now.Add(time.Minute)
	if err := f.desk.AnswerSurvey(ctx, token, "on second thought"); err != nil {
		t.Fatal(err)
	}
	if r, _, _ := f.db.CaseRating(ctx, n); r != 2 {
		t.Errorf("rating after the link %d, want 2", r)
	}
	if err := f.desk.AnswerSurvey(ctx, strings.Replace(token, ".2.", ".5.", 1), ""); err == nil {
		t.Error("a changed rating in the token was accepted")
	}
	if surveys, _ := f.db.Surveys(ctx, n); len(surveys) != 3 || surveys[2].Comment != "on second thought" {
		t.Errorf("history %+v", surveys)
	}
	if c := f.kase(n); desk.Status(c.Status) != desk.StatusClosed {
		t.Errorf("an answer reopened the case")
	}
}

func TestAgentReplyCarriesRatingLinks(t *testing.T) {
	f := newFixture(t, withCustomers)
	n := f.open()
	if err := f.desk.AgentReply(context.Background(), n, "agent@example.com", "Try this.", nil); err != nil {
		t.Fatal(err)
	}
	links := f.last().Notice.SurveyLinks
	if len(links) != 5 {
		t.Fatalf("links %v", links)
	}
	tok, err := f.desk.ParseSurveyToken(strings.TrimPrefix(links[4], "https://help.example.com/survey/"))
	if err != nil || tok.Case != n || tok.Message == 0 || tok.Rating != 5 {
		t.Errorf("token %+v, %v", tok, err)
	}
}

// reply is mail from a participant of case n that answers a mail we sent
// on it (proof of receipt: one of our Message-IDs in In-Reply-To).
func (f *fixture) reply(from string, n int64, text string) *desk.Inbound {
	in := f.mail(from, fmt.Sprintf("Re: [Case #%d] ELB down", n), text)
	in.InReplyTo = []string{f.ids.New(n)}
	return in
}

// agentMail is mail from agent on case n that answers a notice we sent
// that agent: it carries the notice's signed Message-ID.
func (f *fixture) agentMail(agent string, n int64, text string) *desk.Inbound {
	in := f.mail(agent, fmt.Sprintf("Re: [Case #%d] ELB down", n), text)
	in.InReplyTo = []string{f.ids.NewFor(n, 0, agent)}
	return in
}

func TestAgentCommandsByMail(t *testing.T) {
	f := newFixture(t, withCustomers)
	n := f.open()
	before := len(f.outbox())
	f.receive(f.agentMail("agent@example.com", n, "#note\nCustomer is on the old AMI."))
	if got := len(f.outbox()); got != before {
		t.Errorf("a #note mailed someone")
	}
	f.receive(f.agentMail("agent@example.com", n, "#severity urgent\n#take\nWe are on it."))
	c := f.kase(n)
	if c.Severity != "urgent" || c.Assignee != "agent@example.com" || desk.Status(c.Status) != desk.StatusPending || c.FirstResponseAt.IsZero() {
		t.Errorf("case %+v", c)
	}
	out := f.outbox()
	reply, transcript := out[len(out)-2], out[len(out)-1]
	if reply.Kind != store.MailReply || reply.Notice.Body != "We are on it." {
		t.Errorf("reply %+v", reply.Notice)
	}
	if transcript.Kind != store.MailTranscript || transcript.Notice.Code != store.CodeAnswered || len(transcript.Notice.Commands) != 2 {
		t.Errorf("transcript %+v", transcript)
	}
	f.receive(f.agentMail("agent@example.com", n, "#open"))
	if c := f.kase(n); desk.Status(c.Status) != desk.StatusOpen {
		t.Errorf("after #open: %s", c.Status)
	}
	out = f.outbox()
	if st := out[len(out)-2]; st.Kind != store.MailStatus || st.Notice.Code != store.CodeStatus {
		t.Errorf("status notice %+v", st)
	}
	f.receive(f.agentMail("agent@example.com", n, "#close\nReplaced the listener."))
	if c := f.kase(n); desk.Status(c.Status) != desk.StatusClosed {
		t.Errorf("after #close: %s", c.Status)
	}
	msgs, _ := f.db.Messages(context.Background(), n)
	if msgs[1].Kind != "note" {
		t.Errorf("the #note is stored as %s", msgs[1].Kind)
	}
}

func TestAgentCommandsAreCheckedBeforeAnyRuns(t *testing.T) {
	f := newFixture(t, withCustomers)
	n := f.open()
	before := len(f.outbox())
	// #assign names no agent: nothing runs, the text is not sent.
	f.receive(f.agentMail("agent@example.com", n, "#severity low\n#assign eve@evil.example\nHello."))
	c := f.kase(n)
	if c.Severity != "high" || c.Assignee != "" || desk.Status(c.Status) != desk.StatusOpen {
		t.Errorf("a refused mail changed the case: %+v", c)
	}
	out := f.outbox()[before:]
	if len(out) != 1 || out[0].Kind != store.MailTranscript || out[0].Notice.Code != store.CodeRefusedText {
		t.Fatalf("want only a transcript, got %+v", out)
	}
	got := out[0].Notice.Commands
	if len(got) != 2 || got[0].Code != store.ResultNotRun || got[1].Code != store.ResultBadValue {
		t.Errorf("command results %+v", got)
	}
}

func TestTick(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, withCustomers)
	n := f.open() // high: 4 h target
	before := len(f.outbox())
	f.now = f.now.Add(3 * time.Hour)
	if st, err := f.desk.Tick(ctx); err != nil || st.Escalated != 0 {
		t.Fatalf("before the target: %+v, %v", st, err)
	}
	f.now = f.now.Add(2 * time.Hour)
	if st, _ := f.desk.Tick(ctx); st.Escalated != 1 {
		t.Errorf("past the target: %+v", st)
	}
	if st, _ := f.desk.Tick(ctx); st.Escalated != 0 {
		t.Errorf("escalated twice: %+v", st)
	}
	out := f.outbox()
	if len(out) != before+1 {
		t.Fatalf("%d mails, want one alert", len(out)-before)
	}
	alert := out[len(out)-1]
	if alert.Kind != store.MailAlert || !slices.Equal(alert.To, []string{"oncall@example.com"}) || alert.Notice.Code != store.CodeOverdue {
		t.Errorf("alert %+v", alert)
	}
	// Autoclose: pending for 10 days.
	if err := f.desk.AgentReply(ctx, n, "agent@example.com", "Try this.", nil); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(9 * 24 * time.Hour)
	if st, _ := f.desk.Tick(ctx); st.Closed != 0 {
		t.Errorf("closed early: %+v", st)
	}
	f.now = f.now.Add(25 * time.Hour)
	if st, _ := f.desk.Tick(ctx); st.Closed != 1 {
		t.Errorf("not autoclosed: %+v", st)
	}
	if c := f.kase(n); desk.Status(c.Status) != desk.StatusClosed {
		t.Errorf("status %s", c.Status)
	}
	if n := f.outbox()[len(f.outbox())-2].Notice; n.Code != store.CodeAutoclosed {
		t.Errorf("closing code %q", n.Code)
	}
}

func TestCustomerEscalate(t *testing.T) {
	f := newFixture(t, withCustomers)
	n := f.open()
	f.receive(f.reply("bob@acme.example", n, "#escalate\nWe are losing money."))
	if c := f.kase(n); c.EscalatedAt.IsZero() {
		t.Error("not marked escalated")
	}
	if a := f.last(); a.Kind != store.MailAlert || a.Notice.Code != store.CodeEscalated {
		t.Errorf("alert %+v", a)
	}
}

func TestTooLargeTellsTheSenderOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	in := f.mail("alice@acme.example", "core dump", "")
	res, err := f.desk.TooLarge(ctx, in, 30<<20, 25<<20)
	if err != nil || res.Outcome != desk.Quarantined {
		t.Fatalf("TooLarge = %+v, %v", res, err)
	}
	it := f.last()
	if it.Kind != store.MailRefusal || it.Notice.Code != store.CodeTooLarge || !slices.Equal(it.To, []string{"alice@acme.example"}) {
		t.Errorf("refusal %+v", it)
	}
	if res, _ := f.desk.TooLarge(ctx, in, 30<<20, 25<<20); res.Outcome != desk.Duplicate || len(f.outbox()) != 1 {
		t.Errorf("the same mail again: %+v, %d mails", res, len(f.outbox()))
	}
	robot := f.mail("mailer-daemon@relay.example", "Undelivered", "")
	robot.Machine = desk.MachineBounce
	if _, err := f.desk.TooLarge(ctx, robot, 30<<20, 25<<20); err != nil || len(f.outbox()) != 1 {
		t.Errorf("machine mail was answered: %v, %d mails", err, len(f.outbox()))
	}
}

func TestUnavailableDatabase(t *testing.T) {
	f := newFixture(t)
	f.db.Close()
	_, err := f.desk.Receive(context.Background(), f.mail("alice@acme.example", "Hi", "x"))
	if !errors.Is(err, desk.ErrUnavailable) {
		t.Errorf("Receive on a closed database: %v, want ErrUnavailable", err)
	}
}

func TestRateLimits(t *testing.T) {
	t.Run("automatic mail to one recipient stops after the hourly limit", func(t *testing.T) {
		f := newFixture(t, func(o *desk.Options) { o.AutorepliesPerHour, o.NewCasesPerHour = 3, -1 })
		for i := 0; i < 5; i++ {
			f.receive(f.mail("alice@acme.example", fmt.Sprintf("Problem %d", i), "x"))
		}
		if n := len(f.outbox()); n != 3 {
			t.Errorf("%d confirmations, want 3", n)
		}
		f.now = f.now.Add(time.Hour)
		f.receive(f.mail("alice@acme.example", "Next hour", "x"))
		if n := len(f.outbox()); n != 4 {
			t.Errorf("%d confirmations after an hour, want 4", n)
		}
	})
	t.Run("a sender opening too many cases is held, and the team told once", func(t *testing.T) {
		f := newFixture(t, withCustomers, func(o *desk.Options) { o.NewCasesPerHour, o.AutorepliesPerHour = 2, -1 })
		var outcomes []desk.Outcome
		for i := 0; i < 5; i++ {
			outcomes = append(outcomes, f.receive(f.mail("flood@acme.example", fmt.Sprintf("Spam %d", i), "x")).Outcome)
		}
		want := []desk.Outcome{desk.NewCase, desk.NewCase, desk.Held, desk.Held, desk.Held}
		if !slices.Equal(outcomes, want) {
			t.Errorf("outcomes %v, want %v", outcomes, want)
		}
		alerts := 0
		for _, it := range f.outbox() {
			if it.Kind == store.MailAlert {
				alerts++
			}
		}
		if alerts != 1 {
			t.Errorf("%d alerts, want 1", alerts)
		}
	})
}

func TestDMARCFailureIsHeld(t *testing.T) {
	f := newFixture(t, func(o *desk.Options) { o.AuthservID = "mx.example.com" })
	n := f.open()
	tag := fmt.Sprintf("Re: [Case #%d] ELB down", n)
	tests := []struct {
		name    string
		from    string
		results []string
		want    desk.Outcome
	}{
		{"our MTA says dmarc=fail", "alice@acme.example", []string{"mx.example.com; spf=pass smtp.mailfrom=x; dmarc=fail header.from=acme.example"}, desk.Held},
		{"a forged agent mail is held too", "agent@example.com", []string{"mx.example.com; dmarc=fail (p=reject) header.from=example.com"}, desk.Held},
		{"the sender's own header is not trusted", "alice@acme.example", []string{"evil.example; dmarc=pass", "mx.example.com; dmarc=pass"}, desk.Reply},
		{"only the topmost trusted header counts", "alice@acme.example", []string{"mx.example.com; dmarc=pass", "mx.example.com; dmarc=fail"}, desk.Reply},
		{"no header: nothing to go on", "alice@acme.example", nil, desk.Reply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := f.mail(tt.from, tag, "more")
			in.AuthResults = tt.results
			if got := f.receive(in).Outcome; got != tt.want {
				t.Errorf("outcome %s, want %s", got, tt.want)
			}
		})
	}
}

// An agent's answer is checked for lines of our notice after lower-casing
// it, which can make a line shorter (the Kelvin sign K is 3 bytes, k one;
// ẞ is 3, ß 2): the colon is found in the lowered line, so such a line
// neither breaks the mail nor hides the requester's address.
func TestAgentAnswerLeakCheckAfterLowerCasing(t *testing.T) {
	f := newFixture(t, withCustomers)
	n := f.open()
	mailedCustomer := func(before int) bool {
		for _, it := range f.outbox()[before:] {
			if slices.Contains(it.To, "alice@acme.example") {
				return true
			}
		}
		return false
	}
	before := len(f.outbox())
	if res := f.receive(f.agentMail("agent@example.com", n, "\u212a\u212a\u212a\u212a\u212a\u212a： fine\nPort 443 is open again.")); res.Outcome != desk.Reply {
		t.Fatalf("answer with Kelvin signs: %+v", res)
	}
	if !mailedCustomer(before) {
		t.Error("a plain answer with Kelvin signs did not reach the customer")
	}
	before = len(f.outbox())
	f.receive(f.agentMail("agent@example.com", n, "Port 443 is open again.\n\u1e9e\u1e9e\u1e9e\u1e9e Requester: alice@acme.example"))
	if mailedCustomer(before) {
		t.Error("an answer holding the notice's requester line was mailed to the customer")
	}
}
