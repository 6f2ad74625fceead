package connectors

import "time"

// The poll interval of a [Poller]: how often the bridge asks a helpdesk
// without webhooks for new events.

// SettingPollInterval is the settings key of a polling connector's interval
// in seconds.
const SettingPollInterval = "poll_interval_seconds"

// DefaultPollInterval is the poll interval when the setting is empty.
const DefaultPollInterval = 60 * time.Second

// MinPollInterval is the shortest poll interval honoured, to stay well
// inside helpdesks' per-minute rate limits.
const MinPollInterval = 15 * time.Second

// PollInterval returns the interval a polling connector's settings ask for
// (SettingPollInterval), DefaultPollInterval when unset, and never less than
// MinPollInterval.
func PollInterval(settings map[string]any) time.Duration {
	n, ok := AsInt(settings[SettingPollInterval])
	if !ok || n <= 0 {
		return DefaultPollInterval
	}
	return max(time.Duration(n)*time.Second, MinPollInterval)
}

// PollIntervalField is the settings form field of the poll interval, with
// help saying what a poll looks for and costs.
func PollIntervalField(help string) Field {
	return Field{
		Key: SettingPollInterval, Label: "Poll interval (seconds)", Type: FieldInt, Group: GroupSettings,
		Placeholder: "60", Help: help,
	}
}
