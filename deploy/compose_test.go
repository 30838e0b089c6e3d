// Package deploy checks the production compose file (../docker-compose.yml)
// against the code it deploys: the configuration structs of the api and
// worker, the case search attributes and the image versions of versions.env.
package deploy

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/complaintdesk/complaintdesk/api"
	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/connection"
	"github.com/complaintdesk/complaintdesk/worker"
)

const (
	composeFile  = "../docker-compose.yml"
	versionsFile = "versions.env"
	// envExample is what the operator copies to ../.env and fills in.
	envExample = "../.env.example"

	completed = types.ServiceConditionCompletedSuccessfully
	healthy   = types.ServiceConditionHealthy
)

// loadCompose loads the compose file as `docker compose` would, with the
// filled-in secrets of testSecrets and env (which wins) as the only
// environment: neither the caller's shell nor a .env file leaks in.
func loadCompose(t *testing.T, env map[string]string, envFiles ...string) *types.Project {
	t.Helper()
	all := testSecrets(t)
	maps.Copy(all, env)
	p, err := tryLoadCompose(t, all, envFiles...)
	if err != nil {
		t.Fatalf("load %s: %v", composeFile, err)
	}
	return p
}

// tryLoadCompose loads the compose file with exactly env as the environment.
func tryLoadCompose(t *testing.T, env map[string]string, envFiles ...string) (*types.Project, error) {
	t.Helper()
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{composeFile},
		cli.WithWorkingDirectory(".."),
		cli.WithEnv(list),
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(envFiles) == 0 {
		opts.EnvFiles = nil // no implicit ../.env
	}
	return opts.LoadProject(t.Context())
}

// testSecrets stands in for the .env an operator writes from .env.example:
// each variable gets a value of 32 bytes and more that names it, so that a
// test can tell where every secret ends up.
func testSecrets(t *testing.T) map[string]string {
	t.Helper()
	secrets := map[string]string{}
	for _, name := range envExampleNames(t) {
		secrets[name] = secretValue(name)
	}
	return secrets
}

func secretValue(name string) string {
	return "test-" + strings.ToLower(strings.ReplaceAll(name, "_", "-")) + "-0123456789abcdef0123456789abcdef"
}

// envExampleNames lists the variables .env.example asks for.
func envExampleNames(t *testing.T) []string {
	t.Helper()
	names := slices.Sorted(maps.Keys(readEnvFile(t, envExample, false)))
	if len(names) == 0 {
		t.Fatalf("%s names no variable", envExample)
	}
	return names
}

// envLine is a NAME=value line of an environment file; envLineCommented
// also takes a commented-out example ("# NAME=value").
var (
	envLine          = regexp.MustCompile(`(?m)^([A-Z][A-Z0-9_]*)=(.*)$`)
	envLineCommented = regexp.MustCompile(`(?m)^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$`)
)

// readEnvFile reads the NAME=value lines of an environment file (.env,
// systemd's EnvironmentFile, bootstrap's credentials.env).
func readEnvFile(t *testing.T, path string, commented bool) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := envLine
	if commented {
		re = envLineCommented
	}
	vars := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
		vars[m[1]] = m[2]
	}
	return vars
}

// loadSnippet loads compose text given inline, to show that a check finds
// what it is meant to find.
func loadSnippet(t *testing.T, content string, env map[string]string) *types.Project {
	t.Helper()
	p, err := loader.LoadWithContext(t.Context(), types.ConfigDetails{
		WorkingDir:  t.TempDir(),
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yml", Content: []byte(content)}},
		Environment: env,
	}, func(o *loader.Options) { o.SetProjectName("snippet", true) })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// environment returns the variables a service sets; a variable left to the
// host environment (`- NAME` without a value) fails the test.
func environment(t *testing.T, s types.ServiceConfig) map[string]string {
	t.Helper()
	env := map[string]string{}
	for k, v := range s.Environment {
		if v == nil {
			t.Errorf("%s: %s takes its value from the host environment", s.Name, k)
			continue
		}
		env[k] = *v
	}
	return env
}

func readVersions(t *testing.T) map[string]string {
	t.Helper()
	versions, err := dotenv.GetEnvFromFile(map[string]string{}, []string{versionsFile})
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) == 0 {
		t.Fatalf("%s holds no versions", versionsFile)
	}
	return versions
}

