package main

// What /proc says about processes and the machine: memory and CPU time.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of CPU times in /proc/PID/stat: 100 on
// every Linux architecture Go runs on.
const clockTicks = 100

// memory is a process's resident set now and at its peak, in bytes.
type memory struct {
	rss, hwm int64
}

// readMemory reads VmRSS and VmHWM of pid from /proc/PID/status.
func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmRSS":
			dst = &m.rss
		case "VmHWM":
			dst = &m.hwm
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("/proc/%d/status %s: %w", pid, key, err)
		}
		*dst = kb << 10
	}
	if err := sc.Err(); err != nil {
		return memory{}, err
	}
	if m.hwm == 0 {
		return memory{}, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
	}
	return m, nil
}

// procStat is the part of /proc/PID/stat the bench reads.
type procStat struct {
	pgrp                         int
	utime, stime, cutime, cstime int64 // clock ticks
}

func (s procStat) cpu() float64 { return float64(s.utime+s.stime) / clockTicks }

func (s procStat) cpuWithChildren() float64 {
	return float64(s.utime+s.stime+s.cutime+s.cstime) / clockTicks
}

// readStat reads /proc/PID/stat; pid is a number or "self".
func readStat(pid string) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return procStat{}, err
	}
	// "pid (comm) state ppid pgrp ...": comm ends at the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%s/stat: no ')'", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%s/stat: %d fields", pid, len(f))
	}
	num := func(k int) int64 { n, _ := strconv.ParseInt(f[k], 10, 64); return n }
	return procStat{pgrp: int(num(2)), utime: num(11), stime: num(12), cutime: num(13), cstime: num(14)}, nil
}

// selfCPU is the CPU time of the bench process so far, in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// machineTicks returns the busy and total jiffies of all CPUs (/proc/stat).
func machineTicks() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	for k, s := range f[1:] {
		n, _ := strconv.ParseInt(s, 10, 64)
		if k == 7 || k == 8 { // guest times are already in user and nice
			continue
		}
		total += n
		if k != 3 && k != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// cpuMeter measures the CPU time of the daemon, the IMAP server and the
// bench over one phase.
type cpuMeter struct {
	pid         int
	imap        *imapServer
	start       time.Time
	daemon      float64
	dovecot     float64
	self        float64
	busy, total int64
}

func startCPU(pid int, imap *imapServer) *cpuMeter {
	m := &cpuMeter{pid: pid, imap: imap, start: time.Now(), self: selfCPU()}
	if st, err := readStat(strconv.Itoa(pid)); err == nil && pid != 0 {
		m.daemon = st.cpu()
	}
	m.dovecot, _ = imap.dovecotCPU()
	m.busy, m.total = machineTicks()
	return m
}

// cpuResult is where the CPU time of a phase went, in seconds.
type cpuResult struct {
	WallS    float64  `json:"wall_s"`
	DaemonS  float64  `json:"daemon_s"`
	DovecotS *float64 `json:"dovecot_s,omitempty"`
	// BenchS holds the appenders and the SMTP sink, and with the in-process
	// IMAP server that server too.
	BenchS         float64 `json:"bench_s"`
	MachineBusyPct float64 `json:"machine_busy_pct"`
	// OtherS is the busy CPU time of the machine that none of the above
	// used: other programs (and the kernel's work for nobody in particular).
	OtherS          float64 `json:"other_s"`
	MachineCPUs     int     `json:"machine_cpus"`
	DaemonCoresUsed float64 `json:"daemon_cores_used"`
}

// stop must be called while the daemon still runs.
func (m *cpuMeter) stop() cpuResult {
	wall := time.Since(m.start).Seconds()
	r := cpuResult{WallS: round(wall, 3), BenchS: round(selfCPU()-m.self, 2), MachineCPUs: runtime.NumCPU()}
	ours := selfCPU() - m.self
	if st, err := readStat(strconv.Itoa(m.pid)); err == nil && m.pid != 0 {
		r.DaemonS = round(st.cpu()-m.daemon, 2)
		r.DaemonCoresUsed = round((st.cpu()-m.daemon)/wall, 2)
		ours += st.cpu() - m.daemon
	}
	if d, ok := m.imap.dovecotCPU(); ok {
		v := round(d-m.dovecot, 2)
		r.DovecotS = &v
		ours += d - m.dovecot
	}
	busy, total := machineTicks()
	if total > m.total {
		r.MachineBusyPct = round(100*float64(busy-m.busy)/float64(total-m.total), 1)
		r.OtherS = round(max(float64(busy-m.busy)/clockTicks-ours, 0), 2)
	}
	return r
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// cpuModel is the "model name" of the first CPU in /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// memTotalMB is MemTotal of /proc/meminfo in MiB.
func memTotalMB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb >> 10
		}
	}
	return 0
}
