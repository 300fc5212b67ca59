package message

import (
	"math/rand/v2"
	"testing"

	"github.com/postdesk/postdesk/internal/mailmix"
)

// The realistic mix of the issue "Speed" comes from mailmix, as for
// cmd/postdesk-bench and the mailin and prescan benchmarks (the same seed
// and name, so the same bytes): 45 % plain text of about 2 KB, 45 %
// multipart/alternative of about 8 KB, 5 % ISO-2022-JP text, 5 %
// multipart/mixed with a 1 MiB base64 attachment. mailmix.BenchMix holds
// one block of 20 mails in that proportion.

// benchHTMLMail is the mail of the issue "a 24 MB HTML mail takes 1 GB and
// 10 s": one quoted-printable text/html part of 24 MiB, a report table.
func benchHTMLMail() []byte {
	return mailmix.New(mailmix.BenchSeed, mailmix.BenchName).HTMLMail("bench", 24<<20)
}

// benchBigMail is the 25 MiB mail of the peak RSS measure: a few lines of
// text and one random file, full-logs.zip, of about 19 MB, base64.
func benchBigMail() []byte {
	raw, _ := mailmix.New(mailmix.BenchSeed, mailmix.BenchName).BigMail("bench", 25<<20)
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
	mailmix.BenchEach(b, func(raw []byte) error {
		_, err := Parse(raw)
		return err
	})
}
