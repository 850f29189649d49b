package relkey

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error is an error response of the API: its status and its first JSON:API
// error (Keygen's title, detail, code and source); All holds every error
// of the document.
type Error struct {
	Status int
	ErrorObject
	All []ErrorObject
}

// ErrorObject is one member of a JSON:API error document.
type ErrorObject struct {
	Title  string      `json:"title"`
	Detail string      `json:"detail"`
	Code   string      `json:"code"`
	Source ErrorSource `json:"source"`
}

// ErrorSource is what an error is about: a JSON pointer into the request
// document, a query parameter or a header.
type ErrorSource struct {
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"`
	Header    string `json:"header,omitempty"`
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "relkey: %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	switch detail := e.Detail; {
	case detail != "":
		b.WriteString(": " + detail)
	case e.Title != "":
		b.WriteString(": " + e.Title)
	}
	for _, at := range [][2]string{{"pointer", e.Source.Pointer}, {"parameter", e.Source.Parameter}, {"header", e.Source.Header}} {
		if at[1] != "" {
			fmt.Fprintf(&b, " (%s %s)", at[0], at[1])
		}
	}
	return b.String()
}

// ErrorCode returns the code of err's first API error, or "" when err is
// not an API error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ErrorStatus returns the HTTP status of an API error, or 0 when err is not
// an API error.
func ErrorStatus(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// parseError turns an error response into an *Error; a body that is not
// an error document (a proxy's page) keeps the status and says so.
func parseError(res *Response) error {
	var doc struct {
		Errors []ErrorObject `json:"errors"`
	}
	e := &Error{Status: res.Status}
	if json.Unmarshal(res.Body, &doc) == nil && len(doc.Errors) > 0 {
		e.ErrorObject, e.All = doc.Errors[0], doc.Errors
		return e
	}
	e.Title = http.StatusText(res.Status)
	if snippet := strings.TrimSpace(string(res.Body)); snippet != "" {
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		e.Detail = snippet
	}
	e.All = []ErrorObject{e.ErrorObject}
	return e
}
