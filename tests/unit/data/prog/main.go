// The program whose sections are sonde's unit-test data (make_data.sh).
// The markers at line ends are how make_data.sh finds the expected lines:
// keep them when editing, and regenerate the data afterwards.
package main

var seed = 7 // a variable, so that add's body is not constant-folded away

//go:noinline
func work(n int) int {
	return n*n + seed
}

// add is small enough to be inlined into main.
func add(a, b int) int {
	return a*b + 1 // INLINED_BODY
}

func main() { // FUNC_MAIN
	x := add(seed, 3)     // CALLSITE
	println(work(x))      // CALLS_WORK
	println(add(x, seed)) // CALLSITE2
}
