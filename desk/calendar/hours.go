// Package calendar counts working time: when a target of so many working
// hours, started at an instant, runs out, and how much working time lies
// between two instants, under a week of business hours in a time zone with
// holidays, or around the clock. It is a pure time computation; the desk
// uses it for first-response targets (DESIGN §4).
package calendar

import "time"

// Hours is when a support plan's clock runs: always (24/7), or on working
// days between Start and End in a time zone, except holidays. The zero value
// means 24/7.
//
// Start and End are wall-clock times of the local day: 08:00 is 08:00 on the
// day clocks change too. Inside a day's window the clock counts real elapsed
// time, so a window that spans a DST change (say 00:00–24:00) is 23 or 25
// hours long that day.
//
// A configuration without any working time (Always false and no day in Days,
// or End not after Start, or Start or End outside 0–24h) also counts 24/7: it
// cannot otherwise be honoured, and counting around the clock is the safe
// failure for a response target. The zero value is such a configuration.
// `postdesk config check` rejects these before they get here.
type Hours struct {
	Always   bool            // 24/7; when true the other fields are ignored
	Start    time.Duration   // since local midnight, e.g. 8h
	End      time.Duration   // e.g. 18h; may be 24h; must be > Start
	Days     [7]bool         // indexed by time.Weekday
	Holidays map[string]bool // "2026-12-25" in the local zone
	Location *time.Location  // nil = UTC
}

// Due returns when a target of d working time, started at start, ends.
//
// For 24/7 that is start+d. For business hours, time outside working hours
// does not count; a case opened outside hours starts counting at the next
// opening; the result is in UTC. A target that runs out exactly at closing
// time is due at closing time, not at the next opening. d <= 0 returns start.
//
// Due always terminates. A configuration with no working time counts 24/7
// (see Hours) and returns start+d. Holidays are a finite set, so working time
// always resumes after them: Due walks at most one day per holiday, one day
// per working day the target spans, and six non-working days per week; whole
// days are skipped, never minutes.
func (h Hours) Due(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start
	}
	if !h.business() {
		return start.Add(d)
	}
	loc := h.location()
	day := civilDay(start.In(loc))
	cursor := start // time before cursor is already counted (or was before start)
	for {
		if open, close, ok := h.window(day, loc); ok {
			if open.Before(cursor) {
				open = cursor
			}
			if open.Before(close) {
				avail := close.Sub(open)
				if d <= avail {
					return open.Add(d).UTC()
				}
				d -= avail
				cursor = close
			}
		}
		day = day.Add(24 * time.Hour)
	}
}

// Elapsed returns the working time between from and to (0 if to <= from):
// how much of a target has been used, or how late a case is. It is the
// inverse of Due: Elapsed(start, Due(start, d)) == d for d > 0.
func (h Hours) Elapsed(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if !h.business() {
		return to.Sub(from)
	}
	loc := h.location()
	day, last := civilDay(from.In(loc)), civilDay(to.In(loc))
	cursor := from
	var sum time.Duration
	for ; !day.After(last); day = day.Add(24 * time.Hour) {
		open, close, ok := h.window(day, loc)
		if !ok {
			continue
		}
		if open.Before(cursor) {
			open = cursor
		}
		if close.After(to) {
			close = to
		}
		if open.Before(close) {
			sum += close.Sub(open)
			cursor = close
		}
	}
	return sum
}

// business reports whether h counts business hours, that is whether it is
// not 24/7 and has some working time in its week.
func (h Hours) business() bool {
	if h.Always || h.Start < 0 || h.End > 24*time.Hour || h.End <= h.Start {
		return false
	}
	for _, on := range h.Days {
		if on {
			return true
		}
	}
	return false
}

func (h Hours) location() *time.Location {
	if h.Location == nil {
		return time.UTC
	}
	return h.Location
}

// window returns the working hours of a local date (given as midnight UTC of
// that date) as instants, and false if the date is not a working day. The
// window is built with time.Date from the wall-clock times, so it follows the
// zone's offset on that date.
func (h Hours) window(day time.Time, loc *time.Location) (open, close time.Time, ok bool) {
	if !h.Days[day.Weekday()] {
		return open, close, false
	}
	y, m, d := day.Date()
	if len(h.Holidays) > 0 {
		var buf [16]byte
		if h.Holidays[string(dateKey(buf[:0], y, m, d))] {
			return open, close, false
		}
	}
	return wallClock(y, m, d, h.Start, loc), wallClock(y, m, d, h.End, loc), true
}

// wallClock returns the instant at which the clocks in loc show the time of
// day since (y, m, d) midnight; 24h is the next day's midnight.
func wallClock(y int, m time.Month, d int, since time.Duration, loc *time.Location) time.Time {
	hh := since / time.Hour
	since -= hh * time.Hour
	mm := since / time.Minute
	since -= mm * time.Minute
	ss := since / time.Second
	since -= ss * time.Second
	return time.Date(y, m, d, int(hh), int(mm), int(ss), int(since), loc)
}

// civilDay returns the local date of t as midnight UTC of that date, a value
// that can step by exactly 24h and still knows its weekday.
func civilDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dateKey appends the date as "2006-01-02", the form of Hours.Holidays keys.
// Years outside 0–9999 have no such form and give a key that matches none.
func dateKey(b []byte, y int, m time.Month, d int) []byte {
	if y < 0 || y > 9999 {
		return b
	}
	return append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+d/10), byte('0'+d%10))
}
