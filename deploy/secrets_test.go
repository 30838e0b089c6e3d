package deploy

import (
	"fmt"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// secretName matches the variables that hold a password, a key or a token
// (a name like TEMPORAL_CODEC_PASS_ACCESS_TOKEN set to true or false is a
// switch, and no secret).
var secretName = regexp.MustCompile(`(PASSWORD|PWD|SECRETS?|TOKEN|MASTER_KEYS|API_KEY)$`)

// literalSecrets names each secret the project's services carry that does
// not come from the environment file: with every variable of secrets set to
// a value of its own, a secret must be empty (not configured) or exactly one
// of those values, and a URL's password likewise.
func literalSecrets(p *types.Project, secrets map[string]string) []string {
	fromEnvFile := map[string]bool{}
	for _, v := range secrets {
		fromEnvFile[v] = true
	}
	var found []string
	for _, s := range p.Services {
		for _, k := range slices.Sorted(maps.Keys(s.Environment)) {
			v := s.Environment[k]
			if v == nil || *v == "" || *v == "true" || *v == "false" {
				continue
			}
			if secretName.MatchString(k) && !fromEnvFile[*v] {
				found = append(found, fmt.Sprintf("%s: %s is written in the compose file", s.Name, k))
			}
			if u, err := url.Parse(*v); err == nil && u.User != nil {
				if pw, set := u.User.Password(); set && !fromEnvFile[pw] {
					found = append(found, fmt.Sprintf("%s: the password in %s is written in the compose file", s.Name, k))
				}
			}
		}
	}
	return found
}

func TestNoSecretIsWrittenInTheComposeFile(t *testing.T) {
	secrets := testSecrets(t)
	for _, bad := range literalSecrets(loadCompose(t, nil), secrets) {
		t.Error(bad)
	}

	// The secrets the services are known to need really come from it.
	for _, want := range []string{"TEMPORAL_DB_PASSWORD", "APP_DB_PASSWORD", "AUTH_TOKEN_SECRET", "CODEC_MASTER_KEYS", "SURVEY_LINK_SECRET"} {
		if _, ok := secrets[want]; !ok {
			t.Errorf("%s does not ask for %s", envExample, want)
		}
	}
}

func TestLiteralSecretsFindsWrittenPasswords(t *testing.T) {
	secrets := map[string]string{"DB_PASSWORD": "from-the-env-file"}
	p := loadSnippet(t, `
services:
  db: {image: x, environment: {POSTGRES_PASSWORD: temporal, POSTGRES_USER: temporal}}
  ok: {image: x, environment: {POSTGRES_PWD: "${DB_PASSWORD}", SMTP_PASSWORD: "${SMTP_PASSWORD:-}"}}
  defaulted: {image: x, environment: {AUTH_TOKEN_SECRET: "${AUTH_TOKEN_SECRET:-changeme}"}}
  app: {image: x, environment: {DATABASE_URL: "postgres://u:complaints@db/x", GOOD_URL: "postgres://u:${DB_PASSWORD}@db/x"}}
`, secrets)
	got := literalSecrets(p, secrets)
	want := []string{
		"app: the password in DATABASE_URL is written in the compose file",
		"db: POSTGRES_PASSWORD is written in the compose file",
		"defaulted: AUTH_TOKEN_SECRET is written in the compose file",
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("literalSecrets found\n%q\nwant\n%q", got, want)
	}
}

// .env.example holds no value, and the compose file refuses to start without
// each password it needs rather than running with an empty one.
func TestEnvExampleListsTheSecretsAndComposeRequiresThem(t *testing.T) {
	for name, value := range readEnvFile(t, envExample, false) {
		if value != "" {
			t.Errorf("%s gives %s a value; it must hold none", envExample, name)
		}
	}

	compose, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	required := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+):\?`).FindAllStringSubmatch(string(compose), -1) {
		required[m[1]] = true
	}
	names := envExampleNames(t)
	for name := range required {
		if !slices.Contains(names, name) {
			t.Errorf("the compose file requires %s, which %s does not list", name, envExample)
		}
	}
	for _, name := range []string{"TEMPORAL_DB_PASSWORD", "APP_DB_PASSWORD", "AUTH_TOKEN_SECRET", "CODEC_MASTER_KEYS"} {
		if !required[name] {
			t.Errorf("the compose file does not require %s (${%s:?...})", name, name)
			continue
		}
		env := testSecrets(t)
		delete(env, name)
		if _, err := tryLoadCompose(t, env); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s the compose file loads (error %v)", name, err)
		}
	}

	// The filled-in copy stays out of version control.
	ignore, err := os.ReadFile("../.gitignore")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Fields(string(ignore)), ".env") {
		t.Error(".gitignore does not ignore .env")
	}
}
