package desk

import (
	"strings"
	"time"

	"github.com/postdesk/postdesk/store"
)

// This file spells the desk's domain words: each is a type with its
// constants and an ordered list. Other packages read the lists (config
// validation, the tests that every word has a label in each language); the
// store keeps the words as plain strings, converted where desk reads or
// writes a row. The words customers write in other languages are in
// fields.go.

// Severity is how badly a case hurts the customer: it sets the
// first-response target and is capped by the plan (DESIGN §4).
type Severity string

// Severities, from the least to the most pressing.
const (
	SeverityLow      Severity = "low"
	SeverityNormal   Severity = "normal"
	SeverityHigh     Severity = "high"
	SeverityUrgent   Severity = "urgent"
	SeverityCritical Severity = "critical"
)

// Severities returns every severity, from low to critical.
func Severities() []Severity {
	return []Severity{SeverityLow, SeverityNormal, SeverityHigh, SeverityUrgent, SeverityCritical}
}

// rank orders severities from 1 (low) to 5 (critical); 0 for an unknown one.
func (s Severity) rank() int {
	for i, v := range Severities() {
		if v == s {
			return i + 1
		}
	}
	return 0
}

// Status is the state of a case.
type Status string

// Case states.
const (
	StatusOpen    Status = "open"    // waiting on support
	StatusPending Status = "pending" // waiting on the customer
	StatusClosed  Status = "closed"
)

// Statuses returns every status, in the order a case usually goes through
// them.
func Statuses() []Status { return []Status{StatusOpen, StatusPending, StatusClosed} }

// parseStatus returns the status named s, or "".
func parseStatus(s string) Status {
	for _, v := range Statuses() {
		if string(v) == s {
			return v
		}
	}
	return ""
}

// Role is what an address is on a case.
type Role string

// Roles of a case's participants.
const (
	RoleRequester Role = "requester" // opened the case
	RoleContact   Role = "contact"   // added by the requester (Cc) or an agent
	RoleAgent     Role = "agent"
)

// Roles returns every role, the requester first.
func Roles() []Role { return []Role{RoleRequester, RoleContact, RoleAgent} }

// MessageKind is what a message of a case is: who wrote it and who may
// see it.
type MessageKind string

// Kinds of a case's messages.
const (
	MessageCustomer MessageKind = "customer" // from the requester or a contact
	MessageAgent    MessageKind = "agent"    // an agent's answer, sent to the customer
	MessageNote     MessageKind = "note"     // an agent's internal note, never sent to the customer
	MessageHeld     MessageKind = "held"     // from a stranger, kept until an agent releases it
	MessageAuto     MessageKind = "auto"     // machine mail on a case (an auto-reply, RFC 3834), never answered
)

// MessageKinds returns every message kind.
func MessageKinds() []MessageKind {
	return []MessageKind{MessageCustomer, MessageAgent, MessageNote, MessageHeld, MessageAuto}
}

// EventKind is the kind of an entry of a case's history (the events table).
type EventKind string

// Kinds of a case's events.
const (
	EventCreated           EventKind = "created"       // the case was opened
	EventReplied           EventKind = "replied"       // a participant's mail was added
	EventAnswered          EventKind = "answered"      // an agent answered the customer
	EventNote              EventKind = "note"          // an agent wrote an internal note
	EventHeld              EventKind = "held"          // a stranger's mail was held
	EventReleased          EventKind = "released"      // an agent released a held mail
	EventStatus            EventKind = "status"        // the status changed
	EventReopened          EventKind = "reopened"      // a reply reopened the closed case
	EventClosed            EventKind = "closed"        // the case was closed
	EventSeverity          EventKind = "severity"      // an agent changed the severity
	EventSeverityKept      EventKind = "severity kept" // a customer asked for another severity
	EventAssigned          EventKind = "assigned"      // the assignee changed
	EventContactAdded      EventKind = "contact added"
	EventContactRefused    EventKind = "contact refused"
	EventCommandsIgnored   EventKind = "commands ignored" // commands in a mail that answers none of ours
	EventEscalated         EventKind = "escalated"
	EventEscalationRefused EventKind = "escalation refused" // the case was escalated already this hour
	EventAgentsTold        EventKind = "agents told"        // a notice was queued for agents
	EventTranscriptQueued  EventKind = "transcript queued"
	EventMailQueued        EventKind = "mail queued"
	EventMailSuppressed    EventKind = "mail suppressed"  // a mail was not queued (limit, unmailable address)
	EventAlertSuppressed   EventKind = "alert suppressed" // more alerts an hour than allowed
	EventDeliveryFailed    EventKind = "delivery failed"  // a bounce reported on our mail (the outbox records the same kind when it gives up)
	EventRated             EventKind = "rated"            // a survey answer
)

// addEvent records an event of kind on case caseID.
func addEvent(tx *store.Tx, caseID int64, at time.Time, kind EventKind, detail string) error {
	return tx.AddEvent(caseID, at, string(kind), detail)
}

// wordList joins the words of list with ", ", for messages that name the
// accepted values.
func wordList[T ~string](list []T) string {
	s := make([]string, len(list))
	for i, w := range list {
		s[i] = string(w)
	}
	return strings.Join(s, ", ")
}
