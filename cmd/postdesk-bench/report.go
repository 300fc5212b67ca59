package main

// The JSON the bench prints: one object with every number, units in the key
// names, the machine and the exact flags.

import (
	"flag"
	"fmt"
	"io"
	"runtime"

	"github.com/postdesk/postdesk/internal/mailmix"
)

// The targets of the issue, printed next to the results (never asserted).
const (
	targetMailsPerS = 600
	targetP50Ms     = 1000
	targetP99Ms     = 2000
	targetPeakRSSMB = 64
	// targetHTMLPeakRSSMB is issue 11's for the 24 MB HTML mail.
	targetHTMLPeakRSSMB = 256
)

type report struct {
	Flags      map[string]string `json:"flags"`
	Args       []string          `json:"args"`
	Machine    machineInfo       `json:"machine"`
	Daemon     daemonInfo        `json:"daemon"`
	IMAP       imapInfo          `json:"imap"`
	Mix        mixInfo           `json:"mix"`
	Summary    summary           `json:"summary"`
	Ceilings   *ceilingResult    `json:"ceilings"`
	Throughput *throughputResult `json:"live"`
	Backlog    *backlogResult    `json:"backlog,omitempty"`
	Latency    *latencyResult    `json:"latency,omitempty"`
	Big        *bigResult        `json:"big_mail,omitempty"`
	BigHTML    *bigHTMLResult    `json:"big_html_mail,omitempty"`
	Soak       *soakResult       `json:"soak,omitempty"`
	ElapsedS   float64           `json:"elapsed_s"`
	// Error says why the run stopped early; the phases before are kept.
	Error string `json:"error,omitempty"`
}

type machineInfo struct {
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
	CPUModel   string `json:"cpu_model"`
	MemTotalMB int64  `json:"mem_total_mb"`
	GoVersion  string `json:"go_version"`
	OSArch     string `json:"os_arch"`
	// The 1, 5 and 15 minute load averages at the start and the end: other
	// work on the machine skews every number.
	LoadAvgStart string `json:"loadavg_start"`
	LoadAvgEnd   string `json:"loadavg_end"`
}

// daemonInfo says which postdesk was measured.
type daemonInfo struct {
	Binary string `json:"binary"`
	// Commit is `git describe --always --dirty` of the tree it was built
	// from; "" for a binary given with -postdesk.
	Commit string `json:"git_commit,omitempty"`
}

type imapInfo struct {
	Server string `json:"server"` // memimap, dovecot or external
	Addr   string `json:"addr"`
}

type mixInfo struct {
	PlainPct       int            `json:"plain_2k_pct"`
	AlternativePct int            `json:"alternative_8k_pct"`
	ISO2022JPPct   int            `json:"iso2022jp_pct"`
	AttachmentPct  int            `json:"attachment_1mib_pct"`
	MeanBytes      map[string]int `json:"mean_bytes_by_kind"`
	MeanMailBytes  int            `json:"mean_mail_bytes"`
}

// summary puts the headline numbers next to the targets.
type summary struct {
	LiveMailsPerS       float64  `json:"live_mails_per_s"`
	BacklogMailsPerS    *float64 `json:"backlog_mails_per_s,omitempty"`
	TargetMailsPerS     int      `json:"target_mails_per_s"`
	LatencyP50Ms        *float64 `json:"latency_p50_ms,omitempty"`
	TargetP50Ms         int      `json:"target_p50_ms"`
	LatencyP99Ms        *float64 `json:"latency_p99_ms,omitempty"`
	TargetP99Ms         int      `json:"target_p99_ms"`
	BigMailPeakRSSMB    *float64 `json:"big_mail_peak_rss_mb,omitempty"`
	TargetPeakRSSMB     int      `json:"target_peak_rss_mb"`
	BigHTMLPeakRSSMB    *float64 `json:"big_html_mail_peak_rss_mb,omitempty"`
	BigHTMLSeconds      *float64 `json:"big_html_mail_seconds,omitempty"`
	TargetHTMLPeakRSSMB int      `json:"target_big_html_peak_rss_mb"`
	SoakStartRSSMB      *float64 `json:"soak_start_rss_mb,omitempty"`
	SoakEndRSSMB        *float64 `json:"soak_end_rss_mb,omitempty"`
	MinCeilingMailsPerS float64  `json:"min_ceiling_mails_per_s"`
	MinCeilingStage     string   `json:"min_ceiling_stage"`
	// E2EOverMinCeiling is live mails/s over min(parse on one goroutine,
	// store).
	E2EOverMinCeiling float64 `json:"e2e_over_min_ceiling_ratio"`
}

func newReport(o *options, fs *flag.FlagSet, args []string) *report {
	r := &report{Flags: map[string]string{}, Args: args,
		Machine: machineInfo{GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), CPUModel: cpuModel(),
			MemTotalMB: memTotalMB(), GoVersion: runtime.Version(), OSArch: runtime.GOOS + "/" + runtime.GOARCH,
			LoadAvgStart: loadAvg()}}
	fs.VisitAll(func(f *flag.Flag) { r.Flags[f.Name] = f.Value.String() })
	if r.Flags["pass"] != "" {
		r.Flags["pass"] = "(set)"
	}
	r.Mix = mixOf(o)
	return r
}

