package templates

import (
	"strconv"
	"strings"
	"text/template"
	"time"
)

// labels translate the fixed values of a case (severity, status, type) into
// the words a support engineer of that language would write. A value without
// a label is shown as it is.
var labels = map[string]map[string]map[string]string{
	"en": {
		"severity": {"low": "low", "normal": "normal", "high": "high", "urgent": "urgent", "critical": "critical"},
		"status":   {"open": "open (with support)", "pending": "pending (waiting for your reply)", "closed": "closed"},
		"type": {"technical": "technical support", "account-billing": "account and billing",
			"service-limit": "service limit increase"},
	},
	"fr": {
		"severity": {"low": "faible", "normal": "normale", "high": "élevée", "urgent": "urgente", "critical": "critique"},
		"status": {"open": "ouvert (en cours de traitement par le support)",
			"pending": "en attente de votre réponse", "closed": "clos"},
		"type": {"technical": "support technique", "account-billing": "compte et facturation",
			"service-limit": "augmentation de limite de service"},
	},
	"ja": {
		"severity": {"low": "低", "normal": "通常", "high": "高", "urgent": "緊急", "critical": "重大"},
		"status":   {"open": "対応中", "pending": "お客様からのご返信待ち", "closed": "クローズ"},
		"type": {"technical": "技術サポート", "account-billing": "アカウントおよび請求",
			"service-limit": "サービス上限緩和"},
	},
}

// funcs returns the template functions for lang:
//
//	when     t time.Time → "2006-01-02 15:04 UTC"; the zero time → ""
//	size     n int64 bytes → "12 B", "812 KiB", "5 MiB" ("5 Mio" in French)
//	join     strings.Join
//	inc      i + 1, to number a range from 1
//	severity, status, casetype: the value's label in lang
func funcs(lang string) template.FuncMap {
	label := func(group string) func(string) string {
		return func(v string) string {
			if l, ok := labels[lang][group][v]; ok {
				return l
			}
			return v
		}
	}
	return template.FuncMap{
		"when":     when,
		"size":     func(n int64) string { return size(lang, n) },
		"join":     strings.Join,
		"inc":      func(i int) int { return i + 1 },
		"severity": label("severity"),
		"status":   label("status"),
		"casetype": label("type"),
	}
}

// when formats t in UTC to the minute.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 MST")
}

// size writes a byte count the way people read it: whole numbers from 10
// units up, one decimal below.
func size(lang string, n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	if lang == "fr" {
		units = []string{"o", "Kio", "Mio", "Gio", "Tio"}
	}
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " " + units[0]
	}
	v, u := float64(n), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	prec := 1
	if v >= 10 {
		prec = 0
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	s = strings.TrimSuffix(s, ".0")
	if lang == "fr" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " " + units[u]
}
