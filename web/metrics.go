package web

// The Prometheus metrics of `postdesk serve`, on a registry of their own.
// Intake and the outbox report events through their Observer interfaces;
// the outbox depth, the last successful poll of each mailbox and the
// store's checkpointer are read when Prometheus scrapes. Only this package
// imports Prometheus.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/store"
)

// scrapeTimeout bounds the database query of one scrape.
const scrapeTimeout = 5 * time.Second

// The values of the result label of postdesk_send_total.
const (
	sendSent   = "sent"   // accepted by the SMTP server
	sendRetry  = "retry"  // failed for now, queued again
	sendFailed = "failed" // given up
)

// Label values that exist from the start, so that their series read 0
// rather than missing until the first event. Others appear when seen.
var (
	knownOutcomes = desk.Outcomes()
	knownKinds    = []string{store.MailConfirmation, store.MailReply, store.MailStatus, store.MailClosed,
		store.MailRefusal, store.MailAlert, store.MailContact, store.MailNotice, store.MailTranscript}
)

// outboxStatser is what the metrics read of the outbox: *store.DB.
type outboxStatser interface {
	OutboxStats(ctx context.Context) (queued int, oldestQueued time.Time, err error)
}

// MetricsDB is what the metrics read of the store: *store.DB.
type MetricsDB interface {
	outboxStatser
	checkpointStatser
}

var _ MetricsDB = (*store.DB)(nil)

// The values of the result label of postdesk_checkpoints_total.
const (
	checkpointOK     = "ok"     // CheckpointStats.Runs
	checkpointFailed = "failed" // CheckpointStats.Failures
)

// Metrics are the daemon's Prometheus metrics. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg        *prometheus.Registry
	mails      *prometheus.CounterVec   // postdesk_mails_total{mailbox,outcome}
	processing *prometheus.HistogramVec // postdesk_processing_seconds{mailbox}
	sends      *prometheus.CounterVec   // postdesk_send_total{kind,result}
	reconnects *prometheus.CounterVec   // postdesk_imap_reconnects_total{mailbox}
	panics     *panicCounter            // postdesk_panics_total{where}
	state      *stateCollector          // outbox, last polls, checkpoints: read at scrape time
	exposition http.Handler             // serves reg
}

// NewMetrics returns the metrics of a daemon whose outbox is in db; now is
// the clock of the outbox age (nil = time.Now); errors reading db during a
// scrape go to log (nil = discard), and the scrape goes on without the
// outbox gauges.
func NewMetrics(db MetricsDB, now func() time.Time, log *slog.Logger) *Metrics {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		mails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postdesk_mails_total",
			Help: "Inbound mails handled (moved out of the IMAP folder), by mailbox and outcome.",
		}, []string{"mailbox", "outcome"}),
		processing: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "postdesk_processing_seconds",
			Help: "Time from the end of an inbound mail's download to the end of its move out of the folder.",
			// 5 ms to about 40 s: a 25 MiB mail with attachments is slow.
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"mailbox"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postdesk_send_total",
			Help: "Outbound mail attempts by kind and result: sent, retry (failed for now) or failed (given up).",
		}, []string{"kind", "result"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postdesk_imap_reconnects_total",
			Help: "IMAP logins that replaced a dropped connection or followed a failed attempt, by mailbox.",
		}, []string{"mailbox"}),
		panics: newPanicCounter(db),
		state:  newStateCollector(db, now),
	}
	for _, kind := range knownKinds {
		for _, result := range []string{sendSent, sendRetry, sendFailed} {
			m.sends.WithLabelValues(kind, result)
		}
	}
	m.reg.MustRegister(m.mails, m.processing, m.sends, m.reconnects, m.panics, m.state,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.exposition = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{log},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg, // promhttp_metric_handler_errors_total
	})
	return m
}

// watchMailboxes makes the metrics report the last successful poll of each
// mailbox (postdesk_last_poll_timestamp_seconds), replacing an earlier set,
// and gives each mailbox's series their zero values.
func (m *Metrics) watchMailboxes(mailboxes map[string]PollState) {
	m.state.watch(mailboxes)
	for name := range mailboxes {
		for _, outcome := range knownOutcomes {
			m.mails.WithLabelValues(name, string(outcome))
		}
		m.processing.WithLabelValues(name)
		m.reconnects.WithLabelValues(name)
	}
}

// handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) handler() http.Handler { return m.exposition }

// Processed counts one handled inbound mail (mailin.Observer).
func (m *Metrics) Processed(mailbox string, outcome desk.Outcome, d time.Duration) {
	m.mails.WithLabelValues(mailbox, string(outcome)).Inc()
	m.processing.WithLabelValues(mailbox).Observe(d.Seconds())
}

