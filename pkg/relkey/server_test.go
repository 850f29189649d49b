package relkey_test

import (
	"os"

	"github.com/relkey/relkey/internal/testserver"
)

// startRelkey serves a relkey on a temporary embedded store with the
// account "demo", for the examples to run against.
func startRelkey() *exampleServer {
	dir, err := os.MkdirTemp("", "relkey-example-")
	if err != nil {
		panic(err)
	}
	s, err := testserver.Start(testserver.Embedded(dir), "demo", nil)
	if err != nil {
		panic(err)
	}
	return &exampleServer{Server: s, dir: dir}
}

type exampleServer struct {
	*testserver.Server
	dir string
}

func (s *exampleServer) Close() {
	s.Server.Close()
	os.RemoveAll(s.dir)
}
