// Command etcd is etcd's server, built from the published go.etcd.io/etcd/server/v3 module.
// etcd's own main package lives in a module (go.etcd.io/etcd/v3) that go install cannot build
// from the proxy, so this wrapper calls the same entry point.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
