package main

// The stage ceilings, measured in the bench process on the same mix: what
// parsing alone, the desk and SQLite alone, sending alone, and IMAP intake
// without the store can do.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/internal/mailmix"
	"github.com/postdesk/postdesk/internal/smtpsink"
	"github.com/postdesk/postdesk/mailin"
	"github.com/postdesk/postdesk/mailout"
	"github.com/postdesk/postdesk/message"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/templates"
	"github.com/postdesk/postdesk/threading"
)

// ceilingResult holds the stage ceilings in mails per second.
type ceilingResult struct {
	Mails int `json:"mails"`
	// Parse is message.Parse alone, on one goroutine (as the daemon's intake
	// of one mailbox runs) and on GOMAXPROCS goroutines.
	ParseMailsPerS1   float64 `json:"parse_mails_per_s_1_goroutine"`
	ParseMailsPerSAll float64 `json:"parse_mails_per_s_all_goroutines"`
	ParseGoroutines   int     `json:"parse_goroutines"`
	// Store is desk.Receive of parsed mail into a fresh SQLite: raw bytes,
	// case, message, attachments, confirmation row, one transaction each.
	StoreMailsPerS float64 `json:"store_mails_per_s"`
	// Send is mailout's Flush of the confirmations the store stage queued:
	// render, build, SMTP to a sink, mark sent.
	SendMailsPerS float64 `json:"send_mails_per_s"`
	// Intake is mailin.Poller.PollOnce with a desk that records nothing:
	// IMAP search, fetch, parse, and MOVE per mail.
	IntakeNoStoreMailsPerS float64 `json:"intake_no_store_mails_per_s"`
	// IntakeCPU is where the intake stage's time went (no daemon runs:
	// the poller is in the bench process).
	IntakeCPU *cpuResult `json:"intake_cpu"`
	// IMAPOnlyEst is intake minus parse (per-mail times subtracted).
	// null when intake measured faster than parse alone (noise).
	IMAPOnlyEstMailsPerS *float64 `json:"imap_only_est_mails_per_s"`
	// Serial is what one goroutine doing intake then store could reach:
	// 1 / (1/intake + 1/store); mailout runs beside it and competes for
	// the SQLite write lock and the CPUs.
	SerialEstMailsPerS float64 `json:"serial_intake_plus_store_est_mails_per_s"`
	// Where parse and store time goes by kind of mail: the mean per mail
	// and the kind's share of the stage's total time.
	ParseMsByKind      map[string]float64 `json:"parse_mean_ms_by_kind"`
	ParseTimePctByKind map[string]float64 `json:"parse_time_pct_by_kind"`
	StoreMsByKind      map[string]float64 `json:"store_mean_ms_by_kind"`
	StoreTimePctByKind map[string]float64 `json:"store_time_pct_by_kind"`
}

// kindTimes sums the time a stage spent per kind of mail.
type kindTimes struct {
	sum   [mailmix.NumKinds]time.Duration
	count [mailmix.NumKinds]int
}

func (k *kindTimes) add(kd mailmix.Kind, d time.Duration) { k.sum[kd] += d; k.count[kd]++ }

// report returns the mean per mail in ms and the share of the total in %.
func (k *kindTimes) report() (mean, pct map[string]float64) {
	mean, pct = map[string]float64{}, map[string]float64{}
	var total time.Duration
	for _, d := range k.sum {
		total += d
	}
	for kd, d := range k.sum {
		if k.count[kd] == 0 || total == 0 {
			continue
		}
		mean[mailmix.Kind(kd).String()] = round(ms(d)/float64(k.count[kd]), 3)
		pct[mailmix.Kind(kd).String()] = round(100*float64(d)/float64(total), 1)
	}
	return mean, pct
}

