package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/store"
)

// caseJSON is a case as `case show -json` prints it (DESIGN §5). `case list
// -json` leaves out messages, events and outbox.
type caseJSON struct {
	ID               int64             `json:"id"`
	Subject          string            `json:"subject"`
	Status           string            `json:"status"`
	Severity         string            `json:"severity"`
	Type             string            `json:"type"`
	Service          string            `json:"service"`
	Category         string            `json:"category"`
	Language         string            `json:"language"`
	Plan             string            `json:"plan"`
	Requester        string            `json:"requester"`
	Assignee         string            `json:"assignee"`
	CreatedAt        time.Time         `json:"created_at"`
	FirstResponseDue *time.Time        `json:"first_response_due"`
	FirstResponseAt  *time.Time        `json:"first_response_at"`
	ClosedAt         *time.Time        `json:"closed_at"`
	Rating           *int              `json:"rating"`
	RelatedCase      int64             `json:"related_case"`
	Participants     []participantJSON `json:"participants"`
	Messages         []messageJSON     `json:"messages,omitempty"`
	Events           []eventJSON       `json:"events,omitempty"`
	Outbox           []outboxJSON      `json:"outbox,omitempty"`
}

type participantJSON struct {
	Address string `json:"address"`
	Role    string `json:"role"`
}

type messageJSON struct {
	ID                  int64            `json:"id"`
	Direction           string           `json:"direction"`
	Kind                string           `json:"kind"`
	From                string           `json:"from"`
	To                  []string         `json:"to"`
	Cc                  []string         `json:"cc"`
	Subject             string           `json:"subject"`
	MessageID           string           `json:"message_id"`
	Date                *time.Time       `json:"date"`
	Text                string           `json:"text"`
	NewText             string           `json:"new_text"`
	Attachments         []attachmentJSON `json:"attachments"`
	RejectedAttachments []rejectedJSON   `json:"rejected_attachments"`
}

type attachmentJSON struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

type rejectedJSON struct {
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	Reason   string `json:"reason"`
}

type eventJSON struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// caseCmd runs `postdesk case ...`.
func (c *cli) caseCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: case needs list, show, reply, note, close, set, take or release", errUsage)
	}
	sub, args := args[0], args[1:]
	fs := newFlags("case " + sub)
	load := configFlag(fs)
	var run func(*app) error
	switch sub {
	case "list":
		status := fs.String("status", "all", "open, pending, closed or all")
		asJSON := fs.Bool("json", false, "JSON output")
		run = func(a *app) error { return c.caseList(ctx, a, *status, *asJSON) }
		if err := parseFlags(fs, args, 0); err != nil {
			return err
		}
	case "show":
		asJSON := fs.Bool("json", false, "JSON output")
		run = func(a *app) error { return c.caseShow(ctx, a, caseArg(fs), *asJSON) }
		if err := parseFlags(fs, args, 1); err != nil {
			return err
		}
	case "reply", "note":
		from := fs.String("from", "", "agent address")
		file := fs.String("file", "-", "text file, - for standard input")
		var attach multiFlag
		if sub == "reply" {
			fs.Var(&attach, "attach", "file to attach (repeatable)")
		}
		if err := parseFlags(fs, args, 1); err != nil {
			return err
		}
		run = func(a *app) error { return c.caseWrite(ctx, a, sub, caseArg(fs), *from, *file, attach) }
	case "close":
		from := fs.String("from", "", "who closes it")
		resolution := fs.String("resolution", "", "how it was solved")
		if err := parseFlags(fs, args, 1); err != nil {
			return err
		}
		run = func(a *app) error { return a.desk.Close(ctx, caseArg(fs), *from, *resolution) }
	case "set":
		from := fs.String("from", "", "agent address, for the audit trail")
		if err := parseFlags(fs, args, 2); err != nil {
			return err
		}
		key, value, ok := strings.Cut(fs.Arg(1), "=")
		if !ok {
			return fmt.Errorf("%w: case set N key=value", errUsage)
		}
		run = func(a *app) error { return a.desk.Set(ctx, caseArg(fs), key, value, *from) }
	case "take":
		from := fs.String("from", "", "agent address")
		if err := parseFlags(fs, args, 1); err != nil {
			return err
		}
		if *from == "" {
			return fmt.Errorf("%w: case take needs -from ADDR", errUsage)
		}
		run = func(a *app) error { return takeError(a.desk.Take(ctx, caseArg(fs), *from)) }
	case "release":
		contact := fs.Bool("contact", false, "also make the sender a contact")
		from := fs.String("from", "", "agent address; empty: the operator")
		if err := parseFlags(fs, args, 2); err != nil {
			return err
		}
		msg, err := strconv.ParseInt(fs.Arg(1), 10, 64)
		if err != nil || msg <= 0 {
			return fmt.Errorf("%w: %q is not a message id (the id of a held message in case show -json)", errUsage, fs.Arg(1))
		}
		run = func(a *app) error {
			n := caseArg(fs)
			return releaseError(a.desk.Release(ctx, n, msg, *contact, *from), n, msg)
		}
	default:
		return fmt.Errorf("%w: unknown case command %q", errUsage, sub)
	}
	if sub != "list" {
		if _, err := strconv.ParseInt(fs.Arg(0), 10, 64); err != nil {
			return fmt.Errorf("%w: %q is not a case number", errUsage, fs.Arg(0))
		}
	}
	return withApp(ctx, load, appOptions{}, run)
}

