package templates

import (
	"time"
)

// View is the data every template receives. Its fields mirror those of
// store.Notice (the mail's parameters, fixed when it was queued) plus what the
// desk says about itself; mailout fills it. Overrides are checked against a
// filled View at load, so a template may use any field below and nothing else.
type View struct {
	Case             int64     // the case number; 0 when the mail is about no case
	Tag              string    // the case tag as shown in subjects, "[Case #7]"
	Subject          string    // the case subject (refusal: the subject of the refused mail)
	Status           string    // open, pending, closed
	Severity         string    // low, normal, high, urgent, critical
	Type             string    // technical, account-billing, service-limit
	Service          string    // the service named by the customer, if any
	Requester        string    // the address that opened the case
	FirstResponseDue time.Time // the first-response target; zero when none

	ContactsAdded   []string  // addresses that now receive case mail
	ContactsRefused []Refusal // addresses that were not added, and why
	// InvalidAddresses counts the Cc entries that were no mailable address;
	// their text is never shown (DESIGN §14), only how many there were.
	InvalidAddresses int
	Rejected         []File // files of the customer's mail that were not kept, and why

	Author      string // who wrote Body (an agent's address on replies)
	Body        string // an agent's text; never a customer's
	Attachments []File // files attached to this mail
	Resolution  string // how the case was solved, when it was closed
	Reason      string // why, in English for agents: a refusal, an alert or a status change
	// Code names what happened (store.Code* values such as "severity-capped"),
	// so customer mails can say it in their own language.
	Code string
	// Plan is the customer's support plan; SeverityAsked the severity the
	// customer asked for when the case got another.
	Plan          string
	SeverityAsked string

	DeskName    string // the desk's display name
	DeskAddress string // the desk's address, where replies go

	// SurveyLinks is optional: when set, one signed link per rating, the
	// link for 1 (poor) first and for 5 (excellent) last.
	SurveyLinks []string

	// What only mail to agents carries (notices and transcripts), and the
	// agent's name on their answers.

	// FromName is the name of who wrote the reported message (a notice) or
	// of the answering agent (a reply); "" when unknown. The desk may set it
	// to the sender's address when the mail had no name.
	FromName string
	// ReplyTo is where replies go; "" means DeskAddress. Notices whose
	// replies go elsewhere (the comment address) say replies are internal.
	ReplyTo string
	// RequesterName is the requester's display name; "" when unknown.
	RequesterName string
	// ToName is the name of the one person the mail is addressed to, for
	// the greeting ("Hello Alice Martin,"); "" when unknown or several.
	ToName     string
	Contacts   []string  // the case's contacts, addresses
	Assignee   string    // the agent the case is assigned to; "" = nobody
	At         time.Time // when the reported event happened: "due" counts from it
	RelatedTag string    // the tag of the case a new case follows; "" = none
	Rating     int       // a poor survey answer (1 or 2 of 5)
	// Commands are the command lines of an agent's mail and what became of
	// each (transcripts).
	Commands []Command
}

// Internal reports whether replies to this mail go to an address other
// than the desk's (the comment address), where they become internal notes.
// Both addresses are configured strings, and `postdesk config check`
// refuses a comment address that is the desk's under the one address rule,
// so the strings are compared as they are.
func (v View) Internal() bool {
	return v.ReplyTo != "" && v.ReplyTo != v.DeskAddress
}

// Command is one command line of an agent's mail and its result.
type Command struct {
	Line string // the command as written, e.g. "#severity high"
	// Code is what became of it: done, unknown, not-allowed, bad-value,
	// too-many, not-run, no-held, limit (the store.Result* values).
	Code string
	// Arg is what the result names: a value (done), why in English
	// (not-allowed), the choices (bad-value), a limit (too-many, limit).
	Arg string
}

// Refusal is an address that was not added to a case, and why.
type Refusal struct {
	Address string
	Reason  string // in English
	Code    string // invalid-address, too-many-contacts, no-contacts
	Limit   int64  // the contact limit, for too-many-contacts
}

// File is an attached or a rejected file.
type File struct {
	Filename    string
	ContentType string
	Size        int64
	Reason      string // why it was not kept, in English; empty for attachments
	Code        string // file-too-large (Limit in bytes) or too-many-files (Limit: the count)
	Limit       int64
}

// sampleView is the filled View every template is executed against at load,
// so that a template which cannot render fails at startup, not when a
// customer is waiting for the mail.
func sampleView() View {
	return View{
		Case: 1042, Tag: "[Case #1042]", Subject: "ELB returns 503 since 09:00",
		Status: "pending", Severity: "high", Type: "technical", Service: "ELB",
		Requester: "alice@acme.example", FirstResponseDue: time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC),
		ContactsAdded: []string{"bob@acme.example"},
		ContactsRefused: []Refusal{
			{Address: "eve@other.example", Reason: "a case has at most 5 additional contacts", Code: "too-many-contacts", Limit: 5},
			{Address: "bad address", Reason: "not a valid address", Code: "invalid-address"},
		},
		InvalidAddresses: 2,
		Rejected: []File{
			{Filename: "core.dump", Size: 6 << 20, Reason: "larger than 5 MiB", Code: "file-too-large", Limit: 5 << 20},
			{Filename: "d.log", Size: 200, Reason: "more than 3 files in one message", Code: "too-many-files", Limit: 3},
		},
		Code: "severity-capped", Plan: "developer", SeverityAsked: "urgent",
		Author:      "agent@support.example",
		Body:        "Hello Alice,\n\nThe load balancer is healthy again.\n\nRegards,\nSam",
		Attachments: []File{{Filename: "report.txt", ContentType: "text/plain", Size: 812 << 10}},
		Resolution:  "Restarted the unhealthy targets.",
		Reason:      "first response target missed",
		DeskName:    "Example Support",
		DeskAddress: "support@example.com",
		SurveyLinks: []string{
			"https://support.example.com/survey/t1?r=1", "https://support.example.com/survey/t1?r=2",
			"https://support.example.com/survey/t1?r=3", "https://support.example.com/survey/t1?r=4",
			"https://support.example.com/survey/t1?r=5",
		},
		FromName: "Alice Martin", ReplyTo: "support+comment@example.com", RequesterName: "Alice Martin", ToName: "Alice Martin",
		Contacts: []string{"bob@acme.example"}, Assignee: "lee@support.example",
		At: time.Date(2026, 11, 21, 9, 12, 0, 0, time.UTC), RelatedTag: "[Case #1017]", Rating: 2,
		Commands: []Command{
			{Line: "#severity urgent", Code: "done", Arg: "urgent"},
			{Line: "#frobnicate", Code: "unknown"},
			{Line: "#severity asap", Code: "bad-value", Arg: "low, normal, high, urgent, critical"},
			{Line: "#release contact", Code: "limit", Arg: "5"},
		},
	}
}
