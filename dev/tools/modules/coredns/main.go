// Command coredns is CoreDNS with only the plugins the real-node cluster's Corefile uses
// (cluster/fraud_cluster/realnode.py): upstream's main imports all of them (cloud providers, etcd,
// dnstap...), which would triple the build for nothing. The order is upstream's plugin.cfg order.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	dnsserver.Directives = []string{"ready", "health", "errors", "log", "cache", "kubernetes"}
	coremain.Run()
}
