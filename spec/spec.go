// Package spec embeds relkey's OpenAPI description, spec/openapi.yaml.
package spec

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of relkey's HTTP API.
//
//go:embed openapi.yaml
var OpenAPI []byte
