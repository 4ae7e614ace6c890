//go:build tools

// Package tools names the command this wrapper builds, so that go mod tidy keeps what it needs.
// The wrapper exists for its go.sum: the checksum database does not know helm-unittest v1.0.1.
package tools

import _ "github.com/helm-unittest/helm-unittest/cmd/helm-unittest"
