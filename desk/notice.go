package desk

import (
	"fmt"
	"strings"
	"time"

	"github.com/postdesk/postdesk/store"
)

// noticeOf says what one notice to agents reports.
type noticeOf struct {
	code string
	// msg is the message the notice reports (its new text and files go
	// along, and replies to the notice act on it); nil for events without
	// one (escalations, failed deliveries).
	msg *store.Message
	// fromName is the display name of msg's sender.
	fromName string
	// actor is the agent whose own action caused the notice: never told.
	actor string
	// internal sends replies to the comment address (held mail, failed
	// deliveries, escalations and notes); otherwise they go to the desk
	// address and answer the customer.
	internal bool
	reason   string
	rating   int
}

// concerned lists the agents to tell of an event on c, in the order of
// Options.Agents: the agents of the case's mailbox, by their notify
// setting, never actor.
func (d *Desk) concerned(c *store.Case, actor string) []string {
	var mailboxAgents map[string]bool
	if list, ok := d.o.MailboxAgents[c.Mailbox]; ok && len(list) > 0 {
		mailboxAgents = set(list...)
	}
	var out []string
	for _, a := range d.o.Agents {
		k := addrKey(a)
		if k == addrKey(actor) || (mailboxAgents != nil && !mailboxAgents[k]) {
			continue
		}
		switch d.settings[k].Notify {
		case NotifyNone:
			continue
		case NotifyAssigned:
			if c.Assignee != "" && addrKey(c.Assignee) != k {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// tellAgents queues one notice per concerned agent, each with its own
// Message-ID naming the case, the reported message and the agent, so that
// a reply to it proves the agent received it (DESIGN §9).
func (d *Desk) tellAgents(tx *store.Tx, c *store.Case, of noticeOf, now time.Time) error {
	agents := d.concerned(c, of.actor)
	if len(agents) == 0 {
		return nil
	}
	n, err := d.agentNotice(tx, c, now)
	if err != nil {
		return err
	}
	n.Code, n.Reason, n.Rating, n.RelatedTag = of.code, of.reason, of.rating, ""
	if of.code == store.CodeNewCase && c.RelatedCase != 0 {
		n.RelatedTag = d.Tag(c.RelatedCase)
	}
	if of.internal {
		n.ReplyTo = d.comment
	}
	var msgID int64
	if m := of.msg; m != nil {
		msgID = m.ID
		n.Author, n.Body, n.FromName = m.From, m.NewText, of.fromName
		if n.FromName == "" {
			n.FromName = m.From
		}
		n.Attachments = withoutData(m.Attachments)
	}
	for _, a := range agents {
		it := &store.OutboxItem{Kind: store.MailNotice, To: []string{a}, Lang: d.o.DefaultLanguage,
			MessageID: d.o.IDs.NewFor(c.ID, msgID, a), Notice: n}
		if _, err := d.queue(tx, c, it, now); err != nil {
			return err
		}
	}
	return addEvent(tx, c.ID, now, EventAgentsTold, of.code+" to "+strings.Join(agents, ", "))
}

// agentNotice starts the template data of a mail to agents about c: the
// case with its requester's name, contacts and assignee.
func (d *Desk) agentNotice(tx *store.Tx, c *store.Case, now time.Time) (store.Notice, error) {
	n := d.notice(c)
	contacts, err := d.contacts(tx, c.ID)
	if err != nil {
		return n, err
	}
	n.RequesterName, n.Contacts, n.Assignee, n.At = c.RequesterName, contacts, c.Assignee, now
	if !c.FirstResponseAt.IsZero() {
		n.FirstResponseDue = time.Time{} // answered: no target to show
	}
	return n, nil
}

// transcript queues a transcript to agent about their mail m on c: what
// became of the mail (code, with reason in English) and of each command.
// Replies to it go to the comment address, so answering a transcript can
// never reach the customer.
func (d *Desk) transcript(tx *store.Tx, c *store.Case, agent string, msgID int64, code, reason string, cmds []store.CommandResult, now time.Time) error {
	n, err := d.agentNotice(tx, c, now)
	if err != nil {
		return err
	}
	n.Code, n.Reason, n.Commands, n.ReplyTo = code, reason, cmds, d.comment
	it := &store.OutboxItem{Kind: store.MailTranscript, To: []string{agent}, Lang: d.o.DefaultLanguage,
		MessageID: d.o.IDs.NewFor(c.ID, msgID, agent), Notice: n}
	ok, err := d.queue(tx, c, it, now)
	if err != nil || !ok {
		return err
	}
	return addEvent(tx, c.ID, now, EventTranscriptQueued, fmt.Sprintf("%s to %s", code, agent))
}

// withoutData copies files for a notice: the outbox refers to them by
// digest.
func withoutData(files []store.Attachment) []store.Attachment {
	out := make([]store.Attachment, 0, len(files))
	for _, a := range files {
		a.Data = nil
		out = append(out, a)
	}
	return out
}

// enqueue adds mail it about c to the outbox; the caller sets Kind, To, Cc
// and Notice. The mail gets a fresh Message-ID of ours unless it has one,
// and threads under the case's conversation so mail clients group it.
func (d *Desk) enqueue(tx *store.Tx, c *store.Case, it *store.OutboxItem, now time.Time) error {
	ok, err := d.queue(tx, c, it, now)
	if err != nil || !ok {
		return err
	}
	all := append(append([]string{}, it.To...), it.Cc...)
	return addEvent(tx, c.ID, now, EventMailQueued, fmt.Sprintf("%s to %s", it.Kind, strings.Join(all, ", ")))
}

// queue is enqueue without the event: it reports whether anyone was left
// to mail once unmailable and rate-limited recipients were left out. The
// mail is in the case's language unless it.Lang is set.
func (d *Desk) queue(tx *store.Tx, c *store.Case, it *store.OutboxItem, now time.Time) (bool, error) {
	var err error
	if it.To, err = d.mailable(tx, c.ID, it.Kind, it.To, now); err != nil {
		return false, err
	}
	if it.Cc, err = d.mailable(tx, c.ID, it.Kind, it.Cc, now); err != nil {
		return false, err
	}
	if len(it.To) == 0 {
		it.To, it.Cc = it.Cc, nil
	}
	if len(it.To) == 0 {
		return false, nil
	}
	it.CaseID, it.CreatedAt = c.ID, now
	if it.Lang == "" {
		it.Lang = c.Language
	}
	if it.MessageID == "" {
		it.MessageID = d.o.IDs.New(c.ID)
	}
	refs, parent, err := tx.ThreadIDs(c.ID, it.MessageID, 10)
	if err != nil {
		return false, err
	}
	if len(refs) > 0 {
		it.InReplyTo, it.References = refs[len(refs)-1], refs
	}
	if parent != "" {
		it.InReplyTo = parent
	}
	if ok, err := d.limitAutomatic(tx, it, now); err != nil || !ok {
		return false, err
	}
	return true, tx.Enqueue(it)
}
