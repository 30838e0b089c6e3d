// Command complaintctl is the command line of operators and staff. Its
// admin commands work on the database and Temporal directly (migrations,
// search attributes, keys, API keys, demo data, submitting JSON files); its
// staff commands (case, task) go through the HTTP API with the user's
// token, so the roles hold as they do for every other client.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // the same zone rules on every machine: deadlines depend on them

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/connection"
	"github.com/complaintdesk/complaintdesk/starter"
)

type config struct {
	connection.Config
	ReferenceTimeZone string `env:"REFERENCE_TIME_ZONE" envDefault:"Asia/Shanghai"`
	Cases             starter.CaseConfig
	Auth              auth.Config
	Codec             codec.Config
}

// loadConfig reads the admin commands' configuration from the
// environment, with the services' defaults. Commands load it when they
// run, so help and completion need none.
func loadConfig() (config, error) {
	return connection.ParseAs[config](nil)
}

// Exit codes: 0 done, 1 the command failed, 2 the command line was wrong.
const (
	exitFailed = 1
	exitUsage  = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// execute runs one command line and returns its exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(legacyFlags(root, args))
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var failed *failure
	if errors.As(err, &failed) {
		fmt.Fprintln(stderr, "complaintctl:", failed.err)
		return exitFailed
	}
	// Anything cobra refused before a command ran is a misuse.
	fmt.Fprintf(stderr, "complaintctl: %v\n\n%s", err, cmd.UsageString())
	return exitUsage
}

// failure marks an error of a command that ran (exit 1), as opposed to a
// command line that was wrong (exit 2).
type failure struct{ err error }

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// runs wraps a command's work so that its errors are failures.
func runs(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := f(cmd, args); err != nil {
			return &failure{err}
		}
		return nil
	}
}

// group is the RunE of a command that only holds others: called alone it
// is a misuse.
func group(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return fmt.Errorf("%s needs a subcommand", cmd.CommandPath())
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "complaintctl",
		Short: "Operate the complaint desk and work on cases",
		Long: "Admin commands work on the database and Temporal directly, with the services' configuration from\n" +
			"the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TASK_QUEUE, DATABASE_URL, REFERENCE_TIME_ZONE,\n" +
			"CODEC_MASTER_KEYS, AUTH_TOKEN_*). Staff commands (case, task) go through the HTTP API with your token\n" +
			"(--token, or COMPLAINTS_TOKEN, or STAFF_TOKEN as .dev/credentials.env sets it).",
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE:          group,
	}
	root.PersistentFlags().StringP("output", "o", "text", "output format: text or json")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if o := outputFormat(cmd); o != "text" && o != "json" {
			return fmt.Errorf("--output must be text or json, not %q", o)
		}
		return nil
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.AddGroup(&cobra.Group{ID: "staff", Title: "Cases (through the API, with your token):"},
		&cobra.Group{ID: "admin", Title: "Administration (database and Temporal):"})
	for _, c := range staffCommands() {
		c.GroupID = "staff"
		root.AddCommand(c)
	}
	for _, c := range adminCommands() {
		c.GroupID = "admin"
		root.AddCommand(c)
	}
	return root
}

func outputFormat(cmd *cobra.Command) string {
	o, _ := cmd.Flags().GetString("output")
	return o
}

// legacyFlags accepts the single-dash long flags of earlier versions
// (`token -sub li.na -role agent`): a "-name" that is a long flag of the
// command line becomes "--name".
func legacyFlags(root *cobra.Command, args []string) []string {
	long := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		visit := func(f *pflag.Flag) { long[f.Name] = true }
		c.LocalFlags().VisitAll(visit)
		c.PersistentFlags().VisitAll(visit)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(name) > 1 && long[name] {
			out[i] = "-" + a
		}
	}
	return out
}
