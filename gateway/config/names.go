package config

import "time"

// DefaultNamesWindow is tls.names_window's default: how far back a reload
// looks for names clients used.
const DefaultNamesWindow = 24 * time.Hour

// applyNamesDefaults fills tls.names_window.
func (t *TLS) applyNamesDefaults() {
	if t.NamesWindow == 0 {
		t.NamesWindow = DefaultNamesWindow
	}
}

// validateNames checks tls.names_window.
func (t TLS) validateNames(bad badFunc) {
	if t.NamesWindow < time.Minute {
		bad("tls.names_window", "want at least 1m, got %s", t.NamesWindow)
	}
}
