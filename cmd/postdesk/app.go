package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/mailin"
	"github.com/postdesk/postdesk/mailout"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/templates"
	"github.com/postdesk/postdesk/threading"
)

// defaultConfigPath is read when -config is not given.
const defaultConfigPath = "postdesk.toml"

// app is postdesk wired from one configuration.
type app struct {
	cfg    *Config
	db     *store.DB
	desk   *desk.Desk
	sender *mailout.Sender // nil when no [smtp] host is configured
	log    *slog.Logger
	now    func() time.Time
}

// appOptions are what tests and the demo change about the wiring.
type appOptions struct {
	now      func() time.Time // nil = time.Now
	random   io.Reader        // nonce source of Message-IDs; nil = crypto/rand
	logger   *slog.Logger     // nil = discard
	boundary string           // fixed MIME boundary
}

// loadConfig reads the configuration at path. When the path was not given
// and ./postdesk.toml does not exist, defaults are used so that read-only
// commands work in an empty directory.
func loadConfig(path string, given bool) (*Config, error) {
	if !given {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			cfg := DefaultConfig()
			cfg.Desk.Address = "support@postdesk.invalid"
			return cfg, nil
		}
	}
	return LoadConfig(path)
}

// openApp opens the database and builds the desk and the outbox sender.
func openApp(ctx context.Context, cfg *Config, o appOptions) (*app, error) {
	if o.now == nil {
		o.now = time.Now
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	key, err := loadSecret(cfg.Desk.SecretFile)
	if err != nil {
		return nil, err
	}
	ids, err := threading.NewIDs(key, domainOf(cfg.Desk.Address), o.random)
	if err != nil {
		return nil, fmt.Errorf("message ids: %w", err)
	}
	db, err := store.Open(ctx, cfg.Desk.Database)
	if err != nil {
		return nil, err
	}
	reopen := cfg.Desk.ReopenDays
	if reopen == 0 {
		reopen = -1
	}
	var own []string
	for _, m := range cfg.Mailboxes {
		if strings.Contains(m.Username, "@") {
			own = append(own, m.Username)
		}
	}
	d, err := desk.New(db, desk.Options{
		Address: cfg.Desk.Address, OwnAddresses: own, Tag: cfg.Desk.Tag,
		Agents: cfg.Desk.Agents, Notify: cfg.Desk.Notify, DefaultLanguage: cfg.Desk.DefaultLanguage,
		ReopenDays: reopen, Contacts: cfg.Limits.Contacts,
		AttachmentsPerMessage: cfg.Limits.AttachmentsPerMessage, AttachmentBytes: cfg.Limits.AttachmentBytes,
		Targets: cfg.SLA.Targets(), IDs: ids, Now: o.now, Logger: o.logger,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	a := &app{cfg: cfg, db: db, desk: d, log: o.logger, now: o.now}
	if cfg.SMTP.Host != "" {
		if a.sender, err = newSender(db, cfg, o); err != nil {
			db.Close()
			return nil, err
		}
	}
	return a, nil
}

// newSender builds the outbox sender of the configured SMTP server.
func newSender(db *store.DB, cfg *Config, o appOptions) (*mailout.Sender, error) {
	tpl, err := templates.New("")
	if err != nil {
		return nil, err
	}
	password, err := secretValue(cfg.SMTP.Password, cfg.SMTP.PasswordFile)
	if err != nil {
		return nil, err
	}
	return mailout.New(db, mailout.Options{
		From: cfg.Desk.Address, Name: cfg.Desk.Name, Host: cfg.SMTP.Host, Port: cfg.SMTP.Port,
		TLS: cfg.SMTP.TLS, Username: cfg.SMTP.Username, Password: password,
		Templates: tpl, Now: o.now, Logger: o.logger, Boundary: o.boundary,
	})
}

func (a *app) Close() error { return a.db.Close() }

// withApp loads the configuration, opens the app, runs fn and closes it.
func withApp(ctx context.Context, load func() (*Config, error), o appOptions, fn func(*app) error) error {
	cfg, err := load()
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, o)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}

// intake returns the pipeline for mail arriving on the named mailbox ("" =
// the first configured one; with none, technical cases).
func (a *app) intake(mailbox string) (*mailin.Intake, error) {
	in := &mailin.Intake{Desk: a.desk, MaxBytes: a.cfg.Limits.MessageBytes}
	if mailbox == "" && len(a.cfg.Mailboxes) > 0 {
		mailbox = a.cfg.Mailboxes[0].Name
	}
	if mailbox == "" {
		return in, nil
	}
	for _, m := range a.cfg.Mailboxes {
		if m.Name == mailbox {
			in.Route = m.CaseType
			return in, nil
		}
	}
	return nil, fmt.Errorf("%w: no [[mailbox]] named %q", errUsage, mailbox)
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return "localhost"
}

// loadSecret reads the HMAC key of our Message-IDs, creating the file with a
// fresh random key (mode 0600) when it does not exist.
func loadSecret(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) < 16 {
			return nil, fmt.Errorf("secret file %s: key shorter than 16 bytes", path)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create secret file: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadSecret(path) // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("create secret file: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secret file: %w", err)
	}
	return key, f.Close()
}

// secretValue is a password given inline or in a file (trailing newline
// removed).
func secretValue(inline, file string) (string, error) {
	if file == "" {
		return inline, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read password file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args, allowing flags after positional arguments, and
// checks that exactly npos positional arguments remain (-1: any number).
func parseFlags(fs *flag.FlagSet, args []string, npos int) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if npos >= 0 && len(pos) != npos {
		return fmt.Errorf("%w: %s takes %d argument(s), got %d", errUsage, fs.Name(), npos, len(pos))
	}
	return fs.Parse(pos) // leaves fs.Args() = the positional arguments
}

// configFlag adds -config to fs and returns a function that loads it.
func configFlag(fs *flag.FlagSet) func() (*Config, error) {
	path := fs.String("config", defaultConfigPath, "configuration file")
	return func() (*Config, error) {
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "config" })
		return loadConfig(*path, given)
	}
}
