package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"unicode"
)

// PathFromEnv returns the configuration file path: the --config flag value
// when set, else UNILOGIN_CONFIG, else "" (no file: defaults and environment).
func PathFromEnv(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	return getenv(ConfigPathEnv)
}

// Load builds the configuration: Default(), then the YAML file at path (when
// path is not empty), then the environment variables listed by EnvVars, which
// win. Secrets named by *_FILE variables and by the YAML keys secret_file and
// client_secret_file are read with readFile; a relative secret_file path is
// relative to the directory of the YAML file.
//
// The binary passes os.Getenv and os.ReadFile; tests pass fakes. Load does
// NOT validate: call Validate on the result, or use Check, which does both
// and reports every problem at once. A file that cannot be read is an error
// wrapping the cause; every other problem (syntax, unknown keys, types, bad
// variables, unreadable secret files) is reported as Problems.
func Load(path string, getenv func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	c, problems, err := load(path, getenv, readFile)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, Problems(problems)
	}
	return c, nil
}

// load is Load that returns the partly loaded configuration along with its
// problems, so the rest can still be validated.
func load(path string, getenv func(string) string, readFile func(string) ([]byte, error)) (*Config, []Problem, error) {
	c := Default()
	var problems []Problem
	if path != "" {
		data, err := readFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("config: read file: %w", err)
		}
		problems = decodeYAML(path, data, c)
	}
	problems = append(problems, applyEnv(c, getenv, readFile)...)
	problems = append(problems, resolveSecretFiles(c, filepath.Dir(path), readFile)...)
	problems = append(problems, resolveEmail(c, filepath.Dir(path), getenv, readFile)...) // email.go
	return c, problems, nil
}

// resolveSecretFiles reads clients[].secret_file and
// providers.*.client_secret_file into the matching secret. Setting both
// forms of one secret is an error.
func resolveSecretFiles(c *Config, dir string, readFile func(string) ([]byte, error)) []Problem {
	var errs []Problem
	resolve := func(path, valueKey, fileKey string, value *string, file string) {
		if file == "" {
			return
		}
		if *value != "" {
			errs = append(errs, Problem{path, fmt.Sprintf("%s and %s are both set; use one", valueKey, fileKey)})
			return
		}
		if !filepath.IsAbs(file) && dir != "" {
			file = filepath.Join(dir, file)
		}
		s, err := readSecretFile(file, readFile)
		if err != nil {
			errs = append(errs, Problem{path + "." + fileKey, secretFileMessage(file, err)})
			return
		}
		*value = s
	}
	for i := range c.Clients {
		cl := &c.Clients[i]
		resolve(fmt.Sprintf("clients[%d]", i), "secret", "secret_file", &cl.Secret, cl.SecretFile)
	}
	for path, p := range c.providerEntries() {
		resolve(path, "client_secret", "client_secret_file", &p.ClientSecret, p.ClientSecretFile)
	}
	resolve("metrics", "token", "token_file", &c.Metrics.Token, c.Metrics.TokenFile)
	return errs
}

// readSecretFile returns the file's content without trailing whitespace
// (the newline editors and `echo` add). An empty secret is an error.
func readSecretFile(path string, readFile func(string) ([]byte, error)) (string, error) {
	data, err := readFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimRightFunc(string(data), unicode.IsSpace)
	if s == "" {
		return "", errEmptySecret
	}
	return s, nil
}

var errEmptySecret = errors.New("is empty")

// secretFileMessage says what is wrong with a secret file, naming its path
// (never its content).
func secretFileMessage(path string, err error) string {
	switch {
	case errors.Is(err, errEmptySecret):
		return fmt.Sprintf("secret file %s is empty", path)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("secret file %s does not exist", path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("secret file %s is not readable by this user", path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Sprintf("cannot read secret file %s: %v", path, pe.Err)
	}
	return fmt.Sprintf("cannot read secret file %s: %v", path, err)
}
