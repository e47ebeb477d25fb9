// Package graph builds a DCIM — a network of binary stochastic units read
// both ways — as one Gorgonia expression graph, and differentiates it
// symbolically.
//
// # The model
//
// Layer k (1…d) has one weight node W^k and one bias node b^k; a⁰ is the
// image layer's reverse bias. Every graph of a set of [Params] binds the
// same tensors, so training, evaluation and sampling graphs share the
// parameters.
//
//   - The forward chain (eq. 14–15) is approximate inference of the class
//     given the image: mean-field states x̄^k = σ(W^k x̄^{k−1} + b^k), and
//     p(x^d | x⁰) = softmax(W^d x̄^{d−1} + b^d). [Layer.Forward] applies W.
//   - The reverse chain (eq. 18–20) generates an image given a class with
//     the same weights transposed and the same biases: x̄^{k−1} =
//     σ((W^k)ᵀ x̄^k + b^{k−1}), down to q(x⁰ = 1) = σ(s·((W^1)ᵀ x̄^1 + a⁰)).
//     [Layer.Reverse] applies Wᵀ: it is the adjoint of Forward.
//
// σ is the logistic sigmoid for {0,1} units and tanh for ±1 units
// ([Binary], [Spin]; eq. 6–9); s is 1 or 2 accordingly.
//
// # Objectives
//
// [New] builds the forward chain and every reverse chain that the terms of
// a models.Objective need, and the loss Σ weight·term (reverse terms times
// λ): the cross-entropy −log p(label | x⁰); the per-pixel BCE of the reverse
// chain run from the one-hot label (eq. 21) or from a Bernoulli draw of
// forward layer k (eq. 22 for k = d−1); and the per-unit BCE of one
// reverse layer, −log q(x^k | x^{k+1}), with x^k drawn from the forward
// chain. A forward layer is drawn once per graph and shared by every term
// that draws it ([Net.Draws]; [Net.DrawNoise] fills the noise);
// Config.Draws = K draws it K times per image, and the terms that read the
// draw average over them. With Config.Grad, gradients come from Gorgonia's
// Grad over the ops below. A draw passes no gradient, as eq. (22) has it,
// unless Config.DrawGradient is [StraightThrough]: then ∂x^k/∂x̄^k = 1 and
// the reverse terms also train the forward layers that make the draw.
//
// # The DCIM itself
//
// Config.Inference = [MonteCarlo] trains the model the forward pass
// approximates: every hidden layer is drawn from its parent's draw,
// x^k ~ p(x^k | x^{k−1}) (ancestral sampling of eq. 13), Config.Draws
// samples of the whole chain per image, and the loss's cross-entropy is
// E[−log p(label | x^{d−1})], averaged over the samples outside the log
// (an upper bound on −log p(label | x⁰) by Jensen, and the expected loss
// the estimators are derived for; see forwardSampled). The terms that
// read a draw read the chain's own draws, so a layer term's x^k and
// x^{k+1} are one ancestral sample; the label and draw terms' reverse
// chains stay mean field. Gradients pass the draws by straight-through
// (the derivative of the unit's mean in its pre-activation, computed from
// the drawn parent) or by [PSA], the path sample-analytic estimator, which
// propagates each drawn unit's flip exactly through the next layer's
// means and the class layer's cross-entropy (psa.go; unbiased with one
// hidden layer). [Joint] draws the chain and scores the draw under both
// models, for importance-sampled likelihoods log q(x⁰ | c).
//
// [NewGenerator] builds the reverse chain alone, from the class layer or
// any hidden layer, drawing the layers it is told to: the paper's sampling
// modes (Figures 2 and 3).
//
// # Ops and their derivatives
//
// Gorgonia lacks these ops; each is built on opBase, keeps its output
// between runs and has a SymDiff:
//
//   - convolution, transposed convolution and the kernel gradient (valid
//     padding, any stride): the derivative of each is given by the other
//     two — conv's input gradient is convT, convT's is conv, and both
//     weight gradients are the kernel-gradient op; stride-1 3×3 layers
//     use Winograd's F(2×2, 3×3) in all three (winograd.go), the rest
//     im2col and one GEMM;
//   - the matrix product with transpose flags, whose derivatives are
//     matrix products with other flags (dense Forward and Reverse);
//   - bias plus activation in one pass, differentiated through the
//     activation's output;
//   - softmax with cross-entropy, and sigmoid with the BCE of eq. (21)–(22),
//     each fused into one pass, its gradient an op of its own that reads the
//     logits and targets;
//   - the seeded Bernoulli draw, which passes no gradient, or its gradient
//     unchanged to the mean when straight through;
//   - PSA's layer and class-layer ops, whose derivative in the drawn input
//     adds the exact flip's remainder to straight-through's linear part
//     (AVX2 kernels for float32);
//   - per-row Bernoulli log-likelihoods, for the joint graph.
//
// Float32 GEMMs use OpenBLAS with the build tag openblas, else an SGEMM in
// Go assembly (internal/simd) with an AVX-512 or AVX2 micro-kernel where the
// CPU has one. The kernels split their work across up to GOMAXPROCS cores
// on a team of worker goroutines (internal/team) that poll for the next
// parallel loop for 5 ms after each before they sleep; DCIM_SPIN in the
// environment sets that time ("0" sleeps at once).
package graph
