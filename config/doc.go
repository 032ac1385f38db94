// Package config loads unilogin's configuration: built-in defaults, then one
// YAML file, then environment variables (which win), with secrets also read
// from files named by *_FILE variables. Validate reports every problem at
// once, each with the path of its key. The package has no globals and no
// init(); it imports nothing else of unilogin.
package config
