package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// maxPayload bounds what --file reads (the server applies its own, smaller limits).
const maxPayload = 16 << 20

// payloadFlags are --text, --file and --binary of send and publish.
type payloadFlags struct {
	text    string
	hasText bool
	file    string
	binary  bool
}

func addPayloadFlags(fs *flag.FlagSet) *payloadFlags {
	p := &payloadFlags{}
	fs.Func("text", "send `S` as a text message", func(s string) error {
		p.text, p.hasText = s, true
		return nil
	})
	fs.StringVar(&p.file, "file", "", "send the contents of file `F` (- for stdin), as text unless --binary")
	fs.BoolVar(&p.binary, "binary", false, "with --file: send the contents as a binary message")
	return p
}

// check reports a usage mistake: exactly one of --text and --file, --binary only with --file.
func (p *payloadFlags) check() string {
	switch {
	case p.hasText == (p.file != ""):
		return "give exactly one of --text and --file"
	case p.binary && p.file == "":
		return "--binary needs --file"
	}
	return ""
}

// read returns the payload: text, or binary bytes when isBinary.
func (p *payloadFlags) read(stdin io.Reader) (text string, data []byte, isBinary bool, err error) {
	if p.hasText {
		return p.text, nil, false, nil
	}
	data, err = readLimited(p.file, stdin)
	if err != nil {
		return "", nil, false, err
	}
	if p.binary {
		return "", data, true, nil
	}
	if !utf8.Valid(data) {
		return "", nil, false, fmt.Errorf("read %s: not valid UTF-8 text; add --binary to send it as binary", p.file)
	}
	return string(data), nil, false, nil
}

// readLimited reads a file ("-": stdin) of at most maxPayload bytes.
func readLimited(name string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read payload: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxPayload {
		return nil, fmt.Errorf("read %s: larger than %d bytes", name, maxPayload)
	}
	return data, nil
}

// parsePayload parses the arguments of send and publish:
// TARGET (--text S | --file F [--binary]), and reads the payload.
func (c *cli) parsePayload(args []string) (target, text string, data []byte, isBinary bool, err error) {
	fs := c.newFlags()
	p := addPayloadFlags(fs)
	pos, err := c.parse(fs, args, 1)
	if err != nil {
		return "", "", nil, false, err
	}
	if msg := p.check(); msg != "" {
		return "", "", nil, false, c.usageErrorf("%s", msg)
	}
	text, data, isBinary, err = p.read(c.stdin)
	return pos[0], text, data, isBinary, err
}
