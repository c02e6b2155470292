package limit

import (
	"strconv"
	"testing"
	"time"
)

func TestFlapping(t *testing.T) {
	f := NewFlapping(3, time.Minute, 30*time.Second)
	type step struct {
		at              time.Duration
		id              string
		wantHold, first bool
	}
	steps := []step{
		{0, "a", false, false},
		{time.Second, "a", false, false},
		{2 * time.Second, "a", false, false},
		{2 * time.Second, "b", false, false},               // another identity is counted apart
		{3 * time.Second, "a", true, true},                 // fourth in a minute: held off, logged once
		{4 * time.Second, "a", true, false},                // held: no second log line
		{32 * time.Second, "a", true, false},               // hold-off runs 30 s from the 4th
		{33 * time.Second, "a", false, false},              // over: counting starts again
		{34 * time.Second, "a", false, false},              //
		{35 * time.Second, "a", false, false},              //
		{36 * time.Second, "a", true, true},                // held again, logged again
		{2*time.Minute + 2*time.Second, "b", false, false}, // b's window expired: count 1
	}
	for i, s := range steps {
		hold, first := f.Replace(s.id, t0.Add(s.at))
		if hold != s.wantHold || first != s.first {
			t.Fatalf("step %d (%s at %s): got hold=%v first=%v, want %v %v", i, s.id, s.at, hold, first, s.wantHold, s.first)
		}
	}
	if got := f.HoldOffs(); got != 2 {
		t.Errorf("hold-offs: got %d, want 2", got)
	}
	if !f.HeldOff("a", t0.Add(40*time.Second)) || f.HeldOff("a", t0.Add(67*time.Second)) || f.HeldOff("c", t0) {
		t.Error("HeldOff: want a held until 66 s and c never")
	}
}

func TestFlappingWindowExpires(t *testing.T) {
	f := NewFlapping(0, 0, 0) // defaults: 10 a minute
	for i := range 100 {
		// One every 7 s: never more than 10 within a fixed window of a minute.
		if hold, _ := f.Replace("slow", t0.Add(time.Duration(i)*7*time.Second)); hold {
			t.Fatalf("replacement %d held off at 7 s intervals", i)
		}
	}
	firsts := 0
	for i := range 1000 { // 1,000 in 1 s
		hold, first := f.Replace("fast", t0.Add(time.Duration(i)*time.Millisecond))
		if i >= DefaultFlapMax && !hold {
			t.Fatalf("replacement %d not held off", i)
		}
		if first {
			firsts++
		}
	}
	if firsts != 1 {
		t.Fatalf("got %d first log lines, want 1", firsts)
	}
}

func TestFlappingBounded(t *testing.T) {
	f := NewFlapping(1, time.Minute, time.Minute)
	f.cap = 100
	for i := range 1000 {
		f.Replace("id-"+strconv.Itoa(i), t0)
	}
	if f.Len() != 100 {
		t.Fatalf("got %d identities tracked, want 100", f.Len())
	}
	// A minute later the old entries expire and new identities are tracked.
	later := t0.Add(time.Minute)
	f.Replace("new", later)
	if f.Len() != 1 {
		t.Fatalf("after sweep: got %d tracked, want 1", f.Len())
	}
	f.Replace("new", later)
	if hold, _ := f.Replace("new", later); !hold {
		t.Fatal("new identity not tracked after the sweep")
	}
}
