package desk

import "testing"

func TestParseFields(t *testing.T) {
	tests := []struct {
		name, text string
		want       Fields
	}{
		{"English fields on top", "Severity: high\nService: ELB\n\nbody", Fields{Severity: "high", Service: "ELB", Asked: "high"}},
		{"blank lines before fields", "\n\nSeverity: low\nbody", Fields{Severity: "low", Asked: "low"}},
		{"French keys and values", "Sévérité: élevée\nCatégorie: réseau\n", Fields{Severity: "high", Category: "réseau", Asked: "élevée"}},
		{"Japanese with full-width colon", "重要度：緊急\nサービス: EC2\n", Fields{Severity: "urgent", Service: "EC2", Asked: "緊急"}},
		{"AWS long name", "Severity: Production system down\n", Fields{Severity: "urgent", Asked: "Production system down"}},
		{"unknown severity is ignored", "Severity: apocalyptic\n", Fields{Asked: "apocalyptic"}},
		{"fields after the text do not count", "Hello\nSeverity: critical\n", Fields{}},
		{"language field", "Language: français\n", Fields{Language: "fr"}},
		{"URGENT in the text sets nothing", "URGENT!!! our site is down", Fields{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseFields(tt.text); got != tt.want {
				t.Errorf("ParseFields(%q) = %+v, want %+v", tt.text, got, tt.want)
			}
		})
	}
}

func TestLanguage(t *testing.T) {
	for in, want := range map[string]string{"fr-CA": "fr", "ja-JP": "ja", "EN": "en", "日本語": "ja", "de": "", "": ""} {
		if got := Language(in); got != want {
			t.Errorf("Language(%q) = %q, want %q", in, got, want)
		}
	}
}