// appServices run our image: the jobs and services that run its binaries.
var appServices = []string{"migrate", "bootstrap", "worker", "api"}

// jobs run once per `up` and exit; every other service runs for good.
var jobs = map[string]bool{"temporal-schema": true, "temporal-namespace": true, "migrate": true, "bootstrap": true}

func TestServicesAreTheExpectedOnes(t *testing.T) {
	p := loadCompose(t, nil)
	want := []string{
		"postgresql", "temporal-schema", "temporal", "temporal-namespace", "temporal-ui",
		"app-db", "migrate", "bootstrap", "worker", "api", "mailpit",
	}
	got := p.ServiceNames()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("services %v, want %v", got, want)
	}
	for _, name := range appServices {
		s := service(t, p, name)
		if s.Build == nil || s.Build.Context != filepath.Dir(mustAbs(t, composeFile)) {
			t.Errorf("%s does not build the repository's Dockerfile: %+v", name, s.Build)
		}
		if s.Image != service(t, p, "api").Image {
			t.Errorf("%s runs image %q, api runs %q: the services share one image", name, s.Image, service(t, p, "api").Image)
		}
	}
}

// officialImages maps each service on a third-party image to that image's
// repository and the versions.env variable holding its tag.
var officialImages = map[string]struct{ repo, versionVar string }{
	"postgresql":         {"postgres", "POSTGRES_VERSION"},
	"app-db":             {"postgres", "POSTGRES_VERSION"},
	"temporal-schema":    {"temporalio/admin-tools", "TEMPORAL_ADMINTOOLS_VERSION"},
	"temporal":           {"temporalio/server", "TEMPORAL_VERSION"},
	"temporal-namespace": {"temporalio/admin-tools", "TEMPORAL_ADMINTOOLS_VERSION"},
	"temporal-ui":        {"temporalio/ui", "TEMPORAL_UI_VERSION"},
	"mailpit":            {"axllent/mailpit", "MAILPIT_VERSION"},
}

func TestImagesAreOfficialWithVersionsEnvDefaults(t *testing.T) {
	versions := readVersions(t)
	used := map[string]bool{}
	for _, img := range officialImages {
		used[img.versionVar] = true
	}
	if got, want := slices.Sorted(maps.Keys(versions)), slices.Sorted(maps.Keys(used)); !slices.Equal(got, want) {
		t.Errorf("%s sets %v, the compose file's images use %v", versionsFile, got, want)
	}

	check := func(p *types.Project, tag func(versionVar string) string, how string) {
		t.Helper()
		for name, img := range officialImages {
			want := img.repo + ":" + tag(img.versionVar)
			if got := service(t, p, name).Image; got != want {
				t.Errorf("%s: %s image %q, want %q", how, name, got, want)
			}
		}
	}
	// The defaults written in the compose file.
	check(loadCompose(t, nil), func(v string) string { return versions[v] }, "defaults")
	// versions.env given as --env-file.
	check(loadCompose(t, nil, versionsFile), func(v string) string { return versions[v] }, "--env-file "+versionsFile)
	// Every tag really follows its variable.
	override := map[string]string{}
	for v := range used {
		override[v] = "override-" + strings.ToLower(v)
	}
	check(loadCompose(t, override), func(v string) string { return override[v] }, "overridden")

	// Every ${VAR:-default} of a versions.env variable in the file agrees,
	// wherever it is used.
	raw, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(:?-)([^}]*)\}`).FindAllStringSubmatch(string(raw), -1) {
		if want, ok := versions[m[1]]; ok && m[3] != want {
			t.Errorf("%s defaults to %q in the compose file and %q in %s", m[1], m[3], want, versionsFile)
		}
	}

	// The schema comes from admin-tools, so it must be the server's release.
	server, tools := versions["TEMPORAL_VERSION"], versions["TEMPORAL_ADMINTOOLS_VERSION"]
	if tools != server && !strings.HasPrefix(tools, server+"-") {
		t.Errorf("admin-tools %s is not the release of server %s", tools, server)
	}
}

// Every published port is on the host's loopback: Temporal's gRPC (which
// signals cases past the API's roles), the UI, the mail catcher (every email),
// the API with its /metrics and its inbound SMTP server (published where the
// MX reaches it by INBOUND_SMTP_PUBLISH). The worker's port (health and /metrics) is
// not published at all.
func TestPublishedPorts(t *testing.T) {
	p := loadCompose(t, nil)
	want := map[string][]string{
		"api":         {"127.0.0.1:8080:8080", "127.0.0.1:2525:2525"},
		"temporal":    {"127.0.0.1:7233:7233"},
		"temporal-ui": {"127.0.0.1:8233:8080"},
		"mailpit":     {"127.0.0.1:8025:8025"},
	}
	for _, s := range p.Services {
		var got []string
		for _, port := range s.Ports {
			if port.Protocol != "" && port.Protocol != "tcp" {
				t.Errorf("%s publishes %s/%s", s.Name, port.Published, port.Protocol)
			}
			got = append(got, port.HostIP+":"+port.Published+":"+itoa(port.Target))
		}
		if !slices.Equal(got, want[s.Name]) {
			t.Errorf("%s publishes %v, want %v", s.Name, got, want[s.Name])
		}
	}
	for _, bad := range openPorts(p) {
		t.Error(bad)
	}
}

// openPorts names each port published beyond the host's loopback.
func openPorts(p *types.Project) []string {
	var open []string
	for _, s := range p.Services {
		for _, port := range s.Ports {
			if ip := net.ParseIP(port.HostIP); ip == nil || !ip.IsLoopback() {
				open = append(open, fmt.Sprintf("%s publishes %s:%s on %q, not on loopback", s.Name, port.Published, itoa(port.Target), port.HostIP))
			}
		}
	}
	slices.Sort(open)
	return open
}

func TestOpenPortsFindsEveryNonLoopbackPublish(t *testing.T) {
	p := loadSnippet(t, `
