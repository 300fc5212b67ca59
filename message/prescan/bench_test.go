package prescan

import (
	"testing"

	"github.com/postdesk/postdesk/internal/mailmix"
)

// BenchmarkCheck is the pre-scan alone over the realistic mix of
// message's BenchmarkParse (sub-benchmark "mix", one mail per iteration,
// reporting mails/s) and over each class alone.
func BenchmarkCheck(b *testing.B) {
	mailmix.BenchEach(b, func(raw []byte) error { return Check(raw, Limits{}) })
}
