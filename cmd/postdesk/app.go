package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/postdesk/postdesk/config"
	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/desk/calendar"
	"github.com/postdesk/postdesk/mailin"
	"github.com/postdesk/postdesk/mailout"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/templates"
	"github.com/postdesk/postdesk/threading"
	"github.com/postdesk/postdesk/web"
)

// defaultConfigPath is read when -config is not given.
const defaultConfigPath = "postdesk.toml"

// app is postdesk wired from one configuration.
type app struct {
	cfg     *config.Config
	db      *store.DB
	desk    *desk.Desk
	sender  *mailout.Sender // nil when no [smtp] host is configured
	metrics *web.Metrics
	log     *slog.Logger
	now     func() time.Time
}

// appOptions are what tests and the demo change about the wiring.
type appOptions struct {
	now      func() time.Time // nil = time.Now
	random   io.Reader        // nonce source of Message-IDs; nil = crypto/rand
	logger   *slog.Logger     // nil = discard
	boundary string           // fixed MIME boundary
	// node names the outbox sender as the owner of the mail it claims
	// (mailout.Options.Node): serveNode for the daemon, flushNode for
	// `outbox flush`; "" = a name of its own for each sender.
	node string
	// noSender leaves out the outbox sender, for the commands that send
	// nothing (case, ingest, outbox list): they then need neither the SMTP
	// password file nor its CA file, which may be readable by the
	// daemon's user alone. What they queue goes out with the daemon.
	noSender bool
}

// serveNode is the daemon's claim owner: one name per host, the same after
// a restart, so that a daemon started again takes back at once what its
// killed or stopped predecessor had claimed (DESIGN §10).
func serveNode() string { return "serve@" + hostname() }

// flushNode is the claim owner of one `outbox flush`: a name of its own
// (host and process id), so that a daemon starting meanwhile does not take
// back the flush's claims.
func flushNode() string { return fmt.Sprintf("flush@%s:%d", hostname(), os.Getpid()) }

// hostname is the machine's name, "localhost" when it has none.
func hostname() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// loadConfig reads the configuration at path. When the path was not given
// and ./postdesk.toml does not exist, defaults are used so that read-only
// commands work in an empty directory.
func loadConfig(path string, given bool) (*config.Config, error) {
	if !given {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			cfg := config.DefaultConfig()
			cfg.Desk.Address = "support@postdesk.invalid"
			return cfg, nil
		}
	}
	return config.Load(path)
}

