package main

import (
	"testing"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/templates"
)

// The domain words are spelled in desk and templates keeps their
// translations: this test ties them together (config's sla_test.go ties
// desk's severities to the [sla] keys).

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
