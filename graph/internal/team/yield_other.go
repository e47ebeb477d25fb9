//go:build !linux

package team

// osYield does nothing where the OS's yield is not wired up.
func osYield() {}
