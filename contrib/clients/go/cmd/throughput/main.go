// SPDX-License-Identifier: BSD-2-Clause

// Command throughput calls Next in a loop from one goroutine for a
// while and prints how many IDs it got: the Go row of
// contrib/clients/throughput.py.
//
//	throughput ADDRESS SECONDS PREFETCH
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	genid "github.com/genidproject/genid/contrib/clients/go"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: throughput ADDRESS SECONDS PREFETCH")
		os.Exit(64)
	}
	secs, err1 := strconv.ParseFloat(os.Args[2], 64)
	pre, err2 := strconv.Atoi(os.Args[3])
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "throughput: SECONDS is a number, PREFETCH a whole number")
		os.Exit(64)
	}
	c, err := genid.New([]string{os.Args[1]}, &genid.Options{Prefetch: pre, Conns: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(64)
	}
	defer c.Close()
	ctx := context.Background()
	n := 0
	end := time.Now().Add(time.Duration(secs * float64(time.Second)))
	for time.Now().Before(end) {
		for i := 0; i < 1000; i++ {
			if _, err := c.Next(ctx); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		n += 1000
	}
	fmt.Println(n)
}
