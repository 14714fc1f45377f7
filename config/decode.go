package config

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2"
)

// A file is read in three steps, so that one pass reports every problem
// and a file holds only what differs from the embedded default (as Caddy
// and Prometheus configs do):
//
//  1. it is parsed into a tree (a syntax error stops here: past it the
//     parser cannot tell keys from values);
//  2. the tree is checked against Config, key by key: every unknown key
//     (with a "did you mean" when a known one is close) and every value of
//     the wrong type is an Issue at its FILE:LINE:COL, and is dropped, so
//     the rest can still be checked;
//  3. what is left is laid over the default's tree: tables merge key by
//     key and an array is the file's whole when the file has it. The
//     site (spans, ports, extensions, trunks, outbound routes, queues,
//     flows and the supervisors, which name one another) comes as one:
//     a file with any of it takes none of the default's demo site, whose
//     queues would name agents the file does not have.
//
// The merged tree is then decoded strictly into a Config and validated.

var (
	defaultOnce sync.Once
	defaultTree map[string]any
	defaultIdx  map[string]pos
)

// theDefault is the embedded default's tree and the positions of its keys.
func theDefault() (map[string]any, map[string]pos) {
	defaultOnce.Do(func() {
		if err := toml.Unmarshal(Default(), &defaultTree); err != nil {
			panic("config: the embedded default does not parse: " + err.Error())
		}
		defaultIdx = indexPositions(Default())
	})
	return defaultTree, defaultIdx
}

// checkTree reports the unknown keys and ill-typed values of tree (the
// table at path, to be decoded into t) and deletes them from it.
func checkTree(tree map[string]any, t reflect.Type, path string, report func(path string, key bool, format string, args ...any)) {
	for _, k := range sortedKeys(tree) {
		p := join(path, k)
		var ft reflect.Type
		switch t.Kind() {
		case reflect.Struct:
			f, ok := fieldType(t, k)
			if !ok {
				msg := fmt.Sprintf("unknown key %q", p)
				if near := nearest(k, tags(t)); near != "" {
					msg += fmt.Sprintf(": did you mean %q?", near)
				}
				report(p, true, "%s", msg)
				delete(tree, k)
				continue
			}
			ft = f
		case reflect.Map:
			ft = t.Elem()
		}
		v, ok := checkValue(tree[k], ft, p, report)
		if !ok {
			delete(tree, k)
			continue
		}
		tree[k] = v
	}
}

// checkValue checks one value against t; it returns the value to keep
// (an integer for a float field becomes a float) or false to drop it.
func checkValue(v any, t reflect.Type, path string, report func(path string, key bool, format string, args ...any)) (any, bool) {
	wrong := func() (any, bool) {
		report(path, false, "%s: want %s, got %s", path, want(t), got(v))
		return nil, false
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			return wrong()
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return wrong()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(int64)
		if !ok {
			return wrong()
		}
		if reflect.New(t).Elem().OverflowInt(n) {
			report(path, false, "%s: %d is too large", path, n)
			return nil, false
		}
	case reflect.Float32, reflect.Float64:
		switch x := v.(type) {
		case float64:
		case int64:
			return float64(x), true
		default:
			return wrong()
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return wrong()
		}
		// Every element is checked; a list with a bad one is dropped
		// whole (a shorter list would move the rest's places).
		good := true
		for i, e := range list {
			e, ok := checkValue(e, t.Elem(), path+"."+strconv.Itoa(i), report)
			list[i], good = e, good && ok
		}
		return list, good
	case reflect.Struct, reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return wrong()
		}
		checkTree(m, t, path, report)
	}
	return v, true
}

// site are the default's keys that describe its demo site; sip.guests
// among them, the demo's open door for callers who do not authenticate,
// which a box of its own site keeps shut unless its file opens it.
var site = []string{"span", "port", "extension", "trunk", "outbound", "queue", "flow", "acd.supervisors", "acd.direct_queue", "sip.guests"}

// hasSite reports whether the file describes a site of its own.
func hasSite(file map[string]any) bool {
	for _, k := range site {
		if has(file, k) {
			return true
		}
	}
	return false
}

