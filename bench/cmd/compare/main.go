// Command compare runs the side-by-side benchmarks with testing.Benchmark and prints
// one table: engine, size, ns/op, allocs/op, B/op and the ratio to ramconsole.
// It runs the agreement check first and refuses to print numbers for engines that
// disagree with ramconsole.
//
//	cd bench && go run ./cmd/compare [-sizes 10x50,100x1000] [-engines ramconsole,cedar,...] [-count 3]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"ramconsole/bench"
)

func main() {
	sizes := flag.String("sizes", "", "comma-separated sizes (default all)")
	engines := flag.String("engines", "", "comma-separated engines (default all)")
	count := flag.Int("count", 3, "runs per benchmark; the fastest is reported")
	flag.Parse()
	testing.Init()

	want := func(list string, s string) bool { return list == "" || slices.Contains(strings.Split(list, ","), s) }
	names := []string{}
	for _, n := range bench.EngineNames {
		if want(*engines, n) || n == "ramconsole" {
			names = append(names, n)
		}
	}
	fmt.Printf("goos=%s goarch=%s cpus=%d %s, %d requests cycled per benchmark\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), bench.NumRequests)
	fmt.Printf("| %-11s | %-8s | %12s | %9s | %10s | %14s | %19s |\n", "engine", "size", "ns/op", "allocs/op", "B/op", "× ramconsole", "input prep ns/req")
	fmt.Printf("|%s|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 13), strings.Repeat("-", 10), strings.Repeat("-", 14), strings.Repeat("-", 11), strings.Repeat("-", 12), strings.Repeat("-", 16), strings.Repeat("-", 21))
	failed := false
	for _, sz := range bench.Sizes {
		if !want(*sizes, sz.Name) {
			continue
		}
		if err := bench.Agree(sz, names); err != nil {
			fmt.Fprintln(os.Stderr, "DISAGREEMENT:", err)
			failed = true
			continue
		}
		var base float64
		for _, n := range names {
			fn, err := bench.Bench(n, sz)
			if err != nil {
				fmt.Fprintln(os.Stderr, n, err)
				failed = true
				continue
			}
			var best testing.BenchmarkResult
			for range *count {
				r := testing.Benchmark(fn)
				if best.N == 0 || float64(r.T)/float64(r.N) < float64(best.T)/float64(best.N) {
					best = r
				}
			}
			ns := float64(best.T.Nanoseconds()) / float64(best.N)
			if n == "ramconsole" {
				base = ns
			}
			prep, prepAllocs, err := bench.PrepCost(n, sz)
			if err != nil {
				fmt.Fprintln(os.Stderr, n, err)
				failed = true
			}
			fmt.Printf("| %-11s | %-8s | %12.1f | %9d | %10d | %13.1f× | %8.0f (%4.1f allocs) |\n", n, sz.Name, ns, best.AllocsPerOp(), best.AllocedBytesPerOp(), ns/base, prep, prepAllocs)
		}
	}
	if failed {
		os.Exit(1)
	}
}
