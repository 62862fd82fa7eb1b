package bench

import "testing"

// BenchmarkEngines/{engine}/{size}: one decision per op, cycling over the same
// NumRequests pre-built requests for every engine.
func BenchmarkEngines(b *testing.B) {
	for _, name := range EngineNames {
		b.Run(name, func(b *testing.B) {
			for _, sz := range Sizes {
				fn, err := Bench(name, sz)
				if err != nil {
					b.Fatal(err)
				}
				b.Run(sz.Name, fn)
			}
		})
	}
}
