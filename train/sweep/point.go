package sweep

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"dcim/train"
)

// RunPoint trains point i of the sweep in folder dir: what a child
// process (sweep -run DIR -point I) and a Slurm array task do. It reads
// the plan, appends everything the run prints to the point's log, skips
// a point already done, resumes one with a checkpoint and starts the rest
// afresh. A cancelled ctx saves a checkpoint and returns an error
// wrapping train.ErrInterrupted. The log's last line is the exit status
// (0, 1, or 130 when interrupted), which Inspect reads back.
func RunPoint(ctx context.Context, dir string, i int) (err error) {
	plan, err := ReadPlan(dir)
	if err != nil {
		return err
	}
	p, err := plan.Point(i)
	if err != nil {
		return err
	}
	log, err := os.OpenFile(p.Log(dir), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("point %d: %w", i, err)
	}
	defer log.Close()
	st, err := Inspect(dir, p)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	verb := "started"
	switch {
	case st.State == Done:
		verb = "done already"
	case st.Resumable:
		verb = "resumed"
	}
	fmt.Fprintf(log, startLine, i, p.Name, verb, host, os.Getpid(), runtime.GOMAXPROCS(0), time.Now().Format(time.RFC3339))
	defer func() {
		code, msg := 0, ""
		switch {
		case errors.Is(err, train.ErrInterrupted):
			code, msg = exitInterrupted, ": "+err.Error()
		case err != nil:
			code, msg = 1, ": "+err.Error()
		}
		fmt.Fprintf(log, exitLine, i, p.Name, code, msg)
	}()
	if st.State == Done {
		return nil
	}
	s := p.Settings
	s.Out = p.Folder(dir)
	opts := train.Options{Settings: s, Force: true, Log: log, Plain: true}
	if st.Resumable {
		opts = train.Options{Resume: s.Out, Settings: train.Settings{Data: s.Data, Epochs: s.Epochs}, Log: log, Plain: true}
	}
	if _, err := train.Run(ctx, opts); err != nil {
		return fmt.Errorf("point %d (%s): %w", i, p.Name, err)
	}
	return nil
}
