package desk

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postdesk/postdesk/store"
)

// reply adds an inbound mail to the case it threads to. Only the case's
// participants and agents may add to a case: anyone else's mail is held for
// agents and nothing is sent to anybody, so a stranger quoting a case number
// can never reach the customer (the "ticket trick").
func (d *Desk) reply(tx *store.Tx, c *store.Case, in *Inbound, rawID int64, now time.Time) (Result, error) {
	if in.Machine != MachineNone {
		m := d.inboundMessage(c.ID, rawID, "auto", in, now)
		if err := tx.InsertMessage(m); err != nil {
			return Result{}, err
		}
		return Result{Outcome: AutoDropped, Case: c.ID, Reason: "machine mail (" + string(in.Machine) + ") kept on the case"}, nil
	}
	role, err := d.role(tx, c.ID, in.From)
	if err != nil {
		return Result{}, err
	}
	if (role != "" || d.IsAgent(in.From)) && d.dmarcFailed(in) {
		return d.hold(tx, c, in, rawID, "its sender failed DMARC", now)
	}
	if d.IsAgent(in.From) {
		return d.agentMail(tx, c, in, rawID, now)
	}
	if role == "" {
		return d.hold(tx, c, in, rawID, in.From+" is not a participant of the case", now)
	}
	m := d.inboundMessage(c.ID, rawID, "customer", in, now)
	cmds, rest := parseCommands(m.NewText, customerCommands)
	if c.Status == StatusClosed {
		if rating, comment, ok := surveyAnswer(m.NewText); ok && role == "requester" {
			if err := tx.InsertMessage(m); err != nil {
				return Result{}, err
			}
			err := d.rate(tx, c, 0, rating, comment, "mail", "", now)
			return Result{Outcome: Reply, Case: c.ID, Reason: fmt.Sprintf("survey answer %d/5", rating)}, err
		}
		if has(cmds, "close") {
			return Result{Outcome: Reply, Case: c.ID, Reason: "already closed"}, tx.InsertMessage(m)
		}
		if d.o.ReopenDays < 0 || now.Sub(c.ClosedAt) > time.Duration(d.o.ReopenDays)*24*time.Hour {
			return d.open(tx, in, rawID, now, c.ID)
		}
		if err := d.setStatus(tx, c, StatusOpen, "reopened", "by a reply from "+in.From, now); err != nil {
			return Result{}, err
		}
	}
	if c.Status == StatusPending {
		if err := d.setStatus(tx, c, StatusOpen, "status", "open: reply from "+in.From, now); err != nil {
			return Result{}, err
		}
	}
	if err := tx.InsertMessage(m); err != nil {
		return Result{}, err
	}
	c.UpdatedAt = now
	if err := tx.UpdateCase(c); err != nil {
		return Result{}, err
	}
	if err := tx.AddEvent(c.ID, now, "replied", "by "+in.From); err != nil {
		return Result{}, err
	}
	return Result{Outcome: Reply, Case: c.ID}, d.customerCommands(tx, c, in.From, cmds, rest, now)
}

// customerCommands carries out a participant's #close and #escalate, and
// tells a customer who asks for another severity that it is fixed.
func (d *Desk) customerCommands(tx *store.Tx, c *store.Case, from string, cmds []command, rest string, now time.Time) error {
	if f := ParseFields(rest); f.Severity != "" && f.Severity != c.Severity {
		n := d.notice(c)
		n.Code, n.SeverityAsked = store.CodeSeverityFixed, f.Severity
		n.Reason = fmt.Sprintf("the severity of a case is fixed once it is open; to ask for %s, open a new case citing %s", f.Severity, d.tag.Format(c.ID))
		if err := tx.AddEvent(c.ID, now, "severity kept", fmt.Sprintf("%s asked for %s", from, f.Severity)); err != nil {
			return err
		}
		if err := d.enqueue(tx, c, &store.OutboxItem{Kind: store.MailStatus, To: []string{from}, Notice: n}, now); err != nil {
			return err
		}
	}
	if has(cmds, "escalate") {
		if err := d.escalate(tx, c, store.CodeEscalated, "asked by "+from, now); err != nil {
			return err
		}
	}
	if has(cmds, "close") {
		return d.closeCase(tx, c, closing{by: from, resolution: rest, code: store.CodeClosed, reason: "closed by " + from}, now)
	}
	return nil
}

