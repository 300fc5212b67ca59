package main

import (
	"reflect"
	"slices"
	"testing"

	"github.com/postdesk/postdesk/caseview"
	"github.com/postdesk/postdesk/config"
	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/mailin"
	"github.com/postdesk/postdesk/mailout"
	"github.com/postdesk/postdesk/message"
	"github.com/postdesk/postdesk/web"
)

func TestConfigAgentsReachTheDesk(t *testing.T) {
	c := exampleForTest(t)
	c.Mailboxes[0].Agents = []string{"agent@example.com"}
	other := c.Mailboxes[0]
	other.Name, other.Agents = "billing", nil
	c.Mailboxes = append(c.Mailboxes, other)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	o, err := deskOptions(c)
	if err != nil {
		t.Fatal(err)
	}
	if o.Name != "Example Support" || o.CommentAddress != "support+comment@example.com" {
		t.Errorf("Name %q, CommentAddress %q; want the desk's name and support+comment@example.com", o.Name, o.CommentAddress)
	}
	if !slices.Contains(o.OwnAddresses, o.CommentAddress) {
		t.Errorf("OwnAddresses %q lack the comment address, which could become a contact", o.OwnAddresses)
	}
	if want := []desk.Agent{{Address: "agent@example.com", Name: "Alex Kim", Notify: "all"}}; !reflect.DeepEqual(o.AgentSettings, want) {
		t.Errorf("AgentSettings = %+v, want %+v", o.AgentSettings, want)
	}
	if want := map[string][]string{"support": {"agent@example.com"}}; !reflect.DeepEqual(o.MailboxAgents, want) {
		t.Errorf("MailboxAgents = %q, want %q (a mailbox without agents is left out: every agent)", o.MailboxAgents, want)
	}

	t.Run("defaults without a config file", func(t *testing.T) {
		c, err := loadConfig("absent.toml", false)
		if err != nil {
			t.Fatal(err)
		}
		o, err := deskOptions(c)
		if err != nil {
			t.Fatal(err)
		}
		if o.CommentAddress != "support+comment@postdesk.invalid" || !slices.Contains(o.OwnAddresses, o.CommentAddress) {
			t.Errorf("CommentAddress %q, OwnAddresses %q", o.CommentAddress, o.OwnAddresses)
		}
		if o.AgentSettings != nil || o.MailboxAgents != nil {
			t.Errorf("AgentSettings %v, MailboxAgents %v; want none", o.AgentSettings, o.MailboxAgents)
		}
	})
}

func TestConfigCommentAddressNeverAContact(t *testing.T) {
	tests := []struct {
		name, deskKeys, comment string
	}{
		{"default comment address", "", "support+comment@example.com"},
		{"comment address of its own", `comment_address = "notes@example.com"`, "notes@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWith(t, tt.deskKeys, "")
			line := e.ingestText("cc.eml", `From: Alice Martin <alice@acme.example>
To: support@example.com
Cc: bob@acme.example, `+tt.comment+`
Subject: ELB unreachable
Message-ID: <cc-1@acme.example>

Our load balancer stopped answering.
`)
			if line.Outcome != "new_case" {
				t.Fatalf("ingest: %+v", line)
			}
			got := e.show(line.Case).Participants
			if want := []caseview.Participant{{Address: "bob@acme.example", Role: "contact"}}; !reflect.DeepEqual(got, want) {
				t.Errorf("participants = %+v, want only bob as a contact", got)
			}
		})
	}
}

// The configuration's defaults that belong to other packages than desk are
// written as numbers in config (which imports only desk, DESIGN §2): this
// holds them to those packages' own, so that they cannot drift apart.
func TestConfigDefaultsAreThePackagesOwn(t *testing.T) {
	c := config.DefaultConfig()
	in := &mailin.Intake{}
	for name, got := range map[string][2]any{
		"smtp.retry_first":       {c.SMTP.RetryFirst.Duration, mailout.DefaultRetryFirst},
		"smtp.retry_max":         {c.SMTP.RetryMax.Duration, mailout.DefaultRetryMax},
		"smtp.give_up_after":     {c.SMTP.GiveUpAfter.Duration, mailout.DefaultGiveUpAfter},
		"http.health_outbox_age": {c.HTTP.HealthOutboxAge.Duration, web.DefaultOutboxAge},
		"limits.text_bytes":      {c.Limits.TextBytes, int64(message.DefaultTextBytes)},
		"limits.message_bytes":   {c.Limits.MessageBytes, in.Limit()},
	} {
		if got[0] != got[1] {
			t.Errorf("%s: config's default %v, its package's %v", name, got[0], got[1])
		}
	}
}
