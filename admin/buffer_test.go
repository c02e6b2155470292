package admin

import "testing"

func TestBufferOverflow(t *testing.T) {
	b := newBuffer[int](2)
	b.push(1)
	b.push(2)
	select {
	case <-b.full:
		t.Fatal("full after 2 pushes into a buffer of 2")
	default:
	}
	b.push(3)
	b.push(4) // further pushes stay non-blocking
	select {
	case <-b.full:
	default:
		t.Fatal("not full after 3 pushes into a buffer of 2")
	}
}