services:
  temporal: {image: x, ports: ["7233:7233"]}
  ui: {image: x, ports: ["0.0.0.0:8233:8080"]}
  mail: {image: x, ports: ["[::]:8025:8025"]}
  api: {image: x, ports: ["127.0.0.1:8080:8080", "[::1]:8081:8080"]}
`, nil)
	got := openPorts(p)
	if len(got) != 3 {
		t.Fatalf("openPorts found %d ports, want temporal, ui and mail: %q", len(got), got)
	}
	for i, name := range []string{"mail", "temporal", "ui"} {
		if !strings.HasPrefix(got[i], name+" ") {
			t.Errorf("finding %d is %q, want one about %s", i, got[i], name)
		}
	}
}

func TestStartupOrder(t *testing.T) {
	p := loadCompose(t, nil)
	want := map[string]map[string]string{
		"postgresql":         nil,
		"temporal-schema":    {"postgresql": healthy},
		"temporal":           {"temporal-schema": completed},
		"temporal-namespace": {"temporal": healthy},
		"temporal-ui":        {"temporal": healthy, "bootstrap": completed},
		"app-db":             nil,
		"migrate":            {"app-db": healthy},
		"bootstrap":          {"migrate": completed},
		"worker":             {"migrate": completed, "temporal-namespace": completed},
		"api":                {"migrate": completed, "temporal-namespace": completed, "worker": healthy},
	}
	for _, s := range p.Services {
		got := map[string]string{}
		for dep, d := range s.DependsOn {
			got[dep] = d.Condition
			if !d.Required {
				t.Errorf("%s: dependency on %s is optional", s.Name, dep)
			}
			target := service(t, p, dep)
			switch d.Condition {
			case healthy:
				if target.HealthCheck == nil || target.HealthCheck.Disable || len(target.HealthCheck.Test) == 0 {
					t.Errorf("%s waits for %s to be healthy, which has no healthcheck", s.Name, dep)
				}
			case completed:
				// A job that restarts on success never completes.
				if target.Restart != "" && target.Restart != types.RestartPolicyNo {
					t.Errorf("%s waits for %s to complete, which restarts (%s)", s.Name, dep, target.Restart)
				}
			}
		}
		if len(want[s.Name]) == 0 && len(got) == 0 {
			continue
		}
		if !maps.Equal(got, want[s.Name]) {
			t.Errorf("%s depends on %v, want %v", s.Name, got, want[s.Name])
		}
	}

	// The jobs run once; `up --wait` accepts their exit only when a service
	// waits for them to complete. Everything else comes back after a crash
	// or a reboot.
	awaited := map[string]bool{}
	for _, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition == completed {
				awaited[dep] = true
			}
		}
	}
	for _, s := range p.Services {
		switch {
		case jobs[s.Name] && s.Restart != types.RestartPolicyNo:
			t.Errorf("job %s has restart %q, want %q", s.Name, s.Restart, types.RestartPolicyNo)
		case jobs[s.Name] && !awaited[s.Name]:
			t.Errorf("no service waits for job %s to complete", s.Name)
		case !jobs[s.Name] && s.Restart != types.RestartPolicyUnlessStopped && s.Restart != types.RestartPolicyAlways:
			t.Errorf("%s has restart %q; a long-running service must come back", s.Name, s.Restart)
		}
	}
}

// Every long-running service says when it is healthy, so that what waits
// for it (`depends_on`, `up --wait`) waits for the real thing, and `docker
// compose ps` shows a service that runs but does not serve.
func TestLongRunningServicesHaveHealthChecks(t *testing.T) {
	p := loadCompose(t, nil)
	for _, s := range p.Services {
		if jobs[s.Name] {
			continue
		}
		hc := s.HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) < 2 {
			t.Errorf("%s has no healthcheck", s.Name)
			continue
		}
		if hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL" {
			t.Errorf("%s healthcheck %v is neither CMD nor CMD-SHELL", s.Name, hc.Test)
		}
		if hc.Interval == nil || hc.Timeout == nil || hc.Retries == nil || *hc.Retries == 0 {
			t.Errorf("%s healthcheck lacks interval, timeout or retries", s.Name)
		} else if *hc.Timeout > *hc.Interval {
			t.Errorf("%s healthcheck timeout %v exceeds its interval %v", s.Name, *hc.Timeout, *hc.Interval)
		}
	}
}

