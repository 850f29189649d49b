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
// of its members is set: Field where a rule names what it judged, Pointer
// where the wire decoder names where it failed.
type Source struct {
	Field     *Field
	Pointer   string // a JSON pointer into the request document
	Parameter string // a query parameter
	Header    string // a request header
}

// Part is the part of a request's resource a Field is in.
type Part int

// The parts of a resource a rule can point at.
const (
	InRecord       Part = iota + 1 // the resource as a whole, or the body's list of identifiers
	InAttribute                    // one attribute
	InRelationship                 // one relationship
	InMeta                         // one member of the request's meta
)

// Field names what a rule judged, in the terms of the domain (snake_case
// names, positions in lists); the transport turns it into its own locator.
type Field struct {
	Part  Part
	Name  string // the attribute, relationship or meta member; empty InRecord
	Index *int   // an item of the body's list or of a to-many relationship
	Key   string // a member of the resource or of that item
}

// Record is the resource as a whole.
func Record() Field { return Field{Part: InRecord} }

// Attr is one attribute.
func Attr(name string) Field { return Field{Part: InAttribute, Name: name} }

// Rel is one relationship.
func Rel(name string) Field { return Field{Part: InRelationship, Name: name} }

// Meta is one member of the request's meta.
func Meta(name string) Field { return Field{Part: InMeta, Name: name} }

// Item is item i of the list the field holds.
func (f Field) Item(i int) Field { f.Index = &i; return f }

// Member is a member key of the field's resource or item.
func (f Field) Member(key string) Field { f.Key = key; return f }

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

// At builds an error about a field of the request.
func At(kind Kind, code, detail string, f Field) *Error {
	return &Error{Kind: kind, Code: code, Detail: detail, Source: &Source{Field: &f}}
}

// AtPointer builds an error about a JSON pointer in the request document;
// only the wire decoder knows pointers, rules use At.
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

// Attribute is a rule violation on one attribute (snake_case name), with
// the code "<ATTRIBUTE>_<REASON>" as Keygen derives it, e.g. CODE_TAKEN.
func Attribute(attribute, reason, detail string) *Error {
	return At(Unprocessable, naming.UpperSnake(attribute)+"_"+reason, detail, Attr(attribute))
}
