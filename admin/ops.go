package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// scrapeTimeout bounds one Stats call of the collector.
const scrapeTimeout = 5 * time.Second

// OpsHandler serves the ops endpoints (conventionally on DefaultOpsAddr):
//   - /metrics: Prometheus metrics read from stats at each scrape (the same snapshot as
//     GetStats: one source of truth);
//   - /healthz: 200 while the process serves HTTP;
//   - /readyz: 200 when ready() is true (nil ready: always), else 503.
func OpsHandler(stats Stats, ready func() bool) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(stats))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if ready != nil && !ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}

// collector is a prometheus.Collector over Stats.
type collector struct {
	stats Stats

	openSessions, handshakes, handshakeFailures *prometheus.Desc
	messagesIn, messagesOut, bytesIn, bytesOut  *prometheus.Desc
	slowCloses, certNotAfter, certGeneration    *prometheus.Desc
	goroutines, heapAlloc, startTime, statsUp   *prometheus.Desc
	reloads, clientCertRejections, drops        *prometheus.Desc
	authFailures                                *prometheus.Desc
	sessionCloses, memoryBudget, memoryInUse    *prometheus.Desc
	namesNotCovered                             *prometheus.Desc
	proxiedOpen, proxiedTotal                   *prometheus.Desc
	cluster                                     clusterDescs
}

// clusterDescs are the wssgate_cluster_* metrics, sent when StatsSnapshot.Cluster is set.
type clusterDescs struct{ linkUp, nodesSeen, in, out, dropped *prometheus.Desc }

func (c clusterDescs) all() []*prometheus.Desc {
	return []*prometheus.Desc{c.linkUp, c.nodesSeen, c.in, c.out, c.dropped}
}

func (c clusterDescs) collect(ch chan<- prometheus.Metric, st *ClusterStats) {
	up := 0.0
	if st.LinkUp {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(c.linkUp, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(c.nodesSeen, prometheus.GaugeValue, float64(st.NodesSeen))
	ch <- prometheus.MustNewConstMetric(c.in, prometheus.CounterValue, float64(st.MessagesIn))
	ch <- prometheus.MustNewConstMetric(c.out, prometheus.CounterValue, float64(st.MessagesOut))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(st.Dropped))
}

var _ prometheus.Collector = (*collector)(nil)

func newCollector(stats Stats) *collector {
	l := []string{"listener", "role"}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("wssgate_"+name, help, labels, nil)
	}
	return &collector{
		stats:                stats,
		openSessions:         d("open_sessions", "Sessions open now.", l...),
		handshakes:           d("handshakes_total", "Completed TLS and WebSocket handshakes.", l...),
		handshakeFailures:    d("handshake_failures_total", "Failed handshakes by reason.", append(l, "reason")...),
		messagesIn:           d("messages_in_total", "Frames received from peers.", l...),
		messagesOut:          d("messages_out_total", "Frames written to peers.", l...),
		bytesIn:              d("bytes_in_total", "Payload bytes received from peers.", l...),
		bytesOut:             d("bytes_out_total", "Payload bytes written to peers.", l...),
		slowCloses:           d("slow_consumer_closes_total", "Sessions closed because their outbound queue overflowed.", l...),
		drops:                d("drops_total", "Frames lost on sessions: outbound queue overflow, or a failed or timed-out write.", l...),
		namesNotCovered:      d("names_not_covered_total", "Handshakes whose SNI (or dialled IP) the served certificate did not cover.", l...),
		certNotAfter:         d("certificate_not_after_seconds", "End of validity of a served certificate, Unix seconds.", "subject", "serial"),
		certGeneration:       d("certificate_generation", "Current certificate bundle generation."),
		goroutines:           d("goroutines", "Goroutines of the gateway process."),
		heapAlloc:            d("heap_alloc_bytes", "Bytes of allocated heap objects."),
		startTime:            d("start_time_seconds", "Process start time, Unix seconds."),
		reloads:              d("certificate_reloads_total", "Certificate reload attempts by trigger (admin, sighup, file) and result (ok, failed).", "trigger", "result"),
		clientCertRejections: d("client_certificate_rejections_total", "Refused client certificates by reason.", append(l, "reason")...),
		authFailures:         d("auth_failures_total", "Unauthenticated handshakes by sub-reason (missing, expired, bad_signature, ...).", append(l, "sub_reason")...),
		sessionCloses:        d("session_closes_total", "Closes the gateway started, by close code (protocol errors, limits, replacements, refusals).", append(l, "code")...),
		memoryBudget:         d("memory_budget_bytes", "Process-wide memory budget of read buffers and outbound queues (limits.memory_budget)."),
		memoryInUse:          d("memory_in_use_bytes", "Bytes of the memory budget held now."),
		proxiedOpen:          d("proxied_websockets_open", "Reverse-proxied WebSockets open now (app listener; also in open_sessions).", l...),
		proxiedTotal:         d("proxied_websockets_total", "Reverse-proxied WebSockets opened (app listener).", l...),
		statsUp:              d("stats_up", "1 when the stats snapshot was read; a failed read fails the whole scrape with its error."),
		cluster: clusterDescs{
			linkUp:    d("cluster_link_up", "1 while connected to a NATS server; 0: degraded, serving this node's sessions only."),
			nodesSeen: d("cluster_nodes_seen", "Cluster nodes known, this one included."),
			in:        d("cluster_messages_in_total", "Channel messages received from NATS."),
			out:       d("cluster_messages_out_total", "Channel messages sent to NATS."),
			dropped:   d("cluster_dropped_total", "Cluster messages not sent (link down), dropped by a slow handler, or not delivered by a node."),
		},
	}
}

