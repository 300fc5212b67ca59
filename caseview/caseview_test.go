package caseview

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/store"
)

// TestRowShapes pins the JSON of the rules that only this package applies
// (the CLI tests read the common case): the next attempt is shown only while
// a mail is queued, zero times are null, and a message's lists are never
// null.
func TestRowShapes(t *testing.T) {
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		v    any
		want []string
	}{
		{"a queued mail shows its next attempt", outboxRow(&store.OutboxItem{ID: 1, MessageID: "pd.1@example.com",
			Status: store.OutboxQueued, NextAttemptAt: at, CreatedAt: at}),
			[]string{`"message_id":"<pd.1@example.com>"`, `"next_attempt_at":"2026-11-21T09:00:00Z"`, `"sent_at":null`}},
		{"a sent mail has no next attempt", outboxRow(&store.OutboxItem{ID: 2, MessageID: "pd.2@example.com",
			Status: store.OutboxSent, NextAttemptAt: at, CreatedAt: at, SentAt: at}),
			[]string{`"next_attempt_at":null`, `"sent_at":"2026-11-21T09:00:00Z"`}},
		{"a message without Message-ID, date or files", message(&store.Message{ID: 3, Direction: "in", Kind: "customer"}),
			[]string{`"message_id":""`, `"date":null`, `"attachments":[]`, `"rejected_attachments":[]`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false) // as the CLI prints it
			if err := enc.Encode(tt.v); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("%s lacks %s", b.String(), w)
				}
			}
		})
	}
}
