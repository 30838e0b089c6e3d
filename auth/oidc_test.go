package auth

import (
	"errors"
	"testing"
)

// The claims of the common providers map onto one staff identity: the
// defaults (roles, departments, preferred_username), Keycloak's realm
// roles by a dotted path with a prefix, and the refusals.
func TestClaimMapping(t *testing.T) {
	keycloak := ClaimMapping{Username: "preferred_username", Roles: "realm_access.roles", Departments: "departments",
		RolePrefix: "complaints-"}
	for _, c := range []struct {
		name    string
		m       ClaimMapping
		claims  map[string]any
		want    Identity
		refused bool
	}{
		{"defaults", ClaimMapping{}, map[string]any{"sub": "x1", "preferred_username": "li.na", "roles": []any{"agent"}},
			Identity{Subject: "li.na", Role: RoleAgent}, false},
		{"most senior of several", ClaimMapping{}, map[string]any{"sub": "li.na", "roles": []any{"agent", "manager", "operator"}},
			Identity{Subject: "li.na", Role: RoleManager}, false},
		{"keycloak realm roles", keycloak, map[string]any{"preferred_username": "wang.wei",
			"realm_access": map[string]any{"roles": []any{"offline_access", "complaints-department"}}, "departments": "logistics technical"},
			Identity{Subject: "wang.wei", Role: RoleDepartment, Departments: []string{"logistics", "technical"}}, false},
		{"a role without the prefix is not ours", keycloak, map[string]any{"preferred_username": "a",
			"realm_access": map[string]any{"roles": []any{"admin"}}}, Identity{}, true},
		{"no staff role", ClaimMapping{}, map[string]any{"sub": "a", "roles": []any{"viewer"}}, Identity{}, true},
		{"department without departments", ClaimMapping{}, map[string]any{"sub": "a", "roles": []any{"department"}}, Identity{}, true},
		{"a user name with ':' could pass for a system", ClaimMapping{}, map[string]any{"sub": "key:abc", "roles": []any{"admin"}}, Identity{}, true},
	} {
		got, err := c.m.Identity(c.claims)
		if c.refused {
			if !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("%s: want refused, got %+v, %v", c.name, got, err)
			}
			continue
		}
		if err != nil || got.Subject != c.want.Subject || got.Role != c.want.Role || len(got.Departments) != len(c.want.Departments) {
			t.Errorf("%s: got %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
}
