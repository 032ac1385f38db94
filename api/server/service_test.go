package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/config"
)

// The sweep loop calls its function every sweep_interval, logs a failed
// sweep as a warning and a sweep that deleted something at debug level,
// and returns when its context ends.
func TestSweepLogsAndStops(t *testing.T) {
	var buf bytes.Buffer // written by the sweep goroutine, read after it ended
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := &Server{Core: &Core{Config: &config.Config{SweepInterval: time.Millisecond}, log: log}}
	ctx, cancel := context.WithCancel(context.Background())
	results := []error{errors.New("store down"), nil, nil}
	calls := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.sweep(ctx, "test records", func(context.Context) (int, error) {
			calls++
			if calls == len(results) {
				cancel()
			}
			if err := results[(calls-1)%len(results)]; err != nil {
				return 0, err
			}
			return calls - 1, nil
		})
	}()
	<-done
	out := buf.String()
	for _, want := range []string{
		`level=WARN msg="sweeping test records" error="store down"`,
		`level=DEBUG msg="swept test records" count=2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "count=0") {
		t.Errorf("a sweep that deleted nothing was logged:\n%s", out)
	}
}
