package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
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
// NOT validate: call Validate on the result.
func Load(path string, getenv func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	c := Default()
	if path != "" {
		data, err := readFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: read file: %w", err)
		}
		if err := decodeYAML(data, c); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	err := errors.Join(
		applyEnv(c, getenv, readFile),
		resolveSecretFiles(c, filepath.Dir(path), readFile),
		resolveEmail(c, filepath.Dir(path), getenv, readFile), // email.go
	)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// decodeYAML decodes one YAML document over c. Unknown keys are errors that
// name their line. An empty file (or one holding only comments) changes
// nothing. A roles map in the file replaces the default one entirely.
func decodeYAML(data []byte, c *Config) error {
	defaultRoles := c.Roles
	c.Roles = nil

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(c)
	if err == nil {
		var extra yaml.Node
		if dec.Decode(&extra) != io.EOF {
			err = errors.New("more than one YAML document")
		}
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	if c.Roles == nil {
		c.Roles = defaultRoles
	}
	return err
}

// resolveSecretFiles reads clients[].secret_file and
// providers.*.client_secret_file into the matching secret. Setting both
// forms of one secret is an error.
func resolveSecretFiles(c *Config, dir string, readFile func(string) ([]byte, error)) error {
	var errs []error
	resolve := func(path, valueKey, fileKey string, value *string, file string) {
		if file == "" {
			return
		}
		if *value != "" {
			errs = append(errs, fmt.Errorf("config: %s: %s and %s are both set; use one", path, valueKey, fileKey))
			return
		}
		if !filepath.IsAbs(file) && dir != "" {
			file = filepath.Join(dir, file)
		}
		s, err := readSecretFile(file, readFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: %s.%s: %w", path, fileKey, err))
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
	return errors.Join(errs...)
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
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return s, nil
}
