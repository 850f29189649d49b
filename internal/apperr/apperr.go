// Package apperr defines relkey's single error type. Rules and stores return
// *Error values with a Kind (what went wrong, independent of transport) and a
// wire Code; the HTTP layer alone maps kinds to status codes.
package apperr

import (
	"errors"
	"fmt"

	"github.com/relkey/relkey/internal/naming"
)

// Kind classifies an error independently of any transport.
type Kind int

const (
	// Internal is an unexpected failure; its detail is never shown to clients.
	Internal Kind = iota
	// Invalid is malformed input (bad JSON, wrong types, bad parameters).
	Invalid
	// Unauthenticated means credentials are missing or unknown.
	Unauthenticated
	// Forbidden means the bearer is known but may not perform the action.
	Forbidden
	// NotFound means the record does not exist or is out of the bearer's sight.
	NotFound
	// Conflict means a concurrent change got in the way.
	Conflict
	// Unprocessable means well-formed input that breaks a rule.
	Unprocessable
	// TooLarge means the request body exceeds the allowed size.
	TooLarge
	// TooManyRequests means a rate limit was hit.
	TooManyRequests
	// Unavailable means a dependency (the database) is down or too slow.
	Unavailable
)

// Source points at the part of the request an error is about. At most one
// field is set.
type Source struct {
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"`
	Header    string `json:"header,omitempty"`
}

// Error is the one error type of relkey.
type Error struct {
	Kind   Kind
	Code   string // wire code, e.g. "NOT_FOUND", "CODE_TAKEN"
	Title  string // optional; defaults by kind
	Detail string
	Source *Source
	Err    error // wrapped cause, never rendered
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Err)
	}
	return e.Code + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// As returns the *Error inside err, or an Internal error wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: Internal, Code: "INTERNAL_SERVER_ERROR", Detail: "An unexpected error occurred", Err: err}
}

// Is reports whether err is an *Error of the given kind.
func Is(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}

// New builds an error without a source.
func New(kind Kind, code, detail string) *Error {
	return &Error{Kind: kind, Code: code, Detail: detail}
}

// AtPointer builds an error about a JSON pointer in the request document.
func AtPointer(kind Kind, code, detail, pointer string) *Error {
	return &Error{Kind: kind, Code: code, Detail: detail, Source: &Source{Pointer: pointer}}
}

// AtParameter builds an error about a query parameter.
func AtParameter(kind Kind, code, detail, parameter string) *Error {
	return &Error{Kind: kind, Code: code, Detail: detail, Source: &Source{Parameter: parameter}}
}

// AtHeader builds an error about a request header.
func AtHeader(kind Kind, code, detail, header string) *Error {
	return &Error{Kind: kind, Code: code, Detail: detail, Source: &Source{Header: header}}
}

// NotFoundResource is the standard not-found error for a resource lookup.
func NotFoundResource(resource, id string) *Error {
	return New(NotFound, "NOT_FOUND", fmt.Sprintf("The requested %s '%s' was not found", resource, id))
}

// Attribute is a rule violation on one attribute (snake_case name), rendered
// as 422 with a pointer at /data/attributes/<camelName> and the code
// "<ATTRIBUTE>_<REASON>" as Keygen derives it, e.g. CODE_TAKEN.
func Attribute(attribute, reason, detail string) *Error {
	return AtPointer(Unprocessable, naming.UpperSnake(attribute)+"_"+reason, detail, "/data/attributes/"+naming.Camel(attribute))
}
