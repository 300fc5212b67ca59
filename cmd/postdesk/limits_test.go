package main

import (
	"path/filepath"
	"testing"

	"github.com/postdesk/postdesk/config"
)

// limits.text_bytes reaches the intake of every command that reads mail.
func TestTextBytesReachesIntake(t *testing.T) {
	for _, limit := range []int64{config.DefaultConfig().Limits.TextBytes, 4096} {
		dir := t.TempDir()
		cfg := config.DefaultConfig()
		cfg.Desk.Address = "support@example.com"
		cfg.Desk.Database, cfg.Desk.SecretFile = filepath.Join(dir, "postdesk.db"), filepath.Join(dir, "postdesk.key")
		cfg.Limits.TextBytes = limit
		a, err := openApp(t.Context(), cfg, appOptions{})
		if err != nil {
			t.Fatal(err)
		}
		in, err := a.intake("")
		a.Close()
		if err != nil {
			t.Fatal(err)
		}
		if in.TextBytes != limit {
			t.Fatalf("intake TextBytes = %d, want %d", in.TextBytes, limit)
		}
	}
	if got := config.DefaultConfig().Limits.TextBytes; got != 1<<20 {
		t.Errorf("default text_bytes %d, want 1 MiB", got)
	}
}