// takeError explains an error of desk.Take to the operator.
func takeError(err error) error {
	if errors.Is(err, desk.ErrNotAgent) {
		return fmt.Errorf("%w (agents are listed in desk.agents)", err)
	}
	return err
}

// releaseError explains an error of desk.Release to the operator. With
// ErrLimit the message was released but its sender is not a contact.
func releaseError(err error, n, msg int64) error {
	switch {
	case errors.Is(err, desk.ErrLimit):
		return fmt.Errorf("case %d: message %d released, but its sender was not added as a contact: %w", n, msg, err)
	case errors.Is(err, desk.ErrBadValue):
		return fmt.Errorf("%w (release takes the id of a held message, as in \"postdesk case show %d -json\")", err, n)
	case errors.Is(err, desk.ErrNotAgent):
		return fmt.Errorf("%w (agents are listed in desk.agents; leave out -from to release as the operator)", err)
	}
	return err
}

func caseArg(fs interface{ Arg(int) string }) int64 {
	n, _ := strconv.ParseInt(fs.Arg(0), 10, 64)
	return n
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (c *cli) caseWrite(ctx context.Context, a *app, sub string, n int64, from, file string, attach []string) error {
	if from == "" {
		return fmt.Errorf("%w: case %s needs -from ADDR", errUsage, sub)
	}
	text, err := c.readText(file)
	if err != nil {
		return err
	}
	if sub == "note" {
		return a.desk.Note(ctx, n, from, text)
	}
	var files []desk.Attachment
	for _, path := range attach {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("attach: %w", err)
		}
		ct := mime.TypeByExtension(filepath.Ext(path))
		if ct == "" {
			ct = http.DetectContentType(data)
		}
		ct, _, _ = strings.Cut(ct, ";")
		files = append(files, desk.Attachment{Filename: filepath.Base(path), ContentType: ct, Data: data})
	}
	return a.desk.AgentReply(ctx, n, from, text, files)
}

func (c *cli) readText(file string) (string, error) {
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(c.stdin)
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return "", fmt.Errorf("read text: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", fmt.Errorf("the text is empty")
	}
	return string(b), nil
}

func (c *cli) caseList(ctx context.Context, a *app, status string, asJSON bool) error {
	switch status {
	case "all", "open", "pending", "closed":
	default:
		return fmt.Errorf("%w: -status must be open, pending, closed or all", errUsage)
	}
	cases, err := a.db.Cases(ctx, status)
	if err != nil {
		return err
	}
	out := make([]caseJSON, 0, len(cases))
	for _, k := range cases {
		cj, err := caseSummary(ctx, a.db, k)
		if err != nil {
			return err
		}
		out = append(out, cj)
	}
	if asJSON {
		return writeJSON(c.stdout, out)
	}
	tw := tabwriter.NewWriter(terminal{c.stdout}, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tSTATUS\tSEVERITY\tREQUESTER\tSUBJECT")
	for _, k := range out {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", k.ID, k.Status, k.Severity, termLine(k.Requester), termLine(k.Subject))
	}
	return tw.Flush()
}

func caseSummary(ctx context.Context, db *store.DB, k *store.Case) (caseJSON, error) {
	ps, err := db.Participants(ctx, k.ID)
	if err != nil {
		return caseJSON{}, err
	}
	cj := caseJSON{
		ID: k.ID, Subject: k.Subject, Status: k.Status, Severity: k.Severity, Type: k.Type,
		Service: k.Service, Category: k.Category, Language: k.Language, Plan: k.Plan,
		Requester: k.Requester, Assignee: k.Assignee, CreatedAt: k.CreatedAt,
		FirstResponseDue: optTime(k.FirstResponseDue), FirstResponseAt: optTime(k.FirstResponseAt),
		ClosedAt: optTime(k.ClosedAt), RelatedCase: k.RelatedCase, Participants: []participantJSON{},
	}
	if r, ok, err := db.CaseRating(ctx, k.ID); err != nil {
		return caseJSON{}, err
	} else if ok {
		cj.Rating = &r
	}
	for _, p := range ps {
		if p.Role != "requester" {
			cj.Participants = append(cj.Participants, participantJSON{Address: p.Address, Role: p.Role})
		}
	}
	return cj, nil
}
