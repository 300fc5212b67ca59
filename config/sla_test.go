package config

import (
	"bytes"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/postdesk/postdesk/desk"
)

// The domain words are spelled in desk; the configuration keeps their keys.
// This test ties them together.

func TestSLAKeysAreTheDeskSeverities(t *testing.T) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(DefaultConfig().SLA); err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := toml.Unmarshal(buf.Bytes(), &keys); err != nil {
		t.Fatal(err)
	}
	for _, sev := range desk.Severities() {
		if _, ok := keys[string(sev)]; !ok {
			t.Errorf("[sla] has no key %q", sev)
		}
	}
	if len(keys) != len(desk.Severities()) {
		t.Errorf("[sla] keys %v, want %v", slices.Sorted(maps.Keys(keys)), desk.Severities())
	}
}

// The decoder matches keys to fields without regard to case, the last
// spelling written winning; [sla] keeps doing so.
func TestSLAKeysIgnoreCase(t *testing.T) {
	tests := []struct {
		name, doc string
		want      time.Duration // the high target
	}{
		{"upper case", "[sla]\nHIGH = \"1h\"\n", time.Hour},
		{"mixed case after lower case", "[sla]\nhigh = \"2h\"\nHigh = \"1h\"\n", time.Hour},
		{"lower case after mixed case", "[sla]\nHigh = \"1h\"\nhigh = \"2h\"\n", 2 * time.Hour},
		{"two other spellings", "[sla]\nHIGH = \"3h\"\nhigh = \"2h\"\nHigh = \"1h\"\n", time.Hour},
		{"dotted at top level", "sla.HIGH = \"1h\"\n", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			targets := c.SLA.Targets()
			if got := targets[string(desk.SeverityHigh)]; got != tt.want {
				t.Errorf("high target = %v, want %v", got, tt.want)
			}
			if len(targets) != len(desk.Severities()) {
				t.Errorf("targets %v, want one per severity", targets)
			}
		})
	}
}
