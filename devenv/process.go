// Package devenv starts the services the system needs on this machine — a
// private PostgreSQL and the Temporal dev server — as supervised child
// processes. The dev launcher and the integration tests share it, so tests
// run against the same real servers as `make dev`, on ports of their own.
package devenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a supervised child process.
type Process struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	tail *tailBuffer
}

func start(name string, cmd *exec.Cmd, log io.Writer) (*Process, error) {
	p := &Process{Name: name, cmd: cmd, done: make(chan struct{}), tail: &tailBuffer{max: 8 << 10}}
	out := io.Writer(p.tail)
	if log != nil {
		out = io.MultiWriter(log, p.tail)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// Own process group, so a Ctrl-C at the terminal reaches only the
	// launcher, which stops the children in order; and the child dies with
	// the launcher if the launcher is killed outright.
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports the exit error once the process has exited.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop asks the process to shut down and waits; after the grace period it is
// killed.
func (p *Process) Stop(grace time.Duration) error {
	if exited, _ := p.Exited(); exited {
		return nil
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("interrupt %s: %w", p.Name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		p.Kill()
		return fmt.Errorf("%s did not stop within %s; killed", p.Name, grace)
	}
}

// Kill ends the process at once (SIGKILL) and waits for it.
func (p *Process) Kill() {
	if err := p.cmd.Process.Kill(); err == nil || errors.Is(err, os.ErrProcessDone) {
		<-p.done
	}
}

// Output is the last few kilobytes the process printed.
func (p *Process) Output() string { return p.tail.String() }

// waitFor polls ready until it succeeds, the process exits or ctx ends.
func (p *Process) waitFor(ctx context.Context, what string, ready func(context.Context) error) error {
	var last error
	for {
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("%s exited before %s (%v):\n%s", p.Name, what, err, p.Output())
		}
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = ready(attempt)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %s: %w (last error: %v)", p.Name, what, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// FreePort asks the kernel for a free TCP port on the loopback interface
// and keeps the kernel from handing it out again for a minute. Tests run
// in parallel packages, and the Temporal CLI's dev server picks its own
// internal ports the same way (ask for port 0, release it): a port we
// released bare could be the next one the kernel gives the dev server, and
// whichever binds second dies at start. So, as the CLI does, the port is
// left with one connection in TIME_WAIT on its side: the kernel skips it
// when it picks ports for others, while whoever is given the number can
// still listen on it (SO_REUSEADDR, which Go, PostgreSQL and nginx set).
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return 0, err
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		return 0, err
	}
	// Closed by the listening side first: that side keeps the TIME_WAIT.
	server.Close()
	return port, nil
}

// FreePorts picks n distinct free ports.
func FreePorts(n int) ([]int, error) {
	seen := map[int]bool{}
	var ports []int
	for len(ports) < n {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(b)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// StartProcess runs cmd as a supervised child, its output to log.
func StartProcess(name string, cmd *exec.Cmd, log io.Writer) (*Process, error) {
	return start(name, cmd, log)
}

// WaitHTTP waits until url answers 200, the process exits or ctx ends.
func WaitHTTP(ctx context.Context, p *Process, url string) error {
	return p.waitFor(ctx, "healthy at "+url, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s answered %s", url, resp.Status)
		}
		return nil
	})
}
