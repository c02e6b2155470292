package certs

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Store owns the current Bundle and hands listeners tls.Configs that read
// it at every handshake. See the package doc for the concurrency contract.
type Store struct {
	opts Options // immutable after NewStore
	now  func() time.Time
	cur  atomic.Pointer[Bundle]

	mu       sync.Mutex    // serializes builds and swaps; guards profiles, names, window
	profiles []Profile     // registered by TLSConfig; index = config index in a Bundle
	names    *NameLog      // nil: reloads do not check names clients use
	window   time.Duration // how far back names count
}

// NewStore loads and validates the files named by opts and returns a store
// serving them as generation 1. The error names the file and the value at
// fault (see the Err* sentinels).
func NewStore(opts Options) (*Store, error) {
	opts = cloneOptions(opts)
	if len(opts.Pairs) == 0 {
		return nil, fmt.Errorf("new store: %w", ErrNoPairs)
	}
	for i, p := range opts.Pairs {
		if p.CertFile == "" || p.KeyFile == "" {
			return nil, fmt.Errorf("new store: %w: pair %d needs both a cert and a key file", ErrNoPairs, i)
		}
	}
	s := &Store{opts: opts, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	b, err := s.build(Source{}, 1)
	if err != nil {
		return nil, err
	}
	s.cur.Store(b)
	return s, nil
}

// Options returns a copy of the options the store was created with.
func (s *Store) Options() Options { return cloneOptions(s.opts) }

// Current returns the bundle being served.
func (s *Store) Current() *Bundle { return s.cur.Load() }

// GetCertificate picks the current bundle's certificate for a handshake
// (by SNI), for a tls.Config that is not built by TLSConfig, such as the
// admin API's with its own client CAs. It follows every reload.
func (s *Store) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.cur.Load().getCertificate(hello)
}

// ReloadOptions modify one reload. The zero value is a plain reload.
type ReloadOptions struct {
	// DryRun builds and validates the new bundle (Generation 0) without
	// installing it; names it would stop covering become warnings.
	DryRun bool
	// Force installs a bundle that stops covering names clients used
	// recently (with a warning). Configured hostnames are checked anyway.
	Force bool
}

// Reload re-reads every file, or takes the material src gives instead,
// validates the result and, unless o.DryRun, swaps it in (a dry run's
// bundle has Generation 0). On error the served bundle stays as it was and
// the error says why. When a NameLog is set (SetNameLog) and the new
// bundle stops covering a name that the current one covers and
// clients used within the window, the reload is refused with an
// *UncoveredNamesError, unless o.Force; a dry run reports the names in
// Bundle.Warnings instead.
func (s *Store) Reload(src Source, o ReloadOptions) (*Bundle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gen := uint64(0)
	if !o.DryRun {
		gen = s.cur.Load().Generation + 1
	}
	b, err := s.build(src, gen)
	if err != nil {
		return nil, err
	}
	if err := s.checkNames(b, o); err != nil {
		return nil, err
	}
	if !o.DryRun {
		s.cur.Store(b)
	}
	return b, nil
}

// SetNameLog makes reloads refuse a bundle that stops covering a name
// recorded in l within window (0: DefaultNameWindow). nil l turns the
// check off. The caller records successful handshakes in l.
func (s *Store) SetNameLog(l *NameLog, window time.Duration) {
	if window <= 0 {
		window = DefaultNameWindow
	}
	s.mu.Lock()
	s.names, s.window = l, window
	s.mu.Unlock()
}

// checkNames refuses (or, dry or forced, warns about) a new bundle b that
// stops covering names clients used; s.mu is held. b is not published yet,
// so its Warnings may still change.
func (s *Store) checkNames(b *Bundle, o ReloadOptions) error {
	if s.names == nil {
		return nil
	}
	now := s.now()
	lost := lostNames(s.cur.Load(), b, s.names.Recent(now.Add(-s.window)))
	if len(lost) == 0 {
		return nil
	}
	e := &UncoveredNamesError{Names: lost, Window: s.window, Now: now}
	switch {
	case o.DryRun:
		b.Warnings = append(b.Warnings, "the new certificates stop covering names clients used in the last "+windowText(s.window)+": "+e.list())
	case o.Force:
		b.Warnings = append(b.Warnings, "forced: the new certificates stop covering names clients used in the last "+windowText(s.window)+": "+e.list())
	default:
		return e
	}
	return nil
}

