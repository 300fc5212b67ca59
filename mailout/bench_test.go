package mailout

import (
	"context"
	"fmt"
	"testing"

	"github.com/postdesk/postdesk/store"
)

func BenchmarkBuild(b *testing.B) {
	db := openDB(b)
	s, _ := newSender(b, db, nil, nil)
	c := newCase(b, db, "en")
	file := storeFile(b, db, c, "app.log", "text/plain", make([]byte, 64<<10))
	for _, bc := range []struct{ kind, lang string }{
		{store.MailConfirmation, "en"}, {store.MailConfirmation, "ja"}, {store.MailReply, "fr"},
	} {
		b.Run(bc.kind+"."+bc.lang, func(b *testing.B) {
			it := sampleRow(bc.kind, bc.lang, c, file)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Build(context.Background(), it); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFlush sends 200 queued confirmations to the sink over one
// connection per iteration.
func BenchmarkFlush(b *testing.B) {
	const n = 200
	db := openDB(b)
	sink := startSink(b)
	s, _ := newSender(b, db, sink, nil)
	c := newCase(b, db, "en")
	seq := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		err := db.Tx(context.Background(), func(tx *store.Tx) error {
			for range n {
				seq++
				it := confirmation(c)
				it.MessageID, it.CreatedAt, it.Lang = fmt.Sprintf("bench.%d@example.com", seq), t0, "en"
				if err := tx.Enqueue(it); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		st, err := s.Flush(context.Background())
		if err != nil || st.Sent != n {
			b.Fatalf("Flush = %+v, %v", st, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/mail")
}
