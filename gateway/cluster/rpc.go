package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/wssgate/wssgate/gateway/hub"
)

// Errors of Call and CallAll.
var (
	// ErrNoNode is returned (wrapped) by Call when no node of that name listens.
	ErrNoNode = errors.New("cluster: no such node")
	// ErrUnknownMethod is the reply of a node that has no handler for the method.
	ErrUnknownMethod = errors.New("cluster: unknown method")
	// ErrTooLarge is returned when a request or reply exceeds NATS's max_payload.
	ErrTooLarge = errors.New("cluster: payload exceeds NATS max_payload")
	// ErrBusy is the reply of a node serving RPCConcurrency requests already.
	ErrBusy = errors.New("cluster: node busy")
)

// headroom is kept below max_payload for the headers of a reply.
const headroom = 4096

// Handler serves one RPC method: it gets the request bytes and returns the reply bytes. ctx ends
// after RPCTimeout or when the Broker closes.
type Handler = func(ctx context.Context, req []byte) ([]byte, error)

// RemoteError is a handler's error as reported by the node that ran it. Err is the error itself
// when the handler ran on this node, or the matching sentinel of this package (ErrUnknownMethod,
// ErrBusy, ErrTooLarge) when a remote node reported one; errors.Is sees through it.
type RemoteError struct {
	Node, Method, Msg string
	Err               error
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("cluster: %s on node %s: %s", e.Method, e.Node, e.Msg)
}

// Unwrap returns Err.
func (e *RemoteError) Unwrap() error { return e.Err }

// remoteError builds the RemoteError of a handler's failure; a reply's text is mapped back to
// this package's sentinels.
func remoteError(node, method string, err error, local bool) *RemoteError {
	e := &RemoteError{Node: node, Method: method, Msg: err.Error()}
	if local {
		e.Err = err
		return e
	}
	for _, s := range []error{ErrUnknownMethod, ErrBusy, ErrTooLarge} {
		if strings.HasPrefix(e.Msg, s.Error()) {
			e.Err = s
		}
	}
	return e
}

// rpcServer holds the registered handlers and bounds concurrent requests.
type rpcServer struct {
	mu       sync.RWMutex       // guards handlers
	handlers map[string]Handler // by escaped method token
	sem      chan struct{}      // one slot per request being served
}

func (r *rpcServer) init(concurrency int) {
	r.handlers = make(map[string]Handler)
	r.sem = make(chan struct{}, concurrency)
}

func (r *rpcServer) lookup(tok string) Handler {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.handlers[tok]
}

// Handle registers h for method, replacing any earlier handler. It is served on
// <name>._rpc.<node>.<method> (Call) and <name>._rpc.all.<method> (CallAll), node and method
// escaped as channel levels. Requests run on goroutines owned by the Broker, at most
// RPCConcurrency at once.
func (b *Broker) Handle(method string, h func(ctx context.Context, req []byte) ([]byte, error)) {
	b.rpc.mu.Lock()
	defer b.rpc.mu.Unlock()
	if h == nil {
		delete(b.rpc.handlers, token(method))
		return
	}
	b.rpc.handlers[token(method)] = h
}

// rpcSubject is <name>._rpc.<nodeTok>.<methodTok>; both already escaped (or wildcards).
func (b *Broker) rpcSubject(nodeTok, methodTok string) string {
	return b.opts.Name + "._rpc." + nodeTok + "." + methodTok
}

// serve answers one request from NATS. Requests to "all" that this node sent itself are
// ignored: CallAll answers them locally.
func (b *Broker) serve(msg *nats.Msg, all bool) {
	if msg.Reply == "" || (all && msg.Header.Get(hdrOrigin) == b.opts.Node) {
		return
	}
	tok := msg.Subject[strings.LastIndexByte(msg.Subject, '.')+1:]
	select {
	case b.rpc.sem <- struct{}{}:
	default:
		b.reply(msg, nil, ErrBusy)
		return
	}
	ok := b.goAsync(func() {
		defer func() { <-b.rpc.sem }()
		data, err := b.runLocal(b.ctx, tok, msg.Data)
		b.reply(msg, data, err)
	})
	if !ok {
		<-b.rpc.sem
	}
}

// runLocal runs the handler of the method token on this node, bounded by RPCTimeout, and
// checks the reply's size.
func (b *Broker) runLocal(ctx context.Context, tok string, req []byte) ([]byte, error) {
	h := b.rpc.lookup(tok)
	if h == nil {
		return nil, ErrUnknownMethod
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.RPCTimeout)
	defer cancel()
	data, err := h(ctx, req)
	if err != nil {
		return nil, err
	}
	if max := b.maxPayload() - headroom; len(data) > max {
		return nil, fmt.Errorf("%w: reply of %d bytes, at most %d", ErrTooLarge, len(data), max)
	}
	return data, nil
}

// reply sends the result of a request back to its caller.
func (b *Broker) reply(req *nats.Msg, data []byte, err error) {
	h := nats.Header{hdrNode: {b.opts.Node}}
	if err != nil {
		h[hdrError] = []string{err.Error()}
		data = nil
	}
	if err := b.nc.PublishMsg(&nats.Msg{Subject: req.Reply, Header: h, Data: data}); err != nil {
		b.log.Debug("send RPC reply", "err", err)
	}
}

