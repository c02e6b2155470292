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

// FileWatcher calls a function, debounced, whenever the content of some
// files changes on disk. It watches the files' folders, not the files, and
// compares contents, so it sees in-place writes, rename-into-place
// (editors, certbot) and the symlink swap of Kubernetes secret volumes (a
// new ..data link in the folder) alike; events that change nothing (touch,
// chmod) call nothing.
type FileWatcher struct {
	files []string
	w     *fsnotify.Watcher
	last  []byte // digest of the contents last seen
}

// WatchFiles starts watching the folders of files and records their
// contents now; changes from this point on are seen. Call Run.
func WatchFiles(files []string) (*FileWatcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch certificate files: %w", err)
	}
	dirs := map[string]bool{}
	for _, f := range files {
		d := filepath.Dir(f)
		if dirs[d] {
			continue
		}
		dirs[d] = true
		if err := w.Add(d); err != nil {
			w.Close()
			return nil, fmt.Errorf("watch %s: %w", d, err)
		}
	}
	return &FileWatcher{files: files, w: w, last: digest(files)}, nil
}

// Run calls onChange debounce after the last event of a burst that changed
// a file's content, until ctx is done; then it releases the watches.
func (fw *FileWatcher) Run(ctx context.Context, debounce time.Duration, log *slog.Logger, onChange func()) {
	defer fw.w.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-fw.w.Events:
			if !ok {
				return
			}
			log.Debug("certificate folder changed", "event", ev.String())
			timer.Reset(debounce)
		case err, ok := <-fw.w.Errors:
			if !ok {
				return
			}
			log.Warn("certificate file watch error", "err", err)
		case <-timer.C:
			if now := digest(fw.files); !bytes.Equal(now, fw.last) {
				fw.last = now
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
