//go:build tools

// Package tools names the command this wrapper builds, so that go mod tidy keeps what it needs.
package tools

import _ "github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold"
