package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/postdesk/postdesk/mailin"
)

// serve runs the daemon: one intake loop per [[mailbox]] and the outbox
// sender, until a signal ends the context.
func (c *cli) serve(ctx context.Context, args []string) error {
	fs := newFlags("serve")
	load := configFlag(fs)
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if len(cfg.Mailboxes) == 0 {
		return fmt.Errorf("serve: no [[mailbox]] configured")
	}
	logger := slog.New(slog.NewTextHandler(c.stderr, nil))
	a, err := openApp(ctx, cfg, appOptions{logger: logger})
	if err != nil {
		return err
	}
	defer a.Close()
	var pollers []*mailin.Poller
	for _, m := range cfg.Mailboxes {
		p, err := a.poller(m)
		if err != nil {
			return err
		}
		pollers = append(pollers, p)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(pollers)+1)
	for _, p := range pollers {
		wg.Go(func() { errs <- p.Run(ctx) })
	}
	if a.sender != nil {
		wg.Go(func() { errs <- a.sender.Run(ctx) })
	} else {
		logger.Warn("no [smtp] host: mail is queued, not sent")
	}
	logger.Info("serving", "mailboxes", len(pollers))
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// poller builds the intake loop of one configured mailbox.
func (a *app) poller(m MailboxConfig) (*mailin.Poller, error) {
	in, err := a.intake(m.Name)
	if err != nil {
		return nil, err
	}
	password, err := secretValue(m.Password, m.PasswordFile)
	if err != nil {
		return nil, fmt.Errorf("mailbox %s: %w", m.Name, err)
	}
	o := mailin.MailboxOptions{
		Name: m.Name, Addr: fmt.Sprintf("%s:%d", m.Host, m.Port), TLS: m.TLS,
		Username: m.Username, Password: password, Folder: m.Folder, Processed: m.Processed,
		Quarantine: m.Quarantine, PollInterval: m.PollInterval.Duration, Logger: a.log,
	}
	if cmd := m.OAuth2TokenCommand; cmd != "" {
		o.Token = func(ctx context.Context) (string, error) { return tokenFromCommand(ctx, cmd) }
	}
	return mailin.NewPoller(o, in), nil
}

// tokenFromCommand runs the configured command (through sh -c) and returns
// its first line of output: an OAuth2 access token.
func tokenFromCommand(ctx context.Context, command string) (string, error) {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("oauth2_token_command: %w", err)
	}
	token, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if token == "" {
		return "", fmt.Errorf("oauth2_token_command printed no token")
	}
	return token, nil
}
