package threading

import (
	"strings"
	"testing"
)

func BenchmarkFind(b *testing.B) {
	tg := NewTagger("")
	subjects := []string{
		"Re: AW: [Case #1042] ELB unreachable in eu-west-1 since this morning",
		"回复： ［Case ＃1042］ 数据库连接失败",
		"Fwd: quarterly report for the finance team, no tag here at all",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tg.Find(subjects[i%len(subjects)])
	}
}

func BenchmarkNormalizeSubject(b *testing.B) {
	subjects := []string{
		"Re: AW: Fwd: [Case #1042] ELB unreachable in eu-west-1",
		"RE : TR : Facture de mars",
		"返信: 転送: サーバー停止のお知らせ",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		NormalizeSubject(subjects[i%len(subjects)])
	}
}

// benchReply is a typical top-posted reply with a long quoted thread.
var benchReply = func() string {
	var s strings.Builder
	s.WriteString("Hello,\n\nthe load balancer is reachable again, thanks.\nYou can close the case.\n\nAlice\n\n")
	s.WriteString("On Mon, 3 Feb 2025 at 10:12, Support <support@desk.example> wrote:\n")
	for i := range 200 {
		s.WriteString("> line ")
		s.WriteString(strings.Repeat("x", i%70))
		s.WriteString("\n")
	}
	return s.String()
}()

func BenchmarkStripQuoted(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchReply)))
	for b.Loop() {
		StripQuoted(benchReply)
	}
}

func BenchmarkIDsCase(b *testing.B) {
	g := newTestIDs(b)
	id := "<" + g.New(1042) + ">"
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := g.Case(id); !ok {
			b.Fatal("Case failed")
		}
	}
}

func BenchmarkIDsNew(b *testing.B) {
	g, err := NewIDs(testKey, "desk.example", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		g.New(1042)
	}
}

func BenchmarkIDsSentTo(b *testing.B) {
	g := newTestIDs(b)
	id := "<" + g.NewFor(1042, 31, "lee@example.com") + ">"
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := g.SentTo(id, "Lee@Example.com"); !ok {
			b.Fatal("SentTo failed")
		}
	}
}
