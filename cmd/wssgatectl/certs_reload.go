package main

import (
	"context"
	"fmt"
	"os"
	"time"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runCertsReload asks the gateway to re-read its certificate files (or to take the PEM
// files given here), validate them and, unless --dry-run, swap them in.
func (c *cli) runCertsReload(ctx context.Context, args []string) error {
	fs := c.newFlags()
	dryRun := fs.Bool("dry-run", false, "validate and report without swapping")
	force := fs.Bool("force", false, "apply a bundle that stops covering names clients used recently (see certs names)")
	allNodes := fs.Bool("all-nodes", false, "then reload every other node of the cluster (each outcome is a warning line)")
	certFile := fs.String("cert", "", "certificate chain `F` (PEM, leaf first) to send instead of the server re-reading its files\n(here --cert/--key name the bundle: give the mTLS client ones before the command)")
	keyFile := fs.String("key", "", "private key `F` (PEM) matching --cert")
	caFile := fs.String("client-ca", "", "client CA bundle `F` (PEM) to send")
	// --cert and --key after this command name the bundle's files: they shadow the global
	// mTLS flags, which must then be given before the command.
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if (*certFile == "") != (*keyFile == "") {
		return c.usageErrorf("--cert and --key must be given together")
	}
	req := &adminv1.ReloadCertificatesRequest{DryRun: *dryRun, Force: *force, AllNodes: *allNodes}
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{*certFile, &req.CertPem}, {*keyFile, &req.KeyPem}, {*caFile, &req.ClientCaPem}} {
		if f.name == "" {
			continue
		}
		b, err := os.ReadFile(f.name)
		if err != nil {
			return fmt.Errorf("read pem: %w", err)
		}
		*f.dst = b
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := cl.ReloadCertificates(ctx, req)
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	if resp.GetDryRun() {
		fmt.Fprintf(c.stdout, "dry run: the bundle is valid; nothing swapped (generation stays %d)\n", resp.GetGeneration())
	} else {
		fmt.Fprintf(c.stdout, "reloaded: generation %d\n", resp.GetGeneration())
	}
	for _, w := range resp.GetWarnings() {
		fmt.Fprintf(c.stdout, "warning: %s\n", w)
	}
	return c.printCertificates(resp.GetCertificates(), time.Now())
}
