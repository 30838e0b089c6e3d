package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

// withStore runs f with the database open.
func withStore(cmd *cobra.Command, f func(db *store.Store) error) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	db, err := store.Open(cmd.Context(), cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	return f(db)
}

// apiKeyCommand creates, revokes and lists the upstream systems' API keys.
func apiKeyCommand() *cobra.Command {
	apikey := &cobra.Command{Use: "apikey", Short: "Create, revoke and list the upstream systems' API keys", RunE: group}
	var name, system string
	create := &cobra.Command{
		Use: "create --name NAME --system SYSTEM", Short: "A key for an upstream system (printed once)", Args: cobra.NoArgs,
		RunE: runs(func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, func(db *store.Store) error {
				id, secret, hash, err := auth.NewAPIKey()
				if err != nil {
					return err
				}
				if err := db.CreateAPIKey(cmd.Context(), store.APIKey{ID: id, Name: name, System: system}, hash); err != nil {
					return err
				}
				cmd.PrintErrf("key %s for system %s; it is shown once, keep it secret:\n", id, system)
				return printOut(cmd, map[string]string{"id": id, "system": system, "key": secret},
					func(w io.Writer) { row(w, secret) })
			})
		}),
	}
	create.Flags().StringVar(&name, "name", "", "what the key is for, e.g. shop-prod")
	create.Flags().StringVar(&system, "system", "", "the upstream system; it reads the cases it submitted")
	_ = create.MarkFlagRequired("name")
	_ = create.MarkFlagRequired("system")
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke a key: it is refused at its next call", Args: cobra.ExactArgs(1),
		RunE: runs(func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, func(db *store.Store) error { return db.RevokeAPIKey(cmd.Context(), args[0]) })
		}),
	}
	list := &cobra.Command{
		Use: "list", Short: "Every key, revoked ones too", Args: cobra.NoArgs,
		RunE: runs(func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, func(db *store.Store) error {
				keys, err := db.APIKeys(cmd.Context())
				if err != nil {
					return err
				}
				return printOut(cmd, keys, func(w io.Writer) {
					row(w, "ID", "NAME", "SYSTEM", "CREATED", "REVOKED")
					for _, k := range keys {
						revoked := ""
						if k.RevokedAt != nil {
							revoked = k.RevokedAt.UTC().Format(time.RFC3339)
						}
						row(w, k.ID, k.Name, k.System, k.CreatedAt.UTC().Format(time.RFC3339), revoked)
					}
				})
			})
		}),
	}
	apikey.AddCommand(create, revoke, list)
	return apikey
}

// tokenCommand mints a staff token signed with AUTH_TOKEN_SECRET.
func tokenCommand() *cobra.Command {
	var (
		sub, role   string
		departments []string
		ttl         time.Duration
	)
	cmd := &cobra.Command{
		Use: "token --sub USER --role ROLE", Short: "Mint a staff token (HS256 with AUTH_TOKEN_SECRET)", Args: cobra.NoArgs,
		RunE: runs(func(cmd *cobra.Command, _ []string) error {
			if auth.Role(role) == auth.RoleDepartment && len(departments) == 0 {
				return errors.New("role department needs --departments")
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			tokens := cfg.Auth.Tokens()
			if len(tokens.Secret) < 32 {
				return errors.New("AUTH_TOKEN_SECRET must hold at least 32 bytes")
			}
			tok, err := auth.MintHS256(tokens, sub, auth.Role(role), departments, ttl)
			if err != nil {
				return err
			}
			return printOut(cmd, map[string]string{"token": tok}, func(w io.Writer) { row(w, tok) })
		}),
	}
	cmd.Flags().StringVar(&sub, "sub", "", "the staff member's user name (the actor in the audit trail)")
	cmd.Flags().StringVar(&role, "role", "", "agent, department, supervisor, manager, director, operator or admin")
	cmd.Flags().StringSliceVar(&departments, "departments", nil, "for role department: the departments, comma-separated")
	cmd.Flags().DurationVar(&ttl, "ttl", 12*time.Hour, "how long the token is valid")
	_ = cmd.MarkFlagRequired("sub")
	_ = cmd.MarkFlagRequired("role")
	_ = cmd.RegisterFlagCompletionFunc("role", cobra.FixedCompletions([]string{"agent", "department", "supervisor",
		"manager", "director", "operator", "admin"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// keysCommand rotates and re-wraps the payload codec's data keys.
func keysCommand() *cobra.Command {
	keys := &cobra.Command{Use: "keys", Short: "Rotate and re-wrap the payload codec's keys", RunE: group}
	var ref string
	var def bool
	rotate := &cobra.Command{
		Use: "rotate (--case REFERENCE | --default)", Short: "A new version of a data key", Args: cobra.NoArgs,
		RunE: runs(func(cmd *cobra.Command, _ []string) error {
			scope := codec.DefaultScope
			if ref != "" {
				if !complaint.ValidReference(ref) {
					return fmt.Errorf("%q is not a case reference", ref)
				}
				scope = codec.CaseScope(ref)
			}
			return withKeyring(cmd, func(_ *store.Store, ring *codec.Keyring) error {
				v, err := ring.Rotate(scope)
				if err != nil {
					return err
				}
				id := codec.KeyID(scope, v)
				return printOut(cmd, map[string]string{"keyId": id}, func(w io.Writer) { row(w, id) })
			})
		}),
	}
	rotate.Flags().StringVar(&ref, "case", "", "the case whose key to rotate")
	rotate.Flags().BoolVar(&def, "default", false, "rotate the key of payloads that belong to no case")
	rotate.MarkFlagsOneRequired("case", "default")
	rotate.MarkFlagsMutuallyExclusive("case", "default")
	rewrap := &cobra.Command{
		Use: "rewrap", Short: "Wrap every data key with the current master key (CODEC_MASTER_KEYS)", Args: cobra.NoArgs,
		RunE: runs(func(cmd *cobra.Command, _ []string) error {
			return withKeyring(cmd, func(_ *store.Store, ring *codec.Keyring) error {
				n, err := ring.Rewrap(cmd.Context())
				if err != nil {
					return err
				}
				return printOut(cmd, map[string]int{"rewrapped": n},
					func(w io.Writer) { row(w, fmt.Sprintf("%d data keys re-wrapped", n)) })
			})
		}),
	}
	newMaster := &cobra.Command{
		Use: "new-master ID", Short: "Print a new master key entry for CODEC_MASTER_KEYS", Args: cobra.ExactArgs(1),
		RunE: runs(func(cmd *cobra.Command, args []string) error {
			entry, err := codec.NewMasterKey(args[0])
			if err != nil {
				return err
			}
			return printOut(cmd, map[string]string{"entry": entry}, func(w io.Writer) { row(w, entry) })
		}),
	}
	keys.AddCommand(rotate, rewrap, newMaster)
	return keys
}

// withKeyring runs f with the database and the codec's keys open.
func withKeyring(cmd *cobra.Command, f func(*store.Store, *codec.Keyring) error) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	db, ring, err := openKeyring(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	return f(db, ring)
}
