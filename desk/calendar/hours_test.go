package calendar

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones below, even on a machine without zoneinfo
)

// developerHours are the developer plan's hours of DESIGN §4: 08:00–18:00
// Monday to Friday in zone.
func developerHours(t testing.TB, zone string, holidays ...string) Hours {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatalf("load zone %s: %v", zone, err)
	}
	h := Hours{Start: 8 * time.Hour, End: 18 * time.Hour, Location: loc}
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday} {
		h.Days[d] = true
	}
	if len(holidays) > 0 {
		h.Holidays = map[string]bool{}
		for _, d := range holidays {
			h.Holidays[d] = true
		}
	}
	return h
}

// at parses an RFC 3339 time; writing the offset shows which side of a DST
// change a time is on.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func TestHoursDue(t *testing.T) {
	paris := developerHours(t, "Europe/Paris")
	tokyo := developerHours(t, "Asia/Tokyo")
	newYork := developerHours(t, "America/New_York")
	parisHolidays := developerHours(t, "Europe/Paris", "2026-12-25", "2027-01-01")
	utc := developerHours(t, "UTC")
	utc.Location = nil
	parisEveryDay := paris
	parisEveryDay.Days = [7]bool{true, true, true, true, true, true, true}
	newYorkEveryDay := newYork
	newYorkEveryDay.Days = parisEveryDay.Days
	allDayParis := paris
	allDayParis.Start, allDayParis.End = 0, 24*time.Hour
	allDayParis.Days = [7]bool{true, true, true, true, true, true, true}

	tests := []struct {
		name  string
		hours Hours
		start string
		d     time.Duration
		want  string
	}{
		{"24/7 adds the target", Hours{Always: true}, "2026-06-06T10:00:00+02:00", 12 * time.Hour, "2026-06-06T22:00:00+02:00"},
		{"24/7 ignores days and holidays", Hours{Always: true, Start: 8 * time.Hour, End: 18 * time.Hour, Holidays: map[string]bool{"2026-12-25": true}},
			"2026-12-24T20:00:00Z", 24 * time.Hour, "2026-12-25T20:00:00Z"},
		{"zero value counts 24/7", Hours{}, "2026-06-06T10:00:00Z", 90 * time.Minute, "2026-06-06T11:30:00Z"},
		{"zero target returns start", paris, "2026-06-06T10:00:00+02:00", 0, "2026-06-06T10:00:00+02:00"},
		{"negative target returns start", paris, "2026-06-06T10:00:00+02:00", -time.Hour, "2026-06-06T10:00:00+02:00"},

		{"within one working day", paris, "2026-06-08T09:00:00+02:00", 4 * time.Hour, "2026-06-08T13:00:00+02:00"},
		{"Friday 17:00 with 12h is due Tuesday 09:00 in Paris", paris, "2026-06-05T17:00:00+02:00", 12 * time.Hour, "2026-06-09T09:00:00+02:00"},
		{"Friday 17:00 with 12h is due Tuesday 09:00 in Tokyo", tokyo, "2026-06-05T17:00:00+09:00", 12 * time.Hour, "2026-06-09T09:00:00+09:00"},
		{"Friday 17:00 with 12h is due Tuesday 09:00 in New York", newYork, "2026-06-05T17:00:00-04:00", 12 * time.Hour, "2026-06-09T09:00:00-04:00"},
		{"opened Saturday counts from Monday 08:00", paris, "2026-06-06T11:00:00+02:00", time.Hour, "2026-06-08T09:00:00+02:00"},
		{"opened Sunday night counts from Monday 08:00", newYork, "2026-06-07T23:59:00-04:00", 15 * time.Minute, "2026-06-08T08:15:00-04:00"},
		{"opened at 07:00 counts from 08:00", tokyo, "2026-06-08T07:00:00+09:00", time.Hour, "2026-06-08T09:00:00+09:00"},
		{"opened exactly at opening", paris, "2026-06-08T08:00:00+02:00", time.Minute, "2026-06-08T08:01:00+02:00"},
		{"opened exactly at closing counts from next opening", paris, "2026-06-08T18:00:00+02:00", time.Hour, "2026-06-09T09:00:00+02:00"},
		{"opened Friday at closing counts from Monday", tokyo, "2026-06-05T18:00:00+09:00", time.Hour, "2026-06-08T09:00:00+09:00"},
		{"target running out at closing is due at closing", paris, "2026-06-08T08:00:00+02:00", 10 * time.Hour, "2026-06-08T18:00:00+02:00"},
		{"target one nanosecond past closing rolls to next day", paris, "2026-06-08T08:00:00+02:00", 10*time.Hour + time.Nanosecond, "2026-06-09T08:00:00.000000001+02:00"},
		{"late evening in UTC is already the next working day in Tokyo", tokyo, "2026-06-07T23:30:00Z", time.Hour, "2026-06-08T09:30:00+09:00"},
		{"nil location is UTC", utc, "2026-06-05T17:30:00Z", time.Hour, "2026-06-08T08:30:00Z"},
		{"several weeks", paris, "2026-06-01T08:00:00+02:00", 100 * time.Hour, "2026-06-12T18:00:00+02:00"},

		{"Christmas Friday is skipped", parisHolidays, "2026-12-24T17:00:00+01:00", 4 * time.Hour, "2026-12-28T11:00:00+01:00"},
		{"New Year's Day Friday is skipped", parisHolidays, "2026-12-31T17:00:00+01:00", 12 * time.Hour, "2027-01-05T09:00:00+01:00"},
		{"opened on a holiday counts from the next working day", parisHolidays, "2026-12-25T10:00:00+01:00", time.Hour, "2026-12-28T09:00:00+01:00"},

		{"Paris spring forward weekend", paris, "2026-03-27T17:00:00+01:00", 2 * time.Hour, "2026-03-30T09:00:00+02:00"},
		{"Paris fall back weekend", paris, "2026-10-23T17:00:00+02:00", 2 * time.Hour, "2026-10-26T09:00:00+01:00"},
		{"New York spring forward weekend", newYork, "2026-03-06T17:00:00-05:00", 2 * time.Hour, "2026-03-09T09:00:00-04:00"},
		{"New York fall back weekend", newYork, "2026-10-30T17:00:00-04:00", 2 * time.Hour, "2026-11-02T09:00:00-05:00"},
		{"opened Sunday of the Paris change counts from Monday 08:00 summer time", paris, "2026-03-29T01:30:00+01:00", time.Hour, "2026-03-30T09:00:00+02:00"},
		{"Paris working Sunday of spring forward opens at 08:00 summer time", parisEveryDay, "2026-03-29T07:00:00+02:00", time.Hour, "2026-03-29T09:00:00+02:00"},
		{"Paris working Sunday of fall back closes at 18:00 winter time", parisEveryDay, "2026-10-25T17:00:00+01:00", 2 * time.Hour, "2026-10-26T09:00:00+01:00"},
		{"New York working Sunday of spring forward opens at 08:00 daylight time", newYorkEveryDay, "2026-03-08T07:00:00-04:00", time.Hour, "2026-03-08T09:00:00-04:00"},
		{"New York working Sunday of fall back closes at 18:00 standard time", newYorkEveryDay, "2026-11-01T17:00:00-05:00", 2 * time.Hour, "2026-11-02T09:00:00-05:00"},
		{"all-day window across spring forward counts real time", allDayParis, "2026-03-28T12:00:00+01:00", 24 * time.Hour, "2026-03-29T13:00:00+02:00"},
		{"all-day window across fall back counts real time", allDayParis, "2026-10-24T12:00:00+02:00", 24 * time.Hour, "2026-10-25T11:00:00+01:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, want := at(t, tt.start), at(t, tt.want)
			got := tt.hours.Due(start, tt.d)
			if !got.Equal(want) {
				t.Errorf("Due(%s, %v) = %s, want %s", tt.start, tt.d, got.Format(time.RFC3339Nano), tt.want)
			}
			if tt.hours.business() && tt.d > 0 && got.Location() != time.UTC {
				t.Errorf("Due(%s, %v) is in %s, want UTC", tt.start, tt.d, got.Location())
			}
		})
	}
}

