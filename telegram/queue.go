package telegram

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// The scheduler decides which update is worked on next. Each chat has its
// own queue, worked through one update at a time and in order; chats take
// turns, round robin. A chat whose send limit is used up (a group may be
// sent 20 messages a minute) waits aside, off the turns, until it may send
// again: so a busy group delays only itself, and a private chat's first
// reply goes ahead of a group's hundredth.
//
// A fixed number of workers bounds the updates being worked on at once. An
// update that has to wait in the middle of its work (a retry's back-off, a
// rate limit) gives its worker back while it waits (see pause), so a
// waiting chat holds no worker another chat needs. maxActive bounds the
// updates started and not finished, waiting ones included.

// job is the work for one update.
type job struct {
	id      int64 // the update
	chat    int64 // the queue it goes in
	sendsTo int64 // the chat whose send limit must allow a message before it starts (0: none)
	group   bool  // sendsTo is a group
	run     func(ctx context.Context)
	done    bool // set by run when the update is answered (not interrupted)
}

type chatQueue struct {
	jobs    []*job // the first is running, or next
	running bool
	parked  bool // waiting for its send limit
}

type scheduler struct {
	workers   int
	maxActive int
	readyAt   func(chat int64, group bool) time.Time
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
	ended     func(j *job) // told after each job, outside the lock

	mu       sync.Mutex
	chats    map[int64]*chatQueue
	turns    fifo[int64] // chats whose next job may start now
	parked   parkHeap    // chats waiting for their send limit, earliest first
	pending  int         // jobs queued or active
	busy     int         // jobs holding a worker
	active   int         // jobs started and not finished
	resuming []chan struct{}
	stopped  bool
	changed  chan struct{} // wakes the loop
	progress chan struct{} // closed and replaced whenever a job ends
	armed    time.Time     // the parked wake-up the loop's timer is set for
}

// workerKey marks a job's context: pause gives the job's worker back.
type workerKey struct{}

func newScheduler(workers, maxActive int, now func() time.Time, sleep func(context.Context, time.Duration) error,
	readyAt func(int64, bool) time.Time) *scheduler {
	return &scheduler{
		workers: max(1, workers), maxActive: max(1, maxActive),
		now: now, sleep: sleep, readyAt: readyAt,
		chats:    map[int64]*chatQueue{},
		changed:  make(chan struct{}, 1),
		progress: make(chan struct{}),
	}
}

func (sc *scheduler) poke() {
	select {
	case sc.changed <- struct{}{}:
	default:
	}
}

// submit queues j behind its chat's earlier jobs.
func (sc *scheduler) submit(j *job) {
	sc.mu.Lock()
	q := sc.chats[j.chat]
	if q == nil {
		q = &chatQueue{}
		sc.chats[j.chat] = q
	}
	q.jobs = append(q.jobs, j)
	sc.pending++
	if len(q.jobs) == 1 {
		sc.turns.push(j.chat)
	}
	sc.mu.Unlock()
	sc.poke()
}

