package main

import (
	"flag"
	"testing"
)

// The benchmark runs end to end on a small day (the suite keeps the
// million for the script).
func TestBenchKPISmall(t *testing.T) {
	flag.Set("calls", "2000")
	flag.Set("repeats", "1")
	main()
}
