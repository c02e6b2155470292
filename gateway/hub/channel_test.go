package hub

import (
	"errors"
	"strings"
	"testing"
)

func TestValidChannel(t *testing.T) {
	tests := map[string]struct {
		in string
		ok bool
	}{
		"simple":            {"devices/42/up", true},
		"one level":         {"a", true},
		"empty levels":      {"a//b", true},
		"leading slash":     {"/a", true},
		"trailing slash":    {"a/", true},
		"only slash":        {"/", true},
		"unicode":           {"capteurs/été/up", true},
		"max length":        {strings.Repeat("a", MaxLen), true},
		"empty":             {"", false},
		"too long":          {strings.Repeat("a", MaxLen+1), false},
		"NUL":               {"a/\x00/b", false},
		"invalid UTF-8":     {"a/\xff", false},
		"plus level":        {"devices/+/up", false},
		"hash level":        {"devices/#", false},
		"plus inside level": {"a+b", false},
		"hash inside level": {"a/b#", false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := ValidChannel(tt.in)
			if got := err == nil; got != tt.ok {
				t.Fatalf("ValidChannel(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidChannel) {
				t.Errorf("got error %v, want it to wrap ErrInvalidChannel", err)
			}
		})
	}
}

func TestValidPattern(t *testing.T) {
	tests := map[string]struct {
		in string
		ok bool
	}{
		"literal":            {"devices/42/up", true},
		"plus":               {"devices/+/up", true},
		"hash alone":         {"#", true},
		"plus alone":         {"+", true},
		"trailing hash":      {"devices/#", true},
		"plus then hash":     {"+/#", true},
		"all plus":           {"+/+/+", true},
		"empty levels":       {"a//+/", true},
		"hash after empty":   {"/#", true},
		"max length":         {strings.Repeat("+/", MaxLen/2-1) + "#", true},
		"empty":              {"", false},
		"too long":           {strings.Repeat("a", MaxLen+1), false},
		"NUL":                {"\x00", false},
		"invalid UTF-8":      {"\xc3\x28/#", false},
		"hash not last":      {"#/a", false},
		"hash in middle":     {"a/#/b", false},
		"plus inside level":  {"a+/b", false},
		"hash inside level":  {"a/b#", false},
		"double plus":        {"a/++", false},
		"double hash":        {"a/##", false},
		"hash then trailing": {"a/#/", false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := ValidPattern(tt.in)
			if got := err == nil; got != tt.ok {
				t.Fatalf("ValidPattern(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPattern) {
				t.Errorf("got error %v, want it to wrap ErrInvalidPattern", err)
			}
		})
	}
}

// matchTests is shared by TestMatch and the trie test, and seeds FuzzMatch.
var matchTests = map[string]struct {
	pattern, channel string
	want             bool
}{
	"exact":                       {"devices/42/up", "devices/42/up", true},
	"exact differs":               {"devices/42/up", "devices/43/up", false},
	"plus one level":              {"devices/+/up", "devices/42/up", true},
	"plus not two levels":         {"devices/+/up", "devices/42/x/up", false},
	"plus not zero levels":        {"devices/+/up", "devices/up", false},
	"plus matches empty level":    {"devices/+/up", "devices//up", true},
	"plus at end":                 {"devices/+", "devices/42", true},
	"plus at end not parent":      {"devices/+", "devices", false},
	"plus alone one level":        {"+", "a", true},
	"plus alone not two levels":   {"+", "a/b", false},
	"plus alone leading slash":    {"+", "/a", false},
	"plus plus leading slash":     {"+/+", "/a", true},
	"hash matches all":            {"#", "a/b/c", true},
	"hash matches one level":      {"#", "a", true},
	"hash matches parent":         {"devices/#", "devices", true},
	"hash matches child":          {"devices/#", "devices/42", true},
	"hash matches deep":           {"devices/#", "devices/42/up/x", true},
	"hash not sibling":            {"devices/#", "device", false},
	"hash not other root":         {"devices/#", "other/42", false},
	"plus hash matches parent":    {"+/#", "a", true},
	"plus hash deep":              {"devices/+/#", "devices/42/up", true},
	"plus hash not grandparent":   {"devices/+/#", "devices", false},
	"hash after empty level":      {"a//#", "a/", true},
	"trailing slash is a level":   {"a/", "a", false},
	"trailing slash exact":        {"a/", "a/", true},
	"channel longer":              {"a/b", "a/b/c", false},
	"pattern longer":              {"a/b/c", "a/b", false},
	"invalid pattern":             {"a/#/b", "a/x/b", false},
	"invalid channel":             {"#", "a/+", false},
	"literal plus is no wildcard": {"a+", "a+", false},
}

func TestMatch(t *testing.T) {
	for name, tt := range matchTests {
		t.Run(name, func(t *testing.T) {
			if got := Match(tt.pattern, tt.channel); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.channel, got, tt.want)
			}
			if got := refMatch(tt.pattern, tt.channel); got != tt.want {
				t.Errorf("refMatch(%q, %q) = %v, want %v", tt.pattern, tt.channel, got, tt.want)
			}
		})
	}
}

// coversTests is used by TestCovers and seeds FuzzCovers.
var coversTests = map[string]struct {
	outer, inner string
	want         bool
}{
	"same literal":            {"devices/42/up", "devices/42/up", true},
	"plus covers literal":     {"devices/+/up", "devices/42/up", true},
	"plus covers plus":        {"devices/+/up", "devices/+/up", true},
	"literal not plus":        {"devices/42/up", "devices/+/up", false},
	"plus not hash":           {"devices/+/up", "devices/#", false},
	"plus not deeper":         {"devices/+/up", "devices/+/up/x", false},
	"hash covers all":         {"#", "devices/+/up", true},
	"hash covers hash":        {"#", "#", true},
	"sub hash covers parent":  {"devices/#", "devices", true},
	"sub hash covers subhash": {"devices/#", "devices/42/#", true},
	"subhash not hash":        {"devices/#", "#", false},
	"plus hash not parent":    {"devices/+/#", "devices/#", false},
	"plus hash covers":        {"devices/+/#", "devices/42/#", true},
	"plus not hash level":     {"a/+", "a/#", false},
	"hash level not literal":  {"a/#", "b/#", false},
	"different literal":       {"devices/+/up", "devices/42/down", false},
	"invalid outer":           {"a/#/b", "a/x/b", false},
	"invalid inner":           {"#", "a/#/b", false},
	"shorter inner":           {"a/+/c", "a/b", false},
}

func TestCovers(t *testing.T) {
	for name, tt := range coversTests {
		t.Run(name, func(t *testing.T) {
			if got := Covers(tt.outer, tt.inner); got != tt.want {
				t.Errorf("Covers(%q, %q) = %v, want %v", tt.outer, tt.inner, got, tt.want)
			}
		})
	}
}

// refMatch is the reference matcher: the plainest reading of the MQTT rules, used to check Match
// and the trie.
func refMatch(pattern, channel string) bool {
	if ValidPattern(pattern) != nil || ValidChannel(channel) != nil {
		return false
	}
	return refMatchLevels(strings.Split(pattern, "/"), strings.Split(channel, "/"))
}

func refMatchLevels(p, c []string) bool {
	switch {
	case len(p) == 0:
		return len(c) == 0
	case p[0] == "#":
		return true
	case len(c) == 0:
		return false
	case p[0] == "+" || p[0] == c[0]:
		return refMatchLevels(p[1:], c[1:])
	}
	return false
}
