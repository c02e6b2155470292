package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wssgate/wssgate/gateway/config"
)

// Defaults of Options; a zero field takes the default.
const (
	DefaultName              = "wssgate"
	DefaultHeartbeatInterval = 2 * time.Second
	DefaultForgetAfter       = 10 * time.Minute
	DefaultRPCTimeout        = 2 * time.Second
	DefaultReconnectWait     = 250 * time.Millisecond
	DefaultMaxReconnectWait  = 8 * time.Second
	DefaultConnectTimeout    = 2 * time.Second
	DefaultRPCConcurrency    = 32
)

// missedBeats is how many heartbeat intervals without news make a member Up=false.
const missedBeats = 3

// Options configure a Broker. Node and URLs are required; every other zero value takes its
// documented default.
type Options struct {
	// Node is this gateway's unique name in the cluster (config key "node"). "all" is reserved.
	Node string
	// URLs of the NATS servers (nats:// or tls://), tried in random order. Required.
	URLs []string
	// Name prefixes every subject; nodes with the same Name form one cluster. Default "wssgate".
	Name string
	// Credentials is a NATS .creds file (JWT and nkey seed). Optional.
	Credentials string
	// TLS to the NATS servers. CA alone verifies the servers; Cert and Key (together) add a client
	// certificate. With all three empty, tls:// URLs verify against the system roots.
	TLS config.ClusterTLS
	// Addrs are advertised in heartbeats (for the admin API's node list). Optional.
	Addrs Addrs
	// HeartbeatInterval between heartbeats. Default 2s. A member silent for 3 intervals is down.
	HeartbeatInterval time.Duration
	// ForgetAfter drops a silent member from Members. Default 10m.
	ForgetAfter time.Duration
	// RPCTimeout bounds Call and CallAll when ctx has no deadline, and each served request.
	// Default 2s.
	RPCTimeout time.Duration
	// ReconnectWait is the first delay between reconnect rounds; it doubles per failed round up to
	// MaxReconnectWait (defaults 250ms and 8s), with up to 25% jitter. Reconnects never stop.
	ReconnectWait, MaxReconnectWait time.Duration
	// ConnectTimeout bounds one dial and handshake. Default 2s.
	ConnectTimeout time.Duration
	// RPCConcurrency bounds the requests served at once; more are refused with an error reply.
	// Default 32.
	RPCConcurrency int
}

// Addrs are the addresses a node advertises.
type Addrs struct {
	Admin  string `json:"admin,omitempty"`
	App    string `json:"app,omitempty"`
	Device string `json:"device,omitempty"`
}

// FromConfig returns the Options for node from the configuration's cluster section (paths
// already resolved by config.Load). Addrs and timings are left to their defaults.
func FromConfig(node string, c config.Cluster) Options {
	return Options{
		Node:        node,
		URLs:        c.NATS,
		Name:        c.Name,
		Credentials: c.Credentials,
		TLS:         c.TLS,
	}
}

func (o *Options) applyDefaults() {
	setDefault := func(p *time.Duration, d time.Duration) {
		if *p <= 0 {
			*p = d
		}
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	setDefault(&o.HeartbeatInterval, DefaultHeartbeatInterval)
	setDefault(&o.ForgetAfter, DefaultForgetAfter)
	setDefault(&o.RPCTimeout, DefaultRPCTimeout)
	setDefault(&o.ReconnectWait, DefaultReconnectWait)
	setDefault(&o.MaxReconnectWait, DefaultMaxReconnectWait)
	setDefault(&o.ConnectTimeout, DefaultConnectTimeout)
	if o.RPCConcurrency <= 0 {
		o.RPCConcurrency = DefaultRPCConcurrency
	}
}

// validate reports the first problem of o, naming the configuration key.
func (o *Options) validate() error {
	var errs []error
	if o.Node == "" {
		errs = append(errs, errors.New("node: required in a cluster"))
	}
	if o.Node == "all" {
		errs = append(errs, errors.New(`node: "all" is reserved in a cluster (it addresses every node)`))
	}
	if len(o.URLs) == 0 {
		errs = append(errs, errors.New("cluster.nats: at least one nats:// or tls:// URL is required"))
	}
	if err := config.ValidClusterName(o.Name); err != nil {
		errs = append(errs, fmt.Errorf("cluster.name: %w", err))
	}
	for _, u := range o.URLs {
		if err := config.ValidNATSURL(u); err != nil {
			errs = append(errs, fmt.Errorf("cluster.nats: %w", err))
		}
	}
	if o.Credentials != "" {
		if _, err := os.Stat(o.Credentials); err != nil {
			errs = append(errs, fmt.Errorf("cluster.credentials: %w", err))
		}
	}
	if (o.TLS.Cert == "") != (o.TLS.Key == "") {
		errs = append(errs, errors.New("cluster.tls: cert and key go together"))
	}
	return errors.Join(errs...)
}

// natsOptions translates o into nats.go options; handlers are added by the Broker.
func (o *Options) natsOptions() ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name("wssgate " + o.Node),
		nats.ReconnectBufSize(-1), // a publish while disconnected fails at once: nothing buffered
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(o.reconnectDelay),
		nats.Timeout(o.ConnectTimeout),
		nats.PingInterval(o.HeartbeatInterval * missedBeats),
		nats.MaxPingsOutstanding(2),
	}
	if o.Credentials != "" {
		opts = append(opts, nats.UserCredentials(o.Credentials))
	}
	tc, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}

// reconnectDelay is the backoff between reconnect rounds (one round tries every server).
func (o *Options) reconnectDelay(attempts int) time.Duration {
	d := o.ReconnectWait
	for i := 1; i < attempts && d < o.MaxReconnectWait; i++ {
		d *= 2
	}
	d = min(d, o.MaxReconnectWait)
	return d + rand.N(d/4+1)
}

// tlsConfig builds the client TLS configuration, or nil when no TLS is configured and no URL
// asks for it.
func (o *Options) tlsConfig() (*tls.Config, error) {
	wants := o.TLS != (config.ClusterTLS{})
	for _, u := range o.URLs {
		wants = wants || strings.HasPrefix(u, "tls://")
	}
	if !wants {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLS.CA != "" {
		pem, err := os.ReadFile(o.TLS.CA)
		if err != nil {
			return nil, fmt.Errorf("cluster.tls.ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cluster.tls.ca: no PEM certificate in %s", o.TLS.CA)
		}
		tc.RootCAs = pool
	}
	if o.TLS.Cert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLS.Cert, o.TLS.Key)
		if err != nil {
			return nil, fmt.Errorf("cluster.tls.cert/key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// redact returns u without its user information, for logs.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	p.User = url.User("redacted")
	return p.String()
}