// run starts jobs until ctx ends.
func (sc *scheduler) run(ctx context.Context) {
	var cancelTimer context.CancelFunc = func() {}
	defer func() { cancelTimer() }()
	for {
		sc.mu.Lock()
		next := sc.dispatch(ctx)
		rearm := !next.Equal(sc.armed)
		sc.armed = next
		sc.mu.Unlock()
		if rearm {
			cancelTimer()
			cancelTimer = func() {}
			if !next.IsZero() {
				tctx, cancel := context.WithCancel(ctx)
				cancelTimer = cancel
				d := next.Sub(sc.now())
				go func() {
					if sc.sleep(tctx, d) == nil {
						sc.mu.Lock()
						sc.armed = time.Time{} // fired
						sc.mu.Unlock()
						sc.poke()
					}
				}()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-sc.changed:
		}
	}
}

// dispatch starts what may start and returns when the earliest parked chat
// may send again (zero: none parked). Call with sc.mu held.
func (sc *scheduler) dispatch(ctx context.Context) time.Time {
	now := sc.now()
	for len(sc.parked) > 0 && !sc.parked[0].at.After(now) {
		p := heap.Pop(&sc.parked).(parkedChat)
		if q := sc.chats[p.chat]; q != nil && q.parked {
			q.parked = false
			sc.turns.push(p.chat)
		}
	}
	for !sc.stopped && len(sc.resuming) == 0 && sc.busy < sc.workers && sc.active < sc.maxActive && sc.turns.len() > 0 {
		chat := sc.turns.pop()
		q := sc.chats[chat]
		j := q.jobs[0]
		if j.sendsTo != 0 && sc.readyAt != nil {
			if at := sc.readyAt(j.sendsTo, j.group); at.After(now) {
				q.parked = true
				heap.Push(&sc.parked, parkedChat{chat: chat, at: at})
				continue
			}
		}
		q.running = true
		sc.busy++
		sc.active++
		go sc.work(ctx, j)
	}
	if len(sc.parked) == 0 {
		return time.Time{}
	}
	return sc.parked[0].at
}

func (sc *scheduler) work(ctx context.Context, j *job) {
	j.run(context.WithValue(ctx, workerKey{}, sc))
	sc.mu.Lock()
	sc.active--
	sc.busy--
	sc.handOff()
	q := sc.chats[j.chat]
	q.jobs[0] = nil
	q.jobs = q.jobs[1:]
	q.running = false
	sc.pending--
	if len(q.jobs) > 0 {
		sc.turns.push(j.chat) // to the back: other chats get their turn
	} else {
		delete(sc.chats, j.chat)
	}
	close(sc.progress)
	sc.progress = make(chan struct{})
	sc.mu.Unlock()
	if sc.ended != nil {
		sc.ended(j)
	}
	sc.poke()
}

// handOff gives a free worker to a paused job waiting to resume. Call with sc.mu held.
func (sc *scheduler) handOff() {
	if len(sc.resuming) > 0 && sc.busy < sc.workers {
		sc.busy++
		close(sc.resuming[0])
		sc.resuming = sc.resuming[1:]
	}
}

// pause waits d, or until ctx ends, without holding a worker when called
// from a job.
func (sc *scheduler) pause(ctx context.Context, d time.Duration) error {
	if ctx.Value(workerKey{}) != sc {
		return sc.sleep(ctx, d)
	}
	sc.mu.Lock()
	sc.busy--
	sc.handOff()
	sc.mu.Unlock()
	sc.poke()

	err := sc.sleep(ctx, d)

	sc.mu.Lock()
	if sc.busy < sc.workers && len(sc.resuming) == 0 {
		sc.busy++
		sc.mu.Unlock()
		return err
	}
	ch := make(chan struct{})
	sc.resuming = append(sc.resuming, ch)
	sc.mu.Unlock()
	<-ch // handOff counted the worker for us
	return err
}

// queued counts a chat's jobs, waiting or running.
func (sc *scheduler) queued(chat int64) int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if q := sc.chats[chat]; q != nil {
		return len(q.jobs)
	}
	return 0
}

// activeCount counts jobs started and not finished.
func (sc *scheduler) activeCount() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.active
}

// len counts jobs waiting or running.
func (sc *scheduler) len() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.pending
}

// room waits until fewer than limit jobs are pending and returns how many
// more fit.
func (sc *scheduler) room(ctx context.Context, limit int) (int, error) {
	for {
		sc.mu.Lock()
		n, progress := limit-sc.pending, sc.progress
		sc.mu.Unlock()
		if n > 0 {
			return n, nil
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// drain waits until no job is pending, or ctx ends.
func (sc *scheduler) drain(ctx context.Context) error {
	return sc.waitUntil(ctx, func() bool { return sc.pending == 0 })
}

// stop starts no more jobs; those running go on.
func (sc *scheduler) stop() {
	sc.mu.Lock()
	sc.stopped = true
	sc.mu.Unlock()
	sc.poke()
}

// waitActive waits until no job is running, or ctx ends.
func (sc *scheduler) waitActive(ctx context.Context) error {
	return sc.waitUntil(ctx, func() bool { return sc.active == 0 })
}

func (sc *scheduler) waitUntil(ctx context.Context, cond func() bool) error {
	for {
		sc.mu.Lock()
		ok, progress := cond(), sc.progress
		sc.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

type parkedChat struct {
	chat int64
	at   time.Time
}

type parkHeap []parkedChat

func (h parkHeap) Len() int           { return len(h) }
func (h parkHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h parkHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *parkHeap) Push(x any)        { *h = append(*h, x.(parkedChat)) }
func (h *parkHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// fifo is a queue that reuses its slice.
type fifo[T any] struct {
	items []T
	head  int
}

func (f *fifo[T]) push(x T) { f.items = append(f.items, x) }

func (f *fifo[T]) len() int { return len(f.items) - f.head }

func (f *fifo[T]) pop() T {
	var zero T
	x := f.items[f.head]
	f.items[f.head] = zero
	f.head++
	if f.head > len(f.items)/2 && f.head > 32 {
		f.items = append(f.items[:0], f.items[f.head:]...)
		f.head = 0
	}
	return x
}
