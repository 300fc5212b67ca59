package main

import (
	"bytes"
	"maps"
	"slices"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/templates"
)

// The domain words are spelled in desk; templates keeps their translations
// and the configuration their keys. These tests tie them together.

func TestEveryDeskWordHasALabel(t *testing.T) {
	for _, lang := range templates.Languages() {
		for _, sev := range desk.Severities() {
			if _, ok := templates.Label(lang, "severity", string(sev)); !ok {
				t.Errorf("%s: severity %q has no label", lang, sev)
			}
		}
		for _, st := range desk.Statuses() {
			for _, group := range []string{"status", "agentstatus"} {
				if _, ok := templates.Label(lang, group, string(st)); !ok {
					t.Errorf("%s: %s %q has no label", lang, group, st)
				}
			}
		}
	}
}

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
