package genid

import (
	"context"
	"os"
	"testing"
	"time"
)

// benchAddr is the genid to measure: $GENID_BENCH_ADDR (host:port of a
// running genid), or one started from $GENID for the benchmark.
func benchAddr(b *testing.B) string {
	if a := os.Getenv("GENID_BENCH_ADDR"); a != "" {
		return a
	}
	b.Skip("set GENID_BENCH_ADDR=127.0.0.1:PORT to a running genid (tests/clients/run_genid.py starts one)")
	return ""
}

// benchNext measures Next from one goroutine; the figure is IDs/s.
func benchNext(b *testing.B, prefetch int) {
	c, err := New([]string{benchAddr(b)}, &Options{Prefetch: prefetch, Conns: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Next(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	t0 := time.Now()
	var last uint64
	for i := 0; i < b.N; i++ {
		id, err := c.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if id <= last {
			b.Fatalf("ID %d is not above %d", id, last)
		}
		last = id
	}
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "IDs/s")
}

func BenchmarkNext(b *testing.B)             { benchNext(b, 0) }
func BenchmarkNextPrefetch1000(b *testing.B) { benchNext(b, 1000) }

// BenchmarkBulk1000 measures Bulk(ctx, 1000) from one goroutine.
func BenchmarkBulk1000(b *testing.B) {
	c, err := New([]string{benchAddr(b)}, &Options{Conns: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	b.ResetTimer()
	t0 := time.Now()
	for i := 0; i < b.N; i++ {
		if ids, err := c.Bulk(ctx, 1000); err != nil || len(ids) != 1000 {
			b.Fatal(len(ids), err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/time.Since(t0).Seconds(), "IDs/s")
}
