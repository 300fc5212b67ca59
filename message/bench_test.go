package message

import (
	"math/rand/v2"
	"testing"

	"github.com/postdesk/postdesk/internal/mailmix"
)

// The realistic mix of the issue "Speed" comes from mailmix, as for
// cmd/postdesk-bench and the mailin benchmarks (the same seed and name, so
// the same bytes): 45 % plain text of about 2 KB, 45 %
// multipart/alternative of about 8 KB, 5 % ISO-2022-JP text, 5 %
// multipart/mixed with a 1 MiB base64 attachment. benchMix holds one block
// of 20 mails in that proportion.

// benchSeed is the seed of the mailmix generator of the benchmarks.
const benchSeed = 7

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

// benchHTMLMail is the mail of the issue "a 24 MB HTML mail takes 1 GB and
// 10 s": one quoted-printable text/html part of 24 MiB, a report table.
func benchHTMLMail() []byte {
	return mailmix.New(benchSeed, "mailin").HTMLMail("bench", 24<<20)
}

// benchBigMail is the 25 MiB mail of the peak RSS measure: a few lines of
// text and one random file, full-logs.zip, of about 19 MB, base64.
func benchBigMail() []byte {
	raw, _ := mailmix.New(benchSeed, "mailin").BigMail("bench", 25<<20)
	return raw
}

// randomBytes returns n incompressible bytes (like a zip) from seed.
func randomBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0] = byte(seed)
	data := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(data)
	return data
}

// BenchmarkParse is Parse over the realistic mix (sub-benchmark "mix",
// one mail per iteration, reporting mails/s) and over each class alone.
func BenchmarkParse(b *testing.B) {
	benchEach(b, func(raw []byte) error {
		_, err := Parse(raw)
		return err
	})
}

// BenchmarkPrescan is the pre-scan alone over the same mail.
func BenchmarkPrescan(b *testing.B) {
	benchEach(b, func(raw []byte) error { return Prescan(raw, Limits{}) })
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
