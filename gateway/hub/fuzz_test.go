package hub

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// refValidPattern is the reference validator: the rules of ValidPattern read literally.
func refValidPattern(s string) bool {
	if s == "" || len(s) > MaxLen || strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
		return false
	}
	levels := strings.Split(s, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return false
		case l != "+" && l != "#" && strings.ContainsAny(l, "+#"):
			return false
		}
	}
	return true
}

// trieMatch reports whether a Hub subscribed to pattern delivers a publication on channel, with a
// few unrelated subscriptions around it.
func trieMatch(t *testing.T, pattern, channel string) bool {
	h := New("n", nil)
	defer h.Close()
	mustSubscribe(t, h, new(counter), "+", "a/+/#", "+/+/x")
	c := new(counter)
	mustSubscribe(t, h, c, pattern)
	mustPublish(t, h, channel)
	h.UnsubscribeAll(c)
	return c.n.Load() == 1
}

func FuzzMatch(f *testing.F) {
	for _, tt := range matchTests {
		f.Add(tt.pattern, tt.channel)
	}
	f.Fuzz(func(t *testing.T, pattern, channel string) {
		want := refMatch(pattern, channel)
		if got := Match(pattern, channel); got != want {
			t.Fatalf("Match(%q, %q) = %v, want %v", pattern, channel, got, want)
		}
		if ValidPattern(pattern) != nil || ValidChannel(channel) != nil {
			return
		}
		if got := Covers(pattern, channel); got != want {
			t.Fatalf("Covers(%q, %q) = %v, want %v (a channel is a pattern)", pattern, channel, got, want)
		}
		if got := trieMatch(t, pattern, channel); got != want {
			t.Fatalf("trie match(%q, %q) = %v, want %v", pattern, channel, got, want)
		}
	})
}

func FuzzPattern(f *testing.F) {
	for _, s := range []string{"#", "+", "a/+/b", "a/#", "+/#", "a//b", "/", "a/#/b", "a+", "a/b#", "\x00", "\xff"} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, pattern, fill string) {
		want := refValidPattern(pattern)
		if got := ValidPattern(pattern) == nil; got != want {
			t.Fatalf("ValidPattern(%q) ok = %v, want %v", pattern, got, want)
		}
		if !want {
			return
		}
		if !Covers(pattern, pattern) {
			t.Fatalf("Covers(%q, itself) = false, want true", pattern)
		}
		// Instantiate the wildcards with fill: the pattern must match the channel so built.
		if ValidChannel(fill) != nil || strings.Contains(fill, "/") {
			fill = "x"
		}
		levels := strings.Split(pattern, "/")
		hash := levels[len(levels)-1] == "#"
		for i, l := range levels {
			if l == "+" || l == "#" {
				levels[i] = fill
			}
		}
		instances := []string{strings.Join(levels, "/")}
		if hash && len(levels) > 1 {
			// "a/#" also matches its parent level "a".
			instances = append(instances, strings.Join(levels[:len(levels)-1], "/"))
		}
		for _, channel := range instances {
			if ValidChannel(channel) != nil {
				continue // too long once filled
			}
			if !Match(pattern, channel) || !trieMatch(t, pattern, channel) {
				t.Fatalf("pattern %q does not match its instance %q", pattern, channel)
			}
		}
	})
}

// refCovers decides Covers by brute force: it instantiates inner with every level value that can
// make a difference to outer (outer's literals and one fresh literal; '#' as 0 to len(outer)+1
// levels) and checks that outer matches each instance. ok is false when there are too many
// instances to try.
func refCovers(outer, inner string) (covers, ok bool) {
	if ValidPattern(outer) != nil || ValidPattern(inner) != nil {
		return false, true
	}
	ol, il := strings.Split(outer, "/"), strings.Split(inner, "/")
	var alphabet []string
	fresh := "f"
	for _, l := range ol {
		if l != "+" && l != "#" {
			alphabet = append(alphabet, l)
		}
		for l == fresh || strings.HasPrefix(l, fresh) {
			fresh += "f"
		}
	}
	alphabet = append(alphabet, fresh)
	budget := 20000
	var check func(i int, prefix []string) bool // false: counterexample found or budget spent
	check = func(i int, prefix []string) bool {
		if budget--; budget < 0 {
			return false
		}
		if i == len(il) {
			c := strings.Join(prefix, "/")
			return ValidChannel(c) != nil || Match(outer, c)
		}
		switch il[i] {
		case "+":
			for _, a := range alphabet {
				if !check(i+1, append(prefix, a)) {
					return false
				}
			}
			return true
		case "#":
			var expand func(k int, p []string) bool
			expand = func(k int, p []string) bool {
				if !check(i+1, p) {
					return false
				}
				if k == 0 {
					return true
				}
				for _, a := range alphabet {
					if !expand(k-1, append(p, a)) {
						return false
					}
				}
				return true
			}
			return expand(len(ol)+1, prefix)
		}
		return check(i+1, append(prefix, il[i]))
	}
	covers = check(0, nil)
	return covers, budget >= 0
}

func FuzzCovers(f *testing.F) {
	for _, tt := range coversTests {
		f.Add(tt.outer, tt.inner)
	}
	f.Fuzz(func(t *testing.T, outer, inner string) {
		if len(outer)+len(inner) > 128 {
			return // keeps the brute force small; lengths do not change the logic
		}
		want, ok := refCovers(outer, inner)
		if !ok {
			return
		}
		if got := Covers(outer, inner); got != want {
			t.Fatalf("Covers(%q, %q) = %v, want %v", outer, inner, got, want)
		}
	})
}
