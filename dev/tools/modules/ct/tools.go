//go:build tools

// Package tools names the command this wrapper builds, so that go mod tidy keeps what it needs.
// The wrapper exists because `go install ...@v3.14.0` asks the proxy for the module's version
// list (to report deprecation), which the proxy refuses for chart-testing.
package tools

import _ "github.com/helm/chart-testing/v3/ct"
