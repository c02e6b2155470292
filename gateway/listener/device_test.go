package listener

import "testing"

func TestQueryValue(t *testing.T) {
	tests := []struct{ query, key, want string }{
		{"device_id=d1", "device_id", "d1"},
		{"a=1&token=s%2F3cret&device_id=x", "token", "s/3cret"},
		{"token=", "token", ""},
		{"tokenx=1", "token", ""},
		{"token=%zz", "token", ""},
		{"", "token", ""},
		{"device_id=a+b", "device_id", "a b"},
	}
	for _, tt := range tests {
		if got := queryValue([]byte(tt.query), tt.key); got != tt.want {
			t.Errorf("queryValue(%q, %q) = %q, want %q", tt.query, tt.key, got, tt.want)
		}
	}
}
