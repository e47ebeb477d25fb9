// Package cputime reads the CPU time the process has used, for the
// benchmarks and the bench command's CPU milliseconds per step.
package cputime
