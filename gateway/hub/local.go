package hub

import "fmt"

// DeliverLocal delivers m to the local subscribers (and the direct lookup) only, as a message
// from the broker is, and returns how many accepted it; it does not hand m to the broker. A
// cluster uses it to fan a message out on every node while each node counts its own recipients
// (an acknowledged publish whose reached spans the cluster). m.Origin is kept as given.
func (h *Hub) DeliverLocal(m Message) (reached int, err error) {
	if h.closed.Load() {
		return 0, ErrClosed
	}
	if err := ValidChannel(m.Channel); err != nil {
		return 0, fmt.Errorf("deliver to %s: %w", m.Channel, err)
	}
	return h.deliver(m), nil
}
