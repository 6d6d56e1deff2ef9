// Command waitsvc is a small service that gets stuck, for trying sonde on.
//
// It runs an HTTP API, a dispatcher that feeds jobs to a pool of workers, a
// metrics ticker and a snapshotter. Shortly after start the snapshotter takes
// the cache lock and, while holding it, waits for an upload acknowledgement
// that never comes. Every worker that finishes a job then blocks on the lock,
// the dispatcher backs up, and GET /lookup hangs too, while GET /status still
// answers. GET /report keeps every report it builds, forever: a slow leak
// that memwatch shows (sonde memwatch diff). GET /export gives up on a slow
// export after 20 ms and returns, leaving the exporting goroutine blocked
// forever on a channel nobody reads: a goroutine leak per request, which
// sonde goroutine-graph leaks finds. Find out why with:
//
//	go build -o waitsvc . && ./waitsvc &
//	sonde goroutines -p $(pgrep waitsvc)
//
// Routes: GET /status, GET /lookup?key=K, POST /submit?payload=P, GET /report,
// GET /export.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type job struct {
	id      int64
	payload string
}

// cache holds the workers' results. Its mutex is what everybody ends up
// waiting for.
type cache struct {
	mu   sync.Mutex
	data map[string]int
}

func (c *cache) put(key string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.data[key] = n
}

func (c *cache) get(key string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.data[key]
	return n, ok
}

var (
	submitted, processed atomic.Int64
	nextID               atomic.Int64
)

// report is what GET /report builds: a header and the rendered text.
type report struct {
	at    time.Time
	lines []string
	text  [4000]byte
}

// history keeps every report "for auditing" and is never trimmed: the leak.
var (
	historyMu sync.Mutex
	history   []*report
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8077", "HTTP listen address")
	workers := flag.Int("workers", 4, "worker pool size")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("waitsvc listening on %s pid %d\n", ln.Addr(), os.Getpid())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cache{data: make(map[string]int)}
	incoming := make(chan job, 64) // from the API to the dispatcher
	jobs := make(chan job)         // from the dispatcher to the workers

	var wg sync.WaitGroup
	for i := 0; i < *workers; i++ {
		wg.Add(1)
		go worker(i, jobs, c, &wg)
	}
	go awaitWorkers(&wg)
	go dispatch(ctx, incoming, jobs)
	go reportMetrics(10 * time.Second)
	go snapshot(c, make(chan struct{}))

	// Some work to start with, so that there is something to see at once.
	for i := 0; i < 2*(*workers); i++ {
		incoming <- job{id: nextID.Add(1), payload: fmt.Sprintf("seed-%d", i)}
		submitted.Add(1)
	}

	go func() { log.Fatal(http.Serve(ln, routes(c, incoming))) }()
	<-ctx.Done()
	log.Print("interrupted, exiting")
}

func routes(c *cache, incoming chan<- job) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "submitted %d processed %d queued %d\n", submitted.Load(), processed.Load(), len(incoming))
	})
	mux.HandleFunc("/report", func(w http.ResponseWriter, r *http.Request) {
		rep := &report{at: time.Now()}
		rep.lines = append(rep.lines, fmt.Sprintf("submitted %d", submitted.Load()),
			fmt.Sprintf("processed %d", processed.Load()))
		n := copy(rep.text[:], fmt.Sprintf("%s: %v", rep.at.Format(time.RFC3339), rep.lines))
		historyMu.Lock()
		history = append(history, rep)
		historyMu.Unlock()
		w.Write(rep.text[:n])
	})
	mux.HandleFunc("/export", func(w http.ResponseWriter, r *http.Request) {
		// The leak: after the timeout nobody receives from done, so export
		// blocks on its send forever. (A buffered channel, make(chan
		// string, 1), would let it finish.)
		done := make(chan string)
		go export(done)
		select {
		case s := <-done:
			fmt.Fprintln(w, s)
		case <-time.After(20 * time.Millisecond):
			http.Error(w, "export timed out", http.StatusGatewayTimeout)
		}
	})
	mux.HandleFunc("/lookup", func(w http.ResponseWriter, r *http.Request) {
		n, ok := c.get(r.URL.Query().Get("key")) // hangs while the snapshot holds the lock
		fmt.Fprintln(w, n, ok)
	})
	mux.HandleFunc("/submit", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		j := job{id: nextID.Add(1), payload: r.URL.Query().Get("payload")}
		select {
		case incoming <- j:
			submitted.Add(1)
			fmt.Fprintln(w, "queued", j.id)
		default:
			http.Error(w, "queue full", http.StatusServiceUnavailable)
		}
	})
	return mux
}

// export builds a slow export and hands it over on done.
func export(done chan<- string) {
	time.Sleep(50 * time.Millisecond)
	done <- fmt.Sprintf("export of %d jobs", processed.Load())
}

// dispatch is the select loop between the API and the worker pool.
func dispatch(ctx context.Context, incoming <-chan job, jobs chan<- job) {
	idle := time.NewTicker(30 * time.Second)
	defer idle.Stop()
	for {
		select {
		case j := <-incoming:
			select {
			case jobs <- j: // blocks while every worker is busy (or stuck)
			case <-ctx.Done():
				return
			}
		case <-idle.C:
			log.Printf("dispatcher: idle, %d queued", len(incoming))
		case <-ctx.Done():
			close(jobs)
			return
		}
	}
}

func worker(id int, jobs <-chan job, c *cache, wg *sync.WaitGroup) {
	defer wg.Done()
	for j := range jobs {
		time.Sleep(50 * time.Millisecond) // the "work"
		c.put(j.payload, len(j.payload))  // blocks once the snapshot holds c.mu
		processed.Add(1)
	}
	log.Printf("worker %d: done", id)
}

// awaitWorkers logs when the pool has drained (which it never does here).
func awaitWorkers(wg *sync.WaitGroup) {
	wg.Wait()
	log.Print("all workers finished")
}

func reportMetrics(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		log.Printf("metrics: submitted %d processed %d", submitted.Load(), processed.Load())
	}
}

// snapshot takes the cache lock to copy a consistent view, then waits for the
// upload to be acknowledged before releasing it. That is the bug: nobody ever
// acknowledges, and the lock is never released.
func snapshot(c *cache, ack <-chan struct{}) {
	time.Sleep(20 * time.Millisecond) // long enough for the workers to pick up jobs
	c.mu.Lock()
	defer c.mu.Unlock()
	log.Printf("snapshot: %d entries, uploading", len(c.data))
	<-ack
}
