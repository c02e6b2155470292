package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// errUsage marks a mistake in the command line.
var errUsage = errors.New("wssgate-bench: usage")

// options are the command-line flags shared by every scenario.
type options struct {
	scenario string

	appURL, deviceURL string
	appURLs           []string // appURL split at commas: app clients spread over them round robin
	morePIDs          string   // --more-pids: other processes whose CPU counts as the server's
	ca                string
	insecure          bool
	curves            string
	deviceID          string // template, {i} is the device index
	token             string // template
	cert, key         string // templates
	localIPs          string
	pid               int
	allowRemote       bool

	devices, apps, concurrency int
	pattern                    string
	size, window               int
	rate                       float64

	duration, hold, drain, dialTimeout, maxRun time.Duration

	target            string // handshake: device | app
	admin, adminToken string
	reloads           int
	before            time.Duration
	quiet             bool
	socketIO          bool // fanout: subscribers are Socket.IO clients
	progress          io.Writer

	hostile         int // hostile: attacking connections
	partial         int
	pingRate        float64
	trickle, settle time.Duration
	ops             string

	certMu    sync.Mutex
	certCache map[string]*tls.Certificate
}

const scenarios = "idle | fanout | command | handshake | reload | hostile"

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return nil, fmt.Errorf("%w: wssgate-bench SCENARIO [flags]   SCENARIO: %s", errUsage, scenarios)
	}
	o := &options{scenario: args[0], progress: stderr}
	fs := flag.NewFlagSet("wssgate-bench "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.appURL, "app-url", "wss://127.0.0.1:8443/ws", "the gateway's app WebSocket URL; several, comma-separated, spread app clients round robin (e.g. the nodes of a cluster)")
	fs.StringVar(&o.deviceURL, "device-url", "wss://127.0.0.1:9443/device", "the gateway's device WebSocket URL")
	fs.StringVar(&o.ca, "ca", "", "PEM file of the CA(s) that sign the gateway's certificate")
	fs.BoolVar(&o.insecure, "insecure", false, "do not verify the gateway's certificate")
	fs.StringVar(&o.curves, "curves", "", "TLS key exchange groups in order, e.g. x25519 (x25519mlkem768,x25519,p256,p384,p521); default Go's")
	fs.StringVar(&o.deviceID, "device-id", "bench-{i}", "device identity sent as ?device_id= (development mode) when neither --token nor --cert is set; {i} is the device index")
	fs.StringVar(&o.token, "token", "", "device bearer token; {i} is the device index")
	fs.StringVar(&o.cert, "cert", "", "device client certificate PEM file; {i} is the device index")
	fs.StringVar(&o.key, "key", "", "device client key PEM file; {i} is the device index")
	fs.StringVar(&o.localIPs, "local-ips", "", "source addresses, round robin: ranges and commas, e.g. 127.0.0.2-127.0.0.40")
	fs.IntVar(&o.pid, "pid", 0, "the gateway's process id: report its CPU time and RSS from /proc")
	fs.StringVar(&o.morePIDs, "more-pids", "", "comma-separated process ids whose CPU time is added to --pid's (a cluster's other nodes, nats-server)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow targets that are not loopback addresses")
	fs.IntVar(&o.devices, "devices", 0, "devices (idle, command: default 100; fanout: publishers, default 1)")
	fs.IntVar(&o.apps, "apps", 100, "app clients (idle, fanout: subscribers)")
	fs.IntVar(&o.concurrency, "concurrency", 50, "dials in flight (idle, fanout); workers (handshake, reload)")
	fs.StringVar(&o.pattern, "pattern", "devices/+/up", "channel pattern app clients subscribe to")
	fs.IntVar(&o.size, "size", 64, "payload bytes a device publishes (fanout) or an app commands (command)")
	fs.IntVar(&o.window, "window", 16, "fanout: at most this many messages not yet received by every subscriber (closed loop)")
	fs.Float64Var(&o.rate, "rate", 0, "fanout: publish at this many messages per second instead of the window")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to publish, command or handshake")
	fs.DurationVar(&o.hold, "hold", 10*time.Second, "idle: how long to hold the connections")
	fs.DurationVar(&o.drain, "drain", 3*time.Second, "fanout: stop waiting for deliveries after this long without one (at most 60 s)")
	fs.DurationVar(&o.dialTimeout, "dial-timeout", 10*time.Second, "limit on TCP connect + TLS + upgrade")
	fs.DurationVar(&o.maxRun, "max-run", 15*time.Minute, "hard limit on the whole run")
	fs.StringVar(&o.target, "target", "device", "handshake: device or app port")
	fs.StringVar(&o.admin, "admin", "127.0.0.1:9090", "reload: the admin gRPC address (plaintext)")
	fs.StringVar(&o.adminToken, "admin-token", "", "reload: admin bearer token")
	fs.IntVar(&o.reloads, "reloads", 5, "reload: certificate reloads during the run")
	fs.DurationVar(&o.before, "before", 3*time.Second, "reload: handshakes measured before the first reload")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	fs.BoolVar(&o.socketIO, "socketio", false, "fanout: subscribers are Socket.IO clients (Engine.IO v4 WebSocket at /socket.io/ on the app URL's host)")
	registerHostileFlags(fs, o)
	if err := fs.Parse(args[1:]); err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if o.quiet {
		o.progress = io.Discard
	}
	return o, o.validate()
}

