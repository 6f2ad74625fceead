package server

import (
	"time"

	"github.com/relaydesk/relaydesk/internal/store"
)

// Wrong passwords slow the next attempt rather than lock the account: a
// hard lockout lets anyone who knows the admin's email keep the admin out.
// Besides the limit per client IP (loginIPBurst), two growing delays apply,
// counted from the last wrong password:
//
//   - from one IP for one account: free for pairFree wrong passwords, then
//     pairBase doubling with each one, at most pairCap;
//   - for one account from every IP (a guesser spread over many IPs): free
//     for accountFree, then accountBase doubling, at most accountCap. An IP
//     the account logged in from before (a known client) is not slowed by
//     it, so the owner gets in with the right password while a guesser
//     elsewhere waits.
//
// An attempt inside a delay is refused without checking the password, and
// does not count as a failure.
const (
	pairFree    = 3
	pairBase    = time.Second
	pairCap     = 15 * time.Minute
	accountFree = 10
	accountBase = time.Second
	accountCap  = time.Minute
)

// loginWait is how long the client must wait before its next attempt.
func loginWait(t store.LoginThrottle) time.Duration {
	wait := remaining(t.PairLast, growingDelay(t.PairFailures, pairFree, pairBase, pairCap), t.Now)
	if !t.Known {
		wait = max(wait, remaining(t.AccountLast, growingDelay(t.AccountFailures, accountFree, accountBase, accountCap), t.Now))
	}
	return wait
}

// growingDelay is 0 for fewer than free failures, then base doubled for
// each failure past free, at most limit.
func growingDelay(failures, free int, base, limit time.Duration) time.Duration {
	if failures < free {
		return 0
	}
	d := base
	for i := free; i < failures && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// remaining is what is left of delay d counted from last, at now.
func remaining(last *time.Time, d time.Duration, now time.Time) time.Duration {
	if last == nil || d == 0 {
		return 0
	}
	return max(last.Add(d).Sub(now), 0)
}
