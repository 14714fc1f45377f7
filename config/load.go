package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Env is what validation needs to know about the rest of the firmware.
type Env struct {
	// Boards maps each board profile to the span drivers it provides,
	// Ports to its analog port drivers.
	Boards map[string][]string
	Ports  map[string][]string
	// Prompt reports whether a prompt id exists in a language; nil skips
	// the check of flows' prompts.
	Prompt func(lang, id string) bool
	// Music reports why a queue's music (a path resolved by Config.Path)
	// cannot be played; nil skips the check.
	Music func(path string) error
}

// Issue is one problem in a configuration, at a place in its source.
type Issue struct {
	File      string
	Line, Col int    // 1-based; 0 when the problem came from a --set
	Set       string // the --set KEY it came from, if any
	Msg       string
}

func (i Issue) String() string {
	if i.Set != "" {
		return fmt.Sprintf("--set %s: %s", i.Set, i.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", i.File, i.Line, i.Col, i.Msg)
}

// Issues is every problem found; as an error it prints one per line.
type Issues []Issue

func (is Issues) Error() string {
	lines := make([]string, len(is))
	for i, x := range is {
		lines[i] = x.String()
	}
	return strings.Join(lines, "\n")
}

// Load decodes a configuration strictly, applies --set overrides (each
// "KEY=VALUE", KEY a dotted path such as "sip.listen" or "span.0.clock" with
// 0-based indexes into arrays of tables) and validates the result. It returns
// the configuration only when there is no problem; otherwise every problem it
// found, as Issues.
func Load(name string, data []byte, sets []string, env Env) (*Config, error) {
	var cfg Config
	if name != DefaultName {
		cfg.dir = filepath.Dir(name)
	}
	var tree map[string]any
	if err := toml.Unmarshal(data, &tree); err != nil {
		return nil, decodeIssues(name, err)
	}
	idx := indexPositions(data)
	v := &validator{file: name, pos: idx, set: map[string]bool{}}
	ownSite := hasSite(tree) // as written: a site key dropped as wrong still says so
	checkTree(tree, reflect.TypeOf(cfg), "", func(path string, key bool, format string, args ...any) {
		v.reportAt(path, !key, format, args...)
	})
	if name != DefaultName {
		def, didx := theDefault()
		tree = withDefault(def, tree, ownSite)
		v.def = didx
	}
	v.tree = tree
	if err := decodeTree(tree, &cfg); err != nil {
		return nil, append(v.issues, decodeIssues(name, err)...)
	}
	for _, s := range sets {
		key, val, ok := strings.Cut(s, "=")
		if !ok || key == "" {
			v.issues = append(v.issues, Issue{Set: s, Msg: "want KEY=VALUE, e.g. sip.listen=127.0.0.1:15060"})
			continue
		}
		if err := setPath(&cfg, key, val); err != nil {
			v.issues = append(v.issues, Issue{Set: key, Msg: err.Error()})
			continue
		}
		v.set[key] = true
	}
	v.validate(&cfg, env)
	if len(v.issues) > 0 {
		// The file's problems in its order, then the --set ones, then
		// those in what the file took from the default.
		rank := func(i Issue) int {
			switch {
			case i.Set != "":
				return 1
			case i.File != name:
				return 2
			}
			return 0
		}
		sort.SliceStable(v.issues, func(i, j int) bool {
			a, b := v.issues[i], v.issues[j]
			if rank(a) != rank(b) {
				return rank(a) < rank(b)
			}
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Col < b.Col
		})
		return nil, v.issues
	}
	return &cfg, nil
}

// decodeIssues turns go-toml's errors (syntax, type, unknown keys) into Issues.
func decodeIssues(name string, err error) Issues {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var out Issues
		for _, e := range strict.Errors {
			l, c := e.Position()
			out = append(out, Issue{File: name, Line: l, Col: c, Msg: fmt.Sprintf("unknown key %q", strings.Join(e.Key(), "."))})
		}
		return out
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		l, c := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if k := de.Key(); len(k) > 0 {
			msg = fmt.Sprintf("%s: %s", strings.Join(k, "."), msg)
		}
		return Issues{{File: name, Line: l, Col: c, Msg: msg}}
	}
	return Issues{{File: name, Line: 1, Col: 1, Msg: err.Error()}}
}

type pos struct{ line, col int }

// indexPositions maps each dotted key path of a document that decoded
// cleanly ("sip.listen", "span.0", "span.0.framing", "sip.transports.1") to
// where it stands, so validation can point at the offending value.
func indexPositions(data []byte) map[string]pos {
	idx := map[string]pos{}
	var p unstable.Parser
	p.Reset(data)
	arrays := map[string]int{} // array-of-tables path -> elements seen
	var table []string
	at := func(n *unstable.Node) pos {
		s := p.Shape(n.Raw).Start
		return pos{s.Line, s.Column}
	}
	// resolve maps a header or key path to concrete array elements: after a
	// prefix that names an array of tables comes the index of its last element.
	resolve := func(parts []string) []string {
		var out []string
		for _, part := range parts {
			out = append(out, part)
			if n, ok := arrays[strings.Join(out, ".")]; ok {
				out = append(out, strconv.Itoa(n-1))
			}
		}
		return out
	}
	keyOf := func(n *unstable.Node) ([]string, *unstable.Node) {
		var parts []string
		var first *unstable.Node
		it := n.Key()
		for it.Next() {
			if first == nil {
				first = it.Node()
			}
			parts = append(parts, string(it.Node().Data))
		}
		return parts, first
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			parts, first := keyOf(e)
			table = resolve(parts)
			idx[strings.Join(table, ".")] = at(first)
		case unstable.ArrayTable:
			parts, first := keyOf(e)
			table = resolve(parts[:len(parts)-1])
			table = append(table, parts[len(parts)-1])
			k := strings.Join(table, ".")
			arrays[k]++
			table = append(table, strconv.Itoa(arrays[k]-1))
			idx[strings.Join(table, ".")] = at(first)
		case unstable.KeyValue:
			parts, first := keyOf(e)
			full := strings.Join(append(append([]string(nil), table...), parts...), ".")
			idx[full] = at(first)
			indexValue(idx, full, e.Value(), at, keyOf)
		}
	}
	return idx
}

