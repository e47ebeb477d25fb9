# Every recipe is one or more plain `go` commands; `just` only saves typing.
# `just --list` shows them. Add `tags := "-tags openblas"` to use OpenBLAS.

tags := ""

# run the tests
test:
    go test ./...

# run the tests against OpenBLAS (needs Debian's libopenblas-dev)
test-openblas:
    go test -tags openblas ./...

# measure training and sampling throughput
bench:
    go run {{tags}} ./cmd/bench

# the paper's §3.1: dense net, discriminative vs eq. (21); Figures 1 and 2
reproduce-dense:
    go run {{tags}} ./cmd/train-dense -experiment dense-discriminative -seed 1 -out runs/dense-discriminative
    go run {{tags}} ./cmd/train-dense -experiment dense-generative -seed 1 -out runs/dense-generative
    go run ./cmd/plot -out runs/figure1.png runs/dense-discriminative runs/dense-generative
    go run {{tags}} ./cmd/sample -model runs/dense-generative -mode all -seed 1

# the paper's §3.2: CNN with eq. (21) and eq. (22); Figure 3
reproduce-cnn:
    go run {{tags}} ./cmd/train-cnn -experiment cnn-generative -seed 1 -out runs/cnn-generative
    go run {{tags}} ./cmd/sample -model runs/cnn-generative -mode layer -seed 1
    go run {{tags}} ./cmd/train-cnn -experiment cnn-generative-sampled -seed 1 -out runs/cnn-generative-sampled
    go run {{tags}} ./cmd/sample -model runs/cnn-generative-sampled -mode layer -seed 1

# every experiment of the paper's §3, each into its own run folder
reproduce: reproduce-dense reproduce-cnn

# occluded digits and the approximation study on the paper's runs (after reproduce)
study:
    go run {{tags}} ./cmd/complete -model runs/dense-generative -mask all
    go run {{tags}} ./cmd/approx -model runs/dense-generative -n 1000 -draws 200 -seed 1
    go run {{tags}} ./cmd/approx -model runs/cnn-generative -n 1000 -draws 200 -seed 1
