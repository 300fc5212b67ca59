package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The intake benchmarks write what the desk writes for one new case, one
// transaction per mail (desk/open.go, desk/desk.go, desk/reply.go), over the
// realistic mix of the Speed issue: 45 % plain 2 KB, 45 %
// multipart/alternative 8 KB, 5 % ISO-2022-JP, 5 % with a 1 MiB attachment
// (raw ≈ 1.4 MB).
//
//	go test ./store -run '^$' -bench Intake -benchmem -count 6

// benchKind is one kind of mail of the mix: its raw bytes, the text and
// HTML the desk would store, and the attachment, if any.
type benchKind struct {
	name       string
	raw        []byte
	text, html string
	attachment []byte
}

// idWidth is the width of the mail number patched into each mail, so that
// every raw message and attachment has its own digest, as in real intake.
const idWidth = 12

func benchKinds() (plain, alternative, iso2022jp, attachment *benchKind) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			b.WriteString([]string{"the ", "server ", "answers ", "slowly ", "since ", "Monday, ",
				"please ", "look ", "at ", "it.\n"}[rng.IntN(10)])
		}
		return b.String()[:n]
	}
	header := func(extra string) string {
		return "From: Customer <customer@example.com>\r\nTo: support@desk.example\r\n" +
			"Subject: The server answers slowly\r\nDate: Sat, 21 Nov 2026 09:00:00 +0000\r\n" +
			"Message-ID: <" + strings.Repeat("0", idWidth) + "@example.com>\r\nMIME-Version: 1.0\r\n" + extra
	}
	mk := func(name, head, body, text, html string, att []byte) *benchKind {
		return &benchKind{name: name, raw: []byte(head + "\r\n" + body), text: text, html: html, attachment: att}
	}

	text := words(1700)
	plain = mk("plain", header("Content-Type: text/plain; charset=utf-8\r\n"), text, text, "", nil)

	text = words(2500)
	html := "<html><body><p>" + strings.ReplaceAll(words(4000), "\n", "</p><p>") + "</p></body></html>"
	alt := "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text +
		"\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n--b--\r\n"
	alternative = mk("alternative", header("Content-Type: multipart/alternative; boundary=b\r\n"), alt, text, html, nil)

	jp := strings.Repeat("サーバーの応答が月曜日から遅いです。確認をお願いします。\n", 40)
	body := strings.Repeat("\x1b$B%5!<%P!<$N1~Ez$,7nMKF|$+$iCY$$$G$9!#\x1b(B\r\n", 60)
	iso2022jp = mk("iso-2022-jp", header("Content-Type: text/plain; charset=ISO-2022-JP\r\n"), body, jp, "", nil)

	file := make([]byte, 1<<20)
	for i := range file {
		file[i] = byte(rng.Uint32())
	}
	text = words(1000)
	enc := base64.StdEncoding.EncodeToString(file)
	var b64 strings.Builder
	for len(enc) > 76 {
		b64.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b64.WriteString(enc + "\r\n")
	mixed := "--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text +
		"\r\n--m\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=dump.bin\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + b64.String() + "--m--\r\n"
	attachment = mk("attachment", header("Content-Type: multipart/mixed; boundary=m\r\n"), mixed, text, "", file)
	return plain, alternative, iso2022jp, attachment
}

// mix lists the kinds of 20 consecutive mails: 9 plain, 9 alternative, one
// ISO-2022-JP and one with an attachment.
func mix() []*benchKind {
	plain, alt, jp, att := benchKinds()
	var out []*benchKind
	for range 9 {
		out = append(out, plain, alt)
	}
	return append(out, jp, att)
}

// stamp writes mail number n into k's raw message and attachment, in place.
func (k *benchKind) stamp(n int) {
	id := fmt.Sprintf("%0*d", idWidth, n)
	at := bytes.Index(k.raw, []byte("Message-ID: <")) + len("Message-ID: <")
	copy(k.raw[at:], id)
	if k.attachment != nil {
		copy(k.attachment, id)
	}
}