// hold keeps a mail on the case for agents only: nobody is sent anything.
func (d *Desk) hold(tx *store.Tx, c *store.Case, in *Inbound, rawID int64, reason string, now time.Time) (Result, error) {
	if err := tx.InsertMessage(d.inboundMessage(c.ID, rawID, "held", in, now)); err != nil {
		return Result{}, err
	}
	err := tx.AddEvent(c.ID, now, "held", "mail from "+in.From+": "+reason)
	return Result{Outcome: Held, Case: c.ID, Reason: reason}, err
}

// role reports addr's role on the case, "" when it is not a participant.
func (d *Desk) role(tx *store.Tx, caseID int64, addr string) (string, error) {
	ps, err := tx.Participants(caseID)
	if err != nil {
		return "", err
	}
	for _, p := range ps {
		if strings.EqualFold(p.Address, addr) {
			return p.Role, nil
		}
	}
	return "", nil
}

// agentMail is an agent working a case by mail: commands at the top
// (#note, #close, #pending, #open, #severity X, #assign ADDR, #escalate),
// then the text, which goes to the requester and contacts like `postdesk
// case reply` unless the mail is a #note or only commands.
func (d *Desk) agentMail(tx *store.Tx, c *store.Case, in *Inbound, rawID int64, now time.Time) (Result, error) {
	m := d.inboundMessage(c.ID, rawID, "agent", in, now)
	cmds, rest := parseCommands(m.NewText, agentCommands)
	m.NewText = rest
	if err := d.agentSettings(tx, c, in.From, cmds, now); err != nil {
		return Result{}, err
	}
	switch {
	case has(cmds, "note") || (rest == "" && !has(cmds, "close")):
		m.Kind = "note"
		if err := tx.InsertMessage(m); err != nil {
			return Result{}, err
		}
		if err := tx.AddEvent(c.ID, now, "note", "by "+in.From); err != nil {
			return Result{}, err
		}
		for _, s := range []string{StatusPending, StatusOpen} {
			if has(cmds, s) {
				if err := d.setStatusByAgent(tx, c, s, in.From, now); err != nil {
					return Result{}, err
				}
			}
		}
		return Result{Outcome: Reply, Case: c.ID, Reason: "agent note"}, nil
	case has(cmds, "close"):
		if err := tx.InsertMessage(m); err != nil {
			return Result{}, err
		}
		err := d.closeCase(tx, c, closing{by: in.From, resolution: rest, code: store.CodeClosed, reason: "closed by " + in.From}, now)
		return Result{Outcome: Reply, Case: c.ID, Reason: "closed by an agent"}, err
	}
	if err := d.answer(tx, c, in.From, m, now); err != nil {
		return Result{}, err
	}
	if has(cmds, "open") {
		if err := d.setStatus(tx, c, StatusOpen, "status", "open "+byWhom(in.From), now); err != nil {
			return Result{}, err
		}
		if err := tx.UpdateCase(c); err != nil {
			return Result{}, err
		}
	}
	return Result{Outcome: Reply, Case: c.ID, Reason: "agent reply"}, nil
}