// Describe sends every descriptor.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.openSessions, c.handshakes, c.handshakeFailures, c.messagesIn, c.messagesOut,
		c.bytesIn, c.bytesOut, c.slowCloses, c.certNotAfter, c.certGeneration,
		c.goroutines, c.heapAlloc, c.startTime, c.statsUp, c.reloads, c.clientCertRejections, c.drops,
		c.authFailures,
		c.sessionCloses, c.memoryBudget, c.memoryInUse, c.namesNotCovered,
		c.proxiedOpen, c.proxiedTotal,
	} {
		ch <- d
	}
	for _, d := range c.cluster.all() {
		ch <- d
	}
}

// Collect reads one snapshot and sends it as metrics.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	st, err := c.stats.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.statsUp, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.statsUp, prometheus.GaugeValue, 1)
	for _, l := range st.Listeners {
		c.collectListener(ch, l)
	}
	for _, x := range st.Certificates {
		ch <- prometheus.MustNewConstMetric(c.certNotAfter, prometheus.GaugeValue, float64(x.NotAfter.Unix()), x.Subject, x.Serial)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	for _, r := range st.Reloads {
		ch <- prometheus.MustNewConstMetric(c.reloads, prometheus.CounterValue, float64(r.OK), r.Trigger, "ok")
		ch <- prometheus.MustNewConstMetric(c.reloads, prometheus.CounterValue, float64(r.Failed), r.Trigger, "failed")
	}
	if st.Cluster != nil {
		c.cluster.collect(ch, st.Cluster)
	}
	gauge(c.certGeneration, float64(st.CertificateGeneration))
	gauge(c.memoryBudget, float64(st.MemoryBudgetBytes))
	gauge(c.memoryInUse, float64(st.MemoryInUseBytes))
	gauge(c.goroutines, float64(st.Process.Goroutines))
	gauge(c.heapAlloc, float64(st.Process.HeapAllocBytes))
	if !st.Process.StartedAt.IsZero() {
		gauge(c.startTime, float64(st.Process.StartedAt.UnixMilli())/1e3)
	}
}

// collectListener sends one listener's metrics; every well-known failure reason is sent,
// with 0 when absent, so that rates work from the first failure on.
func (c *collector) collectListener(ch chan<- prometheus.Metric, l ListenerStats) {
	name, role := l.Name, string(l.Role)
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), name, role)
	}
	ch <- prometheus.MustNewConstMetric(c.openSessions, prometheus.GaugeValue, float64(l.OpenSessions), name, role)
	counter(c.handshakes, l.HandshakesOK)
	counter(c.messagesIn, l.MessagesIn)
	counter(c.messagesOut, l.MessagesOut)
	counter(c.bytesIn, l.BytesIn)
	counter(c.bytesOut, l.BytesOut)
	counter(c.slowCloses, l.SlowConsumerCloses)
	counter(c.drops, l.Drops)
	counter(c.namesNotCovered, l.NamesNotCovered)
	ch <- prometheus.MustNewConstMetric(c.proxiedOpen, prometheus.GaugeValue, float64(l.ProxiedWebSocketsOpen), name, role)
	counter(c.proxiedTotal, l.ProxiedWebSocketsTotal)
	for r, n := range l.HandshakeFailures {
		ch <- prometheus.MustNewConstMetric(c.handshakeFailures, prometheus.CounterValue, float64(n), name, role, r)
	}
	for code, n := range l.SessionCloses {
		ch <- prometheus.MustNewConstMetric(c.sessionCloses, prometheus.CounterValue, float64(n), name, role, code)
	}
	for r, n := range l.ClientCertRejections {
		ch <- prometheus.MustNewConstMetric(c.clientCertRejections, prometheus.CounterValue, float64(n), name, role, r)
	}
	for r, n := range l.AuthFailures {
		ch <- prometheus.MustNewConstMetric(c.authFailures, prometheus.CounterValue, float64(n), name, role, r)
	}
}
