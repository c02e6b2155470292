package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
)

// errNotLoopback refuses a target that is not on this machine.
var errNotLoopback = errors.New("wssgate-bench: target is not a loopback address (use --allow-remote to load a remote gateway)")

// maxSourceAddrs bounds what one --local-ips list may expand to.
const maxSourceAddrs = 4096

// parseAddrList expands a list of IPv4/IPv6 addresses and inclusive ranges,
// separated by commas: "127.0.0.2-127.0.0.40,127.0.1.1". Both ends of a range
// must be of the same family; a range holds at most maxSourceAddrs addresses.
func parseAddrList(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		from, err := netip.ParseAddr(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("parse address %q: %w", lo, err)
		}
		to := from
		if isRange {
			if to, err = netip.ParseAddr(strings.TrimSpace(hi)); err != nil {
				return nil, fmt.Errorf("parse address %q: %w", hi, err)
			}
		}
		if from.Is4() != to.Is4() {
			return nil, fmt.Errorf("parse range %q: ends of different address families", part)
		}
		if to.Less(from) {
			return nil, fmt.Errorf("parse range %q: end before start", part)
		}
		for a := from; ; a = a.Next() {
			if len(out) == maxSourceAddrs {
				return nil, fmt.Errorf("parse address list: more than %d addresses", maxSourceAddrs)
			}
			out = append(out, a)
			if a == to {
				break
			}
		}
	}
	return out, nil
}

// sourcePool hands out local source addresses round robin. A nil or empty pool
// lets the kernel choose.
type sourcePool struct {
	addrs []*net.TCPAddr
	next  atomic.Uint64
}

func newSourcePool(addrs []netip.Addr) *sourcePool {
	p := &sourcePool{}
	for _, a := range addrs {
		p.addrs = append(p.addrs, net.TCPAddrFromAddrPort(netip.AddrPortFrom(a, 0)))
	}
	return p
}

// pick returns the next source address, or nil to let the kernel choose.
func (p *sourcePool) pick() *net.TCPAddr {
	if p == nil || len(p.addrs) == 0 {
		return nil
	}
	return p.addrs[(p.next.Add(1)-1)%uint64(len(p.addrs))]
}

// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT: with a source address
// bound, the port is chosen at connect time from the whole 4-tuple, so each
// source address gets its own ephemeral port range toward one server.
const ipBindAddressNoPort = 24

// bindNoPort is a net.Dialer Control function setting IP_BIND_ADDRESS_NO_PORT.
func bindNoPort(network, _ string, c syscall.RawConn) error {
	if network != "tcp4" {
		return nil
	}
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
	if err != nil {
		return fmt.Errorf("set IP_BIND_ADDRESS_NO_PORT: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("set IP_BIND_ADDRESS_NO_PORT: %w", serr)
	}
	return nil
}

// checkLoopback returns errNotLoopback unless host (a name or an address) is a
// loopback address; "localhost" counts as loopback.
func checkLoopback(host string) error {
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil || !a.Unmap().IsLoopback() {
		return fmt.Errorf("%w: %q", errNotLoopback, host)
	}
	return nil
}
