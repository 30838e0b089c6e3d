// Package idp is the development OpenID provider: authorization code with
// PKCE, discovery, JWKS (with key rotation) and a login page, on
// github.com/zitadel/oidc/v3's certified op package. Its users, their roles
// and departments come from a file under .dev/ that `make dev` writes.
//
// The desk and the API know only its issuer URL, exactly as they know an
// organisation's Keycloak or Zitadel in production: nothing of this
// package is imported by them.
package idp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// User is a development staff member.
type User struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Name     string `json:"name"`
	Email    string `json:"email,omitempty"`
	// Roles are staff roles (agent, department, supervisor, manager,
	// director, operator, admin), sent in the "roles" claim.
	Roles []string `json:"roles"`
	// Departments are sent in the "departments" claim.
	Departments []string `json:"departments,omitempty"`
	// Locale (zh, en) is sent as the "locale" claim; ZoneInfo (an IANA zone)
	// as "zoneinfo".
	Locale   string `json:"locale,omitempty"`
	ZoneInfo string `json:"zoneinfo,omitempty"`
	// Permissions are sent in the "permissions" claim, which the Temporal
	// server's default JWT claim mapper reads ("<namespace>:<role>",
	// "temporal-system:admin"): only operators and admins have any.
	Permissions []string `json:"permissions,omitempty"`
}

// Client is an application that signs its users in here.
type Client struct {
	ID string `json:"id"`
	// Secret, when set, is checked at the token endpoint (a confidential
	// client, like the desk); empty: a public client that must use PKCE.
	Secret                 string   `json:"secret,omitempty"`
	RedirectURIs           []string `json:"redirectUris"`
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris,omitempty"`
	// Service marks a client that signs in as itself with the client
	// credentials grant (a worker or the API towards Temporal's frontend)
	// instead of sending people here; its token carries Permissions.
	Service     bool     `json:"service,omitempty"`
	Permissions []string `json:"permissions,omitempty"`
}

// Directory is what the provider knows: its users and its clients.
type Directory struct {
	Users   []User   `json:"users"`
	Clients []Client `json:"clients"`
}

// User finds a user by name.
func (d Directory) User(name string) (User, bool) {
	for _, u := range d.Users {
		if u.Username == name {
			return u, true
		}
	}
	return User{}, false
}

// Load reads a directory file.
func Load(path string) (Directory, error) {
	var d Directory
	data, err := os.ReadFile(path)
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return d, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Write puts the directory into path, readable by its owner only: it holds
// passwords.
func (d Directory) Write(path string) error {
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o600)
}

// The clients of the development provider: the staff desk, the Temporal
// Web UI, and the workers and API replicas towards Temporal's frontend (the
// last two in the production form, whose Temporal server checks tokens).
const (
	DeskClientID       = "complaint-desk"
	TemporalUIClientID = "temporal-ui"
	ServiceClientID    = "complaintdesk-app"
)

// DevUsers are the development staff: one of each role, an investigator in
// two departments each, a second agent. Passwords are random per
// installation.
func DevUsers() ([]User, error) {
	users := []User{
		{Username: "dev.agent", Name: "Li Na (agent)", Roles: []string{"agent"}, Locale: "zh"},
		{Username: "dev.agent2", Name: "Sam Reed (agent)", Roles: []string{"agent"}, Locale: "en"},
		{Username: "dev.logistics", Name: "Wang Wei (logistics)", Roles: []string{"department"}, Departments: []string{"logistics", "customer_service"}, Locale: "zh"},
		{Username: "dev.technical", Name: "Ada Park (technical)", Roles: []string{"department"}, Departments: []string{"technical", "product"}, Locale: "en"},
		{Username: "dev.supervisor", Name: "Zhang Min (supervisor)", Roles: []string{"supervisor"}, Locale: "zh"},
		{Username: "dev.manager", Name: "Chen Jie (manager)", Roles: []string{"manager"}, Locale: "zh"},
		{Username: "dev.operator", Name: "Ops (operator)", Roles: []string{"operator"}, Locale: "en"},
		{Username: "dev.admin", Name: "Admin", Roles: []string{"admin"}, Locale: "en"},
	}
	for i := range users {
		users[i].Permissions = TemporalPermissions(users[i].Roles, "default")
	}
	for i := range users {
		p, err := randomString(12)
		if err != nil {
			return nil, err
		}
		users[i].Password = p
		users[i].Email = users[i].Username + "@staff.complaintdesk.local"
	}
	return users, nil
}

// TemporalPermissions are what the staff roles may do on the Temporal
// server (its UI and CLI) in namespace: an operator administers the
// namespace (signals, resets, terminations), an admin the whole cluster;
// everyone else acts through the desk and the API, where the roles hold.
// An organisation's provider maps its groups the same way.
func TemporalPermissions(roles []string, namespace string) []string {
	var p []string
	for _, r := range roles {
		switch r {
		case "operator":
			p = append(p, namespace+":admin")
		case "admin":
			p = append(p, "temporal-system:admin")
		}
	}
	return p
}

// LoadOrCreate reads the directory at path; when there is none it writes
// one with DevUsers and a desk client redirecting to deskURL. The desk
// client's redirect addresses follow deskURL on every start (the API's
// address may change), the users and secret stay.
func LoadOrCreate(path, deskURL string) (Directory, error) {
	d, err := Load(path)
	if errors.Is(err, os.ErrNotExist) {
		if d.Users, err = DevUsers(); err != nil {
			return d, err
		}
	} else if err != nil {
		return d, err
	}
	for i, u := range d.Users {
		if len(u.Permissions) == 0 { // a directory written before permissions
			d.Users[i].Permissions = TemporalPermissions(u.Roles, "default")
		}
	}
	desk := Client{ID: DeskClientID}
	for _, c := range d.Clients {
		if c.ID == DeskClientID {
			desk = c
		}
	}
	if desk.Secret == "" {
		if desk.Secret, err = randomString(32); err != nil {
			return d, err
		}
	}
	desk.RedirectURIs = []string{deskURL + "/desk/auth/callback"}
	desk.PostLogoutRedirectURIs = []string{deskURL + "/desk/signed-out"}
	d.Clients = append(slicesWithout(d.Clients, DeskClientID), desk)
	return d, d.Write(path)
}

// Client finds a client by id.
func (d Directory) Client(id string) (Client, bool) {
	for _, c := range d.Clients {
		if c.ID == id {
			return c, true
		}
	}
	return Client{}, false
}

func slicesWithout(cs []Client, id string) []Client {
	out := cs[:0:0]
	for _, c := range cs {
		if c.ID != id {
			out = append(out, c)
		}
	}
	return out
}

func randomString(n int) (string, error) {
	raw := make([]byte, n)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw)[:n], nil
}
