package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/postdesk/postdesk/config"
	"github.com/postdesk/postdesk/mailin"
	"github.com/postdesk/postdesk/mailout"
	"github.com/postdesk/postdesk/web"
)

// drainTimeout bounds the last outbox flush after a stop signal.
const drainTimeout = 10 * time.Second

// serve runs the daemon: one intake loop per [[mailbox]], the outbox
// sender and the HTTP listener, until the context ends (the first SIGTERM).
// Then intake stops after the message in hand, the outbox is drained for up
// to drainTimeout, and serve returns nil.
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
	a, err := openApp(ctx, cfg, appOptions{logger: logger, node: serveNode()})
	if err != nil {
		return err
	}
	defer a.Close()
	d := &daemonRun{app: a, log: logger}
	return d.run(ctx)
}

// daemonRun is one run of `postdesk serve`.
type daemonRun struct {
	app     *app
	log     *slog.Logger
	pollers map[string]*mailin.Poller
	// kick wakes the outbox sender when another process queued mail
	// (watchOutbox); nil = the sender's Kick.
	kick func()
}

func (d *daemonRun) run(ctx context.Context) error {
	d.pollers = map[string]*mailin.Poller{}
	for _, m := range d.app.cfg.Mailboxes {
		p, err := d.app.poller(m)
		if err != nil {
			return err
		}
		d.pollers[m.Name] = p
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(d.pollers)+3)
	if listen := d.app.cfg.HTTP.Listen; listen != "" {
		h := web.SurveyRoutes(web.NewHandler(d.app.webOptions(d.pollers)), d.app.desk, d.app.log)
		_, wait, err := web.Serve(ctx, listen, h, d.log, d.app.metrics.Panicked) // it logs the address
		if err != nil {
			return err
		}
		wg.Go(func() { errs <- wait() })
	}
	for _, p := range d.pollers {
		wg.Go(func() { errs <- p.Run(ctx) })
	}
	wg.Go(func() { d.tick(ctx) })
	if d.app.sender != nil {
		if d.kick == nil {
			d.kick = d.app.sender.Kick
		}
		wg.Go(func() { errs <- d.app.sender.Run(ctx) })
		wg.Go(func() { d.watchOutbox(ctx) })
	} else {
		d.log.Warn("no [smtp] host: mail is queued, not sent")
	}
	d.log.Info("serving", "mailboxes", len(d.pollers))
	notify(d.log, daemon.SdNotifyReady)
	d.watchdog(ctx)
	notify(d.log, daemon.SdNotifyStopping)
	d.log.Info("stopping: finishing the message in hand")
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		if err != nil {
			all = append(all, err)
		}
	}
	d.drain()
	d.log.Info("stopped")
	return errors.Join(all...)
}

// watchdog pings systemd's watchdog while the database answers, until ctx
// ends. Without a watchdog it just waits.
func (d *daemonRun) watchdog(ctx context.Context) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval == 0 {
		<-ctx.Done()
		return
	}
	tick := time.NewTicker(interval / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			pctx, cancel := context.WithTimeout(ctx, interval/3)
			err := d.app.db.Ping(pctx)
			cancel()
			if err != nil {
				d.log.Error("database does not answer; not pinging the watchdog", "err", err)
				continue
			}
			notify(d.log, daemon.SdNotifyWatchdog)
		}
	}
}

// tickEvery is how often the desk's clock rules run (escalation, autoclose).
const tickEvery = time.Minute

