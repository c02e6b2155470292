package certs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WatchFiles calls onChange, debounced, whenever the content of one of
// files changes on disk, until ctx is done. It watches the files' folders,
// not the files, and compares contents, so it sees in-place writes,
// rename-into-place (editors, certbot) and the symlink swap of Kubernetes
// secret volumes (a new ..data link in the folder) alike; events that
// change nothing (touch, chmod, a half-written file rewritten the same)
// call nothing.
func WatchFiles(ctx context.Context, files []string, debounce time.Duration, log *slog.Logger, onChange func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch certificate files: %w", err)
	}
	defer w.Close()
	dirs := map[string]bool{}
	for _, f := range files {
		d := filepath.Dir(f)
		if dirs[d] {
			continue
		}
		dirs[d] = true
		if err := w.Add(d); err != nil {
			return fmt.Errorf("watch %s: %w", d, err)
		}
	}
	last := digest(files)
	timer := time.NewTimer(0)
	if !timer.Stop() {
		<-timer.C
	}
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			log.Debug("certificate folder changed", "event", ev.String())
			timer.Reset(debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Warn("certificate file watch error", "err", err)
		case <-timer.C:
			if now := digest(files); !bytes.Equal(now, last) {
				last = now
				onChange()
			}
		}
	}
}

// digest hashes the current contents of files (through symlinks); an
// unreadable file hashes as its error, so a file that comes back counts
// as a change.
func digest(files []string) []byte {
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			b = []byte("error: " + err.Error())
		}
		sum := sha256.Sum256(b)
		h.Write(sum[:])
	}
	return h.Sum(nil)
}
