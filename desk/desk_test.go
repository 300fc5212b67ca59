package desk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/threading"
)

// fixture is a desk on a fresh database with a clock the test moves.
type fixture struct {
	t    *testing.T
	db   *store.DB
	desk *desk.Desk
	ids  *threading.IDs
	now  time.Time
	seq  int
}

func newFixture(t *testing.T, opts ...func(*desk.Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ids, err := threading.NewIDs(bytes.Repeat([]byte("k"), 32), "example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, ids: ids, now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	o := desk.Options{
		Address: "support@example.com", Agents: []string{"agent@example.com"},
		// These tests count what customers get; the agents' notices are
		// tested in notice_test.go, whose fixtures turn them on.
		AgentSettings: []desk.Agent{{Address: "agent@example.com", Notify: desk.NotifyNone}},
		IDs:           ids, Now: func() time.Time { return f.now },
	}
	for _, fn := range opts {
		fn(&o)
	}
	f.desk, err = desk.New(db, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// mail is an inbound mail with a unique body so each is distinct.
func (f *fixture) mail(from, subject, text string) *desk.Inbound {
	f.seq++
	return &desk.Inbound{
		Raw:       []byte(fmt.Sprintf("mail %d from %s: %s", f.seq, from, text)),
		From:      from,
		To:        []string{"support@example.com"},
		Subject:   subject,
		MessageID: fmt.Sprintf("m%d@client.example", f.seq),
		Text:      text,
	}
}

func (f *fixture) receive(in *desk.Inbound) desk.Result {
	f.t.Helper()
	res, err := f.desk.Receive(context.Background(), in)
	if err != nil {
		f.t.Fatalf("Receive: %v", err)
	}
	return res
}

func (f *fixture) kase(n int64) *store.Case {
	f.t.Helper()
	c, err := f.db.Case(context.Background(), n)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) outbox() []*store.OutboxItem {
	f.t.Helper()
	items, err := f.db.Outbox(context.Background(), 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return items
}

func (f *fixture) participants(n int64) map[string]string {
	f.t.Helper()
	ps, err := f.db.Participants(context.Background(), n)
	if err != nil {
		f.t.Fatal(err)
	}
	m := map[string]string{}
	for _, p := range ps {
		m[p.Address] = p.Role
	}
	return m
}

func (f *fixture) open() int64 {
	f.t.Helper()
	in := f.mail("alice@acme.example", "ELB down", "Severity: high\nService: ELB\n\nIt is down.")
	in.Cc = []string{"bob@acme.example", "support@example.com", "agent@example.com"}
	res := f.receive(in)
	if res.Outcome != desk.NewCase {
		f.t.Fatalf("opening mail: %+v", res)
	}
	return res.Case
}

func TestNewCase(t *testing.T) {
	f := newFixture(t)
	n := f.open()
	c := f.kase(n)
	if c.Subject != "ELB down" || c.Severity != "high" || c.Service != "ELB" || desk.Status(c.Status) != desk.StatusOpen {
		t.Errorf("case = %+v", c)
	}
	if want := f.now.Add(4 * time.Hour); !c.FirstResponseDue.Equal(want) {
		t.Errorf("first response due %v, want %v", c.FirstResponseDue, want)
	}
	want := map[string]string{"alice@acme.example": "requester", "bob@acme.example": "contact"}
	if got := f.participants(n); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("participants = %v, want %v (own address and agents are no contacts)", got, want)
	}
	out := f.outbox()
	if len(out) != 2 {
		t.Fatalf("outbox has %d rows, want the confirmation and the contact's mail", len(out))
	}
	it := out[0]
	if it.Kind != store.MailConfirmation || !slices.Equal(it.To, []string{"alice@acme.example"}) || len(it.Cc) != 0 {
		t.Errorf("confirmation = %+v", it)
	}
	// The contact is told who added them and the case number, nothing of
	// the sender's words (a stranger may have put victims in Cc).
	if ct := out[1]; ct.Kind != store.MailContact || !slices.Equal(ct.To, []string{"bob@acme.example"}) ||
		ct.Notice.Subject != "" || ct.Notice.Body != "" || ct.Notice.Service != "" || ct.Notice.Requester != "alice@acme.example" {
		t.Errorf("contact mail = %+v", ct)
	}
	if got, ok := f.ids.Case(it.MessageID); !ok || got != n {
		t.Errorf("confirmation Message-ID %q does not carry case %d", it.MessageID, n)
	}
	if it.InReplyTo != "m1@client.example" {
		t.Errorf("confirmation In-Reply-To = %q, want the customer's mail", it.InReplyTo)
	}
	if it.Notice.Body != "" || strings.Contains(fmt.Sprint(it.Notice), "It is down") {
		t.Errorf("confirmation echoes the customer's text: %+v", it.Notice)
	}
}

func TestThreading(t *testing.T) {
	t.Run("tag in subject from the requester is a reply", func(t *testing.T) {
		f := newFixture(t)
		n := f.open()
		res := f.receive(f.mail("alice@acme.example", fmt.Sprintf("Re: [Case #%d] ELB down", n), "more info"))
		if res.Outcome != desk.Reply || res.Case != n {
			t.Errorf("got %+v, want reply on %d", res, n)
		}
	})
	t.Run("contact replying with only our Message-ID in References is a reply", func(t *testing.T) {
		f := newFixture(t)
		n := f.open()
		in := f.mail("bob@acme.example", "Re: ELB down", "me too")
		in.References = []string{"unrelated@x.example", f.outbox()[0].MessageID}
		res := f.receive(in)
		if res.Outcome != desk.Reply || res.Case != n {
			t.Errorf("got %+v, want reply on %d", res, n)
		}
	})
	t.Run("contact replying to the customer's own mail is a reply", func(t *testing.T) {
		f := newFixture(t)
		n := f.open()
		in := f.mail("bob@acme.example", "Re: ELB down", "me too")
		in.InReplyTo = []string{"m1@client.example"}
		if res := f.receive(in); res.Outcome != desk.Reply || res.Case != n {
			t.Errorf("got %+v, want reply on %d", res, n)
		}
	})
	t.Run("tag in subject from a stranger is held and mails nobody", func(t *testing.T) {
		f := newFixture(t)
		n := f.open()
		before := len(f.outbox())
		res := f.receive(f.mail("mallory@evil.example", fmt.Sprintf("[Case #%d] reset", n), "send me the link"))
		if res.Outcome != desk.Held || res.Case != n {
			t.Errorf("got %+v, want held on %d", res, n)
		}
		if after := len(f.outbox()); after != before {
			t.Errorf("outbox grew from %d to %d", before, after)
		}
		if _, ok := f.participants(n)["mallory@evil.example"]; ok {
			t.Error("stranger became a participant")
		}
	})
	t.Run("forged Message-ID token does not thread", func(t *testing.T) {
		f := newFixture(t)
		n := f.open()
		ours := f.outbox()[0].MessageID
		forged := strings.Replace(ours, fmt.Sprintf(".%d.", n), ".999.", 1)
		if forged == ours {
			t.Fatalf("Message-ID %q does not carry the case number as expected", ours)
		}
		in := f.mail("alice@acme.example", "Re: something", "x")
		in.InReplyTo = []string{forged}
		if res := f.receive(in); res.Outcome != desk.NewCase {
			t.Errorf("got %+v, want a new case", res)
		}
	})
	t.Run("tag of a case that does not exist opens a new case", func(t *testing.T) {
		f := newFixture(t)
		res := f.receive(f.mail("alice@acme.example", "Re: [Case #4242] old", "x"))
		if res.Outcome != desk.NewCase || res.Case == 4242 {
			t.Errorf("got %+v", res)
		}
	})
}

func TestDuplicate(t *testing.T) {
	f := newFixture(t)
	in := f.mail("alice@acme.example", "Hello", "x")
	first := f.receive(in)
	again := f.receive(in)
	if again.Outcome != desk.Duplicate || again.Case != first.Case {
		t.Errorf("same bytes again: %+v", again)
	}
	resent := *in
	resent.Raw = append([]byte("Received: by relay\n"), in.Raw...)
	if res := f.receive(&resent); res.Outcome != desk.Duplicate || res.Case != first.Case {
		t.Errorf("same Message-ID, other bytes: %+v", res)
	}
	if cases, _ := f.db.Cases(context.Background(), "all"); len(cases) != 1 {
		t.Errorf("%d cases, want 1", len(cases))
	}
	if n := len(f.outbox()); n != 1 {
		t.Errorf("%d mails queued, want 1", n)
	}
}

func TestMachineMail(t *testing.T) {
	for _, m := range []desk.Machine{desk.MachineAutoReply, desk.MachineBulk, desk.MachineSender, desk.MachineNullPath, desk.MachineLoop} {
		t.Run(string(m)+" opens no case and gets no answer", func(t *testing.T) {
			f := newFixture(t)
			in := f.mail("robot@acme.example", "Out of office", "away")
			in.Machine = m
			if res := f.receive(in); res.Outcome != desk.AutoDropped || res.Case != 0 {
				t.Errorf("got %+v", res)
			}
			if n := len(f.outbox()); n != 0 {
				t.Errorf("%d mails queued", n)
			}
		})
	}
	t.Run("auto-reply threading to a case is kept and changes nothing", func(t *testing.T) {
		f := newFixture(t)
		n := f.open()
		in := f.mail("alice@acme.example", fmt.Sprintf("Automatic reply: [Case #%d] ELB down", n), "away")
		in.Machine = desk.MachineAutoReply
		if res := f.receive(in); res.Outcome != desk.AutoDropped || res.Case != n {
			t.Errorf("got %+v", res)
		}
		if c := f.kase(n); desk.Status(c.Status) != desk.StatusOpen {
			t.Errorf("status %s", c.Status)
		}
	})
	t.Run("our own Message-ID coming back is dropped", func(t *testing.T) {
		f := newFixture(t)
		f.open()
		in := f.mail("support@example.com", "x", "x")
		in.MessageID = f.outbox()[0].MessageID
		if res := f.receive(in); res.Outcome != desk.AutoDropped {
			t.Errorf("got %+v", res)
		}
	})
	t.Run("bounce of our mail is recorded on its case", func(t *testing.T) {
		f := newFixture(t)
		n := f.open()
		in := f.mail("mailer-daemon@relay.example", "Undelivered Mail Returned to Sender", "")
		in.Machine = desk.MachineBounce
		in.Bounce = &desk.Bounce{OriginalMessageID: f.outbox()[0].MessageID, Recipients: []string{"bob@acme.example"}, Status: "5.1.1"}
		if res := f.receive(in); res.Outcome != desk.Bounced || res.Case != n {
			t.Errorf("got %+v", res)
		}
		events, _ := f.db.Events(context.Background(), n)
		if !slices.ContainsFunc(events, func(e store.Event) bool {
			return e.Kind == "delivery failed" && strings.Contains(e.Detail, "bob@acme.example")
		}) {
			t.Errorf("no delivery failed event in %v", events)
		}
		if b := f.outbox()[0].Bounce; !strings.Contains(b, "bob@acme.example 5.1.1") {
			t.Errorf("the confirmation's bounce is %q", b)
		}
	})
}

func TestContactsLimit(t *testing.T) {
	f := newFixture(t)
	in := f.mail("alice@acme.example", "Many", "x")
	for i := 1; i <= 7; i++ {
		in.Cc = append(in.Cc, fmt.Sprintf("c%d@acme.example", i))
	}
	in.Cc = append(in.Cc, `"a@x> NOTIFY=NEVER"@y.example`)
	n := f.receive(in).Case
	if got := len(f.participants(n)); got != 6 {
		t.Errorf("%d participants, want requester + 5", got)
	}
	notice := f.outbox()[0].Notice
	// The unmailable entry is counted, its text never copied into a mail.
	if len(notice.ContactsAdded) != 5 || len(notice.ContactsRefused) != 2 || notice.InvalidAddresses != 1 ||
		strings.Contains(fmt.Sprint(notice), "NOTIFY") {
		t.Fatalf("added %v refused %v invalid %d", notice.ContactsAdded, notice.ContactsRefused, notice.InvalidAddresses)
	}
	if r := notice.ContactsRefused[0]; r.Address != "c6@acme.example" || !strings.Contains(r.Reason, "at most 5") {
		t.Errorf("refusal %+v", r)
	}
}

func TestAttachmentLimits(t *testing.T) {
	f := newFixture(t)
	in := f.mail("alice@acme.example", "Files", "x")
	small := []byte("log line\n")
	big := bytes.Repeat([]byte("x"), 5<<20+1)
	in.Attachments = []desk.Attachment{
		{Filename: "a.log", ContentType: "text/plain", Data: small},
		{Filename: "core.dump", ContentType: "application/octet-stream", Data: big},
		{Filename: "logo.png", ContentType: "image/png", Data: small, Inline: true, ContentID: "logo"},
		{Filename: "b.log", ContentType: "text/plain", Data: small},
		{Filename: "c.log", ContentType: "text/plain", Data: small},
		{Filename: "d.log", ContentType: "text/plain", Data: small},
	}
	n := f.receive(in).Case
	msgs, err := f.db.Messages(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, a := range msgs[0].Attachments {
		kept = append(kept, a.Filename)
	}
	if want := []string{"a.log", "logo.png", "b.log", "c.log"}; !slices.Equal(kept, want) {
		t.Errorf("kept %v, want %v", kept, want)
	}
	rej := msgs[0].Rejected
	if len(rej) != 2 || rej[0].Filename != "core.dump" || rej[0].Reason != "larger than 5 MiB" ||
		rej[1].Filename != "d.log" || !strings.Contains(rej[1].Reason, "more than 3 files") {
		t.Errorf("rejected %+v", rej)
	}
	if got := f.outbox()[0].Notice.Rejected; len(got) != 2 {
		t.Errorf("confirmation lists %d rejected files, want 2", len(got))
	}
}

func TestAgentWork(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	n := f.open()
	if err := f.desk.AgentReply(ctx, n, "mallory@evil.example", "hi", nil); !errors.Is(err, desk.ErrNotAgent) {
		t.Errorf("reply from a non-agent: %v", err)
	}
	f.now = f.now.Add(time.Hour)
	if err := f.desk.AgentReply(ctx, n, "agent@example.com", "Open port 443.", nil); err != nil {
		t.Fatal(err)
	}
	c := f.kase(n)
	if desk.Status(c.Status) != desk.StatusPending || !c.FirstResponseAt.Equal(f.now) {
		t.Errorf("after the answer: status %s, first response %v", c.Status, c.FirstResponseAt)
	}
	out := f.outbox()
	reply := out[len(out)-1]
	if reply.Kind != store.MailReply || !slices.Equal(reply.To, []string{"alice@acme.example"}) ||
		!slices.Equal(reply.Cc, []string{"bob@acme.example"}) || reply.Notice.Body != "Open port 443." {
		t.Errorf("reply = %+v", reply)
	}
	if reply.InReplyTo != "m1@client.example" {
		t.Errorf("reply In-Reply-To %q, want the customer's mail", reply.InReplyTo)
	}
	in := f.mail("alice@acme.example", "Re: ELB down", "Done, thanks")
	in.InReplyTo = []string{reply.MessageID}
	if res := f.receive(in); res.Outcome != desk.Reply {
		t.Fatalf("customer reply: %+v", res)
	}
	if c := f.kase(n); desk.Status(c.Status) != desk.StatusOpen {
		t.Errorf("after the customer's reply: %s, want open", c.Status)
	}
	if err := f.desk.Note(ctx, n, "agent@example.com", "internal"); err != nil {
		t.Fatal(err)
	}
	if got := len(f.outbox()); got != len(out) {
		t.Errorf("a note queued mail: %d rows, want %d", got, len(out))
	}
	if err := f.desk.Set(ctx, n, "severity", "urgent", "agent@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.Set(ctx, n, "severity", "extreme", ""); !errors.Is(err, desk.ErrBadValue) {
		t.Errorf("bad severity: %v", err)
	}
	if err := f.desk.Set(ctx, n, "colour", "red", ""); !errors.Is(err, desk.ErrNoSuchKey) {
		t.Errorf("bad key: %v", err)
	}
	if err := f.desk.Set(ctx, 999, "severity", "low", ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("no such case: %v", err)
	}
}

func TestCloseAndReopen(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	n := f.open()
	if err := f.desk.Close(ctx, n, "agent@example.com", "Fixed."); err != nil {
		t.Fatal(err)
	}
	out := f.outbox()
	closed, status := out[len(out)-2], out[len(out)-1]
	if closed.Kind != store.MailClosed || !slices.Equal(closed.To, []string{"alice@acme.example"}) || closed.Notice.Resolution != "Fixed." {
		t.Errorf("closing mail = %+v", closed)
	}
	if status.Kind != store.MailStatus || !slices.Equal(status.To, []string{"bob@acme.example"}) {
		t.Errorf("contacts' notice = %+v", status)
	}
	if err := f.desk.Close(ctx, n, "", ""); !errors.Is(err, desk.ErrBadValue) {
		t.Errorf("closing twice: %v", err)
	}
	f.now = f.now.Add(24 * time.Hour)
	tag := fmt.Sprintf("Re: [Case #%d] ELB down", n)
	if res := f.receive(f.mail("bob@acme.example", tag, "it broke again")); res.Outcome != desk.Reply || res.Case != n {
		t.Errorf("reply within reopen_days: %+v", res)
	}
	if c := f.kase(n); desk.Status(c.Status) != desk.StatusOpen || !c.ClosedAt.IsZero() {
		t.Errorf("not reopened: %+v", c)
	}
	if err := f.desk.Close(ctx, n, "", ""); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(8 * 24 * time.Hour)
	res := f.receive(f.mail("alice@acme.example", tag, "again, weeks later"))
	if res.Outcome != desk.NewCase || res.Case == n {
		t.Fatalf("reply after reopen_days: %+v", res)
	}
	if c := f.kase(res.Case); c.RelatedCase != n || c.Subject != "ELB down" {
		t.Errorf("follow-up case %+v, want related to %d", c, n)
	}
}

func TestRehearseRecordsNothing(t *testing.T) {
	f := newFixture(t)
	res, err := f.desk.Rehearse(context.Background(), f.mail("alice@acme.example", "Hello", "x"))
	if err != nil || res.Outcome != desk.NewCase {
		t.Fatalf("Rehearse = %+v, %v", res, err)
	}
	if cases, _ := f.db.Cases(context.Background(), "all"); len(cases) != 0 || len(f.outbox()) != 0 {
		t.Errorf("a rehearsal left %d cases, %d mails", len(cases), len(f.outbox()))
	}
}

func TestQuarantineKeepsRaw(t *testing.T) {
	f := newFixture(t)
	raw := []byte("\x00\x01 not a mail")
	res, err := f.desk.Quarantine(context.Background(), raw, "support", 7, "unreadable")
	if err != nil || res.Outcome != desk.Quarantined {
		t.Fatalf("Quarantine = %+v, %v", res, err)
	}
	res, err = f.desk.Quarantine(context.Background(), raw, "support", 7, "unreadable")
	if err != nil || res.Outcome != desk.Duplicate {
		t.Errorf("second time: %+v, %v", res, err)
	}
}

func TestFailureAlert(t *testing.T) {
	f := newFixture(t)
	n := f.open()
	failed := f.outbox()[0]
	if a := f.desk.FailureAlert(failed, "550 no such user"); a != nil {
		t.Errorf("alert with no notify list: %+v", a)
	}
	d, err := desk.New(f.db, desk.Options{Address: "support@example.com", Notify: []string{"oncall@example.com"},
		IDs: f.ids, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	a := d.FailureAlert(failed, "550 no such user")
	if a == nil || a.Kind != store.MailAlert || !slices.Equal(a.To, []string{"oncall@example.com"}) || a.CaseID != n {
		t.Fatalf("alert = %+v", a)
	}
	if !strings.Contains(a.Notice.Reason, "550 no such user") || !strings.Contains(a.Notice.Reason, "alice@acme.example") {
		t.Errorf("reason %q", a.Notice.Reason)
	}
	if _, ok := f.ids.Case(a.MessageID); ok {
		t.Errorf("alert Message-ID %q threads into a case", a.MessageID)
	}
	if again := d.FailureAlert(a, "550"); again != nil {
		t.Errorf("an alert about a failed alert: %+v", again)
	}
}

func TestMailboxProgress(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, src := range []struct{ validity, uid uint32 }{{7, 3}, {7, 2}, {7, 9}} {
		in := f.mail("alice@acme.example", "Hi", "x")
		in.Mailbox, in.UIDValidity, in.UID = "support", src.validity, src.uid
		f.receive(in)
	}
	if st, _ := f.db.MailboxState(ctx, "support"); st.UIDValidity != 7 || st.LastUID != 9 {
		t.Errorf("state %+v, want validity 7, last uid 9", st)
	}
	in := f.mail("alice@acme.example", "Hi", "x")
	in.Mailbox, in.UIDValidity, in.UID = "support", 8, 1
	f.receive(in)
	if st, _ := f.db.MailboxState(ctx, "support"); st.UIDValidity != 8 || st.LastUID != 1 {
		t.Errorf("after a UIDVALIDITY change: %+v", st)
	}
}

func TestUnmailableAddresses(t *testing.T) {
	t.Run("a contact that cannot be mailed is refused, the others still get mail", func(t *testing.T) {
		f := newFixture(t)
		in := f.mail("alice@acme.example", "Hi", "x")
		in.Cc = []string{"bob@acme.example", "root@localhost", "ops@[192.0.2.1]"}
		n := f.receive(in).Case
		if got := len(f.participants(n)); got != 2 {
			t.Errorf("%d participants, want alice and bob", got)
		}
		out := f.outbox()
		if len(out) != 2 || !slices.Equal(out[0].To, []string{"alice@acme.example"}) || !slices.Equal(out[1].To, []string{"bob@acme.example"}) ||
			out[0].Notice.InvalidAddresses != 2 {
			t.Errorf("confirmation and contact mail: %+v", out)
		}
	})
	t.Run("a requester that cannot be mailed gets a case but no mail", func(t *testing.T) {
		f := newFixture(t)
		res := f.receive(f.mail("root@localhost", "cron output", "x"))
		if res.Outcome != desk.NewCase || len(f.outbox()) != 0 {
			t.Errorf("got %+v and %d mails", res, len(f.outbox()))
		}
		events, _ := f.db.Events(context.Background(), res.Case)
		if !slices.ContainsFunc(events, func(e store.Event) bool { return e.Kind == "mail suppressed" }) {
			t.Errorf("no event says why: %+v", events)
		}
	})
	t.Run("a From without an address is quarantined", func(t *testing.T) {
		f := newFixture(t)
		if res := f.receive(f.mail("Whomever", "x", "x")); res.Outcome != desk.Quarantined {
			t.Errorf("got %+v", res)
		}
	})
	t.Run("mail forged from our own address is dropped", func(t *testing.T) {
		f := newFixture(t)
		if res := f.receive(f.mail("support@example.com", "hello", "x")); res.Outcome != desk.AutoDropped {
			t.Errorf("got %+v", res)
		}
	})
}

func TestAgentAnswerOnAClosedCase(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	n := f.open()
	if err := f.desk.Close(ctx, n, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.AgentReply(ctx, n, "agent@example.com", "One more thing.", nil); err != nil {
		t.Fatal(err)
	}
	if c := f.kase(n); desk.Status(c.Status) != desk.StatusPending || !c.ClosedAt.IsZero() {
		t.Errorf("status %s, closed at %v", c.Status, c.ClosedAt)
	}
}