// tick runs the desk's clock rules every tickEvery until ctx ends, waking
// the sender when they queued mail.
func (d *daemonRun) tick(ctx context.Context) {
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	for {
		st, err := d.app.desk.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.Error("desk tick", "err", err)
		}
		if st.Escalated+st.Closed > 0 {
			d.log.Info("desk tick", "escalated", st.Escalated, "closed", st.Closed)
			if d.app.sender != nil {
				d.app.sender.Kick()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watchRetry is how long watchOutbox waits after the database could not be
// watched before it tries again.
const watchRetry = 5 * time.Second

// watchOutbox wakes the sender (d.kick) when another process (`postdesk
// case reply` while the daemon runs) has committed and mail is due, so that
// it leaves within a second (DESIGN §10): it watches SQLite's data_version
// every store.DefaultWatchEvery until ctx ends. It also wakes the sender
// once it has started watching, when mail is due.
func (d *daemonRun) watchOutbox(ctx context.Context) {
	for {
		err := d.app.db.WatchChanges(ctx, 0, func() { d.kickIfDue(ctx) })
		if ctx.Err() != nil {
			return
		}
		d.log.Error("watching the database for mail queued by other processes", "err", err)
		t := time.NewTimer(watchRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// kickIfDue wakes the sender when a queued mail is due now. The commits of
// this process change data_version too, the sender's own among them:
// waking it only for due mail keeps an idle daemon idle.
func (d *daemonRun) kickIfDue(ctx context.Context) {
	at, ok, err := d.app.db.NextDue(ctx)
	if err != nil || ok && !at.After(d.app.now()) {
		d.kick()
	}
}

// drain sends what the outbox holds, for at most drainTimeout.
func (d *daemonRun) drain() {
	if d.app.sender == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	st, err := d.app.sender.Flush(ctx)
	d.log.Info("outbox drained", "sent", st.Sent, "retrying", st.Retried, "failed", st.Failed, "err", err)
}

// notify tells systemd about the daemon's state; outside systemd it does
// nothing.
func notify(log *slog.Logger, state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		log.Warn("sd_notify", "state", state, "err", err)
	}
}

// poller builds the intake loop of one configured mailbox.
func (a *app) poller(m config.MailboxConfig) (*mailin.Poller, error) {
	in, err := a.intake(m.Name)
	if err != nil {
		return nil, err
	}
	password, err := config.SecretValue(m.Password, m.PasswordFile)
	if err != nil {
		return nil, fmt.Errorf("mailbox %s: %w", m.Name, err)
	}
	o := mailin.MailboxOptions{
		Name: m.Name, Addr: net.JoinHostPort(m.Host, strconv.Itoa(m.Port)), TLS: m.TLS,
		Username: m.Username, Password: password, Folder: m.Folder, Processed: m.Processed,
		Quarantine: m.Quarantine, PollInterval: m.PollInterval.Duration, Logger: a.log, Observer: a.metrics,
	}
	if m.TLSCAFile != "" {
		roots, err := config.LoadCAFile(m.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("mailbox %s: %w", m.Name, err)
		}
		o.TLSConfig = &tls.Config{RootCAs: roots}
	}
	if cmd := m.OAuth2TokenCommand; cmd != "" {
		o.Token = mailin.TokenCommand{Command: cmd}.Token
	}
	return mailin.NewPoller(o, in), nil
}

// web's metrics observe the intake and the sender, and /healthz reads the
// pollers; web does not import mailin or mailout, so they are checked here.
var (
	_ mailin.Observer  = (*web.Metrics)(nil)
	_ mailout.Observer = (*web.Metrics)(nil)
	_ web.PollState    = (*mailin.Poller)(nil)
)

// minStale is the shortest time without a successful poll after which a
// mailbox is unhealthy (staleAfter).
const minStale = 2 * time.Minute

// webOptions are the HTTP listener's options from the configuration, with
// pollers, the intake loops by mailbox name.
func (a *app) webOptions(pollers map[string]*mailin.Poller) web.Options {
	return web.Options{
		DB: a.db, Mailboxes: pollStates(pollers), Metrics: a.metrics, Now: a.now,
		Limits:        web.Limits{Stale: staleAfter(a.cfg.Mailboxes), OutboxAge: a.cfg.HTTP.HealthOutboxAge.Duration},
		MetricsPublic: a.cfg.HTTP.MetricsPublic,
	}
}

// pollStates gives web the pollers of the configured mailboxes, by name.
func pollStates(pollers map[string]*mailin.Poller) map[string]web.PollState {
	out := make(map[string]web.PollState, len(pollers))
	for name, p := range pollers {
		out[name] = p
	}
	return out
}

// staleAfter is how long a mailbox may go without a successful poll before
// /healthz calls it unhealthy: three times the longest poll interval (an
// IDLE lasts up to one interval, and the poll after it takes time too), and
// at least minStale.
func staleAfter(mailboxes []config.MailboxConfig) time.Duration {
	d := minStale
	for _, m := range mailboxes {
		d = max(d, 3*m.PollInterval.Duration)
	}
	return d
}
