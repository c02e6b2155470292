package logsample

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a handler.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// lines parses the JSON lines written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func newJSON(buf *syncBuffer) slog.Handler {
	return slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})
}

func TestBurstIsSampledAndCountsAddUp(t *testing.T) {
	var buf syncBuffer
	h := NewHandler(newJSON(&buf), "reason", Options{})
	log := slog.New(h).With("listener", "device")
	reasons := []string{"not_tls", "timeout", "bad_path", "unauthenticated"}
	const events, workers = 5000, 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < events; i += workers {
				log.Info("handshake failed", "reason", reasons[i%len(reasons)], "remote", "192.0.2.1:"+strconv.Itoa(i))
			}
		}()
	}
	wg.Wait()
	h.Close()
	lines := buf.lines(t)
	if len(lines) >= 100 {
		t.Fatalf("got %d log lines for %d events, want fewer than 100", len(lines), events)
	}
	perKey := map[string]int{}
	for _, l := range lines {
		switch l["msg"] {
		case "handshake failed":
			perKey[l["reason"].(string)]++
		case SummaryMessage:
			perKey[l["key"].(string)] += int(l["count"].(float64))
		default:
			t.Fatalf("unexpected line %v", l)
		}
	}
	for _, r := range reasons {
		if got, want := perKey[r], events/len(reasons); got != want {
			t.Errorf("reason %s: lines plus suppressed = %d, want %d", r, got, want)
		}
	}
	if got, want := h.Sampler().Suppressed(), uint64(events-len(lines)+summaries(lines)); got != want {
		t.Errorf("Suppressed: got %d, want %d", got, want)
	}
}

func summaries(lines []map[string]any) int {
	n := 0
	for _, l := range lines {
		if l["msg"] == SummaryMessage {
			n++
		}
	}
	return n
}

func TestWindowsAndSummaries(t *testing.T) {
	var buf syncBuffer
	s := New(newJSON(&buf), Options{PerWindow: 2, Window: time.Hour}) // ticker never fires: flush by hand
	defer s.Close()
	got := ""
	for range 5 {
		got += fmt.Sprint(s.Allow("a"), " ")
	}
	if want := "true true false false false "; got != want {
		t.Fatalf("first window: got %s, want %s", got, want)
	}
	if !s.Allow("b") {
		t.Fatal("another key was refused")
	}
	s.flush()
	if !s.Allow("a") {
		t.Fatal("a new window refused the key")
	}
	lines := buf.lines(t)
	if len(lines) != 1 || lines[0]["key"] != "a" || lines[0]["count"] != 3.0 || lines[0]["window"] == nil {
		t.Fatalf("got summaries %v, want one for a with count 3", lines)
	}
	s.flush() // nothing suppressed: no line
	if n := len(buf.lines(t)); n != 1 {
		t.Fatalf("got %d lines after a quiet window, want 1", n)
	}
}

func TestMaxKeysShareOther(t *testing.T) {
	var buf syncBuffer
	s := New(newJSON(&buf), Options{PerWindow: 1, Window: time.Hour, MaxKeys: 3})
	passed := 0
	for i := range 10 {
		if s.Allow("k" + strconv.Itoa(i)) {
			passed++
		}
	}
	if passed != 4 { // k0, k1, k2 and the first of (other)
		t.Fatalf("got %d passed, want 4", passed)
	}
	if n := len(s.keys); n > 4 {
		t.Fatalf("got %d keys tracked, want at most MaxKeys+1", n)
	}
	s.Close()
	lines := buf.lines(t)
	if len(lines) != 1 || lines[0]["key"] != OtherKey || lines[0]["count"] != 6.0 {
		t.Fatalf("got %v, want one summary for %s with count 6", lines, OtherKey)
	}
}

func TestTickerWritesSummaries(t *testing.T) {
	var buf syncBuffer
	s := New(newJSON(&buf), Options{PerWindow: 1, Window: 20 * time.Millisecond})
	defer s.Close()
	for range 10 {
		s.Allow("x")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(buf.lines(t)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no summary within 5s of a 20ms window")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if l := buf.lines(t)[0]; l["key"] != "x" || l["count"] != 9.0 {
		t.Fatalf("got %v, want key x count 9", l)
	}
}

func TestHandlerPassesOtherRecordsAndKeepsLevels(t *testing.T) {
	var buf syncBuffer
	h := NewHandler(newJSON(&buf), "reason", Options{PerWindow: 1, Window: time.Hour})
	log := slog.New(h)
	for range 100 {
		log.Info("session opened") // no key: never sampled
	}
	keyed := log.With("reason", "replaced") // key from WithAttrs
	for range 10 {
		keyed.Info("session replaced")
	}
	keyed.Warn("session replaced")
	slog.New(h.WithGroup("g")).Debug("grouped", "reason", "replaced")
	h.Close()
	h.Close() // idempotent
	lines := buf.lines(t)
	counts := map[any]int{}
	for _, l := range lines {
		counts[l["msg"]]++
	}
	if counts["session opened"] != 100 || counts["session replaced"] != 1 || counts[SummaryMessage] != 1 {
		t.Fatalf("got %v, want 100 unsampled, 1 replaced, 1 summary", counts)
	}
	last := lines[len(lines)-1]
	if last["count"] != 11.0 || last["level"] != "WARN" {
		t.Fatalf("got summary %v, want count 11 at WARN (the highest suppressed)", last)
	}
	select {
	case <-h.s.done:
	default:
		t.Fatal("ticker goroutine still running after Close")
	}
}

func BenchmarkAllowSuppressed(b *testing.B) {
	s := New(slog.DiscardHandler, Options{Window: time.Hour})
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		s.Allow("not_tls")
	}
}