// Reconnected counts one IMAP reconnect (mailin.Observer).
func (m *Metrics) Reconnected(mailbox string) {
	m.reconnects.WithLabelValues(mailbox).Inc()
}

// Sent counts one outbound mail accepted by the SMTP server (mailout.Observer).
func (m *Metrics) Sent(kind string) {
	m.sends.WithLabelValues(kind, sendSent).Inc()
}

// Failed counts one outbound mail not sent: retried later, or given up when
// permanent (mailout.Observer).
func (m *Metrics) Failed(kind string, permanent bool) {
	result := sendRetry
	if permanent {
		result = sendFailed
	}
	m.sends.WithLabelValues(kind, result).Inc()
}

// stateCollector reads at scrape time what is kept elsewhere: the outbox in
// the database, each mailbox's last successful poll and the checkpointer's
// counts.
type stateCollector struct {
	db       MetricsDB
	now      func() time.Time
	queued   *prometheus.Desc
	age      *prometheus.Desc
	lastPoll *prometheus.Desc
	wal      checkpointDescs

	mu        sync.Mutex
	mailboxes map[string]PollState
}

func newStateCollector(db MetricsDB, now func() time.Time) *stateCollector {
	return &stateCollector{
		db:  db,
		now: now,
		queued: prometheus.NewDesc("postdesk_outbox_queued",
			"Outbound mails waiting to be sent, including those waiting for a retry.", nil, nil),
		age: prometheus.NewDesc("postdesk_outbox_oldest_age_seconds",
			"Age of the oldest queued outbound mail since it was enqueued; 0 when none is queued.", nil, nil),
		lastPoll: prometheus.NewDesc("postdesk_last_poll_timestamp_seconds",
			"Unix time of the last successful poll or IDLE of each mailbox; 0 before the first.",
			[]string{"mailbox"}, nil),
		wal: newCheckpointDescs(),
	}
}

func (c *stateCollector) watch(mailboxes map[string]PollState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mailboxes = mailboxes
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.queued
	ch <- c.age
	ch <- c.lastPoll
	c.wal.describe(ch)
}

// Collect implements prometheus.Collector. A database that does not answer
// leaves the outbox gauges out of the scrape, as an error.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	queued, oldest, err := c.db.OutboxStats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.queued, err)
	} else {
		age := 0.0
		if !oldest.IsZero() {
			age = max(c.now().Sub(oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(queued))
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
	}
	c.wal.collect(ch, c.db.Checkpoints())
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, p := range c.mailboxes {
		ts := 0.0
		if last := p.LastSuccess(); !last.IsZero() {
			ts = float64(last.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(c.lastPoll, prometheus.GaugeValue, ts, name)
	}
}

// checkpointDescs are the series of the store's checkpointer
// (store.CheckpointStats).
type checkpointDescs struct {
	walBytes, total, lastSuccess *prometheus.Desc
}

func newCheckpointDescs() checkpointDescs {
	return checkpointDescs{
		walBytes: prometheus.NewDesc("postdesk_wal_bytes",
			"Length of the SQLite write-ahead log when the checkpointer last looked; it grows when checkpoints fail.",
			nil, nil),
		total: prometheus.NewDesc("postdesk_checkpoints_total",
			"Background WAL checkpoints by result: ok, or failed (an error or a recovered panic).",
			[]string{"result"}, nil),
		lastSuccess: prometheus.NewDesc("postdesk_checkpoint_last_success_timestamp_seconds",
			"Unix time of the last successful WAL checkpoint; 0 before the first.", nil, nil),
	}
}

func (d checkpointDescs) describe(ch chan<- *prometheus.Desc) {
	ch <- d.walBytes
	ch <- d.total
	ch <- d.lastSuccess
}

func (d checkpointDescs) collect(ch chan<- prometheus.Metric, s store.CheckpointStats) {
	last := 0.0
	if !s.LastSuccess.IsZero() {
		last = float64(s.LastSuccess.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(d.walBytes, prometheus.GaugeValue, float64(s.WALBytes))
	ch <- prometheus.MustNewConstMetric(d.total, prometheus.CounterValue, float64(s.Runs), checkpointOK)
	ch <- prometheus.MustNewConstMetric(d.total, prometheus.CounterValue, float64(s.Failures), checkpointFailed)
	ch <- prometheus.MustNewConstMetric(d.lastSuccess, prometheus.GaugeValue, last)
}

// promLogger logs promhttp's errors with slog, on one line.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) {
	msg := strings.TrimSpace(fmt.Sprintln(v...))
	l.log.Warn("metrics", "err", strings.ReplaceAll(msg, "\n", "; "))
}