// ceilings measures the stages on stageN mails of the mix.
func (b *bench) ceilings() (*ceilingResult, error) {
	n := b.o.stageN
	b.logf("ceilings: %d mails of the mix through parse, store, send and intake", n)
	raws := make([][]byte, n)
	for i := range raws {
		raws[i] = b.gen.Mail("ceiling", i)
	}
	r := &ceilingResult{Mails: n, ParseGoroutines: runtime.GOMAXPROCS(0)}
	// Warm up (charset tables, regexps), then time parsing with nothing
	// kept, as the daemon keeps nothing; the store stage gets its own copy.
	for _, raw := range raws[:min(n, mailmix.Block)] {
		if _, err := message.Parse(raw); err != nil {
			return nil, fmt.Errorf("parse generated mail: %w", err)
		}
	}
	var parseKinds, storeKinds kindTimes
	runtime.GC()
	start := time.Now()
	for i, raw := range raws {
		t := time.Now()
		if _, err := message.Parse(raw); err != nil {
			return nil, fmt.Errorf("parse generated mail %d: %w", i, err)
		}
		parseKinds.add(b.gen.Kind(i), time.Since(t))
	}
	r.ParseMailsPerS1 = round(perSecond(n, time.Since(start)), 1)
	r.ParseMsByKind, r.ParseTimePctByKind = parseKinds.report()
	runtime.GC()
	d, err := parallelParse(raws, r.ParseGoroutines)
	if err != nil {
		return nil, err
	}
	r.ParseMailsPerSAll = round(perSecond(n, d), 1)
	msgs := make([]*message.Message, n)
	for i, raw := range raws {
		if msgs[i], err = message.Parse(raw); err != nil {
			return nil, err
		}
	}

	dir := filepath.Join(b.dir, "ceilings")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	db, dk, err := openDesk(b.ctx, dir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	runtime.GC()
	start = time.Now()
	for i, m := range msgs {
		in := m.Inbound
		in.Mailbox, in.UIDValidity, in.UID, in.Route = "bench", 1, uint32(i+1), desk.TypeTechnical
		t := time.Now()
		res, err := dk.Receive(b.ctx, &in)
		storeKinds.add(b.gen.Kind(i), time.Since(t))
		if err != nil {
			return nil, fmt.Errorf("store stage: %w", err)
		}
		if res.Outcome != desk.NewCase {
			return nil, fmt.Errorf("store stage: mail %d: outcome %s (%s), want new_case", i, res.Outcome, res.Reason)
		}
	}
	r.StoreMailsPerS = round(perSecond(n, time.Since(start)), 1)
	r.StoreMsByKind, r.StoreTimePctByKind = storeKinds.report()
	msgs = nil

	if r.SendMailsPerS, err = b.sendCeiling(db, n); err != nil {
		return nil, err
	}
	if r.IntakeNoStoreMailsPerS, r.IntakeCPU, err = b.intakeCeiling(raws); err != nil {
		return nil, err
	}
	if r.IntakeNoStoreMailsPerS < r.ParseMailsPerS1 { // else noise: IMAP costs next to nothing
		v := round(1/(1/r.IntakeNoStoreMailsPerS-1/r.ParseMailsPerS1), 1)
		r.IMAPOnlyEstMailsPerS = &v
	}
	r.SerialEstMailsPerS = round(1/(1/r.IntakeNoStoreMailsPerS+1/r.StoreMailsPerS), 1)
	return r, nil
}

func parallelParse(raws [][]byte, workers int) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(raws) {
					return
				}
				if _, err := message.Parse(raws[i]); err != nil {
					failed.Store(&err)
					return
				}
			}
		})
	}
	wg.Wait()
	if e := failed.Load(); e != nil {
		return 0, fmt.Errorf("parse: %w", *e)
	}
	return time.Since(start), nil
}

// openDesk opens a fresh database in dir and a desk configured like the
// daemon's.
func openDesk(ctx context.Context, dir string) (*store.DB, *desk.Desk, error) {
	key := []byte("postdesk-bench-ceiling-key-32byt")
	ids, err := threading.NewIDs(key, "bench.example", nil)
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, filepath.Join(dir, "postdesk.db"))
	if err != nil {
		return nil, nil, err
	}
	dk, err := desk.New(db, desk.Options{
		Address: mailmix.DeskAddress, OwnAddresses: []string{benchUser}, IDs: ids,
		SurveyURL: "http://127.0.0.1:8025/survey/", SurveyKey: key,
		AutorepliesPerHour: 1000000, NewCasesPerHour: 1000000,
	})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, dk, nil
}

