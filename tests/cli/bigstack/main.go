// bigstack: one goroutine whose stack has grown past 90 MB (a deep
// recursion, as Go allows stacks to grow to 1 GB), parked on a channel,
// beside a few ordinary goroutines. Prints "READY <pid> <stack bytes>" once
// it is parked. tests/cli/bounds.py reads it with sonde goroutines.
package main

import (
	"fmt"
	"os"
	"time"
)

var park = make(chan int)

//go:noinline
func deep(n int, done chan<- struct{}) int {
	var pad [64 << 10]byte // 64 KiB a frame: about 1,500 frames for 95 MB
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		done <- struct{}{}
		return <-park + int(pad[0])
	}
	return deep(n-1, done) + int(pad[n%len(pad)])
}

func main() {
	done := make(chan struct{})
	go deep(1500, done)
	for i := 0; i < 4; i++ {
		go func() { <-park }()
	}
	<-done
	time.Sleep(100 * time.Millisecond)
	fmt.Printf("READY %d %d\n", os.Getpid(), 1500*(64<<10))
	for { // a sleeping main: with every goroutine parked on a channel the runtime would call it a deadlock
		time.Sleep(time.Hour)
	}
}
