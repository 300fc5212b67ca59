package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/postdesk/postdesk/store"
)

// caseDetail reads a case with its messages, events and outbox.
func caseDetail(ctx context.Context, db *store.DB, n int64) (caseJSON, error) {
	k, err := db.Case(ctx, n)
	if err != nil {
		return caseJSON{}, err
	}
	cj, err := caseSummary(ctx, db, k)
	if err != nil {
		return caseJSON{}, err
	}
	msgs, err := db.Messages(ctx, n)
	if err != nil {
		return caseJSON{}, err
	}
	cj.Messages = make([]messageJSON, 0, len(msgs))
	for _, m := range msgs {
		mj := messageJSON{ID: m.ID, Direction: m.Direction, Kind: m.Kind, From: m.From, To: m.To, Cc: m.Cc,
			Subject: m.Subject, Date: optTime(m.Date), Text: m.Text, NewText: m.NewText,
			Attachments: []attachmentJSON{}, RejectedAttachments: []rejectedJSON{}}
		if m.MessageID != "" {
			mj.MessageID = "<" + m.MessageID + ">"
		}
		for _, at := range m.Attachments {
			mj.Attachments = append(mj.Attachments, attachmentJSON{Filename: at.Filename,
				ContentType: at.ContentType, Size: at.Size, SHA256: at.SHA256})
		}
		for _, r := range m.Rejected {
			mj.RejectedAttachments = append(mj.RejectedAttachments, rejectedJSON{Filename: r.Filename, Size: r.Size, Reason: r.Reason})
		}
		cj.Messages = append(cj.Messages, mj)
	}
	events, err := db.Events(ctx, n)
	if err != nil {
		return caseJSON{}, err
	}
	cj.Events = make([]eventJSON, 0, len(events))
	for _, e := range events {
		cj.Events = append(cj.Events, eventJSON(e))
	}
	items, err := db.Outbox(ctx, n)
	if err != nil {
		return caseJSON{}, err
	}
	cj.Outbox = make([]outboxJSON, 0, len(items))
	for _, it := range items {
		cj.Outbox = append(cj.Outbox, outboxRow(it))
	}
	return cj, nil
}

func outboxRow(it *store.OutboxItem) outboxJSON {
	r := outboxJSON{ID: it.ID, Kind: it.Kind, Case: it.CaseID, To: it.To, Cc: it.Cc,
		MessageID: "<" + it.MessageID + ">", Status: it.Status, Attempts: it.Attempts,
		LastError: it.LastError, Bounce: it.Bounce, CreatedAt: it.CreatedAt, SentAt: optTime(it.SentAt)}
	if it.Status == store.OutboxQueued {
		r.NextAttemptAt = optTime(it.NextAttemptAt)
	}
	return r
}

func (c *cli) caseShow(ctx context.Context, a *app, n int64, asJSON bool) error {
	cj, err := caseDetail(ctx, a.db, n)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(c.stdout, cj)
	}
	w := terminal{c.stdout}
	fmt.Fprintf(w, "%s %s\n", a.desk.Tag(cj.ID), termLine(cj.Subject))
	fmt.Fprintf(w, "status %s, severity %s, type %s", cj.Status, cj.Severity, cj.Type)
	if cj.Service != "" {
		fmt.Fprintf(w, ", service %s", cj.Service)
	}
	fmt.Fprintf(w, ", language %s\nrequester %s", cj.Language, cj.Requester)
	for _, p := range cj.Participants {
		fmt.Fprintf(w, ", %s %s", p.Role, p.Address)
	}
	fmt.Fprintln(w)
	if cj.FirstResponseDue != nil {
		fmt.Fprintf(w, "first response due %s", cj.FirstResponseDue.Format("2006-01-02 15:04 MST"))
		if cj.FirstResponseAt != nil {
			fmt.Fprintf(w, ", answered %s", cj.FirstResponseAt.Format("2006-01-02 15:04 MST"))
		}
		fmt.Fprintln(w)
	}
	for _, m := range cj.Messages {
		fmt.Fprintf(w, "\n--- #%d %s %s from %s\n", m.ID, m.Direction, m.Kind, termLine(m.From))
		// Indented, so that no line of a mail can pass for one of ours.
		text := strings.TrimRight(m.NewText, "\n")
		fmt.Fprintln(w, "  "+strings.ReplaceAll(text, "\n", "\n  "))
		for _, at := range m.Attachments {
			fmt.Fprintf(w, "[attachment %s, %s, %d bytes]\n", termLine(at.Filename), termLine(at.ContentType), at.Size)
		}
		for _, r := range m.RejectedAttachments {
			fmt.Fprintf(w, "[not kept: %s, %d bytes: %s]\n", termLine(r.Filename), r.Size, r.Reason)
		}
	}
	fmt.Fprintln(w, "\n--- events")
	for _, e := range cj.Events {
		fmt.Fprintf(w, "%s  %-16s %s\n", e.At.Format("2006-01-02 15:04:05"), e.Kind, termLine(e.Detail))
	}
	fmt.Fprintln(w, "\n--- mail sent")
	for _, o := range cj.Outbox {
		fmt.Fprintf(w, "%s to %s: %s", o.Kind, strings.Join(append(append([]string{}, o.To...), o.Cc...), ", "), o.Status)
		if o.LastError != "" {
			fmt.Fprintf(w, " (%s)", o.LastError)
		}
		if o.Bounce != "" {
			fmt.Fprintf(w, ", bounced: %s", o.Bounce)
		}
		fmt.Fprintln(w)
	}
	return nil
}
