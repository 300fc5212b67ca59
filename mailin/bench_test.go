package mailin

import (
	"fmt"
	"testing"

	"github.com/postdesk/postdesk/internal/mailmix"
)

// The realistic mix of the issue "Speed" comes from mailmix, as for
// cmd/postdesk-bench and the message benchmarks (Parse, Prescan): 45 % plain text of about 2 KB, 45 %
// multipart/alternative of about 8 KB, 5 % ISO-2022-JP text, 5 %
// multipart/mixed with a 1 MiB base64 attachment. benchMix holds one block
// of 20 mails in that proportion.

// benchSeed is the seed of the mailmix generator of the benchmarks.
const benchSeed = 7

// benchAttach is the class of mail with a 1 MiB attachment, for the tests
// that need one (intake_keep_test.go).
const benchAttach = mailmix.Attachment

// benchMix returns one block of the mix: 9 plain, 9 alternative, 1
// Japanese and 1 attachment mail, in the generator's shuffled order.
func benchMix() [][]byte {
	g := mailmix.New(benchSeed, "mailin")
	out := make([][]byte, mailmix.Block)
	for i := range out {
		out[i] = g.Mail("bench", i)
	}
	return out
}

// benchMail returns mail i of class k; its attachment, if any, is named
// diagnostics-<i>.zip.
func benchMail(k mailmix.Kind, i int) []byte {
	return mailmix.New(benchSeed, "mailin").MailOfKind(k, "bench", i)
}

// benchBigMail is the 25 MiB mail of the peak RSS measure: a few lines of
// text and one random file, full-logs.zip, of about 19 MB, base64.
func benchBigMail() []byte {
	raw, _ := mailmix.New(benchSeed, "mailin").BigMail("bench", 25<<20)
	return raw
}

// benchIntake is the Intake of BenchmarkPrepare, configured like the
// daemon's defaults.
func benchIntake() *Intake { return &Intake{MaxBytes: 25 << 20, AttachmentBytes: 5 << 20} }

// BenchmarkPrepare is Intake.Prepare (size gate, pre-scan, Parse) over the
// same mail, and over the 25 MiB mail with a 19 MB attachment.
func BenchmarkPrepare(b *testing.B) {
	it := benchIntake()
	prepare := func(raw []byte) error {
		if p := it.Prepare(raw, Source{}); p.msg == nil {
			return fmt.Errorf("quarantined: %s", p.quarantine)
		}
		return nil
	}
	benchEach(b, prepare)
	b.Run("big_25mib", func(b *testing.B) {
		raw := benchBigMail()
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			if err := prepare(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchEach runs fn over the mix and over each class.
func benchEach(b *testing.B, fn func([]byte) error) {
	mix := benchMix()
	b.Run("mix", func(b *testing.B) { benchMails(b, mix, fn) })
	for k := range mailmix.NumKinds {
		b.Run(k.String(), func(b *testing.B) { benchMails(b, [][]byte{benchMail(k, 3)}, fn) })
	}
}

// benchMails runs fn over mails in turn, one per iteration, and reports
// the rate in mails/s.
func benchMails(b *testing.B, mails [][]byte, fn func([]byte) error) {
	var total int
	for _, m := range mails {
		total += len(m)
	}
	b.SetBytes(int64(total / len(mails)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := fn(mails[n%len(mails)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "mails/s")
}
