package gateway

import (
	"sync"

	"github.com/wssgate/wssgate/gateway/hub"
)

// funcSubscriber hands hub deliveries to a function, one at a time, until
// stopped (an admin Subscribe stream).
type funcSubscriber struct {
	mu      sync.Mutex // serialises fn; guards stopped
	stopped bool
	fn      func(hub.Message)
}

func (s *funcSubscriber) Deliver(d *hub.Delivery) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.fn(d.Message)
	return true
}

// stop returns once no call of fn runs, and none will.
func (s *funcSubscriber) stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
}
