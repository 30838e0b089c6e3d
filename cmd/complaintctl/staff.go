package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// apiClient calls the HTTP API as the user: their token, their roles.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// apiError is an API's RFC 9457 problem.
type apiError struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Errors []struct {
		Location string `json:"location"`
		Message  string `json:"message"`
	} `json:"errors"`
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%d %s", e.Status, e.Title)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	for _, d := range e.Errors {
		msg += fmt.Sprintf("; %s %s", d.Location, d.Message)
	}
	return msg
}

func newAPIClient(cmd *cobra.Command) (apiClient, error) {
	base, _ := cmd.Flags().GetString("api")
	token, _ := cmd.Flags().GetString("token")
	if token == "" {
		return apiClient{}, errors.New("no token: pass --token or set COMPLAINTS_TOKEN (or STAFF_TOKEN)")
	}
	return apiClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// call sends one request and decodes a 2xx answer into out; any other
// answer is its problem as an error.
func (c apiClient) call(ctx context.Context, method, path string, header http.Header, body []byte, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return err
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		p := &apiError{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
		_ = json.Unmarshal(data, p) // a body that is no problem leaves the status
		return p
	}
	return json.Unmarshal(data, out)
}

// staffCommands work on cases through the API.
func staffCommands() []*cobra.Command {
	caseCmd := &cobra.Command{Use: "case", Short: "Read cases", RunE: group}
	show := &cobra.Command{
		Use: "show REFERENCE", Short: "The case as it stands", Args: cobra.ExactArgs(1),
		RunE: runs(func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(cmd)
			if err != nil {
				return err
			}
			var v complaint.CaseView
			if err := c.call(cmd.Context(), http.MethodGet, "/v1/complaints/"+url.PathEscape(args[0]), nil, nil, &v); err != nil {
				return err
			}
			return printOut(cmd, v, func(w io.Writer) { writeCase(w, v) })
		}),
	}
	filters := []struct{ name, usage string }{
		{"status", "only cases in this status"}, {"category", "only this category"},
		{"department", "only cases routed to this department"}, {"owner", "only this owner's cases"},
		{"channel", "only cases received through this channel"}, {"breached", "true or false: an SLA clock breached"},
		{"from", "received on or after this day (YYYY-MM-DD)"}, {"to", "received on or before this day"},
		{"q", "text in the subject"}, {"cursor", "the previous page's next cursor"},
	}
	list := &cobra.Command{
		Use: "list", Short: "List and search cases, newest first", Args: cobra.NoArgs,
		RunE: runs(func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient(cmd)
			if err != nil {
				return err
			}
			q := url.Values{}
			for _, f := range filters {
				if v, _ := cmd.Flags().GetString(f.name); v != "" {
					q.Set(f.name, v)
				}
			}
			if limit, _ := cmd.Flags().GetInt("limit"); limit > 0 {
				q.Set("limit", fmt.Sprint(limit))
			}
			var page struct {
				Items []struct {
					Reference  string    `json:"reference"`
					Status     string    `json:"status"`
					Priority   string    `json:"priority"`
					Owner      string    `json:"owner"`
					ReceivedAt time.Time `json:"receivedAt"`
					Subject    string    `json:"subject"`
				} `json:"items"`
				NextCursor string `json:"nextCursor,omitempty"`
			}
			if err := c.call(cmd.Context(), http.MethodGet, "/v1/complaints?"+q.Encode(), nil, nil, &page); err != nil {
				return err
			}
			if page.NextCursor != "" && outputFormat(cmd) == "text" {
				cmd.PrintErrf("more: --cursor %s\n", page.NextCursor)
			}
			return printOut(cmd, page, func(w io.Writer) {
				row(w, "REFERENCE", "STATUS", "PRIORITY", "OWNER", "RECEIVED", "SUBJECT")
				for _, it := range page.Items {
					row(w, it.Reference, it.Status, it.Priority, it.Owner, it.ReceivedAt.Format(time.RFC3339), it.Subject)
				}
			})
		}),
	}
	for _, f := range filters {
		list.Flags().String(f.name, "", f.usage)
	}
	list.Flags().Int("limit", 0, "cases per page (the API's default 50, at most 200)")
	caseCmd.AddCommand(show, list)

	var data, file, key string
	task := &cobra.Command{
		Use:   "task NAME REFERENCE [--data JSON | --file FILE]",
		Short: "Run a human task on a case (" + strings.Join(complaint.StaffTasks, ", ") + ")",
		Long: "Runs the task as POST /v1/complaints/{reference}/{task} with your token: the API checks your role\n" +
			"and the case checks the payload. The payload comes from --data, --file (- for standard input) or is {}.",
		Example: `  complaintctl task close CMP-20261123-4F7K2Q --data '{"outcome":"upheld","summary":"Watch replaced"}'`,
		Args: cobra.MatchAll(cobra.ExactArgs(2), func(_ *cobra.Command, args []string) error {
			if !slices.Contains(complaint.StaffTasks, args[0]) {
				return fmt.Errorf("unknown task %q; the tasks are %s", args[0], strings.Join(complaint.StaffTasks, ", "))
			}
			return nil
		}),
		ValidArgsFunction: func(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			var names []string
			for _, name := range complaint.StaffTasks {
				if len(args) == 0 && strings.HasPrefix(name, prefix) {
					names = append(names, name)
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: runs(func(cmd *cobra.Command, args []string) error {
			payload := []byte(data)
			switch {
			case file == "-":
				b, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return err
				}
				payload = b
			case file != "":
				b, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				payload = b
			case data == "":
				payload = []byte("{}")
			}
			if !json.Valid(payload) {
				return errors.New("the payload is not JSON")
			}
			c, err := newAPIClient(cmd)
			if err != nil {
				return err
			}
			header := http.Header{}
			if key != "" {
				header.Set("Idempotency-Key", key)
			}
			var v complaint.CaseView
			path := "/v1/complaints/" + url.PathEscape(args[1]) + "/" + args[0]
			if err := c.call(cmd.Context(), http.MethodPost, path, header, payload, &v); err != nil {
				return err
			}
			return printOut(cmd, v, func(w io.Writer) { writeCase(w, v) })
		}),
	}
	task.Flags().StringVar(&data, "data", "", "the task's payload, JSON")
	task.Flags().StringVarP(&file, "file", "f", "", "read the payload from this file (- for standard input)")
	task.Flags().StringVar(&key, "idempotency-key", "", "makes a retry return the first outcome instead of running twice")
	task.MarkFlagsMutuallyExclusive("data", "file")

	for _, c := range []*cobra.Command{caseCmd, task} {
		c.PersistentFlags().String("api", envOr("COMPLAINTS_API", "http://127.0.0.1:8080"), "the API's address (COMPLAINTS_API)")
		c.PersistentFlags().String("token", envOr("COMPLAINTS_TOKEN", os.Getenv("STAFF_TOKEN")),
			"your bearer token (COMPLAINTS_TOKEN, else STAFF_TOKEN)")
	}
	return []*cobra.Command{caseCmd, task}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// writeCase prints the essentials of a case for a person.
func writeCase(w io.Writer, v complaint.CaseView) {
	row(w, "reference", v.Reference)
	status := string(v.Status)
	if v.Archived {
		status += " (archived: from the record)"
	}
	row(w, "status", status)
	row(w, "subject", v.Subject)
	row(w, "owner", v.Owner)
	row(w, "category", string(v.Category))
	row(w, "priority", string(v.Priority))
	row(w, "departments", strings.Join(complaint.Names(v.Departments), ", "))
	row(w, "received", v.ReceivedAt.Format(time.RFC3339))
	if v.NextTask != "" {
		row(w, "next task", v.NextTask)
	}
	if v.EscalationLevel > 0 {
		row(w, "escalation level", fmt.Sprint(v.EscalationLevel))
	}
	for _, d := range v.Deadlines {
		name := d.Name
		if d.Department != "" {
			name += ":" + string(d.Department)
		}
		row(w, "deadline", name+"  due "+d.DueAt.Format(time.RFC3339)+"  "+string(d.State))
	}
	for _, e := range v.History {
		row(w, "history", e.At.Format(time.RFC3339)+"  "+e.Step+"  "+e.Actor+"  "+e.Summary)
	}
}