func (o *options) validate() error {
	switch o.scenario {
	case "idle", "fanout", "command", "handshake", "reload", "hostile":
	default:
		return fmt.Errorf("%w: unknown scenario %q (%s)", errUsage, o.scenario, scenarios)
	}
	if o.devices == 0 {
		o.devices = 100
		if o.scenario == "fanout" || o.scenario == "hostile" {
			o.devices = 1
		}
	}
	if o.devices < 0 || o.apps < 0 || o.concurrency < 1 || o.size < 32 || o.window < 0 || o.rate < 0 {
		return fmt.Errorf("%w: --devices, --apps, --window, --rate must be ≥ 0, --concurrency ≥ 1, --size ≥ 32", errUsage)
	}
	if o.duration <= 0 || o.maxRun <= 0 || o.dialTimeout <= 0 {
		return fmt.Errorf("%w: --duration, --max-run and --dial-timeout must be positive", errUsage)
	}
	if err := o.validateHostile(); err != nil {
		return err
	}
	if o.window == 0 && o.rate == 0 && o.scenario == "fanout" {
		return fmt.Errorf("%w: fanout needs --window > 0 or --rate > 0 (an uncapped publisher only measures buffers)", errUsage)
	}
	o.appURLs = strings.Split(o.appURL, ",")
	if _, err := parsePIDs(o.morePIDs); err != nil {
		return fmt.Errorf("%w: --more-pids: %w", errUsage, err)
	}
	if (o.cert == "") != (o.key == "") {
		return fmt.Errorf("%w: --cert and --key go together", errUsage)
	}
	if o.target != "device" && o.target != "app" {
		return fmt.Errorf("%w: --target is device or app", errUsage)
	}
	o.drain = min(o.drain, 60*time.Second)
	if o.allowRemote {
		return nil
	}
	for _, raw := range append(o.appURLs[:len(o.appURLs):len(o.appURLs)], o.deviceURL) {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "wss" && u.Scheme != "ws") {
			return fmt.Errorf("%w: bad URL %q: want wss://host:port/path", errUsage, raw)
		}
		if err := checkLoopback(u.Hostname()); err != nil {
			return err
		}
	}
	if o.scenario == "reload" {
		host := o.admin
		if h, _, err := net.SplitHostPort(o.admin); err == nil {
			host = h
		}
		if err := checkLoopback(host); err != nil {
			return err
		}
	}
	return nil
}

// tlsConfig is the client TLS configuration: no session cache, so every
// connection makes a full handshake.
func (o *options) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: o.insecure, MinVersion: tls.VersionTLS12}
	if o.ca != "" {
		pem, err := os.ReadFile(o.ca)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read CA file %s: no PEM certificate", o.ca)
		}
	}
	for name := range strings.SplitSeq(o.curves, ",") {
		var id tls.CurveID
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "":
			continue
		case "x25519mlkem768":
			id = tls.X25519MLKEM768
		case "x25519":
			id = tls.X25519
		case "p256":
			id = tls.CurveP256
		case "p384":
			id = tls.CurveP384
		case "p521":
			id = tls.CurveP521
		default:
			return nil, fmt.Errorf("%w: unknown curve %q", errUsage, name)
		}
		tc.CurvePreferences = append(tc.CurvePreferences, id)
	}
	return tc, nil
}

// expand replaces {i} in a template with i.
func expand(template string, i int) string {
	return strings.ReplaceAll(template, "{i}", strconv.Itoa(i))
}

// clientCert loads (once per file pair) the client certificate of device i.
func (o *options) clientCert(i int) (*tls.Certificate, error) {
	certFile, keyFile := expand(o.cert, i), expand(o.key, i)
	o.certMu.Lock()
	defer o.certMu.Unlock()
	if c, ok := o.certCache[certFile]; ok {
		return c, nil
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load client certificate %s: %w", certFile, err)
	}
	if o.certCache == nil {
		o.certCache = make(map[string]*tls.Certificate)
	}
	o.certCache[certFile] = &c
	return &c, nil
}
