// Command loader is the signet loader stub: sealed with an application's manifest, it
// verifies the application and its interpreter at every start and then runs the application
// under a hardened CPython. It takes no options of its own; every argument goes to the app.
package main

import (
	"os"

	"github.com/signet-dev/signet/signet/internal/loader"
)

func main() {
	os.Exit(loader.Main(os.Args, os.Environ()))
}