// Call runs method on node with req and returns its reply. node may be this node (run
// locally, NATS or not). Without a deadline on ctx, the call is bounded by RPCTimeout. A handler's
// error comes back as a *RemoteError.
func (b *Broker) Call(ctx context.Context, node, method string, req []byte) ([]byte, error) {
	if b.closed.Load() {
		return nil, hub.ErrClosed
	}
	ctx, cancel := b.withTimeout(ctx)
	defer cancel()
	if node == b.opts.Node {
		data, err := b.runLocal(ctx, token(method), req)
		if err != nil {
			return nil, remoteError(node, method, err, true)
		}
		return data, nil
	}
	if err := b.checkRequest(req); err != nil {
		return nil, fmt.Errorf("call %s on %s: %w", method, node, err)
	}
	msg := &nats.Msg{Subject: b.rpcSubject(token(node), token(method)), Header: b.hdrText, Data: req}
	resp, err := b.nc.RequestMsgWithContext(ctx, msg)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil, fmt.Errorf("call %s on %s: %w", method, node, ErrNoNode)
	case err != nil:
		return nil, fmt.Errorf("call %s on %s: %w", method, node, err)
	}
	if e := resp.Header.Get(hdrError); e != "" {
		return nil, remoteError(node, method, errors.New(e), false)
	}
	return resp.Data, nil
}

// checkRequest fails when NATS is down or req is too large for it.
func (b *Broker) checkRequest(req []byte) error {
	if !b.nc.IsConnected() {
		return ErrLinkDown
	}
	if max := b.maxPayload() - headroom; len(req) > max {
		return fmt.Errorf("%w: request of %d bytes, at most %d", ErrTooLarge, len(req), max)
	}
	return nil
}

// CallAll runs method with req on every node of Members, this one included (run locally, so it
// answers even when NATS is down). It returns when every node that is up has answered, or when
// ctx ends (without a deadline: after RPCTimeout). replies and errs are keyed by node (a
// handler's error is a *RemoteError); missing lists, sorted, the known nodes that did not answer
// in time, down ones included. A node not yet known that answers is included too.
func (b *Broker) CallAll(ctx context.Context, method string, req []byte) (replies map[string][]byte, errs map[string]error, missing []string) {
	replies, errs = make(map[string][]byte), make(map[string]error)
	if b.closed.Load() {
		errs[b.opts.Node] = hub.ErrClosed
		return replies, errs, nil
	}
	ctx, cancel := b.withTimeout(ctx)
	defer cancel()
	tok := token(method)
	// The local call runs on its own goroutine, bounded by ctx; the channel is buffered so it
	// never blocks even when CallAll stopped waiting (a handler ignoring ctx outlives CallAll).
	local := make(chan result, 1)
	go func() {
		data, err := b.runLocal(ctx, tok, req)
		local <- result{data, err}
	}()

	known, pending := b.expected()
	b.gather(ctx, method, req, pending, replies, errs)

	if r, ok := waitLocal(ctx, local); ok {
		if r.err != nil {
			r.err = remoteError(b.opts.Node, method, r.err, true)
		}
		record(b.opts.Node, r, replies, errs)
	}
	for _, n := range known {
		_, r := replies[n]
		_, e := errs[n]
		if !r && !e {
			missing = append(missing, n)
		}
	}
	return replies, errs, missing
}

// waitLocal returns the local result, waiting for it until ctx ends; a result already there
// wins over an ended ctx.
func waitLocal(ctx context.Context, local <-chan result) (result, bool) {
	select {
	case r := <-local:
		return r, true
	default:
	}
	select {
	case r := <-local:
		return r, true
	case <-ctx.Done():
		return result{}, false
	}
}

// expected returns every known node (this one included) and the set of other nodes that are up.
func (b *Broker) expected() (known []string, pending map[string]bool) {
	pending = make(map[string]bool)
	for _, m := range b.Members() {
		known = append(known, m.Node)
		if m.Up && !m.Self {
			pending[m.Node] = true
		}
	}
	slices.Sort(known)
	return known, pending
}

// gather sends the request to all nodes and collects replies until pending is empty or ctx
// ends. It reads at most a bounded number of replies.
func (b *Broker) gather(ctx context.Context, method string, req []byte, pending map[string]bool, replies map[string][]byte, errs map[string]error) {
	if len(pending) == 0 || b.checkRequest(req) != nil {
		return
	}
	inbox := b.nc.NewInbox()
	sub, err := b.nc.SubscribeSync(inbox)
	if err != nil {
		b.log.Debug("subscribe to RPC inbox", "err", err)
		return
	}
	defer func() { _ = sub.Unsubscribe() }()
	_ = sub.SetPendingLimits(4*len(pending)+64, -1)
	msg := &nats.Msg{Subject: b.rpcSubject("all", token(method)), Reply: inbox, Header: b.hdrText, Data: req}
	if err := b.nc.PublishMsg(msg); err != nil {
		b.log.Debug("publish RPC request", "err", err)
		return
	}
	for n := 0; len(pending) > 0 && n < 4*len(pending)+64; n++ {
		resp, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return
		}
		node := resp.Header.Get(hdrNode)
		if node == "" || node == b.opts.Node {
			continue // a status message (no responders) or a stray reply
		}
		_, dup := replies[node]
		if _, dupErr := errs[node]; dup || dupErr {
			continue
		}
		r := result{data: resp.Data}
		if e := resp.Header.Get(hdrError); e != "" {
			r.err = remoteError(node, method, errors.New(e), false)
		}
		record(node, r, replies, errs)
		delete(pending, node)
	}
}

// result is one node's answer.
type result struct {
	data []byte
	err  error
}

// record stores one node's answer.
func record(node string, r result, replies map[string][]byte, errs map[string]error) {
	if r.err != nil {
		errs[node] = r.err
		return
	}
	replies[node] = r.data
}
