// Package spec embeds relkey's OpenAPI description, spec/openapi.yaml, and
// its examples, spec/examples.yaml.
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