// agentSettings applies #severity, #assign and #escalate.
func (d *Desk) agentSettings(tx *store.Tx, c *store.Case, agent string, cmds []command, now time.Time) error {
	for _, cmd := range cmds {
		var err error
		switch cmd.name {
		case "severity":
			err = d.setField(tx, c, "severity", cmd.arg, agent, now)
		case "assign":
			err = d.setField(tx, c, "assignee", cmd.arg, agent, now)
		case "escalate":
			err = d.escalate(tx, c, store.CodeEscalated, "asked by "+agent, now)
		}
		if err != nil {
			// A mistyped command must not lose the mail: note it instead.
			if errors.Is(err, ErrBadValue) {
				err = tx.AddEvent(c.ID, now, "command refused", fmt.Sprintf("#%s %s from %s: %v", cmd.name, cmd.arg, agent, err))
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// answer records an agent's message m on the case and sends its new text to
// the requester with the contacts in Cc. The first answer stops the
// first-response clock; the case then waits on the customer.
func (d *Desk) answer(tx *store.Tx, c *store.Case, agent string, m *store.Message, now time.Time) error {
	outID := d.o.IDs.New(c.ID)
	if m.Direction == "out" {
		m.MessageID = outID
	}
	if err := tx.InsertMessage(m); err != nil {
		return err
	}
	if c.FirstResponseAt.IsZero() {
		c.FirstResponseAt = now
	}
	if c.Status != StatusPending {
		if err := d.setStatus(tx, c, StatusPending, "status", "pending: answered by "+agent, now); err != nil {
			return err
		}
	}
	c.UpdatedAt = now
	if err := tx.UpdateCase(c); err != nil {
		return err
	}
	if err := tx.AddEvent(c.ID, now, "answered", "by "+agent); err != nil {
		return err
	}
	notice := d.notice(c)
	notice.Author, notice.Body = agent, m.NewText
	notice.SurveyLinks = d.surveyLinks(c.ID, m.ID)
	notice.Attachments = make([]store.Attachment, 0, len(m.Attachments))
	for _, a := range m.Attachments {
		a.Data = nil
		notice.Attachments = append(notice.Attachments, a)
	}
	contacts, err := d.contacts(tx, c.ID)
	if err != nil {
		return err
	}
	return d.enqueue(tx, c, &store.OutboxItem{Kind: store.MailReply, To: []string{c.Requester}, Cc: contacts,
		Notice: notice, MessageID: outID}, now)
}

// setStatus changes the case status in memory (the caller writes the case)
// and records the event.
func (d *Desk) setStatus(tx *store.Tx, c *store.Case, status, event, detail string, now time.Time) error {
	c.Status = status
	switch status {
	case StatusPending:
		c.PendingAt, c.ClosedAt = now, time.Time{}
	case StatusClosed:
		c.ClosedAt = now
	case StatusOpen:
		c.PendingAt, c.ClosedAt = time.Time{}, time.Time{}
	}
	c.UpdatedAt = now
	return tx.AddEvent(c.ID, now, event, detail)
}

// contacts lists the contacts of a case.
func (d *Desk) contacts(tx *store.Tx, caseID int64) ([]string, error) {
	ps, err := tx.Participants(caseID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range ps {
		if p.Role == "contact" {
			out = append(out, p.Address)
		}
	}
	return out, nil
}

// notice starts the template data of a mail about c.
func (d *Desk) notice(c *store.Case) store.Notice {
	return store.Notice{
		Case: c.ID, Tag: d.tag.Format(c.ID), Subject: c.Subject, Status: c.Status,
		Severity: c.Severity, Type: c.Type, Service: c.Service, Requester: c.Requester, Plan: c.Plan,
		FirstResponseDue: c.FirstResponseDue,
	}
}

// mailable keeps the addresses postdesk can mail (a requester may have
// written from one it cannot, such as root@localhost), recording an event
// for each left out.
func (d *Desk) mailable(tx *store.Tx, caseID int64, kind string, addrs []string, now time.Time) ([]string, error) {
	var out []string
	for _, a := range addrs {
		if validAddress(a) {
			out = append(out, a)
			continue
		}
		if err := tx.AddEvent(caseID, now, "mail suppressed", kind+" to "+a+": the address cannot be mailed"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// enqueue adds mail it about c to the outbox; the caller sets Kind, To, Cc
// and Notice. The mail gets a fresh Message-ID of ours unless it has one,
// and threads under the case's conversation so mail clients group it.
func (d *Desk) enqueue(tx *store.Tx, c *store.Case, it *store.OutboxItem, now time.Time) error {
	var err error
	if it.To, err = d.mailable(tx, c.ID, it.Kind, it.To, now); err != nil {
		return err
	}
	if it.Cc, err = d.mailable(tx, c.ID, it.Kind, it.Cc, now); err != nil {
		return err
	}
	if len(it.To) == 0 {
		it.To, it.Cc = it.Cc, nil
	}
	if len(it.To) == 0 {
		return nil
	}
	it.CaseID, it.Lang, it.CreatedAt = c.ID, c.Language, now
	if it.MessageID == "" {
		it.MessageID = d.o.IDs.New(c.ID)
	}
	refs, err := tx.ThreadIDs(c.ID, it.MessageID, 10)
	if err != nil {
		return err
	}
	if len(refs) > 0 {
		it.InReplyTo, it.References = refs[len(refs)-1], refs
	}
	if ok, err := d.limitAutomatic(tx, it, now); err != nil || !ok {
		return err
	}
	if err := tx.Enqueue(it); err != nil {
		return err
	}
	all := append(append([]string{}, it.To...), it.Cc...)
	return tx.AddEvent(c.ID, now, "mail queued", fmt.Sprintf("%s to %s", it.Kind, strings.Join(all, ", ")))
}
