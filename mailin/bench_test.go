package mailin

import (
	"fmt"
	"testing"

	"github.com/postdesk/postdesk/internal/mailmix"
)

// The realistic mix of the issue "Speed" comes from mailmix, as for
// cmd/postdesk-bench and the message and prescan benchmarks (Parse,
// Check): 45 % plain text of about 2 KB, 45 % multipart/alternative of
// about 8 KB, 5 % ISO-2022-JP text, 5 % multipart/mixed with a 1 MiB base64
// attachment. mailmix.BenchMix holds one block of 20 mails in that
// proportion.

// benchAttach is the class of mail with a 1 MiB attachment, for the tests
// that need one (intake_keep_test.go).
const benchAttach = mailmix.Attachment

// benchBigMail is the 25 MiB mail of the peak RSS measure: a few lines of
// text and one random file, full-logs.zip, of about 19 MB, base64.
func benchBigMail() []byte {
	raw, _ := mailmix.New(mailmix.BenchSeed, mailmix.BenchName).BigMail("bench", 25<<20)
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
	mailmix.BenchEach(b, prepare)
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