// The variables each service is known to need, with their values. Checked on
// top of the rules derived from the structs, because a wrong value (another
// task queue, say) would be as broken as a missing one.
var wantEnvironment = map[string]map[string]string{
	"migrate": {
		"DATABASE_URL": "postgres://complaints:" + secretValue("APP_DB_PASSWORD") + "@app-db:5432/complaints?sslmode=disable",
	},
	"worker": {
		"TEMPORAL_ADDRESS":   "temporal:7233",
		"TEMPORAL_NAMESPACE": "default",
		"TASK_QUEUE":         "complaints",
		"DATABASE_URL":       "postgres://complaints:" + secretValue("APP_DB_PASSWORD") + "@app-db:5432/complaints?sslmode=disable",
		"WORKER_HTTP_ADDR":   "0.0.0.0:9090",
		"CODEC_MASTER_KEYS":  secretValue("CODEC_MASTER_KEYS"),
		"OTEL_SERVICE_NAME":  "complaints-worker",
	},
	"api": {
		"API_ADDR":            "0.0.0.0:8080",
		"TEMPORAL_ADDRESS":    "temporal:7233",
		"TEMPORAL_NAMESPACE":  "default",
		"TASK_QUEUE":          "complaints",
		"DATABASE_URL":        "postgres://complaints:" + secretValue("APP_DB_PASSWORD") + "@app-db:5432/complaints?sslmode=disable",
		"REQUEST_TIMEOUT":     "10s",
		"REFERENCE_TIME_ZONE": "Asia/Shanghai",
		"OTEL_SERVICE_NAME":   "complaints-api",
		"CODEC_MASTER_KEYS":   secretValue("CODEC_MASTER_KEYS"),
		"AUTH_TOKEN_SECRET":   secretValue("AUTH_TOKEN_SECRET"),
		"CODEC_CORS_ORIGINS":  "http://localhost:8233",
	},
}

