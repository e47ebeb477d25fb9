package train

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows the training's progress: a bar per epoch on a terminal,
// plain periodic lines elsewhere.
type progress interface {
	startEpoch(epoch, epochs, steps, done int)
	step(loss, acc float64, dt time.Duration) // dt: the step's duration
	message(line string)
	endEpoch()
	done()
}

// newProgress returns a bar on a terminal w, plain lines otherwise.
func newProgress(w io.Writer, plain bool, batch int) progress {
	if f, ok := w.(*os.File); ok && !plain && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w, batch: batch}
	}
	return &lineProgress{w: w, batch: batch, every: 10 * time.Second}
}

// epochMeans are the running means of the epoch in progress.
type epochMeans struct {
	n         int
	loss, acc float64
}

func (m *epochMeans) add(loss, acc float64) {
	m.n++
	m.loss += (loss - m.loss) / float64(m.n)
	m.acc += (acc - m.acc) / float64(m.n)
}

type barProgress struct {
	w             io.Writer
	batch         int
	bar           *progressbar.ProgressBar
	epoch, epochs int
	means         epochMeans
}

func (p *barProgress) startEpoch(epoch, epochs, steps, done int) {
	p.epoch, p.epochs, p.means = epoch, epochs, epochMeans{}
	p.bar = progressbar.NewOptions64(int64(steps*p.batch),
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(p.describe()),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("img"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(25),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
	)
	if done > 0 {
		p.bar.Set64(int64(done * p.batch))
	}
}

func (p *barProgress) describe() string {
	if p.means.n == 0 {
		return fmt.Sprintf("epoch %d/%d", p.epoch, p.epochs)
	}
	return fmt.Sprintf("epoch %d/%d loss %.4f acc %.4f", p.epoch, p.epochs, p.means.loss, p.means.acc)
}

func (p *barProgress) step(loss, acc float64, _ time.Duration) {
	p.means.add(loss, acc)
	p.bar.Describe(p.describe())
	p.bar.Add(p.batch)
}

func (p *barProgress) message(line string) {
	if p.bar != nil && !p.bar.IsFinished() {
		p.bar.Clear()
	}
	fmt.Fprintln(p.w, line)
}

func (p *barProgress) endEpoch() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

func (p *barProgress) done() {
	if p.bar != nil && !p.bar.IsFinished() {
		p.bar.Exit()
		fmt.Fprintln(p.w)
	}
	p.bar = nil
}

type lineProgress struct {
	w                   io.Writer
	batch               int
	every               time.Duration
	epoch, epochs       int
	steps, done0, doneN int
	last                time.Time
	busy                time.Duration // time in training steps this epoch
	means               epochMeans
}

func (p *lineProgress) startEpoch(epoch, epochs, steps, done int) {
	p.epoch, p.epochs, p.steps, p.done0, p.doneN = epoch, epochs, steps, done, done
	p.last, p.busy, p.means = time.Now(), 0, epochMeans{}
}

func (p *lineProgress) step(loss, acc float64, dt time.Duration) {
	p.means.add(loss, acc)
	p.doneN++
	p.busy += dt
	if time.Since(p.last) >= p.every {
		p.line()
	}
}

func (p *lineProgress) line() {
	p.last = time.Now()
	rate := float64((p.doneN-p.done0)*p.batch) / p.busy.Seconds()
	eta := time.Duration(float64(p.busy) / float64(p.doneN-p.done0) * float64(p.steps-p.doneN))
	fmt.Fprintf(p.w, "epoch %d/%d %3.0f%% (%d/%d) loss %.4f acc %.4f %.0f img/s ETA %v\n",
		p.epoch, p.epochs, 100*float64(p.doneN)/float64(p.steps), p.doneN, p.steps,
		p.means.loss, p.means.acc, rate, eta.Round(time.Second))
}

func (p *lineProgress) message(line string) { fmt.Fprintln(p.w, line) }

func (p *lineProgress) endEpoch() {
	if p.doneN > p.done0 {
		p.line()
	}
}

func (p *lineProgress) done() {}