// mixOf measures the generated mix on its first 200 mails (ten blocks).
func mixOf(o *options) mixInfo {
	g := mailmix.New(o.seed, "mix")
	sum, count := map[string]int{}, map[string]int{}
	total := 0
	const n = 10 * mailmix.Block
	for i := range n {
		k := g.Kind(i).String()
		size := len(g.Mail("mix", i))
		sum[k] += size
		count[k]++
		total += size
	}
	m := mixInfo{MeanBytes: map[string]int{}, MeanMailBytes: total / n}
	for k, s := range sum {
		m.MeanBytes[k] = s / count[k]
	}
	m.PlainPct = 100 * count[mailmix.Plain.String()] / n
	m.AlternativePct = 100 * count[mailmix.Alternative.String()] / n
	m.ISO2022JPPct = 100 * count[mailmix.ISO2022JP.String()] / n
	m.AttachmentPct = 100 * count[mailmix.Attachment.String()] / n
	return m
}

func (r *report) summarize() {
	s := summary{TargetMailsPerS: targetMailsPerS, TargetP50Ms: targetP50Ms, TargetP99Ms: targetP99Ms,
		TargetPeakRSSMB: targetPeakRSSMB, TargetHTMLPeakRSSMB: targetHTMLPeakRSSMB}
	if r.Throughput != nil {
		s.LiveMailsPerS = r.Throughput.MailsPerS
	}
	if r.Backlog != nil {
		s.BacklogMailsPerS = &r.Backlog.MailsPerS
	}
	if r.Latency != nil {
		s.LatencyP50Ms, s.LatencyP99Ms = &r.Latency.P50Ms, &r.Latency.P99Ms
	}
	if r.Big != nil {
		s.BigMailPeakRSSMB = &r.Big.PeakRSSMB
	}
	if r.BigHTML != nil {
		s.BigHTMLPeakRSSMB, s.BigHTMLSeconds = &r.BigHTML.PeakRSSMB, &r.BigHTML.Seconds
	}
	if r.Soak != nil {
		s.SoakStartRSSMB, s.SoakEndRSSMB = &r.Soak.StartRSSMB, &r.Soak.EndRSSMB
	}
	if c := r.Ceilings; c != nil {
		s.MinCeilingMailsPerS, s.MinCeilingStage = c.ParseMailsPerS1, "parse"
		if c.StoreMailsPerS < s.MinCeilingMailsPerS {
			s.MinCeilingMailsPerS, s.MinCeilingStage = c.StoreMailsPerS, "store"
		}
		if s.MinCeilingMailsPerS > 0 {
			s.E2EOverMinCeiling = round(s.LiveMailsPerS/s.MinCeilingMailsPerS, 3)
		}
	}
	r.Summary = s
}

// writeText prints the summary for people (-json=false).
func (r *report) writeText(w io.Writer) error {
	s := r.Summary
	_, err := fmt.Fprintf(w, "imap %s, %d CPUs (%s), %s\n", r.IMAP.Server, r.Machine.NumCPU, r.Machine.CPUModel, r.Machine.GoVersion)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "live:     %8.1f mails/s (target %d)\n", s.LiveMailsPerS, s.TargetMailsPerS)
	if s.BacklogMailsPerS != nil {
		fmt.Fprintf(w, "backlog:  %8.1f mails/s\n", *s.BacklogMailsPerS)
	}
	if s.LatencyP50Ms != nil {
		fmt.Fprintf(w, "latency:  p50 %.0f ms, p99 %.0f ms (targets %d, %d)\n", *s.LatencyP50Ms, *s.LatencyP99Ms, s.TargetP50Ms, s.TargetP99Ms)
	}
	if s.BigMailPeakRSSMB != nil {
		fmt.Fprintf(w, "big mail: peak RSS %.1f MB (target %d)\n", *s.BigMailPeakRSSMB, s.TargetPeakRSSMB)
	}
	if s.BigHTMLPeakRSSMB != nil {
		fmt.Fprintf(w, "big HTML: peak RSS %.1f MB (target %d), confirmed in %.2f s\n", *s.BigHTMLPeakRSSMB, s.TargetHTMLPeakRSSMB, *s.BigHTMLSeconds)
	}
	if s.SoakStartRSSMB != nil {
		fmt.Fprintf(w, "soak:     RSS %.1f MB -> %.1f MB\n", *s.SoakStartRSSMB, *s.SoakEndRSSMB)
	}
	_, err = fmt.Fprintf(w, "ceiling:  %s %.1f mails/s; live/ceiling %.3f\n", s.MinCeilingStage, s.MinCeilingMailsPerS, s.E2EOverMinCeiling)
	return err
}