func TestAppEnvironmentMatchesConfigStructs(t *testing.T) {
	p := loadCompose(t, nil)
	// complaintctl's config is in package main; it embeds connection.Config,
	// and its nested Auth is auth.Config.
	complaintctl := append(envVarsInSource(t, "../cmd/complaintctl/main.go", "config"),
		envVarsOf(t, reflect.TypeFor[connection.Config]())...)
	complaintctlAuth := append(slices.Clone(complaintctl), envVarsOf(t, reflect.TypeFor[auth.Config]())...)
	configs := map[string]struct {
		vars []envVar
		// longRunning services must override every loopback default: inside
		// a container 127.0.0.1 is the container itself.
		longRunning bool
		// scriptVars are read by the service's own script, not by a binary.
		scriptVars []string
	}{
		"api":     {vars: envVarsOf(t, reflect.TypeFor[api.Config]()), longRunning: true},
		"worker":  {vars: envVarsOf(t, reflect.TypeFor[worker.Config]()), longRunning: true},
		"migrate": {vars: complaintctl},
		"bootstrap": {vars: complaintctlAuth,
			scriptVars: []string{"BOOTSTRAP_SYSTEM", "BOOTSTRAP_ADMIN", "BOOTSTRAP_SUPERVISOR", "BOOTSTRAP_TOKEN_TTL"}},
	}

	// The walker must at least see the variables the structs are documented
	// to read, or every check below would pass vacuously.
	documented := map[string][]string{
		"api": {"API_ADDR", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TASK_QUEUE", "DATABASE_URL", "REQUEST_TIMEOUT", "REFERENCE_TIME_ZONE", "LOG_LEVEL",
			"OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL"},
		"worker": {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TASK_QUEUE", "DATABASE_URL", "WORKER_HTTP_ADDR", "LOG_LEVEL",
			"OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL"},
		"migrate":   {"DATABASE_URL"},
		"bootstrap": {"DATABASE_URL", "AUTH_TOKEN_SECRET"},
	}

	for name, cfg := range configs {
		known := map[string]envVar{}
		for _, v := range cfg.vars {
			known[v.Name] = v
		}
		script := strings.Join(service(t, p, name).Command, "\n")
		for _, v := range cfg.scriptVars {
			if !strings.Contains(script, "$"+v) {
				t.Errorf("%s: its script does not read %s", name, v)
			}
			known[v] = envVar{Name: v}
		}
		for _, d := range documented[name] {
			if _, ok := known[d]; !ok {
				t.Errorf("%s: the config struct reads no %s (it reads %v)", name, d, envNames(cfg.vars))
			}
		}

		env := environment(t, service(t, p, name))
		for k := range env {
			if _, ok := known[k]; !ok {
				t.Errorf("%s sets %s, which its config does not read (it reads %v)", name, k, envNames(cfg.vars))
			}
		}
		for _, v := range cfg.vars {
			_, set := env[v.Name]
			switch {
			case v.Required && (!set || env[v.Name] == ""):
				t.Errorf("%s: required %s (%s) is not set", name, v.Name, v.Field)
			case cfg.longRunning && v.loopbackDefault() && !set:
				t.Errorf("%s: %s defaults to %q, which is loopback inside the container; set it", name, v.Name, v.Default)
			}
		}
		for k, want := range wantEnvironment[name] {
			if got, ok := env[k]; !ok || got != want {
				t.Errorf("%s: %s=%q, want %q", name, k, got, want)
			}
		}
	}
}

