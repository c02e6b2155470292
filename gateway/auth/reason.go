package auth

import (
	"errors"
	"net/http"
	"strings"
)

// SubReason says why credentials were refused. It is the sub_reason label of
// an "unauthenticated" handshake failure.
type SubReason string

// The sub-reasons of a refused credential.
const (
	ReasonMissing          SubReason = "missing"           // no token in the request
	ReasonMalformed        SubReason = "malformed"         // not a compact JWS, bad JSON, no exp
	ReasonBadSignature     SubReason = "bad_signature"     // no configured key verifies it
	ReasonUnknownKID       SubReason = "unknown_kid"       // kid names no known key
	ReasonAlgorithm        SubReason = "algorithm"         // alg not allowed (or no key for it)
	ReasonExpired          SubReason = "expired"           // exp (plus leeway) has passed
	ReasonNotYetValid      SubReason = "not_yet_valid"     // nbf or iat in the future
	ReasonWrongIssuer      SubReason = "wrong_issuer"      // iss differs from jwt.issuer
	ReasonWrongAudience    SubReason = "wrong_audience"    // aud lacks jwt.audience
	ReasonNoSubject        SubReason = "no_subject"        // sub missing, empty or unusable
	ReasonCheckRefused     SubReason = "check_refused"     // the session check answered 401/403
	ReasonCheckUnavailable SubReason = "check_unavailable" // the session check failed (fail closed)
)

// SubReasons lists every sub-reason, in a fixed order (for metrics that
// report each one, 0 included).
func SubReasons() []SubReason {
	return []SubReason{ReasonMissing, ReasonMalformed, ReasonBadSignature, ReasonUnknownKID, ReasonAlgorithm,
		ReasonExpired, ReasonNotYetValid, ReasonWrongIssuer, ReasonWrongAudience, ReasonNoSubject,
		ReasonCheckRefused, ReasonCheckUnavailable}
}

// descriptions are short, client-safe texts (RFC 6750 error_description).
var descriptions = map[SubReason]string{
	ReasonMissing:          "no token",
	ReasonMalformed:        "malformed token",
	ReasonBadSignature:     "bad signature",
	ReasonUnknownKID:       "unknown key id",
	ReasonAlgorithm:        "algorithm not allowed",
	ReasonExpired:          "token expired",
	ReasonNotYetValid:      "token not yet valid",
	ReasonWrongIssuer:      "wrong issuer",
	ReasonWrongAudience:    "wrong audience",
	ReasonNoSubject:        "token has no usable subject",
	ReasonCheckRefused:     "refused by the session check",
	ReasonCheckUnavailable: "session check unavailable",
}

// Description is the short client-safe text of r, e.g. "token expired".
func (r SubReason) Description() string {
	if d, ok := descriptions[r]; ok {
		return d
	}
	return "invalid credentials"
}

// Error is a refused credential. Its message never contains the token; Err
// adds detail for the log line (a key id, a claim value, an HTTP status).
type Error struct {
	Reason SubReason
	// Status is the HTTP status to refuse the upgrade with; 0 means 401.
	Status int
	Err    error
}

// Error returns "auth: <description>" plus the detail, if any.
func (e *Error) Error() string {
	s := "auth: " + e.Reason.Description()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the detail.
func (e *Error) Unwrap() error { return e.Err }

// fail builds an *Error for a token refusal (HTTP 401).
func fail(r SubReason, err error) *Error { return &Error{Reason: r, Err: err} }

// Reason returns the sub-reason of err, or "" if err is not an *Error.
func Reason(err error) SubReason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// HTTPStatus is the status to refuse an upgrade with because of err: 401
// for token errors, the session check's 401, 403 or 503 otherwise, 503 for
// an error that is not an *Error (fail closed), and 200 for nil.
func HTTPStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var e *Error
	if !errors.As(err, &e) {
		return http.StatusServiceUnavailable
	}
	if e.Status != 0 {
		return e.Status
	}
	return http.StatusUnauthorized
}

// WWWAuthenticate is the WWW-Authenticate header value for a 401 because of
// err (RFC 6750): `Bearer` alone when no token was sent, else
// `Bearer error="invalid_token", error_description="token expired"`.
func WWWAuthenticate(err error) string {
	r := Reason(err)
	if err == nil || r == ReasonMissing {
		return "Bearer"
	}
	return `Bearer error="invalid_token", error_description="` + quote(r.Description()) + `"`
}

// quote escapes s for an HTTP quoted-string.
func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
