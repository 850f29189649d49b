// Package serializer renders relkey's records as Keygen's JSON:API
// resource objects: the same documents for API responses, license and
// machine files, and webhook payloads.
package serializer
