package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
)

// The API's own default trusts no proxy: a header from the peer is not
// believed, so a fresh X-Forwarded-For on every wrong token does not reset
// the count.
func TestForwardedForFromAnUntrustedPeerDoesNotResetTheLimit(t *testing.T) {
	var cfg Config
	if err := env.ParseWithOptions(&cfg, env.Options{Environment: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if len(cfg.TrustedProxies) != 0 {
		t.Fatalf("trusted proxies by default: %v", cfg.TrustedProxies)
	}
	h := securedServer(&fakeCases{}, &fakeSubmitters{})
	limited := false
	for i := range 30 {
		req := httptest.NewRequest(http.MethodGet, "/v1/complaints/"+caseRef, nil)
		req.RemoteAddr = "127.0.0.1:50000"
		req.Header.Set("Authorization", "Bearer not-a-token")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		limited = limited || rec.Code == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("30 wrong tokens, each with a fresh X-Forwarded-For, were never limited")
	}
}

// Failures from one address (a NAT, an office) do not lock out a valid
// credential from the same address.
func TestValidCredentialIsLetInFromAnAddressThatFailed(t *testing.T) {
	h := securedServer(&fakeCases{}, &fakeSubmitters{})
	for range failBurst + 5 {
		do(t, h, "GET", "/v1/complaints/"+caseRef, "", "Authorization", "Bearer not-a-token")
	}
	if rec := do(t, h, "GET", "/v1/complaints/"+caseRef, "", "Authorization", "Bearer not-a-token"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("one more wrong token: %d, want 429", rec.Code)
	}
	for _, who := range []string{adminToken, shopKey} {
		if rec := do(t, h, "GET", "/v1/complaints/"+caseRef, "", "Authorization", "Bearer "+who); rec.Code != http.StatusOK {
			t.Fatalf("a valid credential from the same address: %d %s", rec.Code, rec.Body)
		}
	}
}

// An IPv6 subscriber gets a /64: its addresses share one budget.
func TestIPv6ClientsAreCountedPerSlash64(t *testing.T) {
	a := testAuth()
	addr := func(remote string) string { return clientOf(a, remote, "") }
	one, two := addr("[2001:db8:1:2::a]:4000"), addr("[2001:db8:1:2:ffff::b]:4000")
	if one != two || one != "2001:db8:1:2::/64" {
		t.Fatalf("two addresses of one /64 counted as %q and %q", one, two)
	}
	if addr("[2001:db8:1:3::a]:4000") == one {
		t.Fatal("another /64 shares the budget")
	}
	a.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	if got := clientOf(a, "10.1.2.3:4000", "2001:db8:9:9::1"); got != "2001:db8:9:9::/64" {
		t.Fatalf("an IPv6 client behind a proxy: %q", got)
	}
}

// clientOf is the client address a counts for a request from peer with the
// X-Forwarded-For header forwarded.
func clientOf(a *Authenticator, peer, forwarded string) string {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = peer
	if forwarded != "" {
		req.Header.Set("X-Forwarded-For", forwarded)
	}
	return a.clientAddr(req)
}

// However many addresses fail, the limits keep a bounded number of buckets.
func TestLimiterMemoryIsBounded(t *testing.T) {
	a := testAuth()
	for i := range maxLimiters + 1000 {
		a.failing(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String(), 1)
	}
	if n := a.limiters.Len(); n > maxLimiters {
		t.Fatalf("%d buckets kept, bound %d", n, maxLimiters)
	}
}

// The public endpoints (the probes, the survey) have a budget per client
// address: /readyz calls Temporal and the database.
func TestPublicEndpointsAreLimitedPerClient(t *testing.T) {
	h := securedServer(&fakeCases{}, &fakeSubmitters{})
	call := func(remote string) int {
		req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	limited := false
	for range publicBurst + 5 {
		limited = limited || call("203.0.113.7:4000") == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatalf("%d calls of /readyz from one address were never limited", publicBurst+5)
	}
	if code := call("203.0.113.8:4000"); code != http.StatusOK {
		t.Fatalf("another client: %d", code)
	}
}

// Not ready says so, and nothing of why: no server's message, no address.
func TestReadinessTellsNoInternals(t *testing.T) {
	for _, s := range []*Server{
		{Cases: &fakeCases{err: errors.New("dial tcp 10.0.0.5:7233: connection refused")}, Database: pinger{}},
		{Cases: &fakeCases{}, Database: pinger{err: errors.New(`FATAL: password authentication failed for user "complaints"`)}},
	} {
		s.RequestTimeout, s.Auth, s.Logger = time.Second, testAuth(), slog.New(slog.DiscardHandler)
		rec := do(t, s.Handler(), http.MethodGet, "/readyz", "")
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("readyz: %d", rec.Code)
		}
		for _, leak := range []string{"10.0.0.5", "7233", "password", "complaints", "refused", "Temporal", "database"} {
			if strings.Contains(rec.Body.String(), leak) {
				t.Fatalf("the answer tells %q: %s", leak, rec.Body)
			}
		}
	}
}
