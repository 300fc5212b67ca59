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
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/postdesk/postdesk/caseview"
	"github.com/postdesk/postdesk/desk"
)

// writeJSON prints v as indented JSON, with no HTML escaping.
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
		status := fs.String("status", "all", orList(statusChoices()))
		asJSON := fs.Bool("json", false, "JSON output")
		run = func(a *app) error { return c.caseList(ctx, a, *status, *asJSON) }
		if err := parseFlags(fs, args, 0); err != nil {
			return err
		}
		if choices := statusChoices(); !slices.Contains(choices, *status) {
			return fmt.Errorf("%w: -status must be %s", errUsage, orList(choices))
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
		if *from == "" {
			return fmt.Errorf("%w: case %s needs -from ADDR", errUsage, sub)
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
	return withApp(ctx, load, appOptions{noSender: true}, run)
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

// statusChoices returns what case list -status accepts: the name of each of
// desk.Statuses, then "all".
func statusChoices() []string {
	var choices []string
	for _, st := range desk.Statuses() {
		choices = append(choices, string(st))
	}
	return append(choices, "all")
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// caseList prints the cases with status (one of statusChoices), as JSON or
// as a table.
func (c *cli) caseList(ctx context.Context, a *app, status string, asJSON bool) error {
	out, err := caseview.List(ctx, a.db, status)
	if err != nil {
		return err
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
