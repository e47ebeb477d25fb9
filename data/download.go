package data

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// defaultMirrors are the base URLs Load downloads the gzipped MNIST files
// from when no other source has them.
var defaultMirrors = []string{
	"https://ossci-datasets.s3.amazonaws.com/mnist/",
	"https://storage.googleapis.com/cvdf-datasets/mnist/",
	"http://yann.lecun.com/exdb/mnist/",
}

// maxDownload bounds the size of one downloaded file.
const maxDownload = 64 << 20

// httpClient is used for downloads.
var httpClient = &http.Client{Timeout: 5 * time.Minute}

// download makes sure cacheDir holds the four original gzipped MNIST files.
// Files already there with the right SHA-256 are kept; the others are
// fetched from the first mirror (a base URL) that serves the right bytes.
// Each file is written atomically (temporary file, fsync, rename); a
// download with the wrong checksum is rejected and leaves no file behind.
func download(mirrors []string, cacheDir string) error {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return fmt.Errorf("MNIST download: %w", err)
	}
	for _, name := range fileNames {
		path := filepath.Join(cacheDir, name)
		if sum, err := hashFile(path); err == nil && sum == originalSums[name].gz {
			continue
		}
		if err := fetch(mirrors, cacheDir, name); err != nil {
			return err
		}
	}
	return nil
}

// fetch downloads name from the first mirror that serves it correctly.
func fetch(mirrors []string, dir, name string) error {
	if len(mirrors) == 0 {
		return fileErr(name, ErrDownload, "download failed: no mirrors")
	}
	var errs []string
	for _, m := range mirrors {
		url := strings.TrimSuffix(strings.TrimSpace(m), "/") + "/" + name
		if err := fetchOne(url, dir, name); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		return nil
	}
	return inDir(fileErr(name, ErrDownload, "download failed from every mirror: %s", strings.Join(errs, "; ")), dir)
}

// fetchOne downloads url into dir/name atomically, checking its SHA-256.
func fetchOne(url, dir, name string) (err error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, maxDownload+1))
	if err != nil {
		return fmt.Errorf("%s: %v", url, err)
	}
	if n > maxDownload {
		return fmt.Errorf("%s: more than %d bytes", url, maxDownload)
	}
	if sum, want := hex.EncodeToString(h.Sum(nil)), originalSums[name].gz; sum != want {
		return fmt.Errorf("%s: SHA-256 %s, want %s", url, sum, want)
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return nil
}
