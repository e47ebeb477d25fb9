// Package cputime reads the CPU time the process, or the calling thread,
// has used, for the benchmarks and the bench command's CPU milliseconds
// per step.
package cputime
