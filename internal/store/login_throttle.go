package store

import (
	"context"
	"strings"
	"time"
)

// LoginThrottle is what the login form knows of an email's wrong passwords,
// from one client IP and across every IP.
type LoginThrottle struct {
	// PairFailures and PairLast are the wrong passwords from this IP.
	PairFailures int
	PairLast     *time.Time
	// AccountFailures and AccountLast are those from every IP.
	AccountFailures int
	AccountLast     *time.Time
	// Known is true when this IP logged in to the account in the last
	// knownClientFor.
	Known bool
	// Now is the database's clock, which the times are on.
	Now time.Time
}

// The login throttle lives in rate_buckets rows (shared by every replica),
// keyed by the email as typed (lower-cased, known or not):
//
//	login-failures:<email>|<ip>  tokens: wrong passwords from ip; updated_at: the last one
//	login-failures:<email>       the same across every IP
//	login-known:<email>|<ip>     updated_at: the last successful login from ip
//
// Failures are forgotten failureMemory after the last one, and those of
// one IP when it logs in.
const (
	knownClientFor = "90 days"
	failureMemory  = "24 hours"
)

func throttleKeys(email, ip string) (pair, account, known string) {
	email = strings.ToLower(strings.TrimSpace(email))
	return "login-failures:" + email + "|" + ip, "login-failures:" + email, "login-known:" + email + "|" + ip
}

// LoginThrottleOf reads the throttle of email from ip.
func (q *Queries) LoginThrottleOf(ctx context.Context, email, ip string) (LoginThrottle, error) {
	var t LoginThrottle
	pair, account, known := throttleKeys(email, ip)
	const failures = `coalesce((SELECT tokens::integer FROM rate_buckets WHERE key = $1
		AND updated_at > now() - interval '` + failureMemory + `'), 0)`
	err := q.db.QueryRow(ctx, `SELECT `+failures+`, (SELECT updated_at FROM rate_buckets WHERE key = $1),
		`+strings.ReplaceAll(failures, "$1", "$2")+`, (SELECT updated_at FROM rate_buckets WHERE key = $2),
		EXISTS (SELECT 1 FROM rate_buckets WHERE key = $3 AND updated_at > now() - interval '`+knownClientFor+`'),
		clock_timestamp()`, pair, account, known).
		Scan(&t.PairFailures, &t.PairLast, &t.AccountFailures, &t.AccountLast, &t.Known, &t.Now)
	return t, wrap(err, "read login throttle")
}

// RecordLoginFailure counts a wrong password for email from ip, and for
// email across every IP.
func (q *Queries) RecordLoginFailure(ctx context.Context, email, ip string) error {
	pair, account, _ := throttleKeys(email, ip)
	_, err := q.db.Exec(ctx, `INSERT INTO rate_buckets AS b (key, tokens, updated_at)
		VALUES ($1, 1, clock_timestamp()), ($2, 1, clock_timestamp())
		ON CONFLICT (key) DO UPDATE SET updated_at = clock_timestamp(),
			tokens = CASE WHEN b.updated_at > now() - interval '`+failureMemory+`' THEN b.tokens + 1 ELSE 1 END`,
		pair, account)
	return wrap(err, "record login failure")
}

// RecordLoginSuccess forgets the wrong passwords of email from ip and makes
// ip a known client of the account. The count across IPs stays: a guesser
// elsewhere gets no fresh attempts from the owner's login.
func (q *Queries) RecordLoginSuccess(ctx context.Context, email, ip string) error {
	pair, _, known := throttleKeys(email, ip)
	err := q.inTx(ctx, func(tx *Queries) error {
		if _, err := tx.db.Exec(ctx, `DELETE FROM rate_buckets WHERE key = $1`, pair); err != nil {
			return err
		}
		_, err := tx.db.Exec(ctx, `INSERT INTO rate_buckets (key, tokens, updated_at) VALUES ($1, 0, clock_timestamp())
			ON CONFLICT (key) DO UPDATE SET updated_at = clock_timestamp()`, known)
		return err
	})
	return wrap(err, "record login success")
}
