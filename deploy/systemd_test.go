package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/complaintdesk/complaintdesk/api"
	"github.com/complaintdesk/complaintdesk/worker"
)

// unit is a systemd unit file: section → key → values in order (a key may
// repeat, as SystemCallFilter= does).
type unit map[string]map[string][]string

func (u unit) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// parseUnit reads a unit file as systemd does: comments (# and ;) and blank
// lines skipped, KEY=VALUE lines under [Section] headers, a template's %i
// replaced by instance.
func parseUnit(t *testing.T, path, instance string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		case section == "":
			t.Fatalf("%s:%d: %q before any section", path, n, line)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || strings.HasSuffix(line, `\`) {
				t.Fatalf("%s:%d: %q is no KEY=VALUE line", path, n, line)
			}
			k = strings.TrimSpace(k)
			v = strings.ReplaceAll(strings.TrimSpace(v), "%i", instance)
			u[section][k] = append(u[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// makeBinaries lists the binaries the Makefile builds: one per cmd/
// directory (`make build`) and the Temporal server (`make prod-tools`).
func makeBinaries(t *testing.T) []string {
	t.Helper()
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	var bins []string
	if strings.Contains(string(makefile), "go build -o $(BIN)/ ./cmd/...") {
		dirs, err := os.ReadDir("../cmd")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dirs {
			if d.IsDir() {
				bins = append(bins, d.Name())
			}
		}
	}
	for _, m := range regexp.MustCompile(`\$\(TEMPORAL_SERVER_DIR\)/([a-z-]+)\n`).FindAllStringSubmatch(string(makefile), -1) {
		bins = append(bins, m[1])
	}
	if len(bins) == 0 {
		t.Fatal("found no binary the Makefile builds")
	}
	return bins
}

// The example units, by the name they are started as: the file in
// deploy/systemd (the API and the worker share a template), what each runs,
// its environment file, and the configuration it reads.
var systemdUnits = map[string]struct {
	file     string
	instance string // what the template's %i stands for
	binary   string
	envFile  string       // the example of its EnvironmentFile, in deploy/systemd
	config   reflect.Type // the configuration the binary reads, nil for Temporal's
}{
	"complaintdesk@api.service":    {"complaintdesk@.service", "api", "api", "complaintdesk.env.example", reflect.TypeFor[api.Config]()},
	"complaintdesk@worker.service": {"complaintdesk@.service", "worker", "worker", "complaintdesk.env.example", reflect.TypeFor[worker.Config]()},
	"temporal-server.service":      {"temporal-server.service", "", "temporal-server", "temporal-server.env.example", nil},
}

// unitFiles lists the files of systemdUnits.
func unitFiles() []string {
	var files []string
	for _, u := range systemdUnits {
		if !slices.Contains(files, u.file) {
			files = append(files, u.file)
		}
	}
	slices.Sort(files)
	return files
}

// hardening is what every unit must set, and to what.
var hardening = map[string]string{
	"NoNewPrivileges":       "yes",
	"ProtectSystem":         "strict",
	"ProtectHome":           "yes",
	"PrivateTmp":            "yes",
	"PrivateDevices":        "yes",
	"ProtectKernelTunables": "yes",
	"ProtectKernelModules":  "yes",
	"ProtectControlGroups":  "yes",
	"RestrictSUIDSGID":      "yes",
	"CapabilityBoundingSet": "",
}

func TestSystemdUnits(t *testing.T) {
	files, err := filepath.Glob("systemd/*.service")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if want := unitFiles(); !slices.Equal(names, want) {
		t.Errorf("deploy/systemd holds %v, want %v", names, want)
	}
	built := makeBinaries(t)

	for name, want := range systemdUnits {
		u := parseUnit(t, filepath.Join("systemd", want.file), want.instance)
		svc := u["Service"]
		if svc == nil {
			t.Errorf("%s has no [Service]", name)
			continue
		}
		if got := u.get("Service", "Restart"); got != "on-failure" {
			t.Errorf("%s: Restart=%q, want on-failure", name, got)
		}
		if u.get("Service", "RestartSec") == "" {
			t.Errorf("%s: no RestartSec (systemd's 100 ms default hammers a database that is down)", name)
		}
		if u.get("Install", "WantedBy") != "multi-user.target" {
			t.Errorf("%s is not started at boot (WantedBy=multi-user.target)", name)
		}
		for key, value := range hardening {
			if vs, ok := svc[key]; !ok || vs[len(vs)-1] != value {
				t.Errorf("%s: %s=%v, want %q", name, key, vs, value)
			}
		}
		if u.get("Service", "DynamicUser") != "yes" && (u.get("Service", "User") == "" || u.get("Service", "User") == "root") {
			t.Errorf("%s runs as root", name)
		}

		exec := strings.Fields(u.get("Service", "ExecStart"))
		if len(exec) == 0 || !filepath.IsAbs(exec[0]) {
			t.Errorf("%s: ExecStart %v does not name a binary by its absolute path", name, exec)
		} else if bin := filepath.Base(exec[0]); bin != want.binary || !slices.Contains(built, bin) {
			t.Errorf("%s runs %s, want %s, one of the binaries the Makefile builds %v", name, bin, want.binary, built)
		}

		// Secrets come from the root-only environment file, never from the
		// unit (which is world-readable, as is `systemctl show`).
		envFile := u.get("Service", "EnvironmentFile")
		if !filepath.IsAbs(envFile) {
			t.Errorf("%s: EnvironmentFile=%q, want an absolute path (no - prefix: a missing file must stop the start)", name, envFile)
		}
		example := readEnvFile(t, filepath.Join("systemd", want.envFile), true)
		set := map[string]string{}
		for _, kv := range svc["Environment"] {
			k, v, _ := strings.Cut(kv, "=")
			set[k] = v
			if secretName.MatchString(k) {
				t.Errorf("%s: Environment= sets %s; secrets belong in %s", name, k, envFile)
			}
		}
		for k, v := range example {
			if secretName.MatchString(k) && v != "" {
				t.Errorf("%s: %s gives %s a value; it must hold none", want.envFile, want.envFile, k)
			}
		}

		if want.config == nil {
			if _, ok := example["TEMPORAL_DB_PASSWORD"]; !ok {
				t.Errorf("%s does not ask for TEMPORAL_DB_PASSWORD", want.envFile)
			}
			continue
		}
		known := map[string]envVar{}
		for _, v := range envVarsOf(t, want.config) {
			known[v.Name] = v
		}
		for k := range set {
			if _, ok := known[k]; !ok {
				t.Errorf("%s sets %s, which %s does not read", name, k, want.binary)
			}
		}
		for k := range example {
			if _, ok := known[k]; !ok && !readByAnyUnit(t, k) {
				t.Errorf("%s sets %s, which neither the api nor the worker reads", want.envFile, k)
			}
		}
		for _, v := range known {
			_, inFile := example[v.Name]
			_, inUnit := set[v.Name]
			if v.Required && !inFile && !inUnit {
				t.Errorf("%s: required %s is in neither the unit nor %s", name, v.Name, want.envFile)
			}
		}
		for _, secret := range []string{"DATABASE_URL", "CODEC_MASTER_KEYS"} {
			if _, ok := example[secret]; !ok {
				t.Errorf("%s does not ask for %s", want.envFile, secret)
			}
		}
	}
}

// readByAnyUnit reports whether the api or the worker reads variable k; the
// two share one environment file.
func readByAnyUnit(t *testing.T, k string) bool {
	t.Helper()
	for _, typ := range []reflect.Type{reflect.TypeFor[api.Config](), reflect.TypeFor[worker.Config]()} {
		for _, v := range envVarsOf(t, typ) {
			if v.Name == k {
				return true
			}
		}
	}
	return false
}

// systemd's own check, where systemd is installed: no unknown key, no
// malformed value. It also wants each ExecStart binary to exist, so the
// units are checked with the binary's path pointed at /bin/true.
func TestSystemdAnalyzeVerifiesTheUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	dir := t.TempDir()
	var paths []string
	for name, want := range systemdUnits {
		raw, err := os.ReadFile(filepath.Join("systemd", want.file))
		if err != nil {
			t.Fatal(err)
		}
		text := regexp.MustCompile(`(?m)^ExecStart=\S+`).ReplaceAllString(string(raw), "ExecStart=/bin/true")
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, paths...)...).CombinedOutput()
	// Units named in After= that this machine lacks are no fault of ours.
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" && !strings.Contains(line, "not found") {
			problems = append(problems, line)
		}
	}
	if err != nil || len(problems) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, strings.Join(problems, "\n"))
	}
}
