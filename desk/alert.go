package desk

import (
	"fmt"
	"strings"
	"time"

	"github.com/postdesk/postdesk/store"
)

// FailureAlert returns the alert to the notify list about a mail that will
// not be delivered, or nil when there is nobody to tell or the failed mail
// was itself an alert (so failures cannot feed each other). The outbox
// worker enqueues it in the same transaction that marks the mail failed.
func (d *Desk) FailureAlert(failed *store.OutboxItem, reason string) *store.OutboxItem {
	if failed.Kind == store.MailAlert {
		return nil
	}
	n := failed.Notice
	n.Body, n.Attachments, n.ContactsAdded, n.ContactsRefused, n.Rejected = "", nil, nil, nil, nil
	n.Reason = "undeliverable " + failed.Kind + " to " + strings.Join(append(append([]string{}, failed.To...), failed.Cc...), ", ") + ": " + reason
	return d.alert(failed.CaseID, n, d.now())
}

// Failed records what the desk does about a mail that will not be
// delivered, in the transaction that marks it failed (mailout's
// Options.OnFailure): the notify list gets an alert (FailureAlert) and,
// when the mail was for participants of a case, its agents a notice. A
// failed alert causes neither, a failed notice or transcript no notice, so
// failures cannot feed each other.
func (d *Desk) Failed(tx *store.Tx, failed *store.OutboxItem, reason string) error {
	if err := enqueueAlert(tx, d.FailureAlert(failed, reason)); err != nil {
		return err
	}
	switch failed.Kind {
	case store.MailAlert, store.MailNotice, store.MailTranscript:
		return nil
	}
	if failed.CaseID == 0 {
		return nil
	}
	c, err := tx.Case(failed.CaseID)
	if err != nil {
		return err
	}
	report := failed.Kind + " to " + strings.Join(append(append([]string{}, failed.To...), failed.Cc...), ", ") + ": " + reason
	return d.tellAgents(tx, c, noticeOf{code: store.CodeUndeliverable, internal: true, reason: report}, d.now())
}

// alert returns a mail to the notify list about case caseID (0: none), or
// nil when nobody is to be told. It gets a Message-ID that carries no case,
// so that a reply to it cannot thread into the case and reach the customer.
func (d *Desk) alert(caseID int64, n store.Notice, now time.Time) *store.OutboxItem {
	if len(d.o.Notify) == 0 {
		return nil
	}
	return &store.OutboxItem{
		Kind: store.MailAlert, CaseID: caseID, Lang: d.o.DefaultLanguage,
		To: append([]string{}, d.o.Notify...), MessageID: d.o.IDs.New(0), Notice: n, CreatedAt: now,
	}
}

// Alerts to the notify list a case may cause in an hour, and alerts about
// no case (a sender over the new-case limit) in an hour: a flood of mail
// cannot become a flood of alerts (DESIGN §14).
const (
	alertsPerCaseHour = 2
	alertsNoCaseHour  = 10
)

// enqueueAlert queues alert when there is one, within the hourly limits;
// an alert over them is recorded as an event on its case.
func enqueueAlert(tx *store.Tx, alert *store.OutboxItem) error {
	if alert == nil {
		return nil
	}
	limit := alertsPerCaseHour
	if alert.CaseID == 0 {
		limit = alertsNoCaseHour
	}
	n, err := tx.Bump(fmt.Sprintf("alert:%d", alert.CaseID), hourWindow(alert.CreatedAt))
	if err != nil {
		return err
	}
	if n > limit {
		if alert.CaseID == 0 {
			return nil
		}
		return addEvent(tx, alert.CaseID, alert.CreatedAt, EventAlertSuppressed, fmt.Sprintf("over %d alerts an hour: %s", limit, alert.Notice.Reason))
	}
	return tx.Enqueue(alert)
}