// sendCeiling flushes the n confirmations queued in db to a sink.
func (b *bench) sendCeiling(db *store.DB, n int) (float64, error) {
	sink, err := smtpsink.Start()
	if err != nil {
		return 0, err
	}
	defer sink.Close()
	tpl, err := templates.New("")
	if err != nil {
		return 0, err
	}
	s, err := mailout.New(db, mailout.Options{From: mailmix.DeskAddress, Name: "Bench Support",
		Host: sink.Host(), Port: sink.Port(), TLS: mailout.TLSNone, Templates: tpl})
	if err != nil {
		return 0, err
	}
	runtime.GC()
	start := time.Now()
	st, err := s.Flush(b.ctx)
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("send stage: %w", err)
	}
	if st.Sent != n {
		return 0, fmt.Errorf("send stage: sent %d of %d (retry %d, failed %d)", st.Sent, n, st.Retried, st.Failed)
	}
	return round(perSecond(n, d), 1), nil
}

// intakeCeiling appends raws to a folder and times one PollOnce of the real
// poller over them with a desk that records nothing.
func (b *bench) intakeCeiling(raws [][]byte) (float64, *cpuResult, error) {
	folder := "pdbench-" + b.gen.Run() + "-intake"
	in, done, quarantine := folders(folder)
	if err := b.srv.createFolders(b.ctx, in, done, quarantine); err != nil {
		return 0, nil, err
	}
	p := mailin.NewPoller(mailin.MailboxOptions{
		Name: "bench", Addr: b.srv.addr, TLS: b.srv.tls, Username: b.srv.user, Password: b.srv.pass,
		Folder: in, Processed: done, Quarantine: quarantine,
	}, &mailin.Intake{Desk: discard{}, MaxBytes: messageLimit, Route: desk.TypeTechnical})
	defer p.Close()
	ctx, cancel := b.within("intake ceiling")
	defer cancel()
	if _, err := p.PollOnce(ctx); err != nil { // connect on the empty folder
		return 0, nil, fmt.Errorf("intake stage: %w", err)
	}
	del := &deliverer{srv: b.srv, folder: in, conns: b.o.conns, window: b.o.window,
		mail: func(i int) []byte { return raws[i] }}
	if _, err := del.run(ctx, 0, len(raws)); err != nil {
		return 0, nil, err
	}
	runtime.GC()
	cpu := startCPU(0, b.srv)
	start := time.Now()
	got, err := p.PollOnce(ctx)
	d := time.Since(start)
	used := cpu.stop()
	if err != nil {
		return 0, nil, fmt.Errorf("intake stage: %w", err)
	}
	if got != len(raws) {
		return 0, nil, fmt.Errorf("intake stage: handled %d of %d", got, len(raws))
	}
	return round(perSecond(got, d), 1), &used, nil
}

// discard is a desk that records nothing: every mail is a new case.
type discard struct{}

var _ mailin.Receiver = discard{}

func (discard) Receive(context.Context, *desk.Inbound) (desk.Result, error) {
	return desk.Result{Outcome: desk.NewCase, Case: 1}, nil
}

func (discard) Rehearse(context.Context, *desk.Inbound) (desk.Result, error) {
	return desk.Result{Outcome: desk.NewCase, Case: 1}, nil
}

func (discard) Quarantine(context.Context, []byte, string, uint32, string) (desk.Result, error) {
	return desk.Result{Outcome: desk.Quarantined}, nil
}

func (discard) TooLarge(context.Context, *desk.Inbound, int64, int64) (desk.Result, error) {
	return desk.Result{Outcome: desk.Quarantined}, nil
}
