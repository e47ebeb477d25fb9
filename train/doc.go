// Package train trains a DCIM (the paper's §2.3 and §3) and is meant to be
// called from Go as well as from the commands. In memory, as a notebook
// cell would:
//
//	s, _ := train.NewSettings("notebook", "dense-generative")
//	s.Epochs = 1
//	m, err := train.Fit(ctx, train.Options{Settings: s})
//	ev, err := m.Evaluate(ctx, testSet, 1)
//	tab, err := m.Sample(sampling.Layer, 10, 1)
//	err = m.Save("runs/try")
//
// or into a run folder, resumable, as the training commands do:
//
//	s.Out = "runs/try"
//	summary, err := train.Run(ctx, train.Options{Settings: s})
//
// The pieces, top-down:
//
//   - [Fit] and [Run]: the loop — shuffled mini-batches, a [Step] each,
//     an evaluation point every -eval-every steps and at each epoch end;
//     Fit keeps everything in memory and returns a [Model], Run writes
//     metrics.csv, curves.png, checkpoints (exact resumption) and
//     summary.json;
//   - [Model]: a DCIM in memory — Evaluate, Classify, Sample, Save, and
//     [Load] from a run folder;
//   - [Step]: one training step, forward chain, reverse chains, loss and
//     gradients in one graph run, then [Adam] (Keras' defaults);
//   - [Evaluator]: a model's accuracy and every objective term over a
//     whole set in fixed batches;
//   - [Settings]: an experiment of the models package with every field
//     overridable, checked by [Settings.Check]; every setting is declared
//     once, in [Table], from which the commands' flags, the run's name
//     ([Settings.RunName]) and the sweeps' axes are derived.
//
// A run folder holds:
//
//	model.npz, model.json  the parameters (package checkpoint)
//	resume.npz             parameters, Adam moments and the loop's position and RNG state, for resuming
//	metrics.csv            one row per evaluation point, a column pair per objective term
//	curves.png             accuracy and reverse-loss curves
//	summary.json           final figures, written when the run completes
//	.lock                  held by the process writing the folder
//
// Every file is written atomically; the checkpoint is written at the start,
// at each epoch end, on interrupt and at the end, and never after a
// non-finite loss. resume.npz and model.json carry the run's id and
// iteration, so a resume refuses another run's state and rewrites a
// model.npz that lags behind.
package train
