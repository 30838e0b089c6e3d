package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

// apiKey creates, revokes and lists the upstream systems' API keys.
func apiKey(ctx context.Context, cfg config, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
		name := fs.String("name", "", "what the key is for, e.g. shop-prod")
		system := fs.String("system", "", "the upstream system; it reads the cases it submitted")
		if err := fs.Parse(args[1:]); err != nil || *name == "" || *system == "" {
			return errors.New(usage)
		}
		id, secret, hash, err := auth.NewAPIKey()
		if err != nil {
			return err
		}
		if err := db.CreateAPIKey(ctx, store.APIKey{ID: id, Name: *name, System: *system}, hash); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "key %s for system %s; it is shown once, keep it secret:\n", id, *system)
		fmt.Println(secret)
		return nil
	case "revoke":
		if len(args) != 2 {
			return errors.New(usage)
		}
		return db.RevokeAPIKey(ctx, args[1])
	case "list":
		keys, err := db.APIKeys(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tSYSTEM\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := ""
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.System, k.CreatedAt.UTC().Format(time.RFC3339), revoked)
		}
		return w.Flush()
	}
	return errors.New(usage)
}

// token mints a staff token signed with AUTH_TOKEN_SECRET.
func token(cfg config, args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	sub := fs.String("sub", "", "the staff member's user name (the actor in the audit trail)")
	role := fs.String("role", "", "agent, department, supervisor, manager, director, operator or admin")
	depts := fs.String("departments", "", "for role department: the departments, comma-separated")
	ttl := fs.Duration("ttl", 12*time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil || *sub == "" || *role == "" {
		return errors.New(usage)
	}
	var departments []string
	if *depts != "" {
		departments = strings.Split(*depts, ",")
	}
	if auth.Role(*role) == auth.RoleDepartment && len(departments) == 0 {
		return errors.New("role department needs -departments")
	}
	tokens := cfg.Auth.Tokens()
	if len(tokens.Secret) < 32 {
		return errors.New("AUTH_TOKEN_SECRET must hold at least 32 bytes")
	}
	tok, err := auth.MintHS256(tokens, *sub, auth.Role(*role), departments, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

// keys rotates and re-wraps the payload codec's data keys.
func keys(ctx context.Context, cfg config, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	if args[0] == "new-master" {
		if len(args) != 2 {
			return errors.New(usage)
		}
		entry, err := codec.NewMasterKey(args[1])
		if err != nil {
			return err
		}
		fmt.Println(entry)
		return nil
	}
	db, ring, err := openKeyring(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "rotate":
		fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
		ref := fs.String("case", "", "the case whose key to rotate")
		def := fs.Bool("default", false, "rotate the key of payloads that belong to no case")
		if err := fs.Parse(args[1:]); err != nil || (*ref == "") == !*def {
			return errors.New(usage)
		}
		scope := codec.DefaultScope
		if *ref != "" {
			if !complaint.ValidReference(*ref) {
				return fmt.Errorf("%q is not a case reference", *ref)
			}
			scope = codec.CaseScope(*ref)
		}
		v, err := ring.Rotate(scope)
		if err != nil {
			return err
		}
		fmt.Println(codec.KeyID(scope, v))
		return nil
	case "rewrap":
		n, err := ring.Rewrap(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("%d data keys re-wrapped\n", n)
		return nil
	}
	return errors.New(usage)
}
