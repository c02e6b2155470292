package config

import (
	"errors"
	"fmt"
	"net/url"
)

// DefaultClusterName is the default subject prefix of a cluster.
const DefaultClusterName = "wssgate"

// Cluster joins several gateway nodes through NATS. With no NATS URLs the node runs alone with
// the in-memory broker.
type Cluster struct {
	// NATS are the URLs of the NATS servers (nats://host:4222 or tls://host:4222). Empty: one
	// node, in-memory broker.
	NATS []string `yaml:"nats"`
	// Name prefixes every NATS subject; nodes with the same name form one cluster. Letters,
	// digits, '_' and '-' only. Default "wssgate".
	Name string `yaml:"name"`
	// Credentials is a NATS .creds file (JWT and nkey seed). Optional.
	Credentials string `yaml:"credentials"`
	// TLS to the NATS servers. Optional.
	TLS ClusterTLS `yaml:"tls"`
}

// ClusterTLS is the TLS configuration towards NATS: CA verifies the servers (default: the system
// roots); Cert and Key, together, are a client certificate. All PEM files.
type ClusterTLS struct {
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Enabled reports whether the node joins a cluster (at least one NATS URL).
func (c Cluster) Enabled() bool { return len(c.NATS) > 0 }

func (c *Cluster) applyDefaults() {
	setStr(&c.Name, DefaultClusterName)
}

// validate reports the problems of c (for the node named node) through bad, each naming its
// key.
func (c *Cluster) validate(node string, bad badFunc) {
	if c.Enabled() && node == "all" {
		bad("node", `"all" is reserved in a cluster (it addresses every node)`)
	}
	for i, u := range c.NATS {
		if err := ValidNATSURL(u); err != nil {
			bad(fmt.Sprintf("cluster.nats[%d]", i), "%v", err)
		}
	}
	if err := ValidClusterName(c.Name); err != nil {
		bad("cluster.name", "%v", err)
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		bad("cluster.tls", "cert and key go together: set both or neither")
	}
}

func (c *Cluster) resolvePaths(abs func(*string)) {
	abs(&c.Credentials)
	abs(&c.TLS.CA)
	abs(&c.TLS.Cert)
	abs(&c.TLS.Key)
}

// ValidNATSURL reports whether u is a nats:// or tls:// URL with a host.
func ValidNATSURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "nats" && p.Scheme != "tls") || p.Host == "" || p.Hostname() == "" {
		return fmt.Errorf("want a nats://host:port or tls://host:port URL, got %q", u)
	}
	return nil
}

// ValidClusterName reports whether name can be a NATS subject token that prefixes every subject:
// non-empty, letters, digits, '_' and '-' only, at most 64 bytes.
func ValidClusterName(name string) error {
	if name == "" || len(name) > 64 {
		return errors.New("want 1 to 64 letters, digits, '_' or '-'")
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("want letters, digits, '_' or '-' only, got %q", name)
		}
	}
	return nil
}
