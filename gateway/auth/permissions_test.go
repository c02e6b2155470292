package auth

import (
	"slices"
	"testing"
)

func TestNarrow(t *testing.T) {
	ceiling := []string{"devices/+/up", "users/{sub}/#", "rooms/{sub}"}
	tests := []struct {
		name     string
		ceiling  []string
		sub      string
		granted  []string
		hasGrant bool
		want     []string
	}{
		{"no grant: expanded ceiling", ceiling, "alice", nil, false, []string{"devices/+/up", "users/alice/#", "rooms/alice"}},
		{"sub with slash drops {sub} patterns", ceiling, "a/b", nil, false, []string{"devices/+/up"}},
		{"sub with + drops them", ceiling, "+", nil, false, []string{"devices/+/up"}},
		{"sub with # drops them", ceiling, "#", nil, false, []string{"devices/+/up"}},
		{"empty sub drops them", ceiling, "", nil, false, []string{"devices/+/up"}},
		{"grant narrows", ceiling, "alice", []string{"devices/42/up", "users/alice/inbox"}, true, []string{"devices/42/up", "users/alice/inbox"}},
		{"grant cannot exceed", ceiling, "alice", []string{"devices/#", "users/bob/#", "#", "users/alice/#"}, true, []string{"users/alice/#"}},
		{"empty grant allows nothing", ceiling, "alice", []string{}, true, []string{}},
		{"nil grant present allows nothing", ceiling, "alice", nil, true, []string{}},
		{"invalid granted pattern dropped", ceiling, "alice", []string{"users/alice/#/x", "devices/4+/up"}, true, []string{}},
		{"duplicates once", ceiling, "alice", []string{"rooms/alice", "rooms/alice"}, true, []string{"rooms/alice"}},
		{"sub placeholder in grant is literal", ceiling, "alice", []string{"users/{sub}/x"}, true, []string{}},
		{"empty ceiling", nil, "alice", []string{"a"}, true, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Narrow(tt.ceiling, tt.sub, tt.granted, tt.hasGrant)
			if got == nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}
