package bridge

import "time"

// The sane range of a WhatsApp timestamp, around the time a delivery
// arrives. Meta redelivers a webhook it could not deliver for up to 7 days,
// so an older message time cannot be true; clocks drift a little, so a time
// slightly ahead is tolerated.
const (
	maxTimestampAhead = 5 * time.Minute
	maxTimestampAge   = 7 * 24 * time.Hour
)

// saneTimestamp returns the time to store for a message WhatsApp dated t,
// arriving at now: t itself when it is in the sane range, else now, and
// whether it was clamped. A missing time (zero) is taken as now without
// counting as clamped. A stored time in year 9999 would otherwise keep the
// customer's 24-hour window open forever and break every view computing
// past it; the decoded message keeps the original.
func saneTimestamp(t, now time.Time) (time.Time, bool) {
	switch {
	case t.IsZero():
		return now, false
	case t.After(now.Add(maxTimestampAhead)), t.Before(now.Add(-maxTimestampAge)):
		return now, true
	}
	return t, false
}
