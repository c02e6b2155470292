package cluster

import (
	"testing"
	"time"
)

func TestNewer(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	for _, tt := range []struct {
		name   string
		aNode  string
		aTime  time.Time
		bNode  string
		bTime  time.Time
		aWins  bool
		either bool // neither wins: the same session
	}{
		{"later connect wins", "gw-1", t0.Add(time.Nanosecond), "gw-2", t0, true, false},
		{"earlier connect loses", "gw-9", t0, "gw-1", t0.Add(time.Millisecond), false, false},
		{"tie: higher node wins", "gw-2", t0, "gw-1", t0, true, false},
		{"tie: lower node loses", "gw-1", t0, "gw-2", t0, false, false},
		{"tie across zones", "gw-2", t0.In(time.FixedZone("x", 3600)), "gw-1", t0, true, false},
		{"same node and time", "gw-1", t0, "gw-1", t0, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ab := Newer(tt.aNode, tt.aTime, tt.bNode, tt.bTime)
			ba := Newer(tt.bNode, tt.bTime, tt.aNode, tt.aTime)
			if ab != tt.aWins {
				t.Errorf("Newer(a, b) = %v, want %v", ab, tt.aWins)
			}
			if !tt.either && ab == ba {
				t.Errorf("Newer(a, b) = Newer(b, a) = %v: exactly one session must survive", ab)
			}
		})
	}
}

func TestAnnounceIdentity(t *testing.T) {
	urls := startNATS3(t)
	b1 := newBroker(t, testOptions("gw-1", urls))
	b2 := newBroker(t, testOptions("gw-2", urls))
	type ann struct {
		node, identity, session string
		at                      time.Time
	}
	got1, got2 := make(chan ann, 64), make(chan ann, 64)
	b1.OnIdentity(func(node, identity, session string, at time.Time) { got1 <- ann{node, identity, session, at} })
	b2.OnIdentity(func(node, identity, session string, at time.Time) { got2 <- ann{node, identity, session, at} })

	at := time.Now()
	deadline := time.Now().Add(waitFor)
	var a ann
	for received := false; !received; {
		if time.Now().After(deadline) {
			t.Fatal("gw-1 never received gw-2's announcement")
		}
		if err := b2.AnnounceIdentity("device-7", at, "s-42"); err != nil {
			t.Fatal(err)
		}
		select {
		case a = <-got1:
			received = true
		case <-time.After(50 * time.Millisecond):
		}
	}
	if a.node != "gw-2" || a.identity != "device-7" || a.session != "s-42" || !a.at.Equal(at) {
		t.Fatalf("announcement = %+v, want gw-2 device-7 s-42 %v", a, at)
	}
	if len(got2) > 0 {
		t.Fatalf("gw-2 was told about its own announcement: %+v", <-got2)
	}
}
