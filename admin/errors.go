package admin

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Domain errors. Backends wrap them ("close session %q: %w") to choose the gRPC code that
// the client sees; the status message is the full error text.
var (
	// ErrNotFound: the named session (or other object) does not exist → NOT_FOUND.
	ErrNotFound = errors.New("admin: not found")
	// ErrInvalidArgument: the request is invalid, e.g. a bad pattern or an invalid
	// certificate bundle → INVALID_ARGUMENT.
	ErrInvalidArgument = errors.New("admin: invalid argument")
	// ErrFailedPrecondition: the request is valid but the state does not allow it, e.g. a
	// session that is already closing → FAILED_PRECONDITION.
	ErrFailedPrecondition = errors.New("admin: failed precondition")
	// ErrResourceExhausted: a bounded queue is full, e.g. a session's outbound queue or a
	// stream's buffer → RESOURCE_EXHAUSTED.
	ErrResourceExhausted = errors.New("admin: resource exhausted")
	// ErrUnavailable: the gateway is starting, draining or stopping → UNAVAILABLE.
	ErrUnavailable = errors.New("admin: unavailable")
	// ErrUnimplemented: no backend was configured for the call → UNIMPLEMENTED.
	ErrUnimplemented = errors.New("admin: not implemented")
	// ErrUnauthenticated: no or an unknown credential → UNAUTHENTICATED.
	ErrUnauthenticated = errors.New("admin: unauthenticated")
	// ErrPermissionDenied: the caller's role does not allow the call → PERMISSION_DENIED.
	ErrPermissionDenied = errors.New("admin: permission denied")
)

// Invalid marks err as an invalid-argument error without changing its message, so that a
// precise reason such as "certs: key does not match certificate" reaches the client as is.
// errors.Is(Invalid(err), ErrInvalidArgument) is true and errors.Unwrap gives err back.
func Invalid(err error) error {
	if err == nil {
		return nil
	}
	return &invalidError{err: err}
}

type invalidError struct{ err error }

func (e *invalidError) Error() string        { return e.err.Error() }
func (e *invalidError) Unwrap() error        { return e.err }
func (e *invalidError) Is(target error) bool { return target == ErrInvalidArgument }

// codeOf lists the sentinels in the order they are tested.
var codeOf = []struct {
	err  error
	code codes.Code
}{
	{ErrNotFound, codes.NotFound},
	{ErrInvalidArgument, codes.InvalidArgument},
	{ErrFailedPrecondition, codes.FailedPrecondition},
	{ErrResourceExhausted, codes.ResourceExhausted},
	{ErrUnavailable, codes.Unavailable},
	{ErrUnimplemented, codes.Unimplemented},
	{ErrUnauthenticated, codes.Unauthenticated},
	{ErrPermissionDenied, codes.PermissionDenied},
	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
}

// toStatus is the one function that maps domain errors to gRPC status errors. An error that
// already carries a status passes through; a wrapped sentinel gives its code; anything else
// is INTERNAL. The message is err's text.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, c := range codeOf {
		if errors.Is(err, c.err) {
			return status.Error(c.code, err.Error())
		}
	}
	return status.Error(codes.Internal, err.Error())
}
