package cluster

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wssgate/wssgate/gateway/hub"
)

var subjectTests = []struct {
	name, channel, subject string
}{
	{"plain", "devices/42/up", "wssgate.devices.42.up"},
	{"dot", "a.b/c", "wssgate.a%2Eb.c"},
	{"star", "a/*", "wssgate.a.%2A"},
	{"gt", ">/x", "wssgate.%3E.x"},
	{"space", "my device/up", "wssgate.my%20device.up"},
	{"non-ASCII", "capteur/é", "wssgate.capteur.%C3%A9"},
	{"percent", "100%/%", "wssgate.100%25.%25"},
	{"empty levels", "a//b", "wssgate.a.%.b"},
	{"leading slash", "/x", "wssgate.%.x"},
	{"trailing slash", "x/", "wssgate.x.%"},
	{"only slash", "/", "wssgate.%.%"},
	{"underscore first level", "_sys/hb", "wssgate.%5Fsys.hb"},
	{"underscore later level", "a/_b", "wssgate.a._b"},
	{"underscore inside", "a_b-c", "wssgate.a_b-c"},
	{"percent lookalike", "%25", "wssgate.%2525"},
	{"emoji", "🙂", "wssgate.%F0%9F%99%82"},
	{"tab and colon", "a\tb:c", "wssgate.a%09b%3Ac"},
}

func TestChannelSubjectRoundTrip(t *testing.T) {
	for _, tt := range subjectTests {
		t.Run(tt.name, func(t *testing.T) {
			if err := hub.ValidChannel(tt.channel); err != nil {
				t.Fatalf("test channel invalid: %v", err)
			}
			got := ChannelSubject("wssgate", tt.channel)
			if got != tt.subject {
				t.Fatalf("ChannelSubject(%q) = %q, want %q", tt.channel, got, tt.subject)
			}
			back, err := SubjectChannel("wssgate", got)
			if err != nil || back != tt.channel {
				t.Fatalf("SubjectChannel(%q) = %q, %v; want %q", got, back, err, tt.channel)
			}
		})
	}
}

func TestSubjectChannelRejects(t *testing.T) {
	for name, subj := range map[string]string{
		"other cluster":       "other.a",
		"prefix only":         "wssgate",
		"prefix lookalike":    "wssgatex.a",
		"system heartbeat":    "wssgate._sys.hb",
		"rpc":                 "wssgate._rpc.all.stats",
		"empty token":         "wssgate.a..b",
		"lower-case hex":      "wssgate.%c3%a9",
		"needless escape":     "wssgate.%41",
		"truncated escape":    "wssgate.a%2",
		"bad hex":             "wssgate.%ZZ",
		"unescaped wildcard":  "wssgate.*",
		"escaped later _":     "wssgate.a.%5Fb",
		"raw space":           "wssgate.a b",
		"percent then empty":  "wssgate.%%",
		"trailing dot":        "wssgate.a.",
		"escaped first minus": "wssgate.%2D",
		"escaped slash":       "wssgate.a%2Fb",
	} {
		t.Run(name, func(t *testing.T) {
			if ch, err := SubjectChannel("wssgate", subj); !errors.Is(err, ErrBadSubject) {
				t.Fatalf("SubjectChannel(%q) = %q, %v; want ErrBadSubject", subj, ch, err)
			}
		})
	}
}

func TestPatternSubjects(t *testing.T) {
	for _, tt := range []struct {
		pattern string
		want    []string
	}{
		{"#", []string{"w.>"}},
		{"+", []string{"w.*"}},
		{"a/#", []string{"w.a", "w.a.>"}},
		{"a/+/#", []string{"w.a.*", "w.a.*.>"}},
		{"devices/+/up", []string{"w.devices.*.up"}},
		{"a.b/+", []string{"w.a%2Eb.*"}},
		{"/#", []string{"w.%", "w.%.>"}},
		{"_x/#", []string{"w.%5Fx", "w.%5Fx.>"}},
	} {
		got, err := PatternSubjects("w", tt.pattern)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("PatternSubjects(%q) = %q, %v; want %q", tt.pattern, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "a/#/b", "a+", "x#"} {
		if _, err := PatternSubjects("w", bad); !errors.Is(err, hub.ErrInvalidPattern) {
			t.Errorf("PatternSubjects(%q): err = %v, want ErrInvalidPattern", bad, err)
		}
	}
}

// natsMatch is NATS's subject matching ('*' one token, final '>' one or more), written out.
func natsMatch(pattern, subject string) bool {
	p, s := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, tok := range p {
		if tok == ">" {
			return len(s) > i
		}
		if i >= len(s) || (tok != "*" && tok != s[i]) {
			return false
		}
	}
	return len(p) == len(s)
}

func FuzzSubjectRoundTrip(f *testing.F) {
	for _, tt := range subjectTests {
		f.Add(tt.channel, "a/+/#")
	}
	f.Add("a", "a/#")
	f.Add("%", "+")
	f.Fuzz(func(t *testing.T, channel, pattern string) {
		if hub.ValidChannel(channel) != nil {
			return
		}
		subj := ChannelSubject("wssgate", channel)
		for _, tok := range strings.Split(subj, ".") {
			if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n") {
				t.Fatalf("ChannelSubject(%q) = %q: bad token %q", channel, subj, tok)
			}
		}
		back, err := SubjectChannel("wssgate", subj)
		if err != nil || back != channel {
			t.Fatalf("SubjectChannel(ChannelSubject(%q)) = %q, %v", channel, back, err)
		}
		if strings.HasPrefix(subj, "wssgate._") {
			t.Fatalf("channel %q maps into the reserved space: %q", channel, subj)
		}
		subs, err := PatternSubjects("wssgate", pattern)
		if err != nil {
			return
		}
		n := 0
		for _, s := range subs {
			if natsMatch(s, subj) {
				n++
			}
		}
		if want := hub.Match(pattern, channel); (n == 1) != want || n > 1 {
			t.Fatalf("pattern %q (%q) matches subject %q %d times; hub.Match(%q, %q) = %v", pattern, subs, subj, n, pattern, channel, want)
		}
	})
}

func FuzzSubjectChannel(f *testing.F) {
	for _, tt := range subjectTests {
		f.Add(tt.subject)
	}
	f.Fuzz(func(t *testing.T, subj string) {
		ch, err := SubjectChannel("wssgate", subj)
		if err != nil {
			return
		}
		// Decoding accepts canonical encodings only: the mapping is a bijection.
		if again := ChannelSubject("wssgate", ch); again != subj {
			t.Fatalf("SubjectChannel(%q) = %q, which encodes as %q", subj, ch, again)
		}
	})
}
