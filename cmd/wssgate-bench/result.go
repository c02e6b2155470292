package main

import (
	"strconv"
	"strings"
)

// result is the one machine-readable line a run ends with: "RESULT k=v k=v ...",
// keys in the order they were added.
type result struct {
	fields []field
}

type field struct{ key, value string }

// str adds a text field; spaces and '=' in the value become '_' so the line stays
// splittable on spaces.
func (r *result) str(key, value string) {
	if value == "" {
		value = "-"
	}
	value = strings.Map(func(c rune) rune {
		if c == ' ' || c == '=' || c == '\t' || c == '\n' {
			return '_'
		}
		return c
	}, value)
	r.fields = append(r.fields, field{key, value})
}

// int adds an integer field.
func (r *result) int(key string, v int64) {
	r.fields = append(r.fields, field{key, strconv.FormatInt(v, 10)})
}

// float adds a number with prec decimals.
func (r *result) float(key string, v float64, prec int) {
	r.fields = append(r.fields, field{key, strconv.FormatFloat(v, 'f', prec, 64)})
}

// get returns the value of key, and whether it is present.
func (r *result) get(key string) (string, bool) {
	for _, f := range r.fields {
		if f.key == key {
			return f.value, true
		}
	}
	return "", false
}

// String formats the line, without a trailing newline.
func (r *result) String() string {
	var b strings.Builder
	b.WriteString("RESULT")
	for _, f := range r.fields {
		b.WriteByte(' ')
		b.WriteString(f.key)
		b.WriteByte('=')
		b.WriteString(f.value)
	}
	return b.String()
}

// parseResult reads a line written by String back into key/value pairs.
func parseResult(line string) (map[string]string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "RESULT ")
	if !ok {
		return nil, false
	}
	m := make(map[string]string)
	for _, kv := range strings.Fields(rest) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, false
		}
		m[k] = v
	}
	return m, true
}
