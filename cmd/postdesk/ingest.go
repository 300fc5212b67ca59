package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/postdesk/postdesk/caseview"
	"github.com/postdesk/postdesk/config"
	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/mailin"
)

// ingestLine is one line of `ingest -json`.
type ingestLine struct {
	File    string `json:"file"`
	Outcome string `json:"outcome"`
	Case    int64  `json:"case"`
	Reason  string `json:"reason"`
}

// ingest feeds .eml files through the same pipeline as IMAP intake.
func (c *cli) ingest(ctx context.Context, args []string) error {
	fs := newFlags("ingest")
	load := configFlag(fs)
	dry := fs.Bool("dry-run", false, "decide, record nothing")
	asJSON := fs.Bool("json", false, "one JSON object per message")
	mailbox := fs.String("mailbox", "", "route like this [[mailbox]]")
	if err := parseFlags(fs, args, 1); err != nil {
		return err
	}
	checked := func() (*config.Config, error) { // a bad -mailbox is refused before anything is opened
		cfg, err := load()
		if err == nil && *mailbox != "" && !slices.ContainsFunc(cfg.Mailboxes, func(m config.MailboxConfig) bool { return m.Name == *mailbox }) {
			err = fmt.Errorf("%w: no [[mailbox]] named %q", errUsage, *mailbox)
		}
		return cfg, err
	}
	return withApp(ctx, checked, appOptions{noSender: true}, func(a *app) error {
		return c.ingestFiles(ctx, a, fs.Arg(0), *mailbox, *dry, *asJSON)
	})
}

// ingestFiles processes path (a file, a directory or - for stdin) and
// prints one line per message.
func (c *cli) ingestFiles(ctx context.Context, a *app, path, mailbox string, dry, asJSON bool) error {
	in, err := a.intake(mailbox)
	if err != nil {
		return err
	}
	in.DryRun = dry
	files, err := mailin.ReadFiles(path, c.stdin, in.Limit())
	if err != nil {
		return err
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	for _, f := range files {
		res, err := c.ingestOne(ctx, in, f)
		if err != nil {
			return tempError{fmt.Errorf("%s: %w", f.Name, err)}
		}
		line := ingestLine{File: f.Name, Outcome: string(res.Outcome), Case: res.Case, Reason: res.Reason}
		if asJSON {
			if err := enc.Encode(line); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(c.stdout, "%s: %s", line.File, line.Outcome)
		if line.Case != 0 {
			fmt.Fprintf(c.stdout, " case %d", line.Case)
		}
		if line.Reason != "" {
			fmt.Fprintf(c.stdout, " (%s)", line.Reason)
		}
		fmt.Fprintln(c.stdout)
	}
	return nil
}

// ingestOne processes one file. A file over the size limit is not read: it
// stays where it is and is reported as quarantined.
func (c *cli) ingestOne(ctx context.Context, in *mailin.Intake, f mailin.File) (desk.Result, error) {
	if f.TooLarge {
		return desk.Result{Outcome: desk.Quarantined, Reason: fmt.Sprintf("larger than %d bytes; not read", in.Limit())}, nil
	}
	return in.Process(ctx, f.Raw, mailin.Source{})
}

// outboxCmd lists the outbox or sends what is due.
func (c *cli) outboxCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: outbox needs list or flush", errUsage)
	}
	fs := newFlags("outbox " + args[0])
	load := configFlag(fs)
	var asJSON, all *bool
	switch args[0] {
	case "list":
		asJSON = fs.Bool("json", false, "JSON output")
	case "flush":
		all = fs.Bool("all", false, "make every queued mail due now, those waiting for a retry too")
	default:
		return fmt.Errorf("%w: unknown outbox command %q", errUsage, args[0])
	}
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	if args[0] == "list" {
		return withApp(ctx, load, appOptions{noSender: true}, func(a *app) error { return c.outboxList(ctx, a, *asJSON) })
	}
	return withApp(ctx, load, appOptions{node: flushNode()}, func(a *app) error { return c.outboxFlush(ctx, a, *all) })
}

// outboxFlush sends the mail that is due, then returns; with all, every
// queued mail is made due first (DESIGN §10), and the line says how many
// were moved.
func (c *cli) outboxFlush(ctx context.Context, a *app, all bool) error {
	if a.sender == nil {
		return fmt.Errorf("outbox flush: no [smtp] host configured")
	}
	moved := ""
	if all {
		n, err := a.db.MakeAllDue(ctx, a.now())
		if err != nil {
			return tempError{err}
		}
		moved = fmt.Sprintf("made %d due now; ", n)
	}
	st, err := a.sender.Flush(ctx)
	if err != nil {
		return tempError{err}
	}
	fmt.Fprintf(c.stdout, "%ssent %d, retrying %d, failed %d\n", moved, st.Sent, st.Retried, st.Failed)
	return nil
}

// outboxList prints the whole outbox, as JSON or as a table.
func (c *cli) outboxList(ctx context.Context, a *app, asJSON bool) error {
	rows, err := caseview.Outbox(ctx, a.db, 0)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(c.stdout, rows)
	}
	tw := tabwriter.NewWriter(terminal{c.stdout}, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCASE\tKIND\tSTATUS\tATTEMPTS\tNEXT ATTEMPT\tTO\tLAST ERROR")
	for _, r := range rows {
		next := "-"
		if r.NextAttemptAt != nil {
			next = r.NextAttemptAt.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%d\t%s\t%s\t%s\n", r.ID, r.Case, r.Kind, r.Status, r.Attempts, next,
			strings.Join(append(append([]string{}, r.To...), r.Cc...), ","), termLine(r.LastError)) // a remote server's words
	}
	return tw.Flush()
}
