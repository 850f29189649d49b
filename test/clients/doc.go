// Package clients runs real Keygen clients against relkey built from this
// tree: keygen-go's own integration tests, keygen-cli's publishing calls
// replayed through its HTTP layer, and (from Node) electron-builder's
// publisher and electron-updater. It is its own module so the clients'
// dependencies stay out of the server's go.mod.
package clients
