// Command relkey is the self-hosted licensing and release-distribution server.
package main

import (
	"os"

	"github.com/relkey/relkey/internal/cli"
)

func main() {
	os.Exit(cli.Run(cli.Command{Args: os.Args[1:], Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr}))
}
