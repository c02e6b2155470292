package auth

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestWWWAuthenticate(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, "Bearer"},
		{"missing", fail(ReasonMissing, nil), "Bearer"},
		{"expired", fail(ReasonExpired, errors.New("exp 2020")), `Bearer error="invalid_token", error_description="token expired"`},
		{"wrapped", fmt.Errorf("app upgrade: %w", fail(ReasonUnknownKID, nil)), `Bearer error="invalid_token", error_description="unknown key id"`},
		{"foreign error", errors.New("x"), `Bearer error="invalid_token", error_description="invalid credentials"`},
	}
	for _, tt := range tests {
		if got := WWWAuthenticate(tt.err); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
	if got, want := quote(`say "hi" \o/`), `say \"hi\" \\o/`; got != want {
		t.Errorf("quote: got %s, want %s", got, want)
	}
}

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, http.StatusOK},
		{fail(ReasonBadSignature, nil), http.StatusUnauthorized},
		{&Error{Reason: ReasonCheckRefused, Status: 403}, http.StatusForbidden},
		{fmt.Errorf("wrapped: %w", &Error{Reason: ReasonCheckUnavailable, Status: 503}), http.StatusServiceUnavailable},
		{errors.New("unexpected"), http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		if got := HTTPStatus(tt.err); got != tt.want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestErrorMessageAndUnwrap(t *testing.T) {
	inner := errors.New("kid \"k1\"")
	e := fail(ReasonUnknownKID, inner)
	if got, want := e.Error(), `auth: unknown key id: kid "k1"`; got != want {
		t.Errorf("Error: got %s, want %s", got, want)
	}
	if !errors.Is(e, inner) {
		t.Error("errors.Is through Unwrap: got false")
	}
	for r := range descriptions {
		if r.Description() == "invalid credentials" {
			t.Errorf("%s has no description", r)
		}
	}
}
