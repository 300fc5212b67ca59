package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/postdesk/postdesk/caseview"
)

// caseShow prints case n as JSON (DESIGN §5) or for a person's terminal.
func (c *cli) caseShow(ctx context.Context, a *app, n int64, asJSON bool) error {
	cj, err := caseview.Detail(ctx, a.db, n)
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
			fmt.Fprintf(w, " (%s)", termLine(o.LastError)) // a remote server's words
		}
		if o.Bounce != "" {
			fmt.Fprintf(w, ", bounced: %s", termLine(o.Bounce))
		}
		fmt.Fprintln(w)
	}
	return nil
}
