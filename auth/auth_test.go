package auth

import (
	"strings"
	"testing"
	"time"
)

var testConfig = TokenConfig{Secret: []byte("a-test-secret-of-at-least-32-bytes"), Issuer: "complaintdesk",
	Audience: "complaints-api"}

// A staff token cannot be revoked on its own: none is accepted for longer
// than the configured lifetime, 12 hours unless configured.
func TestStaffTokenLifetimeIsCapped(t *testing.T) {
	v, err := NewVerifier(testConfig)
	if err != nil {
		t.Fatal(err)
	}
	for ttl, ok := range map[time.Duration]bool{time.Hour: true, 12 * time.Hour: true, 13 * time.Hour: false,
		7 * 24 * time.Hour: false} {
		tok, err := MintHS256(testConfig, "li.na", RoleAgent, nil, ttl)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(tok); (err == nil) != ok {
			t.Errorf("a token valid for %s: %v, want accepted %v", ttl, err, ok)
		}
	}
	short := testConfig
	short.MaxLifetime = time.Hour
	v, err = NewVerifier(short)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := MintHS256(short, "li.na", RoleAgent, nil, 2*time.Hour)
	if _, err := v.Verify(tok); err == nil {
		t.Fatal("a 2 h token accepted under a 1 h cap")
	}
}

// A subject with ':' could pass for an API key or a system's own agent.
func TestSubjectsWithAColonAreRefused(t *testing.T) {
	v, _ := NewVerifier(testConfig)
	tok, _ := MintHS256(testConfig, "shop:agent.li", RoleAgent, nil, time.Hour)
	if _, err := v.Verify(tok); err == nil {
		t.Fatal("a token for shop:agent.li was accepted")
	}
}

func TestSecretsShorterThan32BytesAreRefused(t *testing.T) {
	if err := CheckSecret("SURVEY_LINK_SECRET", "short"); err == nil || !strings.Contains(err.Error(), "SURVEY_LINK_SECRET") {
		t.Fatalf("a 5-byte secret: %v", err)
	}
	if err := CheckSecret("SURVEY_LINK_SECRET", strings.Repeat("k", 32)); err != nil {
		t.Fatal(err)
	}
}
