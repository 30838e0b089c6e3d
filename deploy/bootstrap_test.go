package deploy

import (
	"bytes"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/caarlos0/env/v11"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/complaintdesk/complaintdesk/auth"
)

const (
	// bootstrapDir is where the bootstrap job keeps what it made, in the
	// bootstrap volume; the Dockerfile creates it for the image's user.
	bootstrapDir = "/var/lib/complaintdesk"
	// uiEntrypoint is the temporalio/ui image's own entrypoint (ENTRYPOINT
	// of temporalio/ui-server's Dockerfile), which the compose file's wrapper
	// must end in.
	uiEntrypoint = "exec ./start-ui-server.sh"
)

// volumeTarget returns where s mounts the named volume, "" when it does not.
func volumeTarget(s types.ServiceConfig, volume string) string {
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Source == volume {
			return v.Target
		}
	}
	return ""
}

// runScript runs a service's `sh -euc` script on this machine, as the
// container would, with each container path of paths replaced by a local
// directory, in dir, with exactly env as its environment.
func runScript(t *testing.T, s types.ServiceConfig, paths map[string]string, dir string, env map[string]string) (stdout string, err error) {
	t.Helper()
	if got := strings.Join(s.Entrypoint, " "); got != "/bin/sh -euc" {
		t.Fatalf("%s: entrypoint %q, want /bin/sh -euc", s.Name, got)
	}
	if len(s.Command) != 1 {
		t.Fatalf("%s: command is %d words, want one script", s.Name, len(s.Command))
	}
	script := s.Command[0]
	for container, local := range paths {
		script = strings.ReplaceAll(script, container, local)
	}
	cmd := exec.Command("/bin/sh", "-euc", script)
	cmd.Dir = dir
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if err != nil {
		t.Logf("%s script stderr:\n%s", s.Name, errOut.String())
	}
	return out.String(), err
}

