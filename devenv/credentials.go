package devenv

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/store"
)

// Secrets are a development installation's token secret, master key and
// survey link secret, kept in a file so that the history written under them
// stays readable and the links already sent keep working.
type Secrets struct {
	TokenSecret      string
	MasterKeys       string
	SurveyLinkSecret string
}

// Env is the secrets as environment entries for the services.
func (s Secrets) Env() []string {
	return []string{"AUTH_TOKEN_SECRET=" + s.TokenSecret, "CODEC_MASTER_KEYS=" + s.MasterKeys,
		"SURVEY_LINK_SECRET=" + s.SurveyLinkSecret}
}

// LoadSecrets reads path, or makes new secrets and writes them there.
func LoadSecrets(path string) (Secrets, error) {
	var s Secrets
	if data, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
			switch k {
			case "AUTH_TOKEN_SECRET":
				s.TokenSecret = v
			case "CODEC_MASTER_KEYS":
				s.MasterKeys = v
			case "SURVEY_LINK_SECRET":
				s.SurveyLinkSecret = v
			}
		}
		switch {
		case s.TokenSecret != "" && s.MasterKeys != "" && s.SurveyLinkSecret != "":
			return s, nil
		case s.TokenSecret != "" && s.MasterKeys != "": // written before survey links were signed
			if s.SurveyLinkSecret, err = randomSecret(); err != nil {
				return s, err
			}
			return s, s.write(path)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return s, err
	}
	s, err := NewSecrets()
	if err != nil {
		return s, err
	}
	return s, s.write(path)
}

func (s Secrets) write(path string) error {
	return os.WriteFile(path, []byte(strings.Join(s.Env(), "\n")+"\n"), 0o600)
}

func randomSecret() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// NewSecrets makes a random token secret, master key and survey link secret.
func NewSecrets() (Secrets, error) {
	var s Secrets
	var err error
	if s.TokenSecret, err = randomSecret(); err != nil {
		return s, err
	}
	if s.SurveyLinkSecret, err = randomSecret(); err != nil {
		return s, err
	}
	s.MasterKeys, err = codec.NewMasterKey("dev1")
	return s, err
}

// Credentials are working development credentials (INTERFACE.md).
type Credentials struct {
	APIKey      string // upstream system "dev-shop"
	StaffToken  string // a supervisor
	AdminToken  string
	CodecToken  string // an operator: the Temporal UI decodes with it
	TokenConfig auth.TokenConfig
}

// DevTokenConfig is the token configuration the services use by default.
func DevTokenConfig(secret string) auth.TokenConfig {
	return auth.TokenConfig{Secret: []byte(secret), Issuer: "complaintdesk", Audience: "complaints-api"}
}

// MakeCredentials mints tokens valid for ttl and makes sure the API key
// named in previous (a credentials file, may be empty) still works, or
// creates one.
func MakeCredentials(ctx context.Context, db *store.Store, secrets Secrets, previousKey string, ttl time.Duration) (Credentials, error) {
	c := Credentials{TokenConfig: DevTokenConfig(secrets.TokenSecret)}
	var err error
	for _, t := range []struct {
		dst  *string
		sub  string
		role auth.Role
	}{
		{&c.StaffToken, "dev.supervisor", auth.RoleSupervisor},
		{&c.AdminToken, "dev.admin", auth.RoleAdmin},
		{&c.CodecToken, "temporal-ui", auth.RoleOperator},
	} {
		if *t.dst, err = auth.MintHS256(c.TokenConfig, t.sub, t.role, nil, ttl); err != nil {
			return c, err
		}
	}
	if previousKey != "" {
		if _, err := db.APIKeyByHash(ctx, auth.HashAPIKey(previousKey)); err == nil {
			c.APIKey = previousKey
			return c, nil
		}
	}
	id, secret, hash, err := auth.NewAPIKey()
	if err != nil {
		return c, err
	}
	if err := db.CreateAPIKey(ctx, store.APIKey{ID: id, Name: "dev-shop", System: "dev-shop"}, hash); err != nil {
		return c, fmt.Errorf("create the development API key: %w", err)
	}
	c.APIKey = secret
	return c, nil
}

// ReadCredential reads one variable of a credentials file; empty when absent.
func ReadCredential(path, name string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+"="); ok {
			return v
		}
	}
	return ""
}

// Write puts the credentials into path in shell syntax.
func (c Credentials) Write(path string) error {
	content := fmt.Sprintf("# development credentials; both kinds travel as Authorization: Bearer ...\n"+
		"API_KEY=%s\nSTAFF_TOKEN=%s\nADMIN_TOKEN=%s\nOPERATOR_TOKEN=%s\n", c.APIKey, c.StaffToken, c.AdminToken, c.CodecToken)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o600)
}

// WriteCredentials makes credentials valid for ttl against the database at
// dsn, keeping the API key of an earlier file at path, and writes them
// there: what `make dev` and `make prod` print.
func WriteCredentials(ctx context.Context, dsn, path string, secrets Secrets, ttl time.Duration) (Credentials, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return Credentials{}, err
	}
	defer db.Close()
	creds, err := MakeCredentials(ctx, db, secrets, ReadCredential(path, "API_KEY"), ttl)
	if err != nil {
		return creds, err
	}
	return creds, creds.Write(path)
}
