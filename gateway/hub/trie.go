package hub

// node is one level of the subscription trie. The pattern "a/+/#" is stored as
// root.children["a"].plus.hash. All fields are guarded by Hub.mu.
type node struct {
	parent   *node
	key      string           // level under parent: a literal, "+" or "#"
	children map[string]*node // literal next levels; nil until needed
	plus     *node            // next level "+"
	hash     *node            // next level "#"; it has no children

	// subs and binds list the subscriptions whose pattern ends at this node, in the same order:
	// subs[i] is binds[i].e. subs is kept separately so that Publish copies it with one memmove.
	subs  []*entry
	binds []*binding
}

// entry is one subscriber of the Hub. s never changes; binds is guarded by Hub.mu.
type entry struct {
	s     Subscriber
	binds []*binding // this subscriber's patterns
	seen  uint64     // last Hub.dedupSeq that delivered to it; guarded by Hub.dedupMu
}

// binding is one (subscriber, pattern) subscription. Guarded by Hub.mu.
type binding struct {
	e       *entry
	n       *node
	pattern string
	nidx    int // index in n.subs and n.binds
	eidx    int // index in e.binds
}

// insert returns the node for pattern, creating the path as needed. pattern must be valid.
func (n *node) insert(pattern string) *node {
	for rest, more := pattern, true; more; {
		var level string
		level, rest, more = cutLevel(rest)
		n = n.child(level)
	}
	return n
}

// child returns n's child for level, creating it.
func (n *node) child(level string) *node {
	switch level {
	case "+":
		if n.plus == nil {
			n.plus = &node{parent: n, key: level}
		}
		return n.plus
	case "#":
		if n.hash == nil {
			n.hash = &node{parent: n, key: level}
		}
		return n.hash
	}
	c := n.children[level]
	if c == nil {
		if n.children == nil {
			n.children = make(map[string]*node)
		}
		c = &node{parent: n, key: level}
		n.children[level] = c
	}
	return c
}

// add appends b to n's subscriptions.
func (n *node) add(b *binding) {
	b.n, b.nidx = n, len(n.subs)
	n.subs = append(n.subs, b.e)
	n.binds = append(n.binds, b)
}

// remove deletes b from n's subscriptions in O(1) (the last one takes its place), then prunes
// nodes left with neither subscriptions nor children.
func (n *node) remove(b *binding) {
	last := len(n.subs) - 1
	moved := n.binds[last]
	n.subs[b.nidx], n.binds[b.nidx] = moved.e, moved
	moved.nidx = b.nidx
	n.subs[last], n.binds[last] = nil, nil
	n.subs, n.binds = n.subs[:last], n.binds[:last]
	b.n = nil
	n.prune()
}

// prune detaches n and then its ancestors while they are empty. The root is never detached.
func (n *node) prune() {
	for n.parent != nil && len(n.subs) == 0 && len(n.children) == 0 && n.plus == nil && n.hash == nil {
		p := n.parent
		switch {
		case n == p.plus:
			p.plus = nil
		case n == p.hash:
			p.hash = nil
		default:
			delete(p.children, n.key)
		}
		n.parent = nil
		n = p
	}
	if len(n.subs) == 0 {
		n.subs, n.binds = nil, nil // release a large backing array once a node empties
	}
}

// match appends to out every node with subscriptions whose pattern matches the channel of which
// rest is the remainder after the levels that led to n; end reports that no level is left.
func (n *node) match(rest string, end bool, out []*node) []*node {
	if h := n.hash; h != nil && len(h.subs) > 0 {
		out = append(out, h) // "#" matches zero or more remaining levels
	}
	if end {
		if len(n.subs) > 0 {
			out = append(out, n)
		}
		return out
	}
	level, rest, more := cutLevel(rest)
	if c := n.children[level]; c != nil {
		out = c.match(rest, !more, out)
	}
	if n.plus != nil {
		out = n.plus.match(rest, !more, out)
	}
	return out
}
