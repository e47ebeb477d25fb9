# Every recipe is one plain `go` command; `just` only saves typing.

# run the tests
test:
    go test ./...

# run the tests against OpenBLAS (needs libopenblas-dev)
test-openblas:
    go test -tags openblas ./...
