package devenv

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
)

// A port FreePort gives is held in TIME_WAIT, so the kernel does not hand
// it to the next process that asks for any free port (the Temporal CLI's
// dev server picks its internal ports so), and it can still be listened
// on by whoever was given it.
func TestFreePortIsHeldFromOthersButCanBeListenedOn(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if !inTimeWait(t, port) {
		t.Errorf("port %d has no connection in TIME_WAIT: the kernel may give it to the next process asking for a free port", port)
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("listening on the port FreePort gave: %v", err)
	}
	ln.Close()
}

// inTimeWait says whether the kernel's table of IPv4 TCP sockets has one
// on local port port in TIME_WAIT (state 06).
func inTimeWait(t *testing.T, port int) bool {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	defer f.Close()
	local := fmt.Sprintf(":%04X", port)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 3 && strings.HasSuffix(fields[1], local) && fields[3] == "06" {
			return true
		}
	}
	return false
}
