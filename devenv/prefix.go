package devenv

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// Prefixed writes each whole line written to it to w, behind the process's
// name padded to width ("worker   | ..."), so the output of several processes
// on one terminal says whose each line is. A line not yet ended waits for
// its end.
func Prefixed(name string, width int, w io.Writer) io.Writer {
	return &prefixWriter{prefix: []byte(fmt.Sprintf("%-*s | ", width, name)), w: w}
}

type prefixWriter struct {
	mu      sync.Mutex
	prefix  []byte
	w       io.Writer
	pending []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = append(p.pending, b...)
	var out []byte
	for {
		i := bytes.IndexByte(p.pending, '\n')
		if i < 0 {
			break
		}
		out = append(append(out, p.prefix...), p.pending[:i+1]...)
		p.pending = p.pending[i+1:]
	}
	if len(out) > 0 {
		// One write per batch of lines: lines of two processes never interleave.
		if _, err := p.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}
