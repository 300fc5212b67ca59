package templates

import (
	"fmt"
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
		"agentstatus": {"open": "open", "pending": "pending", "closed": "closed"},
	},
	"fr": {
		"severity": {"low": "faible", "normal": "normale", "high": "élevée", "urgent": "urgente", "critical": "critique"},
		"status": {"open": "ouvert (en cours de traitement par le support)",
			"pending": "en attente de votre réponse", "closed": "clos"},
		"type": {"technical": "support technique", "account-billing": "compte et facturation",
			"service-limit": "augmentation de limite de service"},
		"agentstatus": {"open": "ouvert", "pending": "en attente du client", "closed": "clos"},
	},
	"ja": {
		"severity": {"low": "低", "normal": "通常", "high": "高", "urgent": "緊急", "critical": "重大"},
		"status":   {"open": "対応中", "pending": "お客様からのご返信待ち", "closed": "クローズ"},
		"type": {"technical": "技術サポート", "account-billing": "アカウントおよび請求",
			"service-limit": "サービス上限緩和"},
		"agentstatus": {"open": "対応中", "pending": "お客様返信待ち", "closed": "クローズ"},
	},
}

// Label returns the label of value in group ("severity", "status",
// "agentstatus" or "type") in lang, and whether there is one. Templates show
// a value without a label as it is; tests use Label to check that every
// value desk knows has one in each language.
func Label(lang, group, value string) (string, bool) {
	l, ok := labels[lang][group][value]
	return l, ok
}

// funcs returns the template functions for lang:
//
//	when     t time.Time → "2006-01-02 15:04 UTC"; the zero time → ""
//	size     n int64 bytes → "12 B", "812 KiB", "5 MiB" ("5 Mio" in French)
//	join     strings.Join
//	inc      i + 1, to number a range from 1
//	due      t, at time.Time → when t falls counted from at: "in 3 h 48 min",
//	         "overdue by 2 h 5 min" in lang; "" when either is zero
//	person   name, addr → "Alice Martin <alice@acme.example>", "<alice@acme.example>"
//	         (no name, or the name is the address), "Alice Martin" (no address)
//	severity, status, casetype: the value's label in lang (status as told to customers)
//	agentstatus: the status as told to agents
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

		"agentstatus": label("agentstatus"),
		"due":         func(t, at time.Time) string { return due(lang, t, at) },
		"person":      person,
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

// dueWords are the words of due per language; a language without its own
// uses English.
var dueWords = map[string]struct {
	in, late, now  string // fmt formats of the span, and less than a minute either way
	day, hour, min string // units
	space          string // between a number and its unit, and between parts
}{
	"en": {in: "in %s", late: "overdue by %s", now: "now", day: "d", hour: "h", min: "min", space: " "},
	"fr": {in: "dans %s", late: "en retard de %s", now: "échéance atteinte", day: "j", hour: "h", min: "min", space: " "},
	"ja": {in: "あと%s", late: "%s超過", now: "今が期限", day: "日", hour: "時間", min: "分", space: ""},
}

// due says when t falls counted from at, to the minute (rounded toward at):
// "in 3 h 48 min", "overdue by 2 h 5 min", "in 2 d 4 h" (no minutes once a
// day is reached), "now" within a minute either way. It is "" when either
// time is zero.
func due(lang string, t, at time.Time) string {
	if t.IsZero() || at.IsZero() {
		return ""
	}
	w, ok := dueWords[lang]
	if !ok {
		w = dueWords[fallback]
	}
	d := t.Sub(at)
	format := w.in
	if d < 0 {
		d, format = -d, w.late
	}
	d = d.Truncate(time.Minute)
	if d == 0 {
		return w.now
	}
	days, hours, mins := int64(d/(24*time.Hour)), int64(d/time.Hour%24), int64(d/time.Minute%60)
	var parts []string
	add := func(n int64, unit string) {
		if n > 0 {
			parts = append(parts, strconv.FormatInt(n, 10)+w.space+unit)
		}
	}
	add(days, w.day)
	add(hours, w.hour)
	if days == 0 {
		add(mins, w.min)
	}
	return fmt.Sprintf(format, strings.Join(parts, w.space))
}

// person writes a name and an address as a mail client shows them:
// "Alice Martin <alice@acme.example>"; the address alone in angle brackets
// when there is no name or the name is the address; the name alone when
// there is no address.
func person(name, addr string) string {
	name, addr = strings.TrimSpace(name), strings.TrimSpace(addr)
	switch {
	case addr == "":
		return name
	case name == "" || strings.EqualFold(name, addr):
		return "<" + addr + ">"
	default:
		return name + " <" + addr + ">"
	}
}
