package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// jsonOpts is the --json encoding: proto field names, unset fields left out.
var jsonOpts = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: false}

// printJSON writes m as one line of protojson.
func (c *cli) printJSON(m proto.Message) error {
	b, err := jsonOpts.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	_, err = c.stdout.Write(append(b, '\n'))
	return err
}

// table starts an aligned table on w; Flush it when done.
func table(w io.Writer, header ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	return tw
}

// row writes one table row; empty cells are shown as "-".
func row(tw *tabwriter.Writer, cells ...string) {
	for i, s := range cells {
		cells[i] = orDash(s)
	}
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
}

// kv writes a "key: value" block, aligned.
type kv struct {
	tw     *tabwriter.Writer
	indent string
}

func newKV(w io.Writer, indent string) *kv {
	return &kv{tw: tabwriter.NewWriter(w, 0, 8, 1, ' ', 0), indent: indent}
}

func (k *kv) add(key, value string) {
	fmt.Fprintf(k.tw, "%s%s:\t%s\n", k.indent, key, orDash(value))
}

func (k *kv) flush() error { return k.tw.Flush() }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// u formats an unsigned counter.
func u[T ~uint32 | ~uint64](n T) string { return strconv.FormatUint(uint64(n), 10) }

// Time layouts: absolute times in local time; streams with milliseconds.
const (
	timeLayout   = time.RFC3339
	streamLayout = "2006-01-02T15:04:05.000Z07:00"
)

// when formats a timestamp with its distance from now, e.g.
// "2025-01-02T15:04:05+01:00 (3m12s ago)".
func when(ts *timestamppb.Timestamp, now time.Time) string {
	if ts == nil {
		return ""
	}
	t := ts.AsTime().Local()
	d := now.Sub(t).Round(time.Second)
	switch {
	case d > 0:
		return fmt.Sprintf("%s (%s ago)", t.Format(timeLayout), d)
	case d < 0:
		return fmt.Sprintf("%s (in %s)", t.Format(timeLayout), -d)
	}
	return t.Format(timeLayout)
}

// stamp formats a timestamp in local time ("" when unset).
func stamp(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().Local().Format(timeLayout)
}

// age formats the time since ts, rounded to seconds.
func age(ts *timestamppb.Timestamp, now time.Time) string {
	if ts == nil {
		return ""
	}
	return now.Sub(ts.AsTime()).Round(time.Second).String()
}

// streamTime formats the timestamp of a stream line (now when the server sent none).
func streamTime(ts *timestamppb.Timestamp) string {
	t := time.Now()
	if ts != nil {
		t = ts.AsTime()
	}
	return t.Local().Format(streamLayout)
}

// roleName is "app", "device" or "" for a Role.
func roleName(r adminv1.Role) string {
	switch r {
	case adminv1.Role_ROLE_APP:
		return "app"
	case adminv1.Role_ROLE_DEVICE:
		return "device"
	}
	return ""
}

// parseRole parses --role: "", "app" or "device".
func parseRole(s string) (adminv1.Role, error) {
	switch strings.ToLower(s) {
	case "":
		return adminv1.Role_ROLE_UNSPECIFIED, nil
	case "app":
		return adminv1.Role_ROLE_APP, nil
	case "device":
		return adminv1.Role_ROLE_DEVICE, nil
	}
	return 0, fmt.Errorf("--role %q: want app or device", s)
}

// payloadText shows a payload on one line: printable text as is, other text quoted, binary
// as its size and base64.
func payloadText(text string, binary []byte, isBinary bool) string {
	if isBinary {
		return fmt.Sprintf("binary(%d) %s", len(binary), base64.StdEncoding.EncodeToString(binary))
	}
	if utf8.ValidString(text) && strings.IndexFunc(text, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return text
	}
	return strconv.Quote(text)
}
