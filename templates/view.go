package templates

import "time"

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
	Rejected        []File    // files of the customer's mail that were not kept, and why

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
	}
}
