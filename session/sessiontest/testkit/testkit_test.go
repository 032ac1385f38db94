package testkit

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	c := NewClock(start)
	c.Advance(90 * time.Second)
	if got := c.Now(); !got.Equal(start.Add(90 * time.Second)) {
		t.Fatalf("Now after Advance = %v", got)
	}
}

func TestRaceReturnsEveryErrorByIndex(t *testing.T) {
	var calls atomic.Int32
	errs := Race(8, func(i int) error {
		calls.Add(1)
		if i%2 == 1 {
			return fmt.Errorf("odd %d", i)
		}
		return nil
	})
	if calls.Load() != 8 || len(errs) != 8 {
		t.Fatalf("%d calls, %d errors", calls.Load(), len(errs))
	}
	for i, err := range errs {
		if (err != nil) != (i%2 == 1) || (err != nil && !strings.Contains(err.Error(), fmt.Sprint(i))) {
			t.Errorf("errs[%d] = %v", i, err)
		}
	}
	if errors.Join(errs...) == nil {
		t.Fatal("no errors")
	}
}

func TestSyncBufferConcurrentWrites(t *testing.T) {
	var b SyncBuffer
	log := slog.New(slog.NewTextHandler(&b, nil))
	Race(20, func(i int) error { log.Info("line", "i", i); return nil })
	if n := strings.Count(b.String(), "msg=line"); n != 20 {
		t.Fatalf("%d lines, want 20:\n%s", n, b.String())
	}
}
