package desk

import (
	"reflect"
	"testing"
)

func TestDefaultOptions(t *testing.T) {
	t.Run("zero options take every default", func(t *testing.T) {
		if got, want := (Options{}).withDefaults(), DefaultOptions(); !reflect.DeepEqual(got, want) {
			t.Errorf("Options{}.withDefaults() = %+v, want %+v", got, want)
		}
	})
	t.Run("set options and Never are kept", func(t *testing.T) {
		o := Options{ReopenDays: Never, AutocloseDays: 3, Contacts: 2, DefaultPlan: "basic"}.withDefaults()
		if o.ReopenDays != Never || o.AutocloseDays != 3 || o.Contacts != 2 || o.DefaultPlan != "basic" {
			t.Errorf("withDefaults changed set options: %+v", o)
		}
	})
	t.Run("each call returns fresh maps", func(t *testing.T) {
		a := DefaultOptions()
		delete(a.Plans, "basic")
		a.Targets[SeverityLow] = 0
		if b := DefaultOptions(); b.Plans["basic"].MaxSeverity != SeverityNormal || b.Targets[SeverityLow] == 0 {
			t.Fatal("DefaultOptions results share state")
		}
	})
	t.Run("every severity has a default target", func(t *testing.T) {
		for _, sev := range Severities() {
			if DefaultOptions().Targets[sev] <= 0 {
				t.Errorf("no default target for %s", sev)
			}
		}
	})
}