// The addresses the services are given must point at what the file runs.
func TestAppAddressesPointAtTheStack(t *testing.T) {
	p := loadCompose(t, nil)
	appDB := environment(t, service(t, p, "app-db"))
	nsJob := environment(t, service(t, p, "temporal-namespace"))
	for _, name := range appServices {
		env := environment(t, service(t, p, name))

		u, err := url.Parse(env["DATABASE_URL"])
		if err != nil {
			t.Fatalf("%s: DATABASE_URL: %v", name, err)
		}
		pw, _ := u.User.Password()
		if u.Hostname() != "app-db" || u.Port() != "5432" || u.User.Username() != appDB["POSTGRES_USER"] ||
			pw != appDB["POSTGRES_PASSWORD"] || strings.TrimPrefix(u.Path, "/") != appDB["POSTGRES_DB"] {
			t.Errorf("%s: DATABASE_URL %s does not match the app-db service %v", name, u.Redacted(), appDB)
		}

		if addr, ok := env["TEMPORAL_ADDRESS"]; ok {
			host, port, err := net.SplitHostPort(addr)
			if err != nil || host != "temporal" || port != "7233" {
				t.Errorf("%s: TEMPORAL_ADDRESS %q is not the temporal service's frontend", name, addr)
			}
			if env["TEMPORAL_NAMESPACE"] != nsJob["NAMESPACE"] {
				t.Errorf("%s uses namespace %q, temporal-namespace prepares %q", name, env["TEMPORAL_NAMESPACE"], nsJob["NAMESPACE"])
			}
			if env["TASK_QUEUE"] != complaint.TaskQueue {
				t.Errorf("%s: TASK_QUEUE %q, the code's queue is %q", name, env["TASK_QUEUE"], complaint.TaskQueue)
			}
		}
	}
	if nsJob["TEMPORAL_ADDRESS"] != "temporal:7233" {
		t.Errorf("temporal-namespace talks to %q", nsJob["TEMPORAL_ADDRESS"])
	}

	// The API listens on the port it publishes and is probed on; the worker
	// is probed where it serves /healthz.
	probes := map[string]struct{ listenVar, path, alsoVar string }{
		"api":    {"API_ADDR", "/readyz", "INBOUND_SMTP_ADDR"},
		"worker": {"WORKER_HTTP_ADDR", "/healthz", ""},
	}
	for name, probe := range probes {
		s := service(t, p, name)
		_, port, err := net.SplitHostPort(environment(t, s)[probe.listenVar])
		if err != nil {
			t.Fatalf("%s: %s: %v", name, probe.listenVar, err)
		}
		if s.HealthCheck == nil {
			t.Fatalf("%s has no healthcheck", name)
		}
		test := strings.Join(s.HealthCheck.Test, " ")
		if want := "http://127.0.0.1:" + port + probe.path; !strings.Contains(test, want) {
			t.Errorf("%s healthcheck %q does not probe %s", name, test, want)
		}
		also := ""
		if probe.alsoVar != "" {
			if _, also, err = net.SplitHostPort(environment(t, s)[probe.alsoVar]); err != nil {
				t.Fatalf("%s: %s: %v", name, probe.alsoVar, err)
			}
		}
		for _, published := range s.Ports {
			if target := itoa(published.Target); target != port && target != also {
				t.Errorf("%s publishes container port %d but listens on %s (and %q)", name, published.Target, port, also)
			}
		}
	}
}

// The binaries the services run are the ones the Dockerfile builds.
func TestAppCommandsAreBuiltByTheDockerfile(t *testing.T) {
	p := loadCompose(t, nil)
	dockerfile, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range appServices {
		if name == "bootstrap" {
			continue // a script: TestBootstrapScriptMakesTheFirstCredentials
		}
		cmd := service(t, p, name).Command
		if len(cmd) == 0 {
			t.Errorf("%s has no command", name)
			continue
		}
		bin := cmd[0]
		if fi, err := os.Stat(filepath.Join("../cmd", bin)); err != nil || !fi.IsDir() {
			t.Errorf("%s runs %q, which is no command under cmd/", name, bin)
		}
		if !strings.Contains(string(dockerfile), "./cmd/"+bin) {
			t.Errorf("%s runs %q, which the Dockerfile does not build", name, bin)
		}
	}
	if got := service(t, p, "migrate").Command; !slices.Equal(got, types.ShellCommand{"complaintctl", "migrate"}) {
		t.Errorf("migrate runs %v", got)
	}
}

