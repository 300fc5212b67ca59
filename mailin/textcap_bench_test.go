package mailin

import (
	"testing"

	"github.com/postdesk/postdesk/internal/mailmix"
)

// benchHTMLMail is the mail of the issue "a 24 MB HTML mail takes 1 GB and
// 10 s": one quoted-printable text/html part of 24 MiB, a report table.
func benchHTMLMail() []byte {
	return mailmix.New(mailmix.BenchSeed, mailmix.BenchName).HTMLMail("bench", 24<<20)
}

// BenchmarkPrepareHTML is Intake.Prepare of the 24 MiB HTML mail, with
// the daemon's defaults (TextBytes 1 MiB): B/op and allocs/op are the
// memory one such mail costs.
func BenchmarkPrepareHTML(b *testing.B) {
	it := benchIntake()
	raw := benchHTMLMail()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if p := it.Prepare(raw, Source{}); p.msg == nil {
			b.Fatalf("quarantined: %s", p.quarantine)
		}
	}
}
