package desk

import (
	"fmt"
	"time"

	"github.com/postdesk/postdesk/desk/authres"
	"github.com/postdesk/postdesk/desk/mailcmd"
	"github.com/postdesk/postdesk/store"
)

// reply adds an inbound mail to the case it threads to. Only the case's
// participants and agents may add to a case: anyone else's mail is held for
// agents and nothing is sent to anybody, so a stranger quoting a case number
// can never reach the customer (the "ticket trick").
func (d *Desk) reply(tx *store.Tx, c *store.Case, in *Inbound, rawID int64, now time.Time) (Result, error) {
	if in.Machine != MachineNone {
		m := d.inboundMessage(c.ID, rawID, MessageAuto, in, now)
		if err := tx.InsertMessage(m); err != nil {
			return Result{}, err
		}
		return Result{Outcome: AutoDropped, Case: c.ID, Reason: "machine mail (" + string(in.Machine) + ") kept on the case"}, nil
	}
	role, err := d.role(tx, c.ID, in.From)
	if err != nil {
		return Result{}, err
	}
	dmarc := authres.DMARC(in.AuthResults, d.o.AuthservID)
	if (role != "" || d.IsAgent(in.From)) && dmarc == "fail" {
		return d.hold(tx, c, in, rawID, "its sender failed DMARC", now)
	}
	if d.IsAgent(in.From) {
		ref, ok := d.agentProof(c, in, dmarc)
		if !ok {
			return d.forged(tx, c, in, rawID, now)
		}
		return d.agentMail(tx, c, in, rawID, ref, now)
	}
	if role == "" {
		return d.hold(tx, c, in, rawID, in.From+" is not a participant of the case", now)
	}
	m := d.inboundMessage(c.ID, rawID, MessageCustomer, in, now)
	cmds, rest := mailcmd.Parse(m.NewText, customerCommands)
	// Commands and survey answers need proof of receipt (DESIGN §14): a
	// reply to a mail we sent on this case. The subject tag alone lets the
	// text join the case, not act on it.
	receipt := d.receipt(c, in)
	if !receipt && len(cmds) > 0 {
		if err := addEvent(tx, c.ID, now, EventCommandsIgnored, "mail from "+in.From+" answers no mail of ours on the case"); err != nil {
			return Result{}, err
		}
		cmds, rest = nil, m.NewText
	}
	reopened := false
	if Status(c.Status) == StatusClosed {
		if rating, comment, ok := surveyAnswer(m.NewText); ok && role == RoleRequester && receipt {
			if err := tx.InsertMessage(m); err != nil {
				return Result{}, err
			}
			err := d.rate(tx, c, 0, rating, comment, "mail", "", now)
			return Result{Outcome: Reply, Case: c.ID, Reason: fmt.Sprintf("survey answer %d/5", rating)}, err
		}
		if mailcmd.Has(cmds, "close") {
			return Result{Outcome: Reply, Case: c.ID, Reason: "already closed"}, tx.InsertMessage(m)
		}
		if d.o.ReopenDays < 0 || now.Sub(c.ClosedAt) > time.Duration(d.o.ReopenDays)*24*time.Hour {
			return d.open(tx, in, rawID, now, c.ID)
		}
		if err := d.setStatus(tx, c, StatusOpen, EventReopened, "by a reply from "+in.From, now); err != nil {
			return Result{}, err
		}
		reopened = true
	}
	if Status(c.Status) == StatusPending {
		if err := d.setStatus(tx, c, StatusOpen, EventStatus, "open: reply from "+in.From, now); err != nil {
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
	if err := addEvent(tx, c.ID, now, EventReplied, "by "+in.From); err != nil {
		return Result{}, err
	}
	code := store.CodeCustomerReply
	if reopened {
		code = store.CodeReopened
	}
	if err := d.tellAgents(tx, c, noticeOf{code: code, msg: m, fromName: in.FromName}, now); err != nil {
		return Result{}, err
	}
	return Result{Outcome: Reply, Case: c.ID}, d.customerCommands(tx, c, in.From, cmds, rest, now)
}

// customerCommands carries out a participant's #close and #escalate, and
// tells a customer who asks for another severity that it is fixed.
func (d *Desk) customerCommands(tx *store.Tx, c *store.Case, from string, cmds []mailcmd.Command, rest string, now time.Time) error {
	if f := ParseFields(rest); f.Severity != "" && string(f.Severity) != c.Severity {
		n := d.notice(c)
		n.Code, n.SeverityAsked = store.CodeSeverityFixed, string(f.Severity)
		n.Reason = fmt.Sprintf("the severity of a case is fixed once it is open; to ask for %s, open a new case citing %s", f.Severity, d.tag.Format(c.ID))
		if err := addEvent(tx, c.ID, now, EventSeverityKept, fmt.Sprintf("%s asked for %s", from, f.Severity)); err != nil {
			return err
		}
		if err := d.enqueue(tx, c, &store.OutboxItem{Kind: store.MailStatus, To: []string{from}, Notice: n}, now); err != nil {
			return err
		}
	}
	if mailcmd.Has(cmds, "escalate") {
		if err := d.escalate(tx, c, store.CodeEscalated, "asked by "+from, "", now); err != nil {
			return err
		}
	}
	if mailcmd.Has(cmds, "close") {
		// The customer's words stay with the agents (the message's notice):
		// no resolution is relayed to the other participants (DESIGN §14).
		return d.closeCase(tx, c, closing{by: from, code: store.CodeClosed, reason: "closed by " + from}, now)
	}
	return nil
}

// receipt reports whether in answers a mail we sent on case c: one of our
// Message-IDs naming c in In-Reply-To or References.
func (d *Desk) receipt(c *store.Case, in *Inbound) bool {
	n, ok := d.o.IDs.FindCase(in.InReplyTo, in.References)
	return ok && n == c.ID
}

// hold keeps a mail on the case for agents only: nobody on the case is
// sent anything; the agents get a notice whose replies are internal, from
// which #release joins the mail to the case.
func (d *Desk) hold(tx *store.Tx, c *store.Case, in *Inbound, rawID int64, reason string, now time.Time) (Result, error) {
	res, _, err := d.holdMessage(tx, c, in, rawID, reason, now)
	return res, err
}

// holdMessage is hold, returning the held message too. An agent whose
// address the mail bears is not told by notice: forged tells them by
// transcript.
func (d *Desk) holdMessage(tx *store.Tx, c *store.Case, in *Inbound, rawID int64, reason string, now time.Time) (Result, *store.Message, error) {
	m := d.inboundMessage(c.ID, rawID, MessageHeld, in, now)
	if err := tx.InsertMessage(m); err != nil {
		return Result{}, nil, err
	}
	if err := addEvent(tx, c.ID, now, EventHeld, "mail from "+in.From+": "+reason); err != nil {
		return Result{}, nil, err
	}
	of := noticeOf{code: store.CodeHeld, msg: m, fromName: in.FromName, internal: true, reason: reason}
	if d.IsAgent(in.From) {
		of.actor = in.From
	}
	return Result{Outcome: Held, Case: c.ID, Reason: reason}, m, d.tellAgents(tx, c, of, now)
}

// role reports addr's role on the case, "" when it is not a participant.
func (d *Desk) role(tx *store.Tx, caseID int64, addr string) (Role, error) {
	ps, err := tx.Participants(caseID)
	if err != nil {
		return "", err
	}
	for _, p := range ps {
		if addrKey(p.Address) == addrKey(addr) {
			return Role(p.Role), nil
		}
	}
	return "", nil
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
	if Status(c.Status) != StatusPending {
		if err := d.setStatus(tx, c, StatusPending, EventStatus, "pending: answered by "+agent, now); err != nil {
			return err
		}
	}
	c.UpdatedAt = now
	if err := tx.UpdateCase(c); err != nil {
		return err
	}
	if err := addEvent(tx, c.ID, now, EventAnswered, "by "+agent); err != nil {
		return err
	}
	notice := d.notice(c)
	notice.Author, notice.Body, notice.FromName = agent, m.NewText, d.agentName(agent)
	notice.SurveyLinks = d.surveyLinks(c.ID, m.ID)
	notice.Attachments = withoutData(m.Attachments)
	contacts, err := d.contacts(tx, c.ID)
	if err != nil {
		return err
	}
	return d.enqueue(tx, c, &store.OutboxItem{Kind: store.MailReply, To: []string{c.Requester}, Cc: contacts,
		Notice: notice, MessageID: outID}, now)
}

// setStatus changes the case status in memory (the caller writes the case)
// and records the event.
func (d *Desk) setStatus(tx *store.Tx, c *store.Case, status Status, event EventKind, detail string, now time.Time) error {
	c.Status = string(status)
	switch status {
	case StatusPending:
		c.PendingAt, c.ClosedAt = now, time.Time{}
	case StatusClosed:
		c.ClosedAt = now
	case StatusOpen:
		c.PendingAt, c.ClosedAt = time.Time{}, time.Time{}
	}
	c.UpdatedAt = now
	return addEvent(tx, c.ID, now, event, detail)
}

// contacts lists the contacts of a case.
func (d *Desk) contacts(tx *store.Tx, caseID int64) ([]string, error) {
	ps, err := tx.Participants(caseID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range ps {
		if Role(p.Role) == RoleContact {
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
		FirstResponseDue: c.FirstResponseDue, RequesterName: c.RequesterName,
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
		if err := addEvent(tx, caseID, now, EventMailSuppressed, kind+" to "+a+": the address cannot be mailed"); err != nil {
			return nil, err
		}
	}
	return out, nil
}
