// SPDX-License-Identifier: BSD-2-Clause

package genid

// Go-specific behaviour beyond the shared cases: many goroutines on one
// Client, context.Context, Close.

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestConcurrentGoroutines: 16 goroutines share a client of 4
// connections against the real genid; every ID is unique, each call's
// IDs increase, and no more than 4 connections were ever in use.
func TestConcurrentGoroutines(t *testing.T) {
	h := startHelper(t, caseServer{Genid: []string{"--machine", "5"}})
	c, err := New([]string{h.addr()}, &Options{Conns: 4, Prefetch: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const goroutines, rounds = 16, 50
	results := make([][]uint64, goroutines)
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ctx := context.Background()
			for r := 0; r < rounds; r++ {
				id, err := c.Next(ctx)
				if err != nil {
					errs <- err
					return
				}
				ids, err := c.Bulk(ctx, 300)
				if err != nil {
					errs <- err
					return
				}
				for i := 1; i < len(ids); i++ {
					if ids[i] <= ids[i-1] {
						errs <- errors.New("IDs of one Bulk call do not increase")
						return
					}
				}
				results[g] = append(append(results[g], id), ids...)
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for _, r := range results {
		for _, id := range r {
			if seen[id] {
				t.Fatalf("ID %d handed out twice", id)
			}
			seen[id] = true
		}
	}
	if want := goroutines * rounds * 301; len(seen) != want {
		t.Fatalf("%d IDs, want %d", len(seen), want)
	}
	c.mu.Lock()
	n, busy := len(c.free), c.inUse
	c.mu.Unlock()
	if n < 1 || n > 4 || busy != 0 {
		t.Fatalf("%d connections in the pool, %d in use; want 1..4 and 0", n, busy)
	}
}

// TestContextCancel: a call waiting on a server that never answers ends
// with the context's error as soon as the context is cancelled, long
// before the read timeout, without trying the next address.
func TestContextCancel(t *testing.T) {
	silent := startHelper(t, caseServer{Fake: []string{"--mode", "silent"}})
	normal := startHelper(t, caseServer{Fake: []string{"--mode", "normal"}})
	c, err := New([]string{silent.addr(), normal.addr()}, &Options{IOTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	t0 := time.Now()
	_, err = c.Next(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Next: %v, want context.Canceled", err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Fatalf("cancelled Next took %v", d)
	}

	ctx, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	t0 = time.Now()
	_, err = c.Bulk(ctx, 10)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Bulk: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(t0); d < 250*time.Millisecond || d > 3*time.Second {
		t.Fatalf("Bulk with a 300 ms deadline took %v", d)
	}
	// The client is still usable; a live context goes on to the next
	// address once the silent one times out... here with a short timeout.
	c2, _ := New([]string{silent.addr(), normal.addr()}, &Options{IOTimeout: 200 * time.Millisecond})
	defer c2.Close()
	if _, err := c2.Next(context.Background()); err != nil {
		t.Fatalf("Next after failover: %v", err)
	}
}

// TestWaitForConnection: with one connection in use, a second call waits
// for it, and gives up with the context.
func TestWaitForConnection(t *testing.T) {
	silent := startHelper(t, caseServer{Fake: []string{"--mode", "silent"}})
	c, err := New([]string{silent.addr()}, &Options{Conns: 1, IOTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		close(started)
		_, err := c.Next(context.Background())
		done <- err
	}()
	<-started
	// Wait until the first call holds the only connection.
	end := time.Now().Add(5 * time.Second)
	for c.busy() == 0 && time.Now().Before(end) {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second call: %v, want context.DeadlineExceeded while the connection is in use", err)
	}
	if err := <-done; !errors.Is(err, ErrNoServer) {
		t.Fatalf("first call: %v, want ErrNoServer after the read timeout", err)
	}
}

func TestClose(t *testing.T) {
	h := startHelper(t, caseServer{Fake: []string{"--mode", "normal"}})
	c, err := New([]string{h.addr()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v, want ErrClosed", err)
	}
}

func TestOptionsChecked(t *testing.T) {
	for _, o := range []Options{{Prefetch: -1}, {Prefetch: PrefetchMax + 1}, {IOTimeout: -1}, {Conns: -1}} {
		if _, err := New([]string{"127.0.0.1"}, &o); err == nil {
			t.Errorf("New with %+v: no error", o)
		}
	}
	if _, err := New(nil, nil); err == nil {
		t.Error("New without addresses: no error")
	}
}

// busy is how many connections are in use.
func (c *Client) busy() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inUse
}

// TestCloseWakesWaiters: a call waiting for a connection fails with
// ErrClosed when the client is closed.
func TestCloseWakesWaiters(t *testing.T) {
	silent := startHelper(t, caseServer{Fake: []string{"--mode", "silent"}})
	c, err := New([]string{silent.addr()}, &Options{Conns: 1, IOTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { _, err := c.Bulk(context.Background(), 10); first <- err }()
	end := time.Now().Add(5 * time.Second)
	for c.busy() == 0 && time.Now().Before(end) {
		time.Sleep(time.Millisecond)
	}
	second := make(chan error, 1)
	go func() { _, err := c.Next(context.Background()); second <- err }()
	for {
		c.mu.Lock()
		n := len(c.waiters)
		c.mu.Unlock()
		if n == 1 || time.Now().After(end) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	c.Close()
	select {
	case err := <-second:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("waiting call: %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the waiting call did not end at Close")
	}
	if err := <-first; !errors.Is(err, ErrNoServer) {
		t.Fatalf("first call: %v, want ErrNoServer after the read timeout", err)
	}
	if n := c.busy(); n != 0 {
		t.Fatalf("%d connections in use after all calls ended", n)
	}
}
