//go:build tools

// Package tools names the command this wrapper builds (Jaeger v2, itself built on the OpenTelemetry
// Collector), so that go mod tidy keeps what it needs.
package tools

import _ "github.com/jaegertracing/jaeger/cmd/jaeger"
