package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseErrorPositions(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // error messages, in order
		keys []string
	}{
		{
			name: "misspelt key in a table",
			doc:  "[desk]\naddress = \"support@example.com\"\n\n[smtp]\nhots = \"smtp.example.com\"\n",
			want: []string{`5:1: unknown key "smtp.hots"`},
			keys: []string{"smtp.hots"},
		},
		{
			name: "every unknown key is reported",
			doc:  "[desk]\nadress = \"a@b.example\"\n[limits]\n  contact = 3\n",
			want: []string{`2:1: unknown key "desk.adress"`, `4:3: unknown key "limits.contact"`},
			keys: []string{"desk.adress", "limits.contact"},
		},
		{
			name: "unknown key in a mailbox",
			doc:  "[[mailbox]]\nname = \"a\"\nfolders = \"INBOX\"\n",
			want: []string{`3:1: unknown key "mailbox.folders"`},
			keys: []string{"mailbox.folders"},
		},
		{
			name: "unknown key in a plan",
			doc:  "[plans.business]\nmax_sev = \"high\"\n",
			want: []string{`2:1: unknown key "plans.business.max_sev"`},
			keys: []string{"plans.business.max_sev"},
		},
		{
			name: "unknown key in sla",
			doc:  "[sla]\nhigh = \"4h\"\nhgih = \"4h\"\n",
			want: []string{`3:1: unknown key "sla.hgih"`},
			keys: []string{"sla.hgih"},
		},
		{
			name: "unknown keys in sla and other tables, in document order",
			doc:  "[desk]\nadress = \"a@b.example\"\n[sla]\n  zzz = \"1h\"\n  hgih = \"4h\"\n[smtp]\nhots = \"x\"\n",
			want: []string{`2:1: unknown key "desk.adress"`, `4:3: unknown key "sla.zzz"`, `5:3: unknown key "sla.hgih"`,
				`7:1: unknown key "smtp.hots"`},
			keys: []string{"desk.adress", "sla.zzz", "sla.hgih", "smtp.hots"},
		},
		{
			name: "unknown sla key written dotted at top level",
			doc:  "sla.hgih = \"4h\"\n",
			want: []string{`1:1: unknown key "sla.hgih"`},
			keys: []string{"sla.hgih"},
		},
		{
			name: "unknown sla table",
			doc:  "[sla.hgih]\n",
			want: []string{`1:2: unknown key "sla.hgih"`},
			keys: []string{"sla.hgih"},
		},
		{
			name: "unknown dotted key at top level",
			doc:  "smtp.hots = \"x\"\n",
			want: []string{`1:1: unknown key "smtp.hots"`},
			keys: []string{"smtp.hots"},
		},
		{
			name: "unknown table",
			doc:  "[desk]\ntag = \"Case\"\n[mailboxes]\nname = \"a\"\n",
			want: []string{`3:2: unknown key "mailboxes"`},
			keys: []string{"mailboxes"},
		},
		{
			name: "syntax error",
			doc:  "[desk]\nname = \"Support\n",
			want: []string{`2:16: basic strings cannot have new lines`},
			keys: []string{""},
		},
		{
			name: "wrong type",
			doc:  "[smtp]\nport = \"587\"\n",
			keys: []string{"smtp.port"},
		},
		{
			name: "bad duration",
			doc:  "[sla]\nhigh = \"4 hours\"\n",
			want: []string{`2:8: sla.high: invalid duration "4 hours": want a number with a unit, such as "90s", "15m" or "4h"`},
			keys: []string{"sla.high"},
		},
		{
			name: "unquoted holiday date",
			doc:  "[business_hours]\nholidays = [2026-12-25]\n",
			keys: []string{"business_hours.holidays"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want an error", c)
			}
			errs := configErrors(t, err)
			var msgs, keys []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
				keys = append(keys, e.Key)
				if e.Line < 1 || e.Column < 1 {
					t.Errorf("error %q has no position", e)
				}
			}
			if tt.want != nil && !slices.Equal(msgs, tt.want) {
				t.Errorf("errors = %q, want %q", msgs, tt.want)
			}
			if !slices.Equal(keys, tt.keys) {
				t.Errorf("keys = %q, want %q", keys, tt.keys)
			}
		})
	}
}

func TestLoadErrorsStartWithFileName(t *testing.T) {
	dir := t.TempDir()
	write := func(name, doc string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	t.Run("unknown key", func(t *testing.T) {
		path := write("unknown.toml", "[desk]\naddress = \"support@example.com\"\n\n[smtp]\nhots = \"x\"\n")
		_, err := Load(path)
		if want := path + `:5:1: unknown key "smtp.hots"`; err == nil || err.Error() != want {
			t.Fatalf("Load error = %v, want %s", err, want)
		}
	})
	t.Run("unknown key in sla, before validation problems", func(t *testing.T) {
		// Like every unknown key, a misspelt severity is reported alone:
		// validation waits until the file decodes.
		path := write("sla.toml", "[desk]\naddress = \"not an address\"\n\n[sla]\nhgih = \"4h\"\n")
		_, err := Load(path)
		if want := path + `:5:1: unknown key "sla.hgih"`; err == nil || err.Error() != want {
			t.Fatalf("Load error = %v, want %s", err, want)
		}
	})
	t.Run("validation problems", func(t *testing.T) {
		path := write("invalid.toml", "[desk]\naddress = \"not an address\"\ntag = \"Case No\"\n")
		_, err := Load(path)
		if err == nil {
			t.Fatal("Load succeeded, want validation errors")
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != 2 {
			t.Fatalf("error has %d lines, want 2: %v", len(lines), err)
		}
		for i, line := range lines {
			// Validation errors carry the position of their key too.
			if want := fmt.Sprintf("%s:%d:1: desk.", path, i+2); !strings.HasPrefix(line, want) {
				t.Errorf("error line %q does not start with %q", line, want)
			}
		}
	})
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(dir, "absent.toml")
		_, err := Load(path)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Load error = %v, want one wrapping fs.ErrNotExist", err)
		}
		if !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("error %q does not start with the file name", err)
		}
	})
}
