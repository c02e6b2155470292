package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// IdentityList is device.identity: the order in which a client certificate
// names the device. Each entry is "uri", "dns" or "cn", or a template whose
// {id} part becomes the identity, written either as a string
// ("uri:spiffe://example.org/device/{id}") or as a one-key map
// ({uri: "spiffe://example.org/device/{id}"}, {dns: "{id}.devices.example.com"}).
// Both forms decode to the string form, which certs.ParseIdentityOrder takes.
type IdentityList []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *IdentityList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: device.identity: want a list such as [uri, dns, cn]", n.Line)
	}
	out := make(IdentityList, 0, len(n.Content))
	for _, e := range n.Content {
		switch {
		case e.Kind == yaml.ScalarNode:
			out = append(out, e.Value)
		case e.Kind == yaml.MappingNode && len(e.Content) == 2 && e.Content[1].Kind == yaml.ScalarNode:
			out = append(out, e.Content[0].Value+":"+e.Content[1].Value)
		default:
			return fmt.Errorf("line %d: device.identity: want uri, dns, cn or a template such as {uri: \"spiffe://example.org/device/{id}\"}", e.Line)
		}
	}
	*l = out
	return nil
}

// identitySourceError says why s is not a valid device.identity entry, or
// returns "". It follows certs.ParseIdentitySource.
func identitySourceError(s string) string {
	kind, tmpl, isTmpl := strings.Cut(s, ":")
	kind = strings.ToLower(kind)
	switch {
	case !isTmpl && (kind == "uri" || kind == "dns" || kind == "cn"):
		return ""
	case !isTmpl || (kind != "uri" && kind != "dns"):
		return fmt.Sprintf("want uri, dns, cn, or a uri/dns template with {id}, got %q", s)
	case strings.Count(tmpl, "{id}") != 1:
		return fmt.Sprintf("template %q must hold {id} exactly once", s)
	}
	return ""
}
