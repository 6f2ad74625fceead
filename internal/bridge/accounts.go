package bridge

import (
	"context"
	"sync"
	"time"

	"github.com/relaydesk/relaydesk/internal/store"
)

// accountTTL bounds how long another replica's change to a number (its app
// secret, or disabling it) can go unseen by this one; changes made in this
// process are seen at once (store.AccountsVersion).
const accountTTL = 2 * time.Second

// accountCache keeps the numbers webhooks name, with their opened app
// secrets, so the intake does not read and decrypt them for every delivery.
type accountCache struct {
	mu      sync.Mutex
	version uint64
	byPhone map[string]cachedAccount
}

type cachedAccount struct {
	acc       store.Account
	appSecret []byte
	loaded    time.Time
}

// accounts returns the accounts of the given phone number ids (unknown ids
// are left out) and their app secrets, from the cache when fresh.
func (b *Bridge) accounts(ctx context.Context, phoneIDs []string) ([]store.Account, [][]byte, error) {
	now := time.Now()
	version := b.store.AccountsVersion()
	var accs []store.Account
	var secrets [][]byte
	var missing []string

	c := &b.cache
	c.mu.Lock()
	if c.byPhone == nil || c.version != version {
		c.byPhone, c.version = map[string]cachedAccount{}, version
	}
	for _, id := range phoneIDs {
		if e, ok := c.byPhone[id]; ok && now.Sub(e.loaded) < accountTTL {
			accs, secrets = append(accs, e.acc), append(secrets, e.appSecret)
		} else {
			missing = append(missing, id)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return accs, secrets, nil
	}

	found, err := b.store.AccountsByPhoneNumberIDs(ctx, missing)
	if err != nil {
		return nil, nil, err
	}
	fresh := make([]cachedAccount, 0, len(found))
	for _, a := range found {
		sec, err := b.store.Secrets(a)
		if err != nil {
			return nil, nil, err
		}
		fresh = append(fresh, cachedAccount{acc: a, appSecret: []byte(sec.AppSecret), loaded: now})
		accs, secrets = append(accs, a), append(secrets, []byte(sec.AppSecret))
	}
	c.mu.Lock()
	if c.version == version {
		for _, e := range fresh {
			c.byPhone[e.acc.PhoneNumberID] = e
		}
	}
	c.mu.Unlock()
	return accs, secrets, nil
}