// The UI decodes through the API's codec server: its endpoint is the API's
// public address plus /codec, the API allows the UI's origin, and without a
// sign-in of its own the UI carries the operator token bootstrap made in the
// path (/codec/k/<token>/decode, README "The Temporal UI").
func TestTemporalUIDecodesThroughTheAPI(t *testing.T) {
	check := func(p *types.Project, publicURL, uiOrigin string) {
		t.Helper()
		ui := environment(t, service(t, p, "temporal-ui"))
		api := environment(t, service(t, p, "api"))
		worker := environment(t, service(t, p, "worker"))
		if got, want := ui["TEMPORAL_CODEC_ENDPOINT"], publicURL+"/codec"; got != want {
			t.Errorf("TEMPORAL_CODEC_ENDPOINT=%q, want %q", got, want)
		}
		if worker["PUBLIC_URL"] != publicURL {
			t.Errorf("the worker's PUBLIC_URL %q is not the UI's codec host %q", worker["PUBLIC_URL"], publicURL)
		}
		if ui["TEMPORAL_CORS_ORIGINS"] != uiOrigin || api["CODEC_CORS_ORIGINS"] != uiOrigin {
			t.Errorf("UI allows origins %q, the API's codec server %q; want both %q",
				ui["TEMPORAL_CORS_ORIGINS"], api["CODEC_CORS_ORIGINS"], uiOrigin)
		}
	}

	p := loadCompose(t, nil)
	check(p, "http://localhost:8080", "http://localhost:8233")
	// The defaults are where the API and the UI are published.
	if got := service(t, p, "api").Ports[0].Published; got != "8080" {
		t.Errorf("the API is published on %s, the codec endpoint says 8080", got)
	}
	if got := service(t, p, "temporal-ui").Ports[0].Published; got != "8233" {
		t.Errorf("the UI is published on %s, the allowed origin says 8233", got)
	}
	check(loadCompose(t, map[string]string{"PUBLIC_URL": "https://complaints.example.com", "TEMPORAL_UI_URL": "https://temporal.example.com"}),
		"https://complaints.example.com", "https://temporal.example.com")

	ui := service(t, p, "temporal-ui")
	mount := volumeTarget(ui, "bootstrap")
	if mount == "" || volumeTarget(service(t, p, "bootstrap"), "bootstrap") != bootstrapDir {
		t.Fatalf("the UI (at %q) and bootstrap do not share the bootstrap volume", mount)
	}
	for _, v := range ui.Volumes {
		if v.Source == "bootstrap" && !v.ReadOnly {
			t.Error("the UI mounts the bootstrap volume writable")
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(ui.Command[0]), uiEntrypoint) {
		t.Errorf("the UI's wrapper does not end in the image's entrypoint (%s)", uiEntrypoint)
	}

	// Run the wrapper with a stand-in for the image's start script that
	// shows the endpoint the UI server would get.
	work := t.TempDir()
	tokens := t.TempDir()
	if err := os.WriteFile(filepath.Join(tokens, "operator-token"), []byte("the-operator-token\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "start-ui-server.sh"), []byte("#!/bin/sh\necho \"$TEMPORAL_CODEC_ENDPOINT\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := environment(t, ui)
	env["PATH"] = os.Getenv("PATH")
	out, err := runScript(t, ui, map[string]string{mount: tokens}, work, env)
	if err != nil {
		t.Fatalf("UI wrapper: %v", err)
	}
	endpoint, err := url.Parse(strings.TrimSpace(out))
	if err != nil || endpoint.Host != "localhost:8080" || endpoint.Path != "/codec/k/the-operator-token" {
		t.Errorf("the UI gets codec endpoint %q, want http://localhost:8080/codec/k/the-operator-token", out)
	}

	// Once the UI signs its users in, their own tokens go to the codec.
	env["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] = "true"
	if out, err := runScript(t, ui, map[string]string{mount: tokens}, work, env); err != nil || strings.TrimSpace(out) != "http://localhost:8080/codec" {
		t.Errorf("with TEMPORAL_CODEC_PASS_ACCESS_TOKEN=true the UI gets %q (%v), want the plain endpoint", out, err)
	}
}

// bootstrap runs our image's complaintctl: it is run here with the real
// binary minting the tokens (no database needed) and a stand-in for
// `apikey create`, which needs the database.
func TestBootstrapScriptMakesTheFirstCredentials(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs a POSIX shell")
	}
	p := loadCompose(t, nil)
	s := service(t, p, "bootstrap")
	if s.Image != service(t, p, "api").Image || s.Restart != types.RestartPolicyNo {
		t.Errorf("bootstrap runs image %q with restart %q, want our image, once", s.Image, s.Restart)
	}
	if volumeTarget(s, "bootstrap") != bootstrapDir {
		t.Errorf("bootstrap keeps nothing in the bootstrap volume at %s", bootstrapDir)
	}
	dockerfile, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), "chown 10001:10001 "+bootstrapDir) || !strings.Contains(string(dockerfile), "USER 10001:10001") {
		t.Errorf("the Dockerfile does not give %s to the user the image runs as", bootstrapDir)
	}
	if !strings.Contains(string(dockerfile), "./cmd/complaintctl") {
		t.Error("the Dockerfile does not build complaintctl, which bootstrap runs")
	}

	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "complaintctl.real"), "../cmd/complaintctl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build complaintctl: %v\n%s", err, out)
	}
	calls := filepath.Join(bin, "calls")
	stub := `#!/bin/sh
echo "$*" >> "` + calls + `"
if [ "$1 $2" = "apikey create" ]; then
  echo "key created" >&2
  echo "cdk_stubbedkeyfortest"
  exit 0
fi
exec "` + filepath.Join(bin, "complaintctl.real") + `" "$@"
`
	if err := os.WriteFile(filepath.Join(bin, "complaintctl"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}

	state := t.TempDir()
	vars := environment(t, s)
	vars["PATH"] = bin + string(os.PathListSeparator) + os.Getenv("PATH")
	run := func() string {
		t.Helper()
		out, err := runScript(t, s, map[string]string{bootstrapDir: state}, t.TempDir(), vars)
		if err != nil {
			t.Fatalf("bootstrap: %v", err)
		}
		return out
	}
	printed := run()

	credsFile := filepath.Join(state, "credentials.env")
	creds := readCredentials(t, credsFile)
	if creds["API_KEY"] != "cdk_stubbedkeyfortest" {
		t.Errorf("API_KEY=%q, want the key apikey create printed", creds["API_KEY"])
	}
	for k, v := range creds {
		if !strings.Contains(printed, k+"="+v) {
			t.Errorf("bootstrap does not print %s", k)
		}
	}
	if fi, err := os.Stat(credsFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials.env: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}
	operator, err := os.ReadFile(filepath.Join(state, "operator-token"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(operator)) != creds["OPERATOR_TOKEN"] {
		t.Error("operator-token is not the OPERATOR_TOKEN of credentials.env")
	}
	if fi, _ := os.Stat(filepath.Join(state, "operator-token")); fi.Mode().Perm() != 0o644 {
		t.Errorf("operator-token has mode %v; the UI's user must read it", fi.Mode().Perm())
	}

	// The tokens are what the API accepts, each with its role and subject.
	cfg, err := env.ParseAsWithOptions[auth.Config](env.Options{Environment: environment(t, s)})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(cfg.Tokens())
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]auth.Identity{
		"ADMIN_TOKEN":    {Subject: vars["BOOTSTRAP_ADMIN"], Role: auth.RoleAdmin},
		"STAFF_TOKEN":    {Subject: vars["BOOTSTRAP_SUPERVISOR"], Role: auth.RoleSupervisor},
		"OPERATOR_TOKEN": {Subject: "temporal-ui", Role: auth.RoleOperator},
	} {
		id, err := verifier.Verify(creds[name])
		if err != nil || id.Subject != want.Subject || id.Role != want.Role {
			t.Errorf("%s: %+v (%v), want subject %q role %s", name, id, err, want.Subject, want.Role)
		}
	}

	// A second run keeps the system's key (only its hash is in the
	// database) and mints new tokens.
	run()
	again := readCredentials(t, credsFile)
	if again["API_KEY"] != creds["API_KEY"] {
		t.Errorf("the second run replaced the API key %q with %q", creds["API_KEY"], again["API_KEY"])
	}
	log, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "apikey create"); n != 1 {
		t.Errorf("two runs created %d API keys, want 1:\n%s", n, log)
	}
	if want := "apikey create --name " + vars["BOOTSTRAP_SYSTEM"] + " --system " + vars["BOOTSTRAP_SYSTEM"]; !strings.Contains(string(log), want) {
		t.Errorf("bootstrap does not run %q:\n%s", want, log)
	}
}

// readCredentials reads bootstrap's credentials.env.
func readCredentials(t *testing.T, path string) map[string]string {
	t.Helper()
	creds := readEnvFile(t, path, false)
	want := []string{"ADMIN_TOKEN", "API_KEY", "OPERATOR_TOKEN", "STAFF_TOKEN"}
	if got := slices.Sorted(maps.Keys(creds)); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s holds %v, want %v", path, got, want)
	}
	return creds
}
