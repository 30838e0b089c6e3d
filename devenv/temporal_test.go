package devenv

import (
	"os"
	"strings"
	"testing"
)

// The UI's codec endpoint carries an operator's token: it reaches the CLI
// in a file only its user reads, never in an argument (ps shows those to
// every user of the machine).
func TestCodecEndpointIsNotAProcessArgument(t *testing.T) {
	const endpoint = "http://127.0.0.1:8080/codec/k/secret-token-123"
	tp := Temporal{IP: "127.0.0.1", Port: 7233, UIPort: 8233, Namespace: "default", CodecEndpoint: endpoint}
	args, cleanup, err := tp.args()
	if err != nil {
		t.Fatal(err)
	}
	var file string
	for i, a := range args {
		if strings.Contains(a, "secret-token-123") {
			t.Fatalf("argument %d carries the token: %q", i, a)
		}
		if a == "--env-file" && i+1 < len(args) {
			file = args[i+1]
		}
	}
	data, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(data), endpoint) {
		t.Fatalf("the settings file %q does not give the endpoint: %v %s", file, err, data)
	}
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the settings file's mode: %v %v", info.Mode(), err)
	}
	cleanup()
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("the settings file outlives the start: %v", err)
	}
}
