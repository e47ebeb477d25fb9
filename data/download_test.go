package data

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// mirror serves the module's files, or wrong bytes when bad is set.
func mirror(t *testing.T, bad bool) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	files := map[string][]byte{}
	for _, name := range fileNames {
		files[name] = readModuleFile(t, name)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, ok := files[path.Base(r.URL.Path)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if bad {
			b = append([]byte{}, b...)
			b[len(b)/2] ^= 0xff
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestDownload(t *testing.T) {
	good, goodHits := mirror(t, false)
	bad, badHits := mirror(t, true)
	missing := httptest.NewServer(http.NotFoundHandler())
	defer missing.Close()

	t.Run("wrong file rejected", func(t *testing.T) {
		cache := filepath.Join(t.TempDir(), "mnist")
		err := download([]string{bad.URL, missing.URL + "/x/"}, cache)
		if !errors.Is(err, ErrDownload) || !strings.HasPrefix(err.Error(), trainImagesFile+": download failed") ||
			!strings.Contains(err.Error(), "SHA-256") || !strings.Contains(err.Error(), "404") {
			t.Fatalf("err = %v", err)
		}
		if names := dirNames(t, cache); len(names) != 0 {
			t.Fatalf("files left behind: %v", names)
		}
	})

	t.Run("falls through to a good mirror", func(t *testing.T) {
		cache := filepath.Join(t.TempDir(), "mnist")
		badHits.Store(0)
		if err := download([]string{missing.URL, bad.URL, good.URL + "/"}, cache); err != nil {
			t.Fatal(err)
		}
		if n := badHits.Load(); n != 4 {
			t.Errorf("bad mirror hit %d times, want 4", n)
		}
		if names := dirNames(t, cache); len(names) != 4 {
			t.Fatalf("cache holds %v", names)
		}
		if !isOriginalDir(cache) {
			t.Fatal("downloaded files are not the originals")
		}
		// A second call finds the verified files and fetches nothing.
		goodHits.Store(0)
		if err := download([]string{good.URL}, cache); err != nil || goodHits.Load() != 0 {
			t.Fatalf("second download: %v, %d requests", err, goodHits.Load())
		}
		// A damaged cached file is fetched again.
		os.WriteFile(filepath.Join(cache, testLabelsFile), []byte("x"), 0o644)
		if err := download([]string{good.URL}, cache); err != nil || goodHits.Load() != 1 || !isOriginalDir(cache) {
			t.Fatalf("repair: %v, %d requests", err, goodHits.Load())
		}
	})

	t.Run("Load falls back to download", func(t *testing.T) {
		t.Setenv("MNIST_DIR", "")
		old := locateModule
		locateModule = func() (string, error) { return "", errors.New("no module (test)") }
		defer func() { locateModule = old }()
		cache := filepath.Join(t.TempDir(), "c")
		var log bytes.Buffer
		m, err := Load(Options{mirrors: []string{good.URL}, cacheDir: cache, Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		if !m.original || m.source != "download cache "+cache || m.Train.N != 60000 || m.Test.N != 10000 {
			t.Fatalf("original=%v source=%q", m.original, m.source)
		}
		if !strings.HasPrefix(log.String(), "using MNIST from download cache") {
			t.Fatalf("log %q", log.String())
		}
		cache2 := filepath.Join(t.TempDir(), "c")
		_, err = Load(Options{mirrors: []string{bad.URL}, cacheDir: cache2})
		if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "no module (test)") {
			t.Fatalf("bad mirror: %v", err)
		}
		if names := dirNames(t, cache2); len(names) != 0 {
			t.Fatalf("files left behind: %v", names)
		}
	})
}