// intake writes mail n of kind k the way the desk opens a case with it.
func intake(ctx context.Context, db *DB, k *benchKind, n int, now time.Time) error {
	k.stamp(n)
	msgID := fmt.Sprintf("%0*d@example.com", idWidth, n)
	from := "customer@example.com"
	return db.Tx(ctx, func(tx *Tx) error {
		rawID, existed, err := tx.InsertRaw(&Raw{Bytes: k.raw, ReceivedAt: now, Mailbox: "INBOX", UID: uint32(n + 1)})
		if err != nil || existed {
			return fmt.Errorf("raw message %d: existed %v, %v", n, existed, err)
		}
		if _, ok, err := tx.CaseOfMessageID(msgID); err != nil || ok {
			return fmt.Errorf("message %d seen before (%v) or %v", n, ok, err)
		}
		if _, err := tx.Bump("new:"+from, now.Truncate(time.Hour)); err != nil {
			return err
		}
		c := &Case{Subject: "The server answers slowly", Status: "open", Severity: "normal", Type: "technical",
			Language: "en", Plan: "standard", Requester: from, CreatedAt: now, UpdatedAt: now,
			FirstResponseDue: now.Add(4 * time.Hour)}
		if err := tx.InsertCase(c); err != nil {
			return err
		}
		if err := tx.AddParticipant(c.ID, from, "requester", now); err != nil {
			return err
		}
		if err := tx.AddEvent(c.ID, now, "created", "by "+from+", plan standard, severity normal"); err != nil {
			return err
		}
		m := &Message{CaseID: c.ID, RawID: rawID, Direction: "in", Kind: "customer", MessageID: msgID,
			From: from, To: []string{"support@desk.example"}, Subject: "The server answers slowly",
			Date: now, Text: k.text, NewText: k.text, HTML: k.html, CreatedAt: now}
		if k.attachment != nil {
			m.Attachments = []Attachment{{Filename: "dump.bin", ContentType: "application/octet-stream",
				Size: int64(len(k.attachment)), Data: k.attachment}}
		}
		if err := tx.InsertMessage(m); err != nil {
			return err
		}
		refs, _, err := tx.ThreadIDs(c.ID, "pd."+msgID, 10)
		if err != nil {
			return err
		}
		if _, err := tx.Bump("auto:"+from, now.Truncate(time.Hour)); err != nil {
			return err
		}
		it := &OutboxItem{Kind: MailConfirmation, CaseID: c.ID, Lang: "en", To: []string{from},
			MessageID: "pd." + msgID, InReplyTo: refs[len(refs)-1], References: refs, CreatedAt: now,
			Notice: Notice{Case: c.ID, Tag: "[Case #" + strconv.FormatInt(c.ID, 10) + "]", Subject: c.Subject,
				Status: c.Status, Severity: c.Severity, Type: c.Type, Requester: from, FirstResponseDue: c.FirstResponseDue}}
		if err := tx.Enqueue(it); err != nil {
			return err
		}
		if err := tx.AddEvent(c.ID, now, "mail queued", "confirmation to "+from); err != nil {
			return err
		}
		st, err := tx.MailboxState("INBOX")
		if err != nil {
			return err
		}
		st.UIDValidity, st.LastUID = 1, uint32(n+1)
		if err := tx.SetMailboxState("INBOX", st); err != nil {
			return err
		}
		return tx.SetRawOutcome(rawID, "new_case", "", c.ID)
	})
}

func openBench(b *testing.B) *DB {
	b.Helper()
	db, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkIntake reports the store's share of intake, one transaction per
// mail: over the mix, and for each kind alone.
func BenchmarkIntake(b *testing.B) {
	plain, alt, jp, att := benchKinds()
	for _, bc := range []struct {
		name  string
		kinds []*benchKind
	}{
		{"mix", mix()},
		{"plain", []*benchKind{plain}},
		{"alternative", []*benchKind{alt}},
		{"iso-2022-jp", []*benchKind{jp}},
		{"attachment", []*benchKind{att}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			db := openBench(b)
			now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
			for n := 0; b.Loop(); n++ {
				if err := intake(ctx, db, bc.kinds[n%len(bc.kinds)], n, now); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mails/s")
			b.ReportMetric(float64(db.Checkpoints().Runs)*1000/float64(b.N), "checkpoints/1000mails")
		})
	}
}

// BenchmarkPeakRSS25MiB reports the peak resident memory of the process
// while one 25 MiB mail (the default size limit) is stored: the high-water
// mark is reset just before, with the mail already in memory, as in the
// daemon. Linux only.
//
//	go test ./store -run '^$' -bench PeakRSS -benchtime 3x
func BenchmarkPeakRSS25MiB(b *testing.B) {
	ctx := context.Background()
	db := openBench(b)
	raw := make([]byte, 25<<20)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range raw {
		raw[i] = 'A' + byte(rng.IntN(26))
	}
	var peak, before float64
	for n := 0; b.Loop(); n++ {
		copy(raw, fmt.Sprintf("%0*d", idWidth, n))
		runtime.GC()
		debug.FreeOSMemory()
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			b.Skipf("cannot reset the RSS high-water mark: %v", err)
		}
		before = max(before, procStatusMB(b, "VmRSS:"))
		err := db.Tx(ctx, func(tx *Tx) error {
			_, _, err := tx.InsertRaw(&Raw{Bytes: raw, ReceivedAt: time.Now()})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, procStatusMB(b, "VmHWM:"))
	}
	b.ReportMetric(before, "MB-RSS-before")
	b.ReportMetric(peak, "MB-peak-RSS")
}

// procStatusMB reads a kB field of /proc/self/status, in MB.
func procStatusMB(b *testing.B, field string) float64 {
	b.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1000
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}
