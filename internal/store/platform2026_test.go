package store

import "testing"

// TestEffectiveSendRate: a coexistence number never sends faster than the
// 20 messages per second Meta fixes for it; other numbers use their rate.
func TestEffectiveSendRate(t *testing.T) {
	tests := []struct {
		name        string
		rate        int
		coexistence bool
		want        int
	}{
		{"cloud API number", 80, false, 80},
		{"cloud API number, raised", 1000, false, 1000},
		{"coexistence at the default 80", 80, true, 20},
		{"coexistence set slower", 5, true, 5},
		{"coexistence at 20", 20, true, 20},
		{"coexistence without a rate", 0, true, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Account{SendRate: tc.rate, Coexistence: tc.coexistence}.EffectiveSendRate()
			if got != tc.want {
				t.Fatalf("EffectiveSendRate() = %d, want %d", got, tc.want)
			}
		})
	}
}
