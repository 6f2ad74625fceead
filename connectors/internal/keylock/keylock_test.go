package keylock

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockSerializesPerKey(t *testing.T) {
	t.Parallel()
	var m Map
	var inside [2]atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			k := i % 2
			defer m.Lock([]string{"+15550001", "+15550002"}[k])()
			assert.Equal(t, int32(1), inside[k].Add(1), "one holder per key")
			inside[k].Add(-1)
		})
	}
	wg.Wait()
	require.Empty(t, m.m, "released keys are forgotten")

	unlockA := m.Lock("a")
	unlockB := m.Lock("b") // another key does not wait
	unlockB()
	unlockA()
}
