package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTakeToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	t.Run("a burst is allowed, then the caller is told how long to wait", func(t *testing.T) {
		for i := range 3 {
			wait, err := b.store.TakeToken(ctx, "burst", 0.5, 3)
			require.NoError(t, err)
			require.Zero(t, wait, "token %d", i)
		}
		wait, err := b.store.TakeToken(ctx, "burst", 0.5, 3)
		require.NoError(t, err)
		require.Positive(t, wait)
		require.LessOrEqual(t, wait, 2*time.Second, "at 0.5 tokens/s the next token is at most 2 s away")
	})

	t.Run("concurrent callers never take more than the burst", func(t *testing.T) {
		// 1 token per hour: nothing refills during the test.
		var mu sync.Mutex
		taken := 0
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wait, err := b.store.TakeToken(ctx, "shared", 1.0/3600, 5)
				require.NoError(t, err)
				if wait == 0 {
					mu.Lock()
					taken++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		require.Equal(t, 5, taken)
	})

	t.Run("buckets are independent", func(t *testing.T) {
		wait, err := b.store.TakeToken(ctx, "other", 1.0/3600, 1)
		require.NoError(t, err)
		require.Zero(t, wait)
	})
}
