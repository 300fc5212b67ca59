package main

// One mail to a fresh daemon: its peak memory and the time to its
// confirmation (the 25 MiB mail with a big file, and the 24 MiB HTML mail).

import (
	"fmt"
	"strconv"
	"time"

	"github.com/postdesk/postdesk/internal/smtpsink"
)

// oneMail is what a fresh daemon took to handle one mail.
type oneMail struct {
	MailBytes     int64   `json:"mail_bytes"`
	AppendSeconds float64 `json:"append_seconds"`
	// Seconds runs from the APPEND's OK to the confirmation.
	Seconds float64 `json:"seconds"`
	// DaemonCPUSeconds is the daemon's user and system time from the
	// APPEND to the mail's move, which other work on the machine does not
	// stretch as it stretches Seconds.
	DaemonCPUSeconds float64 `json:"daemon_cpu_s"`
	// IdlePeakRSSMB is the daemon's VmHWM before the mail, PeakRSSMB after.
	IdlePeakRSSMB float64 `json:"daemon_idle_peak_rss_mb"`
	PeakRSSMB     float64 `json:"daemon_peak_rss_mb"`
	RSSAfterMB    float64 `json:"daemon_rss_after_mb"`
}

// measureOne starts a fresh daemon for phase, appends raw, waits for its
// confirmation and its move, and reads the daemon's memory.
func (b *bench) measureOne(phase string, raw []byte) (*oneMail, []smtpsink.Received, error) {
	p, d, stop, err := b.startPhase(phase, "")
	if err != nil {
		return nil, nil, err
	}
	defer stop()
	time.Sleep(500 * time.Millisecond) // settle into IDLE
	idle, err := d.memory()
	if err != nil {
		return nil, nil, err
	}
	b.logf("%s: appending one mail of %d bytes", phase, len(raw))
	ctx, cancel := b.within(phase + " mail append")
	defer cancel()
	c, err := b.srv.dial(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	cpu0, _ := readStat(strconv.Itoa(d.pid))
	start := time.Now()
	if err := appendOne(c.Client, p.folder, raw); err != nil {
		return nil, nil, fmt.Errorf("%s mail: append: %w", phase, err)
	}
	appended := time.Now()
	msgs, err := b.waitSink(d, p.sink, 1, phase+" mail")
	if err != nil {
		return nil, nil, err
	}
	done := time.Now()
	// The mail is moved after its transaction; the peak is over once it is.
	_, doneFolder, _ := folders(p.folder)
	if err := b.waitFolder(doneFolder, 1); err != nil {
		return nil, nil, err
	}
	cpu1, _ := readStat(strconv.Itoa(d.pid))
	m, err := d.memory()
	if err != nil {
		return nil, nil, err
	}
	return &oneMail{
		MailBytes: int64(len(raw)), AppendSeconds: round(appended.Sub(start).Seconds(), 3),
		Seconds: round(done.Sub(appended).Seconds(), 3), DaemonCPUSeconds: round(cpu1.cpu()-cpu0.cpu(), 2),
		IdlePeakRSSMB: mb(idle.hwm), PeakRSSMB: mb(m.hwm), RSSAfterMB: mb(m.rss),
	}, msgs, nil
}

// bigHTMLResult is one HTML mail of -big-html-bytes: a single
// quoted-printable text/html part holding a report table (mailmix.HTMLMail),
// the mail of the issue "a 24 MB HTML mail takes 1 GB and 10 s".
type bigHTMLResult struct {
	oneMail
}

func (b *bench) bigHTML() (*bigHTMLResult, error) {
	one, _, err := b.measureOne("bightml", b.gen.HTMLMail("bightml", b.o.bigHTMLBytes))
	if err != nil {
		return nil, err
	}
	return &bigHTMLResult{oneMail: *one}, nil
}
