package daemontest

import (
	"bytes"
	"encoding/json"
	"sync"
)

// maxLines bounds the lines a Daemon keeps; later lines are dropped.
const maxLines = 100000

// Line is one log line of the daemon decoded from JSON (msg, level, time and
// the attributes). A line that is not JSON has only "msg", the raw text.
type Line map[string]any

// Str returns the attribute key as a string, "" if absent or not a string.
func (l Line) Str(key string) string {
	s, _ := l[key].(string)
	return s
}

// logRecorder is an io.Writer that splits what the daemon writes into lines
// and keeps them.
type logRecorder struct {
	mu      sync.Mutex
	partial []byte        // an unterminated last line
	lines   []string      // complete lines, at most maxLines
	changed chan struct{} // closed and replaced when a line is added
}

func newLogRecorder() *logRecorder {
	return &logRecorder{changed: make(chan struct{})}
}

// Write implements io.Writer; it never fails.
func (r *logRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partial = append(r.partial, p...)
	added := false
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			break
		}
		if len(r.lines) < maxLines {
			r.lines = append(r.lines, string(bytes.TrimSuffix(r.partial[:i], []byte("\r"))))
			added = true
		}
		r.partial = r.partial[i+1:]
	}
	if added {
		close(r.changed)
		r.changed = make(chan struct{})
	}
	return len(p), nil
}

// snapshot returns the lines so far and a channel closed when more arrive.
func (r *logRecorder) snapshot() ([]string, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lines[:len(r.lines):len(r.lines)], r.changed
}

// parseLine decodes one line.
func parseLine(s string) Line {
	var l Line
	if json.Unmarshal([]byte(s), &l) != nil || l == nil {
		return Line{"msg": s}
	}
	return l
}
