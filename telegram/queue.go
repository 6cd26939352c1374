package telegram

import (
	"container/heap"
	"context"
	"errors"
	"sync"
)

// The library starts a goroutine per update, with no bound and no order. The
// server instead hands each update to a dispatcher: a fixed pool of workers
// and one queue per chat, so a chat's messages are answered one after the
// other, in the order sent, while different chats proceed in parallel.

var errClosed = errors.New("dispatcher closed")

// job is the work for one update.
type job struct {
	chat int64 // the queue it goes in
	run  func(ctx context.Context)
}

type dispatcher struct {
	mu      sync.Mutex
	chats   map[int64][]*job // queued jobs per chat; the first one is running or about to
	ready   chan int64       // chats with work and no worker on them
	slots   chan struct{}    // one per queued job: bounds the queue
	pending int
	closed  bool
	workers sync.WaitGroup
}

// newDispatcher starts n workers; at most max jobs wait or run at a time.
func newDispatcher(ctx context.Context, n, max int) *dispatcher {
	d := &dispatcher{
		chats: map[int64][]*job{},
		// Chats in ready never outnumber queued jobs, so sends never block.
		ready: make(chan int64, max),
		slots: make(chan struct{}, max),
	}
	d.workers.Add(n)
	for range n {
		go d.work(ctx)
	}
	return d
}

// submit queues j behind its chat's earlier jobs. It blocks while the queue
// is full, which holds back the poller (or the webhook's HTTP answer).
func (d *dispatcher) submit(ctx context.Context, j *job) error {
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		<-d.slots
		return errClosed
	}
	q := d.chats[j.chat]
	d.chats[j.chat] = append(q, j)
	d.pending++
	if len(q) == 0 {
		d.ready <- j.chat
	}
	return nil
}

func (d *dispatcher) work(ctx context.Context) {
	defer d.workers.Done()
	for chat := range d.ready {
		d.mu.Lock()
		j := d.chats[chat][0]
		d.mu.Unlock()

		j.run(ctx)

		d.mu.Lock()
		if q := d.chats[chat][1:]; len(q) == 0 {
			delete(d.chats, chat)
		} else {
			d.chats[chat] = q
			d.ready <- chat // to the back: other chats get their turn
		}
		d.pending--
		if d.closed && d.pending == 0 {
			close(d.ready)
		}
		d.mu.Unlock()
		<-d.slots
	}
}

// len counts jobs waiting or running.
func (d *dispatcher) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pending
}

// close refuses new jobs and waits until the queued ones are done or ctx
// ends; the caller then cancels the workers' context so that what still runs
// gives up quickly.
func (d *dispatcher) close(ctx context.Context) error {
	d.stop()
	done := make(chan struct{})
	go func() { d.workers.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop refuses new jobs; the workers end once the queued ones are done.
func (d *dispatcher) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed {
		d.closed = true
		if d.pending == 0 {
			close(d.ready)
		}
	}
}

// watermark tracks the highest update_id below which every update has been
// handled: the offset that is safe to remember across a restart.
type watermark struct {
	mu       sync.Mutex
	inflight map[int64]bool
	ids      idHeap
	maxSeen  int64
	mark     int64
}

func newWatermark(start int64) *watermark {
	return &watermark{inflight: map[int64]bool{}, maxSeen: start, mark: start}
}

// begin notes an update being handled.
func (w *watermark) begin(id int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inflight[id] = true
	heap.Push(&w.ids, id)
	w.maxSeen = max(w.maxSeen, id)
}

// end notes an update handled (or skipped) and returns the new mark and
// whether it moved.
func (w *watermark) end(id int64) (int64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.inflight, id)
	w.maxSeen = max(w.maxSeen, id)
	for w.ids.Len() > 0 && !w.inflight[w.ids[0]] {
		heap.Pop(&w.ids)
	}
	mark := w.maxSeen
	if w.ids.Len() > 0 {
		mark = w.ids[0] - 1
	}
	if mark <= w.mark {
		return w.mark, false
	}
	w.mark = mark
	return mark, true
}

type idHeap []int64

func (h idHeap) Len() int           { return len(h) }
func (h idHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h idHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *idHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *idHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
