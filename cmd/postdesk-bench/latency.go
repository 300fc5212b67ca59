package main

// The phases that look at one mail at a time: latency at a light steady
// load, the 25 MiB mail, and the soak's memory over a long run.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postdesk/postdesk/internal/smtpsink"
)

// latencyWarmup mails start the latency phase and are not counted: the
// first mail after a daemon's start also pays for its first SMTP dial and
// template parse.
const latencyWarmup = 3

// latencyResult is append-to-confirmation latency at a fixed, light rate.
type latencyResult struct {
	RatePerS    float64 `json:"rate_per_s"`
	Mails       int     `json:"mails"`
	WarmupMails int     `json:"warmup_mails"`
	// DBCases is how many cases the database held before: the live phase's.
	DBCases int     `json:"db_cases_before"`
	P50Ms   float64 `json:"p50_ms"`
	P90Ms   float64 `json:"p90_ms"`
	P99Ms   float64 `json:"p99_ms"`
	MaxMs   float64 `json:"max_ms"`
	MinMs   float64 `json:"min_ms"`
	MeanMs  float64 `json:"mean_ms"`
	// Measured from the start of the mail's APPEND to the moment the sink
	// accepted the confirmation whose In-Reply-To names the mail.
	Measured string `json:"measured"`
}

// latency appends one mail at a time at -latency-rate to a daemon working on
// db (the live phase's database, so the desk is not empty).
func (b *bench) latency(db string, dbCases int) (*latencyResult, error) {
	p, d, stop, err := b.startPhase("latency", db)
	if err != nil {
		return nil, err
	}
	defer stop()
	total := latencyWarmup + b.o.latencyN
	b.logf("latency: %d mails at %.1f/s", total, b.o.latencyRate)
	ctx, cancel := b.within("latency phase")
	defer cancel()

	// arrived[id] is when the confirmation answering mail id came.
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	var watch sync.WaitGroup
	watch.Go(func() { watchSink(ctx, p.sink, total, &mu, arrived) })

	c, err := b.srv.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	base := b.o.n // senders and indices continue after the live phase's
	appended := make(map[string]time.Time, total)
	start := time.Now()
	for k := range total {
		at := start.Add(time.Duration(float64(k) / b.o.latencyRate * float64(time.Second)))
		if err := sleepUntil(ctx, at); err != nil {
			return nil, err
		}
		i := base + k
		raw := b.gen.Mail("latency", i)
		// From the APPEND's start: the server may announce the mail to the
		// daemon's IDLE before it answers OK to the deliverer.
		appended[b.gen.MailID("latency", i)] = time.Now()
		if err := appendOne(c.Client, p.folder, raw); err != nil {
			return nil, fmt.Errorf("latency phase: append: %w", err)
		}
	}
	if _, err := b.waitSink(d, p.sink, total, "latency phase"); err != nil {
		return nil, err
	}
	watch.Wait() // it has seen, or is about to see, every one of them

	var lat []float64
	mu.Lock()
	defer mu.Unlock()
	for k := latencyWarmup; k < total; k++ {
		id := b.gen.MailID("latency", base+k)
		got, ok := arrived[id]
		if !ok {
			return nil, fmt.Errorf("latency phase: no confirmation answers %s", id)
		}
		lat = append(lat, ms(got.Sub(appended[id])))
	}
	return latencyStats(lat, b.o.latencyRate, dbCases), nil
}

// watchSink stamps each mail arriving at the sink with the time it came,
// keyed by its In-Reply-To, until n arrived or ctx ends.
func watchSink(ctx context.Context, sink *smtpsink.Sink, n int, mu *sync.Mutex, arrived map[string]time.Time) {
	seen := 0
	for seen < n {
		msgs, err := sink.Wait(ctx, seen+1)
		now := time.Now()
		if err != nil {
			return
		}
		mu.Lock()
		for _, m := range msgs[seen:] {
			arrived[inReplyTo(m.Data)] = now
		}
		mu.Unlock()
		seen = len(msgs)
	}
}

func latencyStats(lat []float64, rate float64, dbCases int) *latencyResult {
	slices.Sort(lat)
	r := &latencyResult{RatePerS: rate, Mails: len(lat), WarmupMails: latencyWarmup, DBCases: dbCases,
		Measured: "APPEND sent -> confirmation accepted by the SMTP sink"}
	if len(lat) == 0 {
		return r
	}
	sum := 0.0
	for _, v := range lat {
		sum += v
	}
	r.P50Ms, r.P90Ms, r.P99Ms = round(percentile(lat, 50), 1), round(percentile(lat, 90), 1), round(percentile(lat, 99), 1)
	r.MinMs, r.MaxMs, r.MeanMs = round(lat[0], 1), round(lat[len(lat)-1], 1), round(sum/float64(len(lat)), 1)
	return r
}

// percentile is the nearest-rank p-th percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	k := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(k, 0), len(sorted)-1)]
}

