package mailmix

import "testing"

// BenchSeed and BenchName make the mail of the parsing benchmarks (mailin
// and message use the same, so the same bytes).
const (
	BenchSeed = 7
	BenchName = "mailin"
)

// BenchMix returns one block of the mix: 9 plain, 9 alternative, 1
// Japanese and 1 attachment mail, in the generator's shuffled order.
func BenchMix() [][]byte {
	g := New(BenchSeed, BenchName)
	out := make([][]byte, Block)
	for i := range out {
		out[i] = g.Mail("bench", i)
	}
	return out
}

// BenchMail returns mail i of class k; its attachment, if any, is named
// diagnostics-<i>.zip.
func BenchMail(k Kind, i int) []byte {
	return New(BenchSeed, BenchName).MailOfKind(k, "bench", i)
}

// BenchEach runs fn over the mix and over each class, as sub-benchmarks.
func BenchEach(b *testing.B, fn func([]byte) error) {
	mix := BenchMix()
	b.Run("mix", func(b *testing.B) { BenchMails(b, mix, fn) })
	for k := range NumKinds {
		b.Run(k.String(), func(b *testing.B) { BenchMails(b, [][]byte{BenchMail(k, 3)}, fn) })
	}
}

// BenchMails runs fn over mails in turn, one per iteration, and reports
// the rate in mails/s.
func BenchMails(b *testing.B, mails [][]byte, fn func([]byte) error) {
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
