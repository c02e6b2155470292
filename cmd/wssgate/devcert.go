package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/config"
)

func runDevcert(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("devcert", flag.ContinueOnError)
	dir := fs.String("dir", config.DefaultStateDir(), "state directory")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	dev, err := certs.EnsureDev(*dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "CA (trust this):  %s\ncertificate:      %s\nkey:              %s\ncreated now:      %v\n",
		dev.CAFile, dev.CertFile, dev.KeyFile, dev.Created)
	return nil
}
