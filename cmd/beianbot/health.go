package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/beianbot/beianbot/config"
)

// runHealth asks a running `beianbot serve` whether it is healthy, for
// Docker's HEALTHCHECK and other probes that cannot run curl:
// `beianbot health [--url URL]`. It exits 0 when /healthz answers 200, 1
// when it does not (stopping, not started, unreachable), 2 when there is no
// endpoint to ask.
func runHealth(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("health", "beianbot health [--config FILE] [--url URL] [--timeout 3s]", stderr)
	target := fs.String("url", "", "the /healthz URL to ask (default: on telegram.metrics_listen, else on telegram.webhook.listen in webhook mode)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "beianbot health: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	url := *target
	if url == "" {
		var err error
		if url, err = healthURL(cfg.Telegram); err != nil {
			fmt.Fprintln(stderr, "beianbot health:", err)
			return 2
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "beianbot health:", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "beianbot health: unhealthy:", err)
		return 1
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "beianbot health: unhealthy: %s answered %s\n", url, resp.Status)
		return 1
	}
	fmt.Fprintln(stdout, "ok", url)
	return 0
}

// healthURL is where serve answers /healthz: the metrics listener, or the
// webhook's. An address without a host (":9090") is asked on 127.0.0.1.
func healthURL(t config.Telegram) (string, error) {
	addr, key := t.MetricsListen, "telegram.metrics_listen"
	if addr == "" && t.Mode == "webhook" {
		addr, key = t.Webhook.Listen, "telegram.webhook.listen"
	}
	if addr == "" {
		return "", errors.New("no health endpoint: serve answers /healthz on telegram.metrics_listen (or, in webhook mode, on the webhook's address); set one, or give --url")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", key, addr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
