package desk

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/postdesk/postdesk/store"
)

// AgentReply records an agent's answer to case n and mails it to the
// requester with the contacts in Cc.
func (d *Desk) AgentReply(ctx context.Context, n int64, agent, text string, files []Attachment) error {
	if !d.IsAgent(agent) {
		return fmt.Errorf("reply to case %d as %s: %w", n, agent, ErrNotAgent)
	}
	return d.onCase(ctx, n, func(tx *store.Tx, c *store.Case, now time.Time) error {
		m := d.agentMessage(c.ID, MessageAgent, agent, text, now)
		for _, f := range files {
			m.Attachments = append(m.Attachments, store.Attachment{Filename: f.Filename,
				ContentType: f.ContentType, Size: int64(len(f.Data)), Data: f.Data})
		}
		return d.answer(tx, c, agent, m, now)
	})
}

// Note records an internal note on case n: no customer is mailed; the
// other agents of the case get a notice.
func (d *Desk) Note(ctx context.Context, n int64, agent, text string) error {
	if !d.IsAgent(agent) {
		return fmt.Errorf("note on case %d as %s: %w", n, agent, ErrNotAgent)
	}
	return d.onCase(ctx, n, func(tx *store.Tx, c *store.Case, now time.Time) error {
		return d.keepNote(tx, c, d.agentMessage(c.ID, MessageNote, agent, text, now), agent, true, now)
	})
}

// Close closes case n: the requester gets the closing mail with the
// satisfaction survey, the contacts a status notice. by is the agent or
// participant closing it; "" means the operator at the command line.
func (d *Desk) Close(ctx context.Context, n int64, by, resolution string) error {
	return d.onCase(ctx, n, func(tx *store.Tx, c *store.Case, now time.Time) error {
		if by != "" && !d.IsAgent(by) {
			role, err := d.role(tx, c.ID, by)
			if err != nil {
				return err
			}
			if role == "" {
				return fmt.Errorf("close case %d as %s: not an agent or participant: %w", n, by, ErrNotAgent)
			}
		}
		return d.close(tx, c, by, resolution, now)
	})
}

func (d *Desk) close(tx *store.Tx, c *store.Case, by, resolution string, now time.Time) error {
	who := by
	if who == "" {
		who = "an agent"
	}
	return d.closeCase(tx, c, closing{by: who, resolution: resolution, code: store.CodeClosed, reason: "closed by " + who}, now)
}

// closing says who closes a case, how it was solved and why.
type closing struct {
	by, resolution, code, reason string
}

// closeCase closes c: the requester gets the closing mail with the
// satisfaction survey, the contacts a status notice.
func (d *Desk) closeCase(tx *store.Tx, c *store.Case, cl closing, now time.Time) error {
	if Status(c.Status) == StatusClosed {
		return fmt.Errorf("close case %d: %w: already closed", c.ID, ErrBadValue)
	}
	detail := cl.reason
	if cl.resolution != "" {
		detail += ": " + cl.resolution
	}
	if err := d.setStatus(tx, c, StatusClosed, EventClosed, detail, now); err != nil {
		return err
	}
	if err := tx.UpdateCase(c); err != nil {
		return err
	}
	notice := d.notice(c)
	notice.Resolution, notice.Code, notice.Reason = cl.resolution, cl.code, cl.reason
	notice.SurveyLinks = d.surveyLinks(c.ID, 0)
	if err := d.enqueue(tx, c, &store.OutboxItem{Kind: store.MailClosed, To: []string{c.Requester}, Notice: notice}, now); err != nil {
		return err
	}
	contacts, err := d.contacts(tx, c.ID)
	if err != nil {
		return err
	}
	notice.SurveyLinks = nil
	return d.enqueue(tx, c, &store.OutboxItem{Kind: store.MailStatus, Cc: contacts, Notice: notice}, now)
}

// Set changes one field of case n as an agent would: severity=S,
// status=open|pending|closed or assignee=ADDR. Status changes are mailed to
// the requester and contacts.
func (d *Desk) Set(ctx context.Context, n int64, key, value, by string) error {
	value = strings.TrimSpace(value)
	return d.onCase(ctx, n, func(tx *store.Tx, c *store.Case, now time.Time) error {
		return d.setField(tx, c, key, value, by, now)
	})
}

// setField changes severity, assignee or status of c as agent by.
func (d *Desk) setField(tx *store.Tx, c *store.Case, key, value, by string, now time.Time) error {
	switch key {
	case "severity":
		s := ParseSeverity(value)
		if s == "" {
			return fmt.Errorf("set severity of case %d: %w %q (%s)", c.ID, ErrBadValue, value, wordList(Severities()))
		}
		c.Severity, c.UpdatedAt = string(s), now
		if c.FirstResponseAt.IsZero() {
			t := d.terms(c.Requester)
			c.FirstResponseDue = t.hours.Due(c.CreatedAt, d.target(t.plan, s))
		}
		if err := addEvent(tx, c.ID, now, EventSeverity, string(s)+" "+byWhom(by)); err != nil {
			return err
		}
		return tx.UpdateCase(c)
	case "assignee":
		a := addrKey(value)
		if a != "" && !validAddress(a) {
			return fmt.Errorf("set assignee of case %d: %w: %q is not an address", c.ID, ErrBadValue, value)
		}
		c.Assignee, c.UpdatedAt = a, now
		if err := addEvent(tx, c.ID, now, EventAssigned, a+" "+byWhom(by)); err != nil {
			return err
		}
		return tx.UpdateCase(c)
	case "status":
		return d.setStatusByAgent(tx, c, value, by, now)
	}
	return fmt.Errorf("set %q on case %d: %w (severity, status, assignee)", key, c.ID, ErrNoSuchKey)
}

func (d *Desk) setStatusByAgent(tx *store.Tx, c *store.Case, value, by string, now time.Time) error {
	status := parseStatus(value)
	switch status {
	case StatusClosed:
		return d.close(tx, c, by, "", now)
	case StatusOpen, StatusPending:
	default:
		return fmt.Errorf("set status of case %d: %w %q (%s)", c.ID, ErrBadValue, value, wordList(Statuses()))
	}
	if Status(c.Status) == status {
		return nil
	}
	if err := d.setStatus(tx, c, status, EventStatus, value+" "+byWhom(by), now); err != nil {
		return err
	}
	if err := tx.UpdateCase(c); err != nil {
		return err
	}
	contacts, err := d.contacts(tx, c.ID)
	if err != nil {
		return err
	}
	notice := d.notice(c)
	notice.Code, notice.Reason = store.CodeStatus, "set to "+string(status)+" "+byWhom(by)
	return d.enqueue(tx, c, &store.OutboxItem{Kind: store.MailStatus, To: []string{c.Requester}, Cc: contacts, Notice: notice}, now)
}

func byWhom(by string) string {
	if by == "" {
		return "by an agent"
	}
	return "by " + by
}

// onCase runs fn on case n inside one transaction.
func (d *Desk) onCase(ctx context.Context, n int64, fn func(*store.Tx, *store.Case, time.Time) error) error {
	return d.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := tx.Case(n)
		if err != nil {
			return err
		}
		return fn(tx, c, d.now())
	})
}

// agentMessage is the stored form of something an agent wrote at the
// command line.
func (d *Desk) agentMessage(caseID int64, kind MessageKind, agent, text string, now time.Time) *store.Message {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	return &store.Message{CaseID: caseID, Direction: "out", Kind: string(kind), From: addrKey(agent),
		Text: text, NewText: text, Date: now, CreatedAt: now}
}
