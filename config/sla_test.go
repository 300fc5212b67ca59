package config

import (
	"bytes"
	"maps"
	"slices"
	"testing"

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