func TestHoursElapsed(t *testing.T) {
	paris := developerHours(t, "Europe/Paris", "2026-12-25", "2027-01-01")
	newYork := developerHours(t, "America/New_York")

	tests := []struct {
		name     string
		hours    Hours
		from, to string
		want     time.Duration
	}{
		{"24/7 is the difference", Hours{Always: true}, "2026-06-05T17:00:00Z", "2026-06-08T17:00:00Z", 72 * time.Hour},
		{"to before from is zero", paris, "2026-06-08T12:00:00+02:00", "2026-06-08T10:00:00+02:00", 0},
		{"to equal to from is zero", paris, "2026-06-08T12:00:00+02:00", "2026-06-08T12:00:00+02:00", 0},
		{"24/7 to before from is zero", Hours{}, "2026-06-08T12:00:00Z", "2026-06-08T10:00:00Z", 0},
		{"within one working day", paris, "2026-06-08T09:15:00+02:00", "2026-06-08T11:45:00+02:00", 150 * time.Minute},
		{"Friday 17:00 to Tuesday 09:00 is 12h", paris, "2026-06-05T17:00:00+02:00", "2026-06-09T09:00:00+02:00", 12 * time.Hour},
		{"a weekend alone is zero", paris, "2026-06-05T18:00:00+02:00", "2026-06-08T08:00:00+02:00", 0},
		{"night hours do not count", newYork, "2026-06-08T17:00:00-04:00", "2026-06-09T09:00:00-04:00", 2 * time.Hour},
		{"a whole week is 50h", newYork, "2026-06-08T00:00:00-04:00", "2026-06-15T00:00:00-04:00", 50 * time.Hour},
		{"holidays do not count", paris, "2026-12-24T17:00:00+01:00", "2026-12-28T11:00:00+01:00", 4 * time.Hour},
		{"across Paris spring forward", paris, "2026-03-27T17:00:00+01:00", "2026-03-30T09:00:00+02:00", 2 * time.Hour},
		{"across New York fall back", newYork, "2026-10-30T17:00:00-04:00", "2026-11-02T09:00:00-05:00", 2 * time.Hour},
		{"how late: due Monday 10:00, now Tuesday 10:00", paris, "2026-06-08T10:00:00+02:00", "2026-06-09T10:00:00+02:00", 10 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.hours.Elapsed(at(t, tt.from), at(t, tt.to)); got != tt.want {
				t.Errorf("Elapsed(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

// TestHoursDueAndElapsedAreConsistent checks, over a fixed grid of starts
// around DST changes and holidays and a fixed list of targets, that Elapsed
// undoes Due and that Due is the earliest such instant.
func TestHoursDueAndElapsedAreConsistent(t *testing.T) {
	allDay := developerHours(t, "Europe/Paris", "2026-03-30")
	allDay.Start, allDay.End = 0, 24*time.Hour
	allDay.Days[time.Saturday] = true
	halfHours := developerHours(t, "America/New_York", "2026-11-26")
	halfHours.Start, halfHours.End = 9*time.Hour+30*time.Minute, 17*time.Hour+15*time.Minute
	configs := []struct {
		name  string
		hours Hours
	}{
		{"24/7", Hours{Always: true}},
		{"Paris developer hours", developerHours(t, "Europe/Paris", "2026-12-25", "2027-01-01", "2026-11-11")},
		{"Tokyo developer hours", developerHours(t, "Asia/Tokyo", "2026-12-31", "2027-01-01")},
		{"New York developer hours", developerHours(t, "America/New_York", "2026-12-25", "2027-01-01")},
		{"Paris all day six days a week", allDay},
		{"New York 09:30 to 17:15", halfHours},
	}
	periods := [][2]string{
		{"2026-03-04T00:00:00Z", "2026-04-02T00:00:00Z"}, // US and EU spring forward
		{"2026-10-21T00:00:00Z", "2026-11-05T00:00:00Z"}, // EU and US fall back
		{"2026-12-22T00:00:00Z", "2027-01-06T00:00:00Z"}, // holidays
	}
	targets := []time.Duration{
		time.Nanosecond, time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 4 * time.Hour,
		10 * time.Hour, 12 * time.Hour, 24 * time.Hour, 37*time.Hour + 13*time.Minute, 200 * time.Hour,
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			checked := 0
			for _, p := range periods {
				for start := at(t, p[0]); start.Before(at(t, p[1])); start = start.Add(3*time.Hour + 17*time.Minute) {
					for _, d := range targets {
						due := c.hours.Due(start, d)
						if got := c.hours.Elapsed(start, due); got != d {
							t.Fatalf("Elapsed(%s, Due(…, %v) = %s) = %v, want %v", start.Format(time.RFC3339), d, due.Format(time.RFC3339), got, d)
						}
						before := due.Add(-time.Nanosecond)
						if got := c.hours.Elapsed(start, before); got != d-time.Nanosecond {
							t.Fatalf("Due(%s, %v) = %s is not the earliest: %v already elapsed 1ns before", start.Format(time.RFC3339), d, due.Format(time.RFC3339), got)
						}
						checked++
					}
				}
			}
			if checked < 1000 {
				t.Fatalf("only %d cases checked", checked)
			}
		})
	}
}

// TestHoursDegenerateConfigurationTerminates checks configurations without
// working time count 24/7, and a year of holidays is walked, not looped on.
func TestHoursDegenerateConfigurationTerminates(t *testing.T) {
	noDays := developerHours(t, "Europe/Paris")
	noDays.Days = [7]bool{}
	endBeforeStart := developerHours(t, "Europe/Paris")
	endBeforeStart.End = 7 * time.Hour
	emptyWindow := developerHours(t, "Europe/Paris")
	emptyWindow.End = emptyWindow.Start
	pastMidnight := developerHours(t, "Europe/Paris")
	pastMidnight.End = 25 * time.Hour
	negativeStart := developerHours(t, "Europe/Paris")
	negativeStart.Start = -time.Hour
	everyDayOff := developerHours(t, "Europe/Paris")
	everyDayOff.Holidays = map[string]bool{}
	for d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2028; d = d.AddDate(0, 0, 1) {
		everyDayOff.Holidays[d.Format(time.DateOnly)] = true
	}

	start := at(t, "2026-06-05T17:00:00+02:00")
	tests := []struct {
		name  string
		hours Hours
		want  string
	}{
		{"no working day counts 24/7", noDays, "2026-06-06T05:00:00+02:00"},
		{"end before start counts 24/7", endBeforeStart, "2026-06-06T05:00:00+02:00"},
		{"end equal to start counts 24/7", emptyWindow, "2026-06-06T05:00:00+02:00"},
		{"end past midnight counts 24/7", pastMidnight, "2026-06-06T05:00:00+02:00"},
		{"negative start counts 24/7", negativeStart, "2026-06-06T05:00:00+02:00"},
		{"two years of holidays resume after the last one", everyDayOff, "2028-01-04T10:00:00+01:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due := tt.hours.Due(start, 12*time.Hour)
			if want := at(t, tt.want); !due.Equal(want) {
				t.Errorf("Due = %s, want %s", due.Format(time.RFC3339), tt.want)
			}
			if got := tt.hours.Elapsed(start, due); got != 12*time.Hour {
				t.Errorf("Elapsed(start, Due) = %v, want 12h", got)
			}
		})
	}
}

func TestHoursHolidayKey(t *testing.T) {
	tests := []struct {
		y    int
		m    time.Month
		d    int
		want string
	}{
		{2026, time.December, 25, "2026-12-25"},
		{2027, time.January, 1, "2027-01-01"},
		{999, time.March, 9, "0999-03-09"},
		{10000, time.January, 1, ""},
	}
	for _, tt := range tests {
		if got := string(dateKey(nil, tt.y, tt.m, tt.d)); got != tt.want {
			t.Errorf("dateKey(%d, %d, %d) = %q, want %q", tt.y, tt.m, tt.d, got, tt.want)
		}
	}
}

func BenchmarkDue(b *testing.B) {
	season := developerHours(b, "Europe/Paris")
	season.Holidays = map[string]bool{}
	for d := time.Date(2026, 12, 19, 0, 0, 0, 0, time.UTC); d.Before(time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		season.Holidays[d.Format(time.DateOnly)] = true
	}
	benchmarks := []struct {
		name  string
		hours Hours
		start time.Time
		d     time.Duration
	}{
		{"24/7", Hours{Always: true}, at(b, "2026-06-05T17:00:00+02:00"), 24 * time.Hour},
		{"developer hours 12h over a weekend", developerHours(b, "Europe/Paris"), at(b, "2026-06-05T17:00:00+02:00"), 12 * time.Hour},
		{"developer hours 24h over three weeks of holidays", season, at(b, "2026-12-18T17:00:00+01:00"), 24 * time.Hour},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				bm.hours.Due(bm.start, bm.d)
			}
		})
	}
}