// openApp opens the database and builds the desk and the outbox sender.
func openApp(ctx context.Context, cfg *config.Config, o appOptions) (*app, error) {
	if o.now == nil {
		o.now = time.Now
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	key, err := config.LoadSecret(cfg.Desk.SecretFile)
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
	do, err := deskOptions(cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	do.IDs, do.SurveyKey, do.Now, do.Logger = ids, key, o.now, o.logger
	d, err := desk.New(db, do)
	if err != nil {
		db.Close()
		return nil, err
	}
	a := &app{cfg: cfg, db: db, desk: d, log: o.logger, now: o.now, metrics: web.NewMetrics(db, o.now, o.logger)}
	if cfg.SMTP.Host != "" && !o.noSender {
		if a.sender, err = newSender(db, cfg, o, a.metrics, d.Failed); err != nil {
			db.Close()
			return nil, err
		}
	}
	return a, nil
}

// deskOptions turns the configuration into the desk's options (all but
// the secrets, the clock and the logger).
func deskOptions(cfg *config.Config) (desk.Options, error) {
	loc, err := time.LoadLocation(cfg.Desk.Timezone)
	if err != nil {
		return desk.Options{}, fmt.Errorf("desk.timezone: %w", err)
	}
	hours, err := businessHours(cfg.BusinessHours, loc)
	if err != nil {
		return desk.Options{}, err
	}
	o := desk.Options{
		Address: cfg.Desk.Address, Tag: cfg.Desk.Tag, Agents: cfg.Desk.Agents, Notify: cfg.Desk.Notify,
		DefaultLanguage: cfg.Desk.DefaultLanguage, ReopenDays: orNever(cfg.Desk.ReopenDays),
		AutocloseDays: orNever(cfg.Desk.AutocloseDays), Contacts: cfg.Limits.Contacts,
		AttachmentsPerMessage: cfg.Limits.AttachmentsPerMessage, AttachmentBytes: cfg.Limits.AttachmentBytes,
		Targets: map[desk.Severity]time.Duration{}, DefaultPlan: cfg.Desk.DefaultPlan, Hours: hours,
		Plans: map[string]desk.Plan{}, SurveyURL: surveyURL(cfg.HTTP), AuthservID: cfg.Desk.AuthservID,
		AutorepliesPerHour: cfg.Limits.AutorepliesPerHour, NewCasesPerHour: cfg.Limits.NewCasesPerSenderPerHour,
	}
	for _, m := range cfg.Mailboxes {
		if strings.Contains(m.Username, "@") {
			o.OwnAddresses = append(o.OwnAddresses, m.Username)
		}
	}
	agentOptions(cfg, &o)
	targets := cfg.SLA.Targets()
	for _, sev := range desk.Severities() {
		o.Targets[sev] = targets[string(sev)]
	}
	for name, p := range cfg.Plans {
		o.Plans[name] = desk.Plan{MaxSeverity: desk.Severity(p.MaxSeverity), Technical: p.Technical, Contacts: p.Contacts,
			BusinessHours: p.Hours == "business", CriticalTarget: p.CriticalTarget.Duration}
	}
	for _, c := range cfg.Customers {
		dc := desk.Customer{Match: c.Match, Plan: c.Plan, Language: c.Language}
		if c.Timezone != "" {
			if dc.Location, err = time.LoadLocation(c.Timezone); err != nil {
				return desk.Options{}, fmt.Errorf("customer %s: %w", c.Match, err)
			}
		}
		o.Customers = append(o.Customers, dc)
	}
	return o, nil
}

// agentOptions sets the desk's name, comment address and the settings of
// [[agent]] and [[mailbox]] agents (DESIGN §9).
func agentOptions(cfg *config.Config, o *desk.Options) {
	o.Name = cfg.Desk.Name
	o.CommentAddress = cfg.Desk.CommentAddressOrDefault()
	if o.CommentAddress != "" { // one of ours: it never becomes a contact
		o.OwnAddresses = append(o.OwnAddresses, o.CommentAddress)
	}
	for _, a := range cfg.Agents {
		o.AgentSettings = append(o.AgentSettings, desk.Agent{Address: a.Address, Name: a.Name, Notify: a.Notify})
	}
	for _, m := range cfg.Mailboxes {
		if len(m.Agents) > 0 {
			if o.MailboxAgents == nil {
				o.MailboxAgents = map[string][]string{}
			}
			o.MailboxAgents[m.Name] = slices.Clone(m.Agents)
		}
	}
}

// orNever maps a configured day count to the desk's: in the file 0 means
// "never" (reopen_days, autoclose_days, as config.example.toml documents),
// while a zero desk option means its default; so 0 becomes desk.Never. The
// defaults themselves reach the file through config.DefaultConfig, which
// takes them from desk.DefaultOptions.
func orNever(days int) int {
	if days == 0 {
		return desk.Never
	}
	return days
}

// businessHours converts [business_hours] for the desk.
func businessHours(b config.BusinessHoursConfig, loc *time.Location) (calendar.Hours, error) {
	start, err := config.ParseClock(b.Start)
	if err != nil {
		return calendar.Hours{}, fmt.Errorf("business_hours.start: %w", err)
	}
	end, err := config.ParseClock(b.End)
	if err != nil {
		return calendar.Hours{}, fmt.Errorf("business_hours.end: %w", err)
	}
	h := calendar.Hours{Start: start, End: end, Location: loc, Holidays: map[string]bool{}}
	for _, d := range b.Days {
		i := slices.Index(config.Weekdays(), strings.ToLower(d))
		if i < 0 {
			return calendar.Hours{}, fmt.Errorf("business_hours.days: unknown day %q", d)
		}
		h.Days[i] = true
	}
	for _, day := range b.Holidays {
		h.Holidays[day] = true
	}
	return h, nil
}

// surveyURL is the base of survey links: public_url, else the listener.
func surveyURL(h config.HTTPConfig) string {
	base := h.PublicURL
	if base == "" {
		if h.Listen == "" {
			return ""
		}
		base = "http://" + h.Listen
	}
	return strings.TrimRight(base, "/") + "/survey/"
}

// newSender builds the outbox sender of the configured SMTP server.
func newSender(db *store.DB, cfg *config.Config, o appOptions, obs mailout.Observer,
	onFailure func(*store.Tx, *store.OutboxItem, string) error) (*mailout.Sender, error) {
	tpl, err := templates.New("")
	if err != nil {
		return nil, err
	}
	password, err := config.SecretValue(cfg.SMTP.Password, cfg.SMTP.PasswordFile)
	if err != nil {
		return nil, err
	}
	var roots *x509.CertPool // nil: the system roots
	if cfg.SMTP.TLSCAFile != "" {
		if roots, err = config.LoadCAFile(cfg.SMTP.TLSCAFile); err != nil {
			return nil, fmt.Errorf("smtp: %w", err)
		}
	}
	return mailout.New(db, mailout.Options{
		From: cfg.Desk.Address, Name: cfg.Desk.Name, Host: cfg.SMTP.Host, Port: cfg.SMTP.Port,
		TLS: cfg.SMTP.TLS, RootCAs: roots, Username: cfg.SMTP.Username, Password: password,
		Templates: tpl, Now: o.now, Logger: o.logger, Boundary: o.boundary, Observer: obs,
		OnFailure: onFailure, Helo: cfg.SMTP.Helo, Node: o.node, RetryFirst: cfg.SMTP.RetryFirst.Duration,
		RetryMax: cfg.SMTP.RetryMax.Duration, GiveUpAfter: cfg.SMTP.GiveUpAfter.Duration,
	})
}

func (a *app) Close() error { return a.db.Close() }

// withApp loads the configuration, opens the app, runs fn and closes it.
func withApp(ctx context.Context, load func() (*config.Config, error), o appOptions, fn func(*app) error) error {
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
	in := &mailin.Intake{Desk: a.desk, MaxBytes: a.cfg.Limits.MessageBytes, AttachmentBytes: a.cfg.Limits.AttachmentBytes,
		TextBytes: a.cfg.Limits.TextBytes}
	if a.sender != nil {
		in.Desk = kicking{Desk: a.desk, kick: a.sender.Kick}
	}
	if mailbox == "" && len(a.cfg.Mailboxes) > 0 {
		mailbox = a.cfg.Mailboxes[0].Name
	}
	if mailbox == "" {
		return in, nil
	}
	for _, m := range a.cfg.Mailboxes {
		if m.Name == mailbox {
			in.Route, in.Via = m.CaseType, m.Name
			return in, nil
		}
	}
	return nil, fmt.Errorf("%w: no [[mailbox]] named %q", errUsage, mailbox)
}

// kicking wakes the outbox sender after every decision the desk records,
// so a confirmation leaves within moments of the mail's arrival.
type kicking struct {
	*desk.Desk
	kick func()
}

// Receive records the decision, then wakes the sender.
func (k kicking) Receive(ctx context.Context, in *desk.Inbound) (desk.Result, error) {
	res, err := k.Desk.Receive(ctx, in)
	if err == nil {
		k.kick()
	}
	return res, err
}

// TooLarge records an oversize mail (and its refusal), then wakes the
// sender.
func (k kicking) TooLarge(ctx context.Context, in *desk.Inbound, size, limit int64) (desk.Result, error) {
	res, err := k.Desk.TooLarge(ctx, in, size, limit)
	if err == nil {
		k.kick()
	}
	return res, err
}

var _ mailin.Receiver = kicking{}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return "localhost"
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
func configFlag(fs *flag.FlagSet) func() (*config.Config, error) {
	path := fs.String("config", defaultConfigPath, "configuration file")
	return func() (*config.Config, error) {
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "config" })
		return loadConfig(*path, given)
	}
}
