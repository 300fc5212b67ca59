package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/store"
)

// The store cannot import desk (DESIGN §2), so its schema spells the
// statuses, roles and message kinds in its CHECK constraints. This test
// holds them to desk's lists (desk/words.go), so that a word added there and
// not here, or the other way round, fails here instead of at the first
// write of a case.
func TestSchemaWordsAreDesks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "postdesk.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	tests := []struct {
		table, column string
		want          []string
	}{
		{"cases", "status", words(desk.Statuses())},
		{"participants", "role", words(desk.Roles())},
		{"messages", "kind", words(desk.MessageKinds())},
	}
	for _, tt := range tests {
		t.Run(tt.table+"."+tt.column, func(t *testing.T) {
			var schema string
			if err := raw.QueryRow("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", tt.table).Scan(&schema); err != nil {
				t.Fatal(err)
			}
			got := checkList(schema, tt.column)
			if got == nil {
				t.Fatalf("no CHECK (%s IN (…)) in %s", tt.column, schema)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("the schema allows %s.%s in %q; desk's words are %q", tt.table, tt.column, got, want)
			}
		})
	}
}

// checkList returns the values of "column ... CHECK (column IN ('a', 'b'))"
// in a CREATE TABLE statement, nil when it has none.
func checkList(schema, column string) []string {
	m := regexp.MustCompile(`CHECK \(` + column + ` IN \(([^)]*)\)\)`).FindStringSubmatch(schema)
	if m == nil {
		return nil
	}
	var out []string
	for _, v := range strings.Split(m[1], ",") {
		out = append(out, strings.Trim(strings.TrimSpace(v), "'"))
	}
	return out
}

func words[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, w := range list {
		out[i] = string(w)
	}
	return out
}