// has reports whether tree holds the key at the dotted path k.
func has(tree map[string]any, k string) bool {
	table, key, inTable := strings.Cut(k, ".")
	if !inTable {
		_, ok := tree[k]
		return ok
	}
	t, ok := tree[table].(map[string]any)
	return ok && has(t, key)
}

// without is tree less the keys at the dotted paths ks; tree is not
// changed.
func without(tree map[string]any, ks ...string) map[string]any {
	out := maps.Clone(tree)
	for _, k := range ks {
		if table, key, inTable := strings.Cut(k, "."); !inTable {
			delete(out, k)
		} else if t, ok := out[table].(map[string]any); ok {
			out[table] = without(t, key)
		}
	}
	return out
}

// withDefault lays the file's tree over the default's (see the top of
// this file); ownSite is whether the file, as written, has a site of its
// own. Neither tree is changed.
func withDefault(def, file map[string]any, ownSite bool) map[string]any {
	if ownSite {
		def = without(def, site...)
	}
	// An older file names the box's zone in [ivr]: the default's [box]
	// one would then be a second, different zone.
	if has(file, "ivr.timezone") && !has(file, "box.timezone") {
		def = without(def, "box.timezone")
	}
	return overlay(def, file, reflect.TypeOf(Config{}))
}

// overlay lays file over def, a table decoded into t: a table of fixed
// keys (a struct) merges key by key; anything else (a value, a list, a
// table of names such as [acd] tiers or [security] rates) is file's
// whole.
func overlay(def, file map[string]any, t reflect.Type) map[string]any {
	out := maps.Clone(def)
	for k, v := range file {
		dm, dok := out[k].(map[string]any)
		fm, fok := v.(map[string]any)
		if ft, ok := fieldType(t, k); ok && dok && fok && ft.Kind() == reflect.Struct {
			out[k] = overlay(dm, fm, ft)
			continue
		}
		out[k] = v
	}
	return out
}

// decodeTree decodes a checked tree into cfg, strictly (anything the
// checks let through that Config cannot take is an error here).
func decodeTree(tree map[string]any, cfg *Config) error {
	b, err := toml.Marshal(tree)
	if err != nil {
		return err
	}
	return toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields().Decode(cfg)
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func fieldType(t reflect.Type, tag string) (reflect.Type, bool) {
	if i, ok := fieldIndex(t, tag); ok {
		return t.Field(i).Type, true
	}
	return nil, false
}

// fieldIndex is the exported field of struct type t whose TOML key is tag.
func fieldIndex(t reflect.Type, tag string) (int, bool) {
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); name == tag && t.Field(i).IsExported() {
			return i, true
		}
	}
	return 0, false
}

func tags(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// want names what a field of type t takes, in the user's words.
func want(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string (in quotes)"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		switch t.Elem().Kind() {
		case reflect.String:
			return `a list of strings, such as ["a", "b"]`
		case reflect.Struct, reflect.Map:
			return "a list of tables"
		}
		return "a list of " + strings.TrimPrefix(want(t.Elem()), "a ") + "s"
	case reflect.Struct, reflect.Map:
		return "a table"
	}
	return t.String()
}

// got describes a value as the file wrote it.
func got(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprint(x)
	case int64:
		return fmt.Sprintf("the number %d", x)
	case float64:
		return fmt.Sprintf("the number %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%v", v) // a date or time
}

// nearest is the known key closest to k, if it is a likely misspelling
// (at most two edits, and fewer than half of k's letters) or an
// abbreviation (k's letters, in order, in a known key: "clk", "fmt").
func nearest(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if d := editDistance(k, c); d < bestD && d*2 < len(k) {
			best, bestD = c, d
		}
	}
	if best != "" || len(k) < 3 {
		return best
	}
	for _, c := range known {
		if abbreviates(k, c) && c[0] == k[0] {
			return c
		}
	}
	return ""
}

// abbreviates reports whether k's letters appear in c in order.
func abbreviates(k, c string) bool {
	i := 0
	for j := 0; j < len(c) && i < len(k); j++ {
		if c[j] == k[i] {
			i++
		}
	}
	return i == len(k)
}

// editDistance is Levenshtein's, with a transposition counted as one edit
// (Damerau's restricted form): "lisen" is one from "listen", "porst" one
// from "ports".
func editDistance(a, b string) int {
	prev2, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
