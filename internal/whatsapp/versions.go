package whatsapp

import (
	"fmt"
	"time"
)

// GraphVersion is one Graph API version with its lifetime.
type GraphVersion struct {
	Version string
	// Released is the version's release date.
	Released time.Time
	// Expires is the last day Meta serves it ("available until"); zero
	// while Meta has not set it.
	Expires time.Time
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// GraphVersions are the Graph API versions relaydesk knows the lifetime
// of, newest first. Source: Meta's Graph API changelog, table "Available
// Graph API versions" (developers.facebook.com/docs/graph-api/changelog),
// read December 2026: v26.0 is the latest version there, with its expiry
// "TBD". shared/reference/whatsapp.md 11.5 also mentions a version dated
// November 4 2026 (named v27.0 on the Marketing API page); it is not in the
// Graph API table, so it is not listed [unverified].
var GraphVersions = []GraphVersion{
	{"v26.0", day(2026, time.July, 29), time.Time{}},
	{"v25.0", day(2026, time.February, 18), day(2028, time.July, 29)},
	{"v24.0", day(2025, time.October, 8), day(2028, time.February, 18)},
	{"v23.0", day(2025, time.May, 29), day(2027, time.October, 8)},
	{"v22.0", day(2025, time.January, 21), day(2027, time.May, 20)},
	{"v21.0", day(2024, time.October, 2), day(2027, time.January, 21)},
	{"v20.0", day(2024, time.May, 21), day(2026, time.September, 24)},
	{"v19.0", day(2024, time.January, 23), day(2026, time.May, 21)},
	{"v18.0", day(2023, time.September, 12), day(2026, time.January, 26)},
	{"v17.0", day(2023, time.May, 23), day(2025, time.September, 12)},
}

// VersionWarnBefore is how long before a version's expiry the admin page
// warns about it.
const VersionWarnBefore = 90 * 24 * time.Hour

// LookupVersion returns what relaydesk knows of a Graph version.
func LookupVersion(v string) (GraphVersion, bool) {
	for _, gv := range GraphVersions {
		if gv.Version == v {
			return gv, true
		}
	}
	return GraphVersion{}, false
}

// VersionWarning says what an admin should know about a number using Graph
// version v at now: that it has expired, that it expires within
// VersionWarnBefore, or that relaydesk does not know it; "" when all is
// well.
func VersionWarning(v string, now time.Time) string {
	gv, ok := LookupVersion(v)
	switch {
	case !ok:
		return fmt.Sprintf("relaydesk does not know Graph API version %s, nor when it expires. The current version is %s.", v, DefaultVersion)
	case gv.Expires.IsZero():
		return ""
	case !now.Before(gv.Expires.Add(24 * time.Hour)):
		return fmt.Sprintf("Graph API version %s expired on %s: Meta no longer serves it, so calls may fail or be upgraded. Switch this number to %s.",
			v, gv.Expires.Format("January 2, 2006"), DefaultVersion)
	case gv.Expires.Sub(now) <= VersionWarnBefore:
		days, unit := int(gv.Expires.Sub(now).Hours()/24)+1, "days"
		if days == 1 {
			unit = "day"
		}
		return fmt.Sprintf("Graph API version %s expires on %s (in %d %s). Switch this number to %s before then.",
			v, gv.Expires.Format("January 2, 2006"), days, unit, DefaultVersion)
	}
	return ""
}