// TLSConfig returns the outer config for one listener; call it once per
// listener. Its GetConfigForClient returns the current bundle's precomputed
// config for p, so reloads apply to the next handshake; Certificates is
// left empty on purpose. A profile that asks for client certificates while
// no client CAs are configured accepts none. Registering a new profile
// republishes the current bundle with its configs extended (same
// Generation, new *Bundle).
func (s *Store) TLSConfig(p Profile) *tls.Config {
	p.NextProtos = slices.Clone(p.NextProtos)
	s.mu.Lock()
	idx := slices.IndexFunc(s.profiles, p.same)
	if idx < 0 {
		idx = len(s.profiles)
		s.profiles = append(s.profiles, p)
		s.cur.Store(s.cur.Load().withProfiles(s.profiles))
	}
	s.mu.Unlock()
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: CipherSuites(),
		NextProtos:   slices.Clone(p.NextProtos),
		ClientAuth:   p.ClientAuth.tlsClientAuth(),
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.cur.Load().configs[idx], nil
		},
	}
}

// build loads src (falling back to the files of s.opts), validates it and
// returns a bundle with configs for every registered profile.
func (s *Store) build(src Source, gen uint64) (*Bundle, error) {
	certs, err := s.loadCerts(src)
	if err != nil {
		return nil, err
	}
	v := &validator{opts: &s.opts, now: s.now()}
	if s.opts.RootCAFile != "" {
		if v.rootList, err = loadRootFile(s.opts.RootCAFile); err != nil {
			return nil, err
		}
		v.roots, _ = poolOf(v.rootList)
	}
	for _, c := range certs {
		if err := v.checkCert(c); err != nil {
			return nil, err
		}
	}
	if err := checkHostnames(certs, s.opts.Hostnames); err != nil {
		return nil, err
	}
	b := &Bundle{Generation: gen, LoadedAt: v.now, Certs: certs}
	if _, err := rand.Read(b.ticketKey[:]); err != nil {
		return nil, fmt.Errorf("session ticket key: %w", err)
	}
	cas, label, err := s.loadClientCAs(src)
	if err != nil {
		return nil, err
	}
	if cas != nil {
		v.checkClientCAs(label, cas)
		b.ClientCAs, b.ClientCASubjects = poolOf(cas)
	}
	if b.revoked, err = loadCRLs(s.opts.CRLFiles, cas, v); err != nil {
		return nil, err
	}
	b.Warnings = v.warnings
	b.index()
	return b.withProfiles(s.profiles), nil
}

// loadCerts parses the certificates of src, reading files where src has none.
func (s *Store) loadCerts(src Source) ([]*Cert, error) {
	if (src.CertPEM == nil) != (src.KeyPEM == nil) {
		return nil, fmt.Errorf("load cert pem#0: %w", ErrIncompleteSource)
	}
	var certs []*Cert
	add := func(c *Cert, err error) error {
		if err == nil {
			certs = append(certs, c)
		}
		return err
	}
	var err error
	if src.CertPEM != nil {
		err = add(parsePEMPair(PEMPair{src.CertPEM, src.KeyPEM}, 0))
	} else {
		err = add(readPair(s.opts.Pairs[0]))
	}
	if err != nil {
		return nil, err
	}
	if src.Others != nil {
		for i, p := range src.Others {
			if err := add(parsePEMPair(p, i+1)); err != nil {
				return nil, err
			}
		}
		return certs, nil
	}
	for _, p := range s.opts.Pairs[1:] {
		if err := add(readPair(p)); err != nil {
			return nil, err
		}
	}
	return certs, nil
}

// parsePEMPair parses the i-th PEM pair of a Source.
func parsePEMPair(p PEMPair, i int) (*Cert, error) {
	label := fmt.Sprintf("pem#%d", i)
	if p.CertPEM == nil || p.KeyPEM == nil {
		return nil, fmt.Errorf("load cert %s: %w", label, ErrIncompleteSource)
	}
	return parsePair(p.CertPEM, p.KeyPEM, label, label+" key")
}

// loadClientCAs returns the client CAs of src or of the client-CA file, and
// the label naming them; nil if there are none.
func (s *Store) loadClientCAs(src Source) ([]*x509.Certificate, string, error) {
	if src.ClientCAPEM != nil {
		cas, err := parseClientCAs(src.ClientCAPEM, "pem")
		return cas, "client CA pem", err
	}
	if s.opts.ClientCAFile == "" {
		return nil, "", nil
	}
	cas, err := loadClientCAFile(s.opts.ClientCAFile)
	return cas, s.opts.ClientCAFile, err
}

// cloneOptions copies the slices of o.
func cloneOptions(o Options) Options {
	o.Pairs = slices.Clone(o.Pairs)
	o.Hostnames = slices.Clone(o.Hostnames)
	return o
}
