package desk

import (
	"strings"
	"unicode"
)

// Fields are the optional "Key: value" lines at the very top of a case's
// first message. Unknown values are ignored, so a typo never blocks a case.
type Fields struct {
	Severity Severity // one of Severities, "" when not given or unknown
	Service  string
	Category string
	Language string // en, fr or ja
	// Asked is the severity text as the customer wrote it, for the reply
	// that explains why they got another one.
	Asked string
}

// fieldKeys maps the key names customers write, in English, French and
// Japanese, to the field they set.
var fieldKeys = map[string]string{
	"severity": "severity", "priority": "severity", "sévérité": "severity", "severite": "severity",
	"gravité": "severity", "gravite": "severity", "priorité": "severity", "重要度": "severity",
	"深刻度": "severity", "緊急度": "severity", "優先度": "severity",
	"service": "service", "サービス": "service",
	"category": "category", "catégorie": "category", "categorie": "category", "カテゴリ": "category",
	"カテゴリー":    "category",
	"language": "language", "langue": "language", "言語": "language",
}

// severityNames maps what customers write to a severity: the plain names in
// three languages and the long names of the AWS console (English, Japanese).
var severityNames = map[string]Severity{
	"low": SeverityLow, "faible": SeverityLow, "basse": SeverityLow, "bas": SeverityLow, "低": SeverityLow,
	"general guidance": SeverityLow, "一般的なガイダンス": SeverityLow,
	"normal": SeverityNormal, "normale": SeverityNormal, "moyenne": SeverityNormal, "通常": SeverityNormal, "中": SeverityNormal,
	"system impaired": SeverityNormal, "システム障害": SeverityNormal,
	"high": SeverityHigh, "élevée": SeverityHigh, "elevee": SeverityHigh, "haute": SeverityHigh, "高": SeverityHigh,
	"production system impaired": SeverityHigh, "本番システム障害": SeverityHigh,
	"urgent": SeverityUrgent, "urgente": SeverityUrgent, "緊急": SeverityUrgent,
	"production system down": SeverityUrgent, "本番システムのダウン": SeverityUrgent, "本番システム停止": SeverityUrgent,
	"critical": SeverityCritical, "critique": SeverityCritical, "重大": SeverityCritical, "クリティカル": SeverityCritical,
	"business-critical system down": SeverityCritical, "business critical system down": SeverityCritical,
	"ビジネスクリティカルなシステムのダウン": SeverityCritical, "ビジネス上重要なシステムのダウン": SeverityCritical,
}

// languageNames maps language values to the languages postdesk writes.
var languageNames = map[string]string{
	"en": "en", "english": "en", "anglais": "en", "英語": "en",
	"fr": "fr", "french": "fr", "français": "fr", "francais": "fr", "フランス語": "fr",
	"ja": "ja", "japanese": "ja", "japonais": "ja", "日本語": "ja",
}

// ParseFields reads the field lines at the top of text: blank lines may
// precede them, and the first line that is not "Key: value" with a known key
// ends them. Full-width colons (：) count as colons.
func ParseFields(text string) Fields {
	var f Fields
	seen := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			if seen {
				break
			}
			continue
		}
		key, value, ok := splitField(line)
		if !ok {
			break
		}
		seen = true
		switch key {
		case "severity":
			f.Asked = value
			f.Severity = severityNames[strings.ToLower(value)]
		case "service":
			f.Service = value
		case "category":
			f.Category = value
		case "language":
			f.Language = Language(value)
		}
	}
	return f
}

func splitField(line string) (key, value string, ok bool) {
	line = strings.Replace(line, "：", ":", 1)
	k, v, found := strings.Cut(line, ":")
	if !found {
		return "", "", false
	}
	key, ok = fieldKeys[strings.ToLower(strings.TrimSpace(k))]
	return key, strings.TrimSpace(v), ok
}

// ParseSeverity returns the severity named by s in any accepted language, or "".
func ParseSeverity(s string) Severity { return severityNames[strings.ToLower(strings.TrimSpace(s))] }

// Language returns the language (en, fr, ja) named by s, or "". It accepts
// names and tags such as "fr-CA" or "ja-JP".
func Language(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if l, ok := languageNames[s]; ok {
		return l
	}
	if base, _, ok := strings.Cut(s, "-"); ok {
		return languageNames[base]
	}
	return ""
}

// hasJapanese reports whether text contains hiragana or katakana, which
// only Japanese is written in (kanji alone could be Chinese).
func hasJapanese(text string) bool {
	for _, r := range text {
		if unicode.In(r, unicode.Hiragana, unicode.Katakana) {
			return true
		}
	}
	return false
}