func TestTemporalPersistenceIsConsistent(t *testing.T) {
	p := loadCompose(t, nil)
	db := environment(t, service(t, p, "postgresql"))
	schema := environment(t, service(t, p, "temporal-schema"))
	server := environment(t, service(t, p, "temporal"))

	pairs := [][3]string{ // what, server's value, schema job's value
		{"plugin", server["DB"], schema["SQL_PLUGIN"]},
		{"host", server["POSTGRES_SEEDS"], schema["SQL_HOST"]},
		{"port", server["DB_PORT"], schema["SQL_PORT"]},
		{"user", server["POSTGRES_USER"], schema["SQL_USER"]},
		{"password", server["POSTGRES_PWD"], schema["SQL_PASSWORD"]},
		{"database user", db["POSTGRES_USER"], schema["SQL_USER"]},
		{"database password", db["POSTGRES_PASSWORD"], schema["SQL_PASSWORD"]},
	}
	for _, pair := range pairs {
		if pair[1] == "" || pair[1] != pair[2] {
			t.Errorf("%s: server/database %q, schema job %q", pair[0], pair[1], pair[2])
		}
	}
	if server["DB"] != "postgres12" || server["POSTGRES_SEEDS"] != "postgresql" {
		t.Errorf("temporal persistence DB=%s POSTGRES_SEEDS=%s", server["DB"], server["POSTGRES_SEEDS"])
	}

	// Both databases are created and migrated from the image's schema dirs.
	script := strings.Join(service(t, p, "temporal-schema").Command, "\n")
	for _, want := range []string{
		"create-database", "setup-schema -v 0.0", "update-schema -d",
		"migrate temporal temporal\n", "migrate temporal_visibility visibility\n",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("temporal-schema script lacks %q", want)
		}
	}
	if schema["SCHEMA_DIR"] != "/etc/temporal/schema/postgresql/v12" {
		t.Errorf("SCHEMA_DIR=%q", schema["SCHEMA_DIR"])
	}

	// The dynamic config file the server is told to read is mounted.
	path := server["DYNAMIC_CONFIG_FILE_PATH"]
	found := false
	for _, v := range service(t, p, "temporal").Volumes {
		rel, err := filepath.Rel(v.Target, path)
		if v.Type != types.VolumeTypeBind || err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		if _, err := os.Stat(filepath.Join(v.Source, rel)); err != nil {
			t.Errorf("DYNAMIC_CONFIG_FILE_PATH %s: %v", path, err)
		}
		found = true
	}
	if !found {
		t.Errorf("DYNAMIC_CONFIG_FILE_PATH %q is in no bind mount", path)
	}
}

// wantSearchAttributes are the case search attributes, spelled as Temporal's
// CLI spells their types.
var wantSearchAttributes = map[string]string{
	"ComplaintStatus":   "Keyword",
	"ComplaintCategory": "Keyword",
	"ComplaintPriority": "Keyword",
	"ComplaintChannel":  "Keyword",
	"CaseOwner":         "Keyword",
	"Departments":       "KeywordList",
	"EscalationLevel":   "Int",
	"SlaBreached":       "Bool",
	"NextDeadline":      "Datetime",
}

func TestNamespaceJobRegistersTheSearchAttributes(t *testing.T) {
	p := loadCompose(t, nil)
	job := service(t, p, "temporal-namespace")
	script := strings.Join(job.Command, "\n")

	// Each `search_attribute NAME TYPE` line runs the CLI's create command.
	for _, want := range []string{
		"temporal operator search-attribute create", `--namespace "$NAMESPACE"`, `--name "$1"`, `--type "$2"`,
		"temporal operator namespace create",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("temporal-namespace script lacks %q", want)
		}
	}
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*search_attribute\s+(\S+)\s+(\S+)\s*$`).FindAllStringSubmatch(script, -1) {
		if _, dup := got[m[1]]; dup {
			t.Errorf("search attribute %s registered twice", m[1])
		}
		got[m[1]] = m[2]
	}
	if !maps.Equal(got, wantSearchAttributes) {
		t.Errorf("temporal-namespace registers %v, want %v", got, wantSearchAttributes)
	}

	// And they are the ones the code upserts.
	code := map[string]string{}
	for k, v := range complaint.SearchAttributes {
		code[k] = string(v)
	}
	if !maps.Equal(got, code) {
		t.Errorf("temporal-namespace registers %v, complaint.SearchAttributes is %v", got, code)
	}
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func itoa(n uint32) string {
	return strconv.FormatUint(uint64(n), 10)
}
