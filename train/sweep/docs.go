package sweep

import (
	"bytes"
	"fmt"
	"regexp"
)

// A sweep's table in a Markdown document sits between the markers
// <!-- sweep:NAME --> and <!-- /sweep -->; Paste replaces what lies
// between them with the sweep's results.md.
var docBlock = regexp.MustCompile(`(?s)<!-- sweep:([A-Za-z0-9._+=,-]+) -->\n.*?<!-- /sweep -->`)

// Paste returns doc with every sweep block's content replaced by
// results(NAME), and the names of the blocks in order. A block whose
// results cannot be read is an error naming the sweep.
func Paste(doc []byte, results func(name string) ([]byte, error)) ([]byte, []string, error) {
	var names []string
	var err error
	out := docBlock.ReplaceAllFunc(doc, func(block []byte) []byte {
		name := string(docBlock.FindSubmatch(block)[1])
		names = append(names, name)
		if err != nil {
			return block
		}
		md, rerr := results(name)
		if rerr != nil {
			err = fmt.Errorf("sweep %s: %w", name, rerr)
			return block
		}
		return fmt.Appendf(nil, "<!-- sweep:%s -->\n%s\n<!-- /sweep -->", name, bytes.TrimSpace(md))
	})
	if err != nil {
		return nil, names, err
	}
	return out, names, nil
}
