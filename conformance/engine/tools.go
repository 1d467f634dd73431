//go:build tools

// Package tools pins the Crossplane core's main package in this module's build list.
package tools

import _ "github.com/crossplane/crossplane/v2/cmd/crossplane"
