package web

// postdesk_panics_total{where}: the panics the daemon recovered into a
// logged error. Intake and the outbox tell them through their Observers
// (Metrics.Panicked); the store's checkpointer counts its own, read at
// scrape time; the HTTP listener's goroutine calls Panicked itself. Any
// value above 0 is a bug to find in the logs.

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/postdesk/postdesk/store"
)

// panicCheckpoint is the where of the checkpointer's panics.
const panicCheckpoint = "store.checkpoint"

// panicHTTP is the where of a panic in the HTTP listener's goroutine
// (Serve); panics in handlers are net/http's to recover and log.
const panicHTTP = "http.serve"

// checkpointStatser is what the metrics and /healthz read of the store's
// checkpointer: *store.DB.
type checkpointStatser interface {
	Checkpoints() store.CheckpointStats
}

var _ checkpointStatser = (*store.DB)(nil)

// panicCounter collects postdesk_panics_total. It is safe for concurrent
// use.
type panicCounter struct {
	db   checkpointStatser
	desc *prometheus.Desc

	mu     sync.Mutex
	counts map[string]int64
}

func newPanicCounter(db checkpointStatser) *panicCounter {
	return &panicCounter{db: db, counts: map[string]int64{},
		desc: prometheus.NewDesc("postdesk_panics_total",
			"Panics recovered into a logged error, by where they happened; more than 0 is a bug to report.",
			[]string{"where"}, nil)}
}

// add counts one panic recovered at where.
func (c *panicCounter) add(where string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[where]++
}

// Describe implements prometheus.Collector.
func (c *panicCounter) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector: the checkpointer's series is
// always there, the others from their first panic.
func (c *panicCounter) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue,
		float64(c.db.Checkpoints().Panics), panicCheckpoint)
	c.mu.Lock()
	defer c.mu.Unlock()
	for where, n := range c.counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), where)
	}
}

// Panicked counts one recovered panic (mailin.Observer, mailout.Observer).
func (m *Metrics) Panicked(where string) { m.panics.add(where) }
