package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// monitor samples relaydesk's memory, and CPU of relaydesk, PostgreSQL and
// this tool, from /proc.
type monitor struct {
	e        *environment
	interval time.Duration
	mu       sync.Mutex
	peak     int64
	last     int64
}

// Resources is what a window of time cost.
type Resources struct {
	RSSPeakMB      float64 `json:"relaydesk_rss_peak_mb"`
	RSSEndMB       float64 `json:"relaydesk_rss_end_mb"`
	RelaydeskCores float64 `json:"relaydesk_cpu_cores"` // CPU seconds per second
	PostgresCores  float64 `json:"postgres_cpu_cores,omitempty"`
	LoadToolCores  float64 `json:"load_tool_cpu_cores"`
}

type snapshot struct {
	at                time.Time
	rd, pg, self, pid int64
}

func (m *monitor) run(ctx context.Context) {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		if s, err := readProc(m.e.rd.pid()); err == nil {
			m.mu.Lock()
			m.peak = max(m.peak, s.RSS)
			m.last = s.RSS
			m.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *monitor) begin() snapshot {
	m.mu.Lock()
	m.peak = m.last
	m.mu.Unlock()
	pid := m.e.rd.pid()
	resetPeak(pid) // VmHWM then holds the peak since this snapshot
	s := snapshot{at: time.Now(), pid: int64(pid)}
	s.rd, _ = cpuTicks(pid)
	s.self, _ = cpuTicks(os.Getpid())
	if m.e.cluster != nil {
		s.pg = treeTicks(m.e.cluster.postmasterPID())
	}
	return s
}

func (m *monitor) end(s snapshot) Resources {
	m.mu.Lock()
	peak, last := m.peak, m.last
	m.mu.Unlock()
	if p, err := readProc(m.e.rd.pid()); err == nil && int64(m.e.rd.pid()) == s.pid {
		peak = max(peak, p.HWM)
	}
	e := m.begin() // the closing snapshot (it resets the peak, so read first)
	secs := e.at.Sub(s.at).Seconds()
	r := Resources{RSSPeakMB: mb(peak), RSSEndMB: mb(last)}
	if e.pid == s.pid {
		r.RelaydeskCores = round2(float64(e.rd-s.rd) / clkTck / secs)
	}
	r.LoadToolCores = round2(float64(e.self-s.self) / clkTck / secs)
	if m.e.cluster != nil {
		r.PostgresCores = round2(float64(e.pg-s.pg) / clkTck / secs)
	}
	return r
}

func mb(b int64) float64 { return round2(float64(b) / (1 << 20)) }

// VideoResult is the large-media check: one video streamed from Graph to
// the helpdesk while relaydesk's memory is watched.
type VideoResult struct {
	SizeMB      int     `json:"size_mb"`
	Arrived     bool    `json:"arrived"`
	Intact      bool    `json:"intact"` // size and SHA-256 match
	Seconds     float64 `json:"seconds"`
	RSSBeforeMB float64 `json:"rss_before_mb"`
	RSSPeakMB   float64 `json:"rss_peak_mb"`
	GrowthMB    float64 `json:"rss_growth_mb"`
	Error       string  `json:"error,omitempty"`
}

// patternReader yields a deterministic pseudo-random byte stream.
type patternReader struct{ x uint64 }

func (p *patternReader) Read(b []byte) (int, error) {
	for i := range b {
		p.x ^= p.x << 13
		p.x ^= p.x >> 7
		p.x ^= p.x << 17
		b[i] = byte(p.x)
	}
	return len(b), nil
}

// videoTest relays a sizeMB video and measures relaydesk's RSS growth.
func videoTest(ctx context.Context, e *environment, l *loader, sizeMB int) VideoResult {
	res := VideoResult{SizeMB: sizeMB}
	size := int64(sizeMB) << 20
	open := func() io.Reader { return io.LimitReader(&patternReader{x: 0x9E3779B97F4A7C15}, size) }
	h := sha256.New()
	_, _ = io.Copy(h, open())
	sum := hex.EncodeToString(h.Sum(nil))
	id := e.graph.AddMedia(whatsapptest.Media{MimeType: "video/mp4", Size: size, Open: open, SHA256: sum})

	pid := e.rd.pid()
	time.Sleep(2 * time.Second) // let the warm-up's garbage settle
	before, err := readProc(pid)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.RSSBeforeMB = mb(before.RSS)
	peakReset := resetPeak(pid)
	var peak int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if s, err := readProc(pid); err == nil {
				peak = max(peak, s.RSS)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()

	ph := &phase{name: "video"}
	l.t.phase.Store(ph)
	cv := e.t.convs[0]
	cv.nextIn++
	tok := inToken(cv, cv.nextIn)
	s := &sentMsg{conv: cv, seq: cv.nextIn, ph: ph, t0: time.Now(), kind: "video", size: size, sha: sum}
	e.t.register(s, tok)
	start := time.Now()
	body := whatsapptest.NewDelivery(loadPhoneID).Name(cv.waID, cv.name).Video(cv.waID, id, "video/mp4", "Unboxing video "+tok).Bytes()
	if !l.postWhatsApp(ph, body) {
		res.Error = "the webhook was not accepted"
	} else {
		e.t.accept([]string{tok})
	}
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		e.t.mu.Lock()
		got, gotSize, gotSHA := s.got, s.gotSize, s.gotSHA
		e.t.mu.Unlock()
		if got > 0 {
			res.Arrived = true
			res.Intact = gotSize == size && gotSHA == sum
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.Seconds = round2(time.Since(start).Seconds())
	close(stop)
	wg.Wait()
	if after, err := readProc(pid); err == nil && peakReset {
		peak = max(peak, after.HWM)
	}
	res.RSSPeakMB = mb(peak)
	res.GrowthMB = round2(res.RSSPeakMB - res.RSSBeforeMB)
	if !res.Arrived && res.Error == "" {
		res.Error = fmt.Sprintf("the video did not reach the helpdesk within 10 minutes (see %s)", e.rd.logPath)
	}
	return res
}
