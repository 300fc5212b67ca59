package desk

import (
	"strings"

	"github.com/postdesk/postdesk/store"
)

// FailureAlert returns the alert to the notify list about a mail that will
// not be delivered, or nil when there is nobody to tell or the failed mail
// was itself an alert (so failures cannot feed each other). The outbox
// worker enqueues it in the same transaction that marks the mail failed.
//
// The alert gets a Message-ID that carries no case, so that a reply to it
// cannot thread into the case and reach the customer.
func (d *Desk) FailureAlert(failed *store.OutboxItem, reason string) *store.OutboxItem {
	if len(d.o.Notify) == 0 || failed.Kind == store.MailAlert {
		return nil
	}
	n := failed.Notice
	n.Body, n.Attachments, n.ContactsAdded, n.ContactsRefused, n.Rejected = "", nil, nil, nil, nil
	n.Reason = "undeliverable " + failed.Kind + " to " + strings.Join(append(append([]string{}, failed.To...), failed.Cc...), ", ") + ": " + reason
	return &store.OutboxItem{
		Kind:      store.MailAlert,
		CaseID:    failed.CaseID,
		Lang:      d.o.DefaultLanguage,
		To:        append([]string{}, d.o.Notify...),
		MessageID: d.o.IDs.New(0),
		Notice:    n,
		CreatedAt: d.now(),
	}
}
