package config

import (
	"fmt"
	"strings"
)

// Problems is a list of problems as an error: one line per problem.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Check loads the configuration as Load does and validates it, and returns
// every problem at once: in the file (syntax, unknown keys, types; the keys
// that are fine are still validated), in the environment and in secret
// files, then the invalid values. A value set by an environment variable
// is reported by the variable's name, a secret read from a file by the key
// naming that file and its path. The configuration is nil when the file
// cannot be read; otherwise it is returned even when there are problems
// (do not use it then).
func Check(path string, getenv func(string) string, readFile func(string) ([]byte, error)) (*Config, []Problem) {
	c, problems, err := load(path, getenv, readFile)
	if err != nil {
		return nil, []Problem{{Path: path, Message: fmt.Sprintf("cannot read the configuration file: %v", unwrapPath(err))}}
	}
	reported := map[string]bool{}
	for _, p := range problems {
		reported[p.Path] = true
	}
	sources := valueSources(c, getenv)
	for _, p := range c.Validate() {
		if coveredBy(p.Path, reported) {
			continue // the key was dropped for a reason already given
		}
		if src, ok := sources[p.Path]; ok {
			p = Problem{Path: src, Message: p.Message + " (it sets " + p.Path + ")"}
		}
		problems = append(problems, p)
	}
	return c, problems
}

// coveredBy reports whether path, or a key above it, already has a problem.
func coveredBy(path string, reported map[string]bool) bool {
	for p := path; p != ""; {
		if reported[p] {
			return true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return false
		}
		p = p[:i]
	}
	return false
}

// valueSources maps key paths whose value came from somewhere other than
// the YAML text to where it came from: an environment variable (or its
// _FILE companion, with the file's path), or a secret_file key.
func valueSources(c *Config, getenv func(string) string) map[string]string {
	out := map[string]string{}
	for _, e := range envTable {
		if e.Key == "" {
			continue
		}
		if e.Secret && getenv(e.FileName()) != "" {
			out[e.Key] = fmt.Sprintf("%s (%s)", e.FileName(), getenv(e.FileName()))
		} else if getenv(e.Name) != "" {
			out[e.Key] = e.Name
		}
	}
	for i, cl := range c.Clients {
		if cl.SecretFile != "" {
			path := fmt.Sprintf("clients[%d].secret", i)
			if _, ok := out[path]; !ok {
				out[path] = fmt.Sprintf("clients[%d].secret_file (%s)", i, cl.SecretFile)
			}
		}
	}
	if c.Metrics.TokenFile != "" {
		if _, ok := out["metrics.token"]; !ok {
			out["metrics.token"] = fmt.Sprintf("metrics.token_file (%s)", c.Metrics.TokenFile)
		}
	}
	for path, p := range c.providerEntries() {
		if p.ClientSecretFile != "" {
			if _, ok := out[path+".client_secret"]; !ok {
				out[path+".client_secret"] = fmt.Sprintf("%s.client_secret_file (%s)", path, p.ClientSecretFile)
			}
		}
	}
	return out
}

// unwrapPath drops the "config: read file:" prefix, keeping the cause.
func unwrapPath(err error) string {
	return strings.TrimPrefix(err.Error(), "config: read file: ")
}
