// Package spec embeds relkey's OpenAPI description, spec/openapi.yaml, its
// examples, spec/examples.yaml, and the table of Keygen's routes,
// spec/keygen-routes.tsv.
package spec

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of relkey's HTTP API.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Examples holds the examples openapi.yaml refers to, generated from relkey's
// answers by internal/httpapi's TestSpecExamples.
//
//go:embed examples.yaml
var Examples []byte

// KeygenRoutes lists every Keygen CE route (tab-separated: method, Keygen
// path, served or open, relkey's operationId or the issue that owns it,
// note); lines starting with # are comments.
//
//go:embed keygen-routes.tsv
var KeygenRoutes []byte