// indexValue records where the value at path stands and, inside arrays and
// inline tables ("rules = [{days = ...}]", "keys = {1 = ...}"), where each
// element and key stands.
func indexValue(idx map[string]pos, path string, val *unstable.Node, at func(*unstable.Node) pos, keyOf func(*unstable.Node) ([]string, *unstable.Node)) {
	if val.Raw.Length > 0 {
		idx[path+"="] = at(val)
	}
	switch val.Kind {
	case unstable.Array:
		i := 0
		for it := val.Children(); it.Next(); {
			if n := it.Node(); n.Kind != unstable.Comment {
				p := path + "." + strconv.Itoa(i)
				if n.Kind == unstable.InlineTable {
					idx[p] = at(n)
				}
				indexValue(idx, p, n, at, keyOf)
				i++
			}
		}
	case unstable.InlineTable:
		for it := val.Children(); it.Next(); {
			if kv := it.Node(); kv.Kind == unstable.KeyValue {
				parts, first := keyOf(kv)
				p := path + "." + strings.Join(parts, ".")
				idx[p] = at(first)
				indexValue(idx, p, kv.Value(), at, keyOf)
			}
		}
	}
}

// setPath assigns the text val to the field named by the dotted path key,
// through tables, arrays of tables (by 0-based index) and named tables
// ("flow.main.node.menu.timeout"). String fields take the text as it is
// (quotes optional); other fields take it as a TOML value of their type.
func setPath(cfg *Config, key, val string) error {
	return setIn(reflect.ValueOf(cfg).Elem(), strings.Split(key, "."), 0, val)
}

func setIn(v reflect.Value, parts []string, i int, val string) error {
	if i == len(parts) {
		return setValue(v, strings.Join(parts, "."), val)
	}
	part, at := parts[i], strings.Join(parts[:i], ".")
	switch v.Kind() {
	case reflect.Struct:
		f, ok := fieldByTag(v, part)
		if !ok {
			return fmt.Errorf("unknown key %q", strings.Join(parts[:i+1], "."))
		}
		return setIn(f, parts, i+1, val)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Struct {
			return fmt.Errorf("%s is a list: set it whole, e.g. %s=[\"a\", \"b\"]", at, at)
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 || n >= v.Len() {
			return fmt.Errorf("%s has %d entries; want an index from 0 to %d, not %q", at, v.Len(), v.Len()-1, part)
		}
		return setIn(v.Index(n), parts, i+1, val)
	case reflect.Map:
		k := reflect.ValueOf(part).Convert(v.Type().Key())
		cur := v.MapIndex(k)
		if !cur.IsValid() && v.Type().Elem().Kind() == reflect.Struct {
			return fmt.Errorf("%s has no %q; it has %s", at, part, strings.Join(quoteAll(mapKeys(v)), ", "))
		}
		// A map's values cannot be set in place: set a copy, put it back.
		elem := reflect.New(v.Type().Elem()).Elem()
		if cur.IsValid() {
			elem.Set(cur)
		}
		if err := setIn(elem, parts, i+1, val); err != nil {
			return err
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		v.SetMapIndex(k, elem)
		return nil
	}
	return fmt.Errorf("unknown key %q", strings.Join(parts[:i+1], "."))
}

func mapKeys(m reflect.Value) []string {
	var ks []string
	for _, k := range m.MapKeys() {
		ks = append(ks, k.String())
	}
	sort.Strings(ks)
	return ks
}

func setValue(v reflect.Value, key, val string) error {
	if v.Kind() == reflect.Struct || (v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct) || v.Kind() == reflect.Map && v.Type().Elem().Kind() == reflect.Struct {
		return fmt.Errorf("%s is a table; set one of its keys", key)
	}
	if v.Kind() == reflect.String {
		if s, err := strconv.Unquote(val); err == nil && strings.HasPrefix(val, `"`) {
			val = s
		}
		v.SetString(val)
		return nil
	}
	holder := reflect.New(reflect.StructOf([]reflect.StructField{{Name: "V", Type: v.Type(), Tag: `toml:"v"`}}))
	if err := toml.Unmarshal([]byte("v = "+val), holder.Interface()); err != nil {
		return fmt.Errorf("want %s, not %q", want(v.Type()), val)
	}
	v.Set(holder.Elem().Field(0))
	return nil
}

func fieldByTag(v reflect.Value, tag string) (reflect.Value, bool) {
	if i, ok := fieldIndex(v.Type(), tag); ok {
		return v.Field(i), true
	}
	return reflect.Value{}, false
}

// Text is a configuration as TOML, as the console's config show prints it.
func Text(c *Config) string {
	b, err := toml.Marshal(c)
	if err != nil {
		return "# " + err.Error() + "\n"
	}
	return string(b)
}
