package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var durationType = reflect.TypeFor[time.Duration]()

// decodeYAML decodes one YAML document over c and returns every problem in
// it, each at its key path: syntax errors, unknown keys (with a "did you
// mean" for near misses, also inside a misspelt section), values of the
// wrong type and duplicate keys. Keys with a problem are left out and the
// rest of the file is still decoded, so Validate can check it too. An empty
// file (or one holding only comments) changes nothing. A roles map in the
// file replaces the default one entirely. file names the file in problems
// that have no key path (syntax errors).
func decodeYAML(file string, data []byte, c *Config) []Problem {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return []Problem{{Path: file, Message: strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	w := &yamlWalker{}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		w.problems = append(w.problems, Problem{Path: file, Message: "more than one YAML document (only one is read)"})
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if isNull(root) {
		return w.problems
	}
	if !w.check(root, reflect.TypeFor[Config](), "") {
		return w.problems
	}

	defaultRoles := c.Roles
	c.Roles = nil
	if err := root.Decode(c); err != nil {
		// The walk admits only what decodes; this is a safety net that
		// still reports the error rather than starting with half a file.
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, msg := range te.Errors {
				w.problems = append(w.problems, Problem{Path: file, Message: msg})
			}
		} else {
			w.problems = append(w.problems, Problem{Path: file, Message: strings.TrimPrefix(err.Error(), "yaml: ")})
		}
	}
	if c.Roles == nil {
		c.Roles = defaultRoles
	}
	return w.problems
}

// yamlWalker checks a node tree against a Go type, following the fields'
// yaml tags, and removes what does not fit so that decoding the rest
// succeeds.
type yamlWalker struct{ problems []Problem }

func (w *yamlWalker) add(n *yaml.Node, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		msg = fmt.Sprintf("line %d: %s", n.Line, msg)
	}
	if path == "" {
		path = "(top level)"
	}
	w.problems = append(w.problems, Problem{Path: path, Message: msg})
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// check reports the problems of n as a value of type t at path and returns
// whether n may be decoded (after its bad parts were removed).
func (w *yamlWalker) check(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return w.check(n.Alias, t, path)
	}
	if isNull(n) {
		return true
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return w.duration(n, path)
	case t.Kind() == reflect.Struct:
		return w.structure(n, t, path)
	case t.Kind() == reflect.Map:
		return w.mapping(n, t, path)
	case t.Kind() == reflect.Slice:
		return w.list(n, t, path)
	}
	return w.scalar(n, t, path)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a single value"
}

func (w *yamlWalker) duration(n *yaml.Node, path string) bool {
	if n.Kind != yaml.ScalarNode {
		w.add(n, path, `must be a duration such as "10s", "15m" or "720h", not %s`, kindName(n))
		return false
	}
	switch tag := n.ShortTag(); tag {
	case "!!str":
		if _, err := time.ParseDuration(strings.TrimSpace(n.Value)); err == nil {
			return true
		}
		w.add(n, path, `%q is not a duration; write a number with a unit, such as "10s", "15m" or "720h"`, n.Value)
	case "!!int", "!!float":
		w.add(n, path, `must be a duration with a unit, such as "%ss" or "15m", not the bare number %s`, n.Value, n.Value)
	default:
		w.add(n, path, `must be a duration such as "10s", "15m" or "720h"`)
	}
	return false
}

func (w *yamlWalker) structure(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind != yaml.MappingNode {
		w.add(n, path, "must be a mapping of keys, not %s", kindName(n))
		return false
	}
	fields := map[string]reflect.StructField{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fields[name] = f
		names = append(names, name)
	}
	w.pairs(n, path, func(key string, k, v *yaml.Node) bool {
		f, ok := fields[key]
		if ok {
			return w.check(v, f.Type, join(path, key))
		}
		near := nearest(key, names)
		switch {
		case len(near) == 1:
			w.add(k, join(path, key), "unknown key; did you mean %q?", near[0])
			// Check what the misspelt section holds too, so every
			// mistake shows up in one run.
			if v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode {
				w.check(v, fields[near[0]].Type, join(path, key))
			}
		case len(near) > 1:
			w.add(k, join(path, key), "unknown key; did you mean one of %s?", quoteList(near))
		case t == reflect.TypeFor[Providers]():
			w.add(k, join(path, key), "unknown provider; the built-in ones are google and github, and any OpenID Connect provider goes in the list providers.oidc")
		default:
			w.add(k, join(path, key), "unknown key; the keys here are %s", quoteList(names))
		}
		return false
	})
	return true
}

func (w *yamlWalker) mapping(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind != yaml.MappingNode {
		w.add(n, path, "must be a mapping, not %s", kindName(n))
		return false
	}
	w.pairs(n, path, func(key string, _, v *yaml.Node) bool {
		return w.check(v, t.Elem(), join(path, key))
	})
	return true
}

// pairs calls fn for each key of the mapping n and removes the pairs for
// which it returns false, non-string keys and repeated keys.
func (w *yamlWalker) pairs(n *yaml.Node, path string, fn func(key string, k, v *yaml.Node) bool) {
	seen := map[string]int{}
	kept := n.Content[:0:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "<<" {
			w.add(k, path, "keys must be plain names")
			continue
		}
		if line, dup := seen[k.Value]; dup {
			w.add(k, join(path, k.Value), "set twice (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		if fn(k.Value, k, v) {
			kept = append(kept, k, v)
		}
	}
	n.Content = kept
}

func (w *yamlWalker) list(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind != yaml.SequenceNode {
		w.add(n, path, "must be a list (e.g. [a, b]), not %s", kindName(n))
		return false
	}
	for i, item := range n.Content {
		if !w.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)) {
			// Put the zero value there (a null would be skipped), so
			// the following items keep their indexes in Validate's report.
			zero := &yaml.Node{}
			if err := zero.Encode(reflect.Zero(t.Elem()).Interface()); err != nil {
				return false
			}
			n.Content[i] = zero
		}
	}
	return true
}

func (w *yamlWalker) scalar(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind != yaml.ScalarNode {
		w.add(n, path, "must be a single value, not %s", kindName(n))
		return false
	}
	if n.Decode(reflect.New(t).Interface()) == nil {
		return true
	}
	// Only numbers and booleans get here: any scalar decodes into a
	// string, so the value shown is never a secret.
	switch t.Kind() {
	case reflect.Bool:
		w.add(n, path, "must be true or false, not %q", n.Value)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		w.add(n, path, "must be a whole number, not %q", n.Value)
	default:
		w.add(n, path, "has the wrong type of value")
	}
	return false
}

// nearest returns the names within a small edit distance of key (a
// misspelling, a missing or extra letter, swapped letters), closest first.
func nearest(key string, names []string) []string {
	best := -1
	var out []string
	for _, name := range names {
		d := editDistance(strings.ToLower(key), name)
		// Compare with the words the abbreviations stand for too:
		// "adress" is a near miss of addr.
		if long := abbreviations.Replace(name); long != name {
			d = min(d, editDistance(strings.ToLower(key), long))
		}
		limit := max(2, len(name)/5)
		if len(name) <= 4 {
			limit = 1
		}
		if strings.HasPrefix(name, key) || strings.HasPrefix(key, name) {
			d = min(d, 1) // addr vs address, log vs logs
		}
		if d > limit {
			continue
		}
		switch {
		case best < 0 || d < best:
			best, out = d, []string{name}
		case d == best:
			out = append(out, name)
		}
	}
	return out
}

var abbreviations = strings.NewReplacer("addr", "address", "dir", "directory", "ttl", "lifetime")

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent letters.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range slices.Sorted(slices.Values(names)) {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
