//go:build unix

package datatest

import "syscall"

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
