package devenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"text/template"
)

// NginxBinary is where Debian's nginx package puts the server.
const NginxBinary = "/usr/sbin/nginx"

// Balancer is nginx balancing HTTP over a few backends (the API replicas).
type Balancer struct {
	Binary   string // nginx; NginxBinary when empty
	Dir      string // its configuration, pid file and temporary files
	Listen   string // host:port
	Backends []string
	Log      io.Writer
}

// URL is the balancer's address.
func (b Balancer) URL() string { return "http://" + b.Listen }

// A replica that refuses connections is skipped for a few seconds and the
// request goes to the next one. A 503 is passed on as it is: it is the
// API's answer when Temporal or the database is away, the same on every
// replica. nginx never resends a request that reached a
// backend with a non-idempotent method, so a POST is retried only when it
// could not be delivered: a crash mid-request is the client's to retry, with
// its Idempotency-Key. The timeouts sit above the API's REQUEST_TIMEOUT so
// that the API, not nginx, answers a slow Temporal.
var nginxConfig = template.Must(template.New("nginx.conf").Parse(`# Written by devenv (Balancer.Start) on every start; edits are lost.
{{if .Root}}user www-data;
{{end}}worker_processes 2;
daemon off;
pid {{.Dir}}/nginx.pid;
error_log stderr warn;

events {
  worker_connections 1024;
}

http {
  access_log off;
  client_body_temp_path {{.Dir}}/body;
  proxy_temp_path {{.Dir}}/proxy;
  fastcgi_temp_path {{.Dir}}/fastcgi;
  uwsgi_temp_path {{.Dir}}/uwsgi;
  scgi_temp_path {{.Dir}}/scgi;
  client_max_body_size 2m;

  upstream api {
    # Shared by the worker processes: one round robin, and a replica marked
    # down is down for all of them.
    zone api 64k;
{{- range .Backends}}
    server {{.}} max_fails=1 fail_timeout=5s;
{{- end}}
    keepalive 32;
  }

  server {
    listen {{.Listen}};
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_next_upstream error timeout http_502;
      proxy_next_upstream_tries 2;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
      proxy_send_timeout 60s;
    }
  }
}
`))

// Start writes the configuration, checks it with nginx -t, runs nginx in the
// foreground and waits until url (a path behind the balancer, e.g. /readyz)
// answers 200.
func (b Balancer) Start(ctx context.Context, healthPath string) (*Process, error) {
	bin := b.Binary
	if bin == "" {
		bin = NginxBinary
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("nginx is not installed (%w): apt-get install nginx", err)
	}
	if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		return nil, err
	}
	conf := filepath.Join(b.Dir, "nginx.conf")
	f, err := os.Create(conf)
	if err != nil {
		return nil, err
	}
	err = nginxConfig.Execute(f, struct {
		Balancer
		Root bool
	}{b, os.Geteuid() == 0})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", conf, err)
	}
	// -e: the error log before the configuration is read (Debian's default
	// is /var/log/nginx, which an unprivileged user cannot write).
	args := []string{"-e", "stderr", "-p", b.Dir, "-c", conf}
	if out, err := exec.CommandContext(ctx, bin, append(args, "-t", "-q")...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nginx -t %s: %w\n%s", conf, err, out)
	}
	proc, err := start("nginx", exec.Command(bin, args...), b.Log)
	if err != nil {
		return nil, err
	}
	if err := WaitHTTP(ctx, proc, b.URL()+healthPath); err != nil {
		proc.Kill()
		return nil, err
	}
	return proc, nil
}
