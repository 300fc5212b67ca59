package desk_test

import (
	"context"
	"slices"
	"testing"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/store"
)

// withAgents configures lee (all), kim (assigned) and max (none), and a
// billing mailbox whose cases are lee's alone.
func withAgents(o *desk.Options) {
	o.Agents = []string{"lee@example.com", "kim@example.com", "max@example.com"}
	o.AgentSettings = []desk.Agent{
		{Address: "lee@example.com", Name: "Lee Chen"},
		{Address: "kim@example.com", Notify: desk.NotifyAssigned},
		{Address: "max@example.com", Notify: desk.NotifyNone},
	}
	o.MailboxAgents = map[string][]string{"billing": {"lee@example.com"}}
}

// noticesSince returns who got each notice queued after the first skip
// rows, by code.
func (f *fixture) noticesSince(skip int) map[string][]string {
	f.t.Helper()
	got := map[string][]string{}
	for _, it := range f.outbox()[skip:] {
		if it.Kind == store.MailNotice {
			got[it.Notice.Code] = append(got[it.Notice.Code], it.To...)
		}
	}
	for _, to := range got {
		slices.Sort(to)
	}
	return got
}

func TestNoticesGoToTheAgentsConcerned(t *testing.T) {
	f := newFixture(t, withAgents)
	n := f.open()
	// Unassigned: "assigned" agents hear of it too; "none" never.
	if got := f.noticesSince(0)[store.CodeNewCase]; !slices.Equal(got, []string{"kim@example.com", "lee@example.com"}) {
		t.Errorf("new case told %v", got)
	}
	if err := f.desk.Take(context.Background(), n, "lee@example.com"); err != nil {
		t.Fatal(err)
	}
	before := len(f.outbox())
	f.receive(f.mail("alice@acme.example", "Re: [Case #1] ELB down", "Any news?"))
	// Assigned to lee: kim ("assigned") no longer hears of it.
	if got := f.noticesSince(before)[store.CodeCustomerReply]; !slices.Equal(got, []string{"lee@example.com"}) {
		t.Errorf("customer reply told %v", got)
	}
	// A note by lee tells nobody else but those concerned: kim is not.
	before = len(f.outbox())
	if err := f.desk.Note(context.Background(), n, "lee@example.com", "Checked the logs."); err != nil {
		t.Fatal(err)
	}
	if got := f.noticesSince(before); len(got) != 0 {
		t.Errorf("lee's note told %v", got)
	}

	// A case from the billing mailbox is lee's alone.
	in := f.mail("carol@acme.example", "Invoice", "Where is my invoice?")
	in.Via = "billing"
	before = len(f.outbox())
	f.receive(in)
	if got := f.noticesSince(before)[store.CodeNewCase]; !slices.Equal(got, []string{"lee@example.com"}) {
		t.Errorf("billing case told %v", got)
	}
}

func TestNoticeCarriesTheMessageAndAnAgentToken(t *testing.T) {
	f := newFixture(t, withAgents)
	in := f.mail("alice@acme.example", "ELB down", "It is down.")
	in.FromName = "Alice  Martin"
	in.Attachments = []desk.Attachment{{Filename: "app.log", ContentType: "text/plain", Data: []byte("503\n")}}
	n := f.receive(in).Case
	var lee *store.OutboxItem
	for _, it := range f.outbox() {
		if it.Kind == store.MailNotice && slices.Equal(it.To, []string{"lee@example.com"}) {
			lee = it
		}
	}
	if lee == nil {
		t.Fatal("no notice to lee")
	}
	nt := lee.Notice
	if nt.Body != "It is down." || nt.FromName != "Alice  Martin" || nt.RequesterName != "Alice Martin" || nt.ReplyTo != "" ||
		len(nt.Attachments) != 1 || nt.Attachments[0].SHA256 != desk.Digest([]byte("503\n")) {
		t.Errorf("notice %+v", nt)
	}
	if c, msg, ok := f.ids.SentTo(lee.MessageID, "lee@example.com"); !ok || c != n || msg == 0 {
		t.Errorf("lee's notice id %s: case %d msg %d ok %v", lee.MessageID, c, msg, ok)
	}
	if _, _, ok := f.ids.SentTo(lee.MessageID, "kim@example.com"); ok {
		t.Error("lee's notice token is good for kim")
	}
}

// A requester writing from a look-alike address (Kelvin sign for the K)
// does not make the real address a participant of the case: the store
// keeps the desk's identity key, never a Unicode lower-casing.
func TestLookAlikeRequesterIsNotTheRealAddress(t *testing.T) {
	f := newFixture(t)
	n := f.receive(f.mail("\u212aim@example.org", "Hello", "x")).Case
	if got := f.participants(n); got["kim@example.org"] != "" || got["\u212aim@example.org"] != "requester" {
		t.Errorf("participants %v", got)
	}
	res := f.receive(f.mail("kim@example.org", "Re: [Case #1] Hello", "I am the real Kim"))
	if res.Outcome != desk.Held {
		t.Errorf("the real address on the look-alike's case: %+v, want held", res)
	}
}