func sleepUntil(ctx context.Context, at time.Time) error {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// bigResult is the peak memory of a fresh daemon handling one big mail.
type bigResult struct {
	oneMail
	// AttachmentBytes is the decoded size of its one file (over the 5 MiB
	// attachment limit: parsed, stored with the raw mail, rejected as a file).
	AttachmentBytes int64 `json:"attachment_bytes"`
	RejectionListed bool  `json:"confirmation_lists_rejected_file"`
}

func (b *bench) big() (*bigResult, error) {
	raw, file := b.gen.BigMail("big", b.o.bigBytes)
	one, msgs, err := b.measureOne("big", raw)
	if err != nil {
		return nil, err
	}
	return &bigResult{oneMail: *one, AttachmentBytes: int64(file),
		RejectionListed: bytesContains(msgs[0].Data, "full-logs.zip")}, nil
}

// soakResult is memory over a long run.
type soakResult struct {
	Mails       int     `json:"mails"`
	WarmupMails int     `json:"warmup_mails"`
	MailsPerS   float64 `json:"mails_per_s_after_warmup"`
	Seconds     float64 `json:"seconds_after_warmup"`
	// Memory of the daemon after the warm-up and at the end.
	StartRSSMB     float64      `json:"start_rss_mb"`
	EndRSSMB       float64      `json:"end_rss_mb"`
	MaxRSSMB       float64      `json:"max_rss_mb_sampled"`
	StartPeakRSSMB float64      `json:"start_peak_rss_mb"`
	EndPeakRSSMB   float64      `json:"end_peak_rss_mb"`
	Ahead          int          `json:"max_unconfirmed_mails"`
	Samples        []soakSample `json:"samples"`
	CPU            cpuResult    `json:"cpu_after_warmup"`
}

type soakSample struct {
	ElapsedS  float64 `json:"elapsed_s"`
	Confirmed int     `json:"confirmed"`
	RSSMB     float64 `json:"rss_mb"`
}

// soak delivers -soak mails, keeping at most -soak-ahead unconfirmed, and
// samples the daemon's memory. When it fails or is interrupted after the
// warm-up, what it measured so far is returned with the error.
func (b *bench) soak() (*soakResult, error) {
	p, d, stop, err := b.startPhase("soak", "")
	if err != nil {
		return nil, err
	}
	defer stop()
	total, warm := b.o.soak, min(1000, b.o.soak/5)
	b.logf("soak: %d mails (warm-up %d), at most %d unconfirmed", total, warm, b.o.soakAhead)
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	var confirmed atomic.Int64
	var samples []soakSample
	var bg sync.WaitGroup
	bg.Go(func() { b.soakWatch(ctx, d, &confirmed, total, &samples) })
	del := &deliverer{srv: b.srv, folder: p.folder, conns: 2, window: b.o.window,
		mail: func(i int) []byte { return b.gen.Mail("soak", i) },
		gate: func(ctx context.Context, i int) error {
			return poll(ctx, 10*time.Millisecond, func() (bool, error) {
				return int64(i-b.o.soakAhead) < confirmed.Load(), nil
			})
		}}
	var appendErr error
	bg.Go(func() {
		if _, err := del.run(ctx, 0, total); err != nil && ctx.Err() == nil {
			appendErr = err
			cancel()
		}
	})
	stopAll := func() { cancel(); bg.Wait() }
	if _, err := b.waitSink(d, p.sink, warm, "soak warm-up"); err != nil {
		stopAll()
		return nil, errors.Join(err, appendErr)
	}
	start := time.Now()
	cpu := startCPU(d.pid, b.srv)
	m0, err := d.memory()
	if err != nil {
		stopAll()
		return nil, err
	}
	_, waitErr := b.waitSink(d, p.sink, total, "soak")
	end := time.Now()
	// Read before stopping anything: an interrupted run still reports.
	m1, memErr := d.memory()
	used := cpu.stop()
	stopAll()
	done := int(confirmed.Load())
	if waitErr == nil {
		done = total
	}
	r := &soakResult{Mails: done, WarmupMails: warm, Seconds: round(end.Sub(start).Seconds(), 1),
		MailsPerS:  round(perSecond(done-warm, end.Sub(start)), 1),
		StartRSSMB: mb(m0.rss), EndRSSMB: mb(m1.rss), StartPeakRSSMB: mb(m0.hwm), EndPeakRSSMB: mb(m1.hwm),
		Ahead: b.o.soakAhead, CPU: used}
	for _, s := range samples {
		r.MaxRSSMB = max(r.MaxRSSMB, s.RSSMB)
	}
	r.Samples = thin(samples, 25)
	if err := errors.Join(waitErr, appendErr, memErr); err != nil {
		return r, fmt.Errorf("after %d of %d mails: %w", done, total, err)
	}
	return r, nil
}

// soakWatch reads the confirmations sent from /metrics every 200 ms and the
// daemon's memory every 5 s.
func (b *bench) soakWatch(ctx context.Context, d *daemon, confirmed *atomic.Int64, total int, samples *[]soakSample) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	start, last := time.Now(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := d.sent(ctx); err == nil {
			confirmed.Store(int64(n))
		}
		if time.Since(last) >= 5*time.Second {
			last = time.Now()
			if m, err := d.memory(); err == nil {
				n := int(confirmed.Load())
				*samples = append(*samples, soakSample{round(time.Since(start).Seconds(), 1), n, mb(m.rss)})
				b.logf("  soak %.0fs: %d of %d confirmed, daemon RSS %.1f MB", time.Since(start).Seconds(), n, total, mb(m.rss))
			}
		}
	}
}

// thin keeps at most n samples, evenly spread, and the last.
func thin(s []soakSample, n int) []soakSample {
	if len(s) <= n {
		return s
	}
	out := make([]soakSample, 0, n+1)
	for k := range n {
		out = append(out, s[k*len(s)/n])
	}
	return append(out, s[len(s)-1])
}
