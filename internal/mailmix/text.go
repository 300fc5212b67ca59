package mailmix

// The text the mails are made of: support requests in English, a little
// French, and Japanese.

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// paragraphs returns about size bytes of text in paragraphs separated by
// blank lines, sometimes starting with field lines.
func paragraphs(rnd *rand.Rand, size int) string {
	var s strings.Builder
	if rnd.IntN(4) == 0 {
		fmt.Fprintf(&s, "Severity: %s\nService: %s\n\n", []string{"low", "normal", "high", "urgent"}[rnd.IntN(4)],
			[]string{"EC2", "S3", "RDS", "ELB", "Route 53"}[rnd.IntN(5)])
	}
	s.WriteString("Hello support team,\n\n")
	for s.Len() < size-120 {
		for range 2 + rnd.IntN(3) {
			s.WriteString(sentence(rnd))
			s.WriteString(" ")
		}
		if rnd.IntN(3) == 0 {
			fmt.Fprintf(&s, "\n\n%s", logLine(rnd))
		}
		s.WriteString("\n\n")
	}
	s.WriteString("Best regards,\nOperations team, Customer Corp.\n")
	return s.String()
}

func sentence(rnd *rand.Rand) string { return sentences[rnd.IntN(len(sentences))] }

func logLine(rnd *rand.Rand) string {
	return fmt.Sprintf("2026-03-%02d %02d:%02d:%02d ERROR [worker-%d] upstream request failed: status=%d latency=%dms request_id=%016x",
		1+rnd.IntN(28), rnd.IntN(24), rnd.IntN(60), rnd.IntN(60), rnd.IntN(16),
		[]int{500, 502, 503, 504}[rnd.IntN(4)], 100+rnd.IntN(30000), rnd.Uint64())
}

// wrap splits text into lines of at most width bytes at spaces.
func wrap(text string, width int) []string {
	var out []string
	for para := range strings.SplitSeq(text, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			if line != "" && len(line)+1+len(w) > width {
				out = append(out, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		out = append(out, line)
	}
	return out
}

var subjects = []string{
	"Instances unreachable after maintenance window",
	"ELB returns 503 for part of our traffic",
	"Billing question about last month's invoice",
	"Request to raise the service limit for vCPUs",
	"Database failover took much longer than expected",
	"Latence élevée sur l'API depuis ce matin",
	"S3 uploads failing with SlowDown errors",
	"DNS resolution intermittently fails in eu-west-1",
	"Cannot attach volume to instance",
	"Question about reserved capacity pricing",
}

var sentences = []string{
	"Since this morning around 09:40 UTC our production instances stopped answering health checks.",
	"We did not change anything in our configuration during the last week.",
	"The problem started right after the scheduled maintenance announced in the console.",
	"About a third of the requests are affected, the others go through normally.",
	"We restarted the application servers but the errors came back after a few minutes.",
	"Our monitoring shows the latency climbing from 80 ms to more than 4 seconds.",
	"Could you please check whether there is an ongoing issue in this region?",
	"The account ID and the resource identifiers are in the log excerpt below.",
	"This is blocking our release planned for tomorrow, so a quick answer would help a lot.",
	"We also opened a ticket with the database vendor, who pointed us to the network layer.",
	"Nous avons vérifié les règles du pare-feu et rien n'a été modifié récemment.",
	"Les clients en Europe sont les plus touchés, l'Amérique du Nord semble épargnée.",
	"Please let us know if you need a traceroute or packet capture from our side.",
	"The same setup works fine in our staging account with identical settings.",
	"We would appreciate a call with an engineer if that is possible.",
}

var jpSubjects = []string{"ログインできません", "請求書について", "サーバーに接続できない", "上限緩和の申請", "応答が遅い"}

var jpNames = []string{"山田 太郎", "佐藤 花子", "鈴木 一郎", "高橋 美咲"}

var jpSentences = []string{
	"本日午前九時頃から、本番環境のサーバーに接続できない状態が続いております。",
	"設定は先週から一切変更しておりません。",
	"メンテナンス後に問題が発生したように見受けられます。",
	"約三割のリクエストでエラーが発生しており、残りは正常に処理されています。",
	"アプリケーションサーバーを再起動しましたが、数分後に再び同じエラーが発生しました。",
	"監視ツールでは応答時間が八十ミリ秒から四秒以上に増加しています。",
	"このリージョンで障害が発生していないか確認していただけますでしょうか。",
	"アカウント番号とリソースの識別子は下記のログに記載しております。",
	"明日のリリースに影響が出ておりますので、早急なご対応をお願いいたします。",
}
