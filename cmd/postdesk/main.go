// Command postdesk is an email-driven helpdesk daemon: it turns mail to a
// support address into cases in SQLite, mails confirmations and agents'
// answers, and lets agents and testers work cases from the command line.
//
// This file only parses the command line and dispatches; the wiring is in
// app.go and the subcommands in their own files.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/postdesk/postdesk/config"
)

// Exit statuses (sysexits).
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitTempErr = 75
)

const usage = `usage:
  postdesk serve   [-config FILE]                 the daemon (IMAP in, SMTP out, HTTP)
  postdesk demo    [-dir DIR]                      whole story on embedded IMAP+SMTP, no setup (-dir keeps its database)
  postdesk ingest  [-config FILE] [-dry-run] [-json] [-mailbox NAME] FILE.eml|DIR|-
  postdesk case list  [-status open|pending|closed|all] [-json]
  postdesk case show  N [-json]
  postdesk case reply N -from ADDR [-file F|-] [-attach F]...
  postdesk case note  N -from ADDR [-file F|-]
  postdesk case close N [-from ADDR] [-resolution TEXT]
  postdesk case set   N severity=S | status=S | assignee=ADDR [-from ADDR]
  postdesk case take  N -from ADDR
  postdesk case release N MESSAGE_ID [-contact] [-from ADDR]
  postdesk outbox list [-json] | postdesk outbox flush [-all]
  postdesk config check [-config FILE] | postdesk config example
Every command but demo and config example takes -config FILE (default ./postdesk.toml).
`

// errUsage marks a command line that does not parse; it exits 2.
var errUsage = errors.New("usage")

// tempError marks a failure worth retrying later; it exits 75.
type tempError struct{ err error }

func (e tempError) Error() string { return e.err.Error() }
func (e tempError) Unwrap() error { return e.err }

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	go stopOnSignals(cancel)
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// stopOnSignals ends the context on the first SIGTERM or SIGINT, so that the
// daemon stops taking mail, finishes the message in hand and drains the
// outbox; a second signal exits at once.
func stopOnSignals(cancel context.CancelFunc) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	<-sigs
	cancel()
	<-sigs
	fmt.Fprintln(os.Stderr, "postdesk: second signal: exiting now")
	os.Exit(exitError)
}

// cli is what a subcommand reads and writes.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	err := c.dispatch(ctx, args)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		if msg := err.Error(); msg != errUsage.Error() {
			fmt.Fprintln(stderr, "postdesk:", msg)
		}
		fmt.Fprint(stderr, usage)
		return exitUsage
	default:
		fmt.Fprintln(stderr, "postdesk:", err)
		if _, ok := errors.AsType[tempError](err); ok {
			return exitTempErr
		}
		return exitError
	}
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return c.serve(ctx, rest)
	case "demo":
		return c.demo(ctx, rest)
	case "ingest":
		return c.ingest(ctx, rest)
	case "case":
		return c.caseCmd(ctx, rest)
	case "outbox":
		return c.outboxCmd(ctx, rest)
	case "config":
		return c.configCmd(rest)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usage)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

func (c *cli) configCmd(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: config needs check or example", errUsage)
	}
	switch args[0] {
	case "example":
		_, err := c.stdout.Write(config.Example())
		return err
	case "check":
		fs := newFlags("config check")
		path := fs.String("config", defaultConfigPath, "configuration file")
		if err := parseFlags(fs, args[1:], 0); err != nil {
			return err
		}
		if _, err := config.Load(*path); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s: ok\n", *path)
		return nil
	}
	return fmt.Errorf("%w: unknown config command %q", errUsage, args[0])
}
