package store

import (
	"context"
	"strings"
	"testing"
)

// TestIntakeQueriesUseIndexes guards the queries every inbound mail runs:
// a full scan of a table that grows with every mail makes intake slower
// with every mail (qCaseOfMessageID did, until it repeated its partial
// index's condition).
func TestIntakeQueriesUseIndexes(t *testing.T) {
	db, _ := openTest(t)
	for name, query := range map[string]string{
		"case of a Message-ID":  qCaseOfMessageID,
		"a sender's Message-ID": qCaseOfMessageIDFrom,
		"raw message by digest": "SELECT id FROM raw_messages WHERE sha256 = ?",
		"thread of a case":      "SELECT message_id FROM messages WHERE case_id = ? ORDER BY id",
		"outbox row by Message": "UPDATE outbox SET bounce = ? WHERE message_id = ?",
		"due outbox rows":       "SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 10",
		"attachment by digest":  "SELECT 1 FROM attachments WHERE sha256 = ?",
		"chunks of a raw":       rawChunks.read,
		"chunks of a file":      attachmentChunks.read,
	} {
		rows, err := db.sql.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, "a", "b")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "; ")
		if strings.Contains(text, "SCAN ") && !strings.Contains(text, "USING") {
			t.Errorf("%s scans a table: %s", name, text)
		}
	}
}
