package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"
)

// rowHook is called by the SQL function test_row_hook(n), once per row of
// the statements that use it: a test's way into the middle of a statement.
var rowHook atomic.Pointer[func(n int64)]

func init() {
	sqlite.MustRegisterScalarFunction("test_row_hook", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		if f := rowHook.Load(); f != nil {
			(*f)(args[0].(int64))
		}
		return int64(1), nil
	})
}

// countRows inserts into meta, under key, the count of a 200,000-row
// recursive query that calls test_row_hook on each row: a statement long
// enough to be cancelled in the middle.
const countRows = `
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 200000)
INSERT INTO meta(key, value) SELECT ?, count(*) FROM c WHERE test_row_hook(n)`

func insertMeta(key string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES(?, '1')", key)
		return err
	}
}

// A caller whose context is cancelled while its statement runs undoes
// neither its neighbours' writes in the shared transaction nor makes them fail.
func TestWritesTogetherOneCancelledMidStatement(t *testing.T) {
	s := openTest(t, t.TempDir(), nil)
	bg := context.Background()
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	hook := func(n int64) {
		if n == 1 {
			cancel()
		}
		runtime.Gosched() // lets the driver see the cancellation, if it watches this context
	}
	rowHook.Store(&hook)
	defer rowHook.Store(nil)
	parts := []txWrite{
		{ctx: bg, f: insertMeta("a")},
		{ctx: ctx, f: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, countRows, "b") // the context inTx gives, as every part uses
			return err
		}},
		{ctx: bg, f: insertMeta("c")},
	}
	errs := s.writeTogether(parts)
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("the other callers failed: %v", errs)
	}
	for _, k := range []string{"a", "c"} {
		if _, ok, err := s.meta(bg, k); !ok || err != nil {
			t.Errorf("meta %s not committed (%v)", k, err)
		}
	}
	// The cancelled caller learns the truth: its write done, or its own cancellation.
	_, wrote, _ := s.meta(bg, "b")
	switch {
	case errs[1] == nil && !wrote:
		t.Error("the cancelled caller was told its write is done, but it is not")
	case errs[1] != nil && (wrote || !errors.Is(errs[1], context.Canceled)):
		t.Errorf("the cancelled caller got %v (written: %v), want its own cancellation and nothing written", errs[1], wrote)
	}
}

// When one part's failure makes SQLite undo the whole transaction (as an
// interrupt, a full disk or an I/O error does), that part gets its own
// error and the others are still written.
func TestWritesTogetherOneLosesTheTransaction(t *testing.T) {
	s := openTest(t, t.TempDir(), nil)
	bg := context.Background()
	errOwn := errors.New("b lost the transaction")
	runs := map[string]int{}
	count := func(key string, f func(context.Context, *sql.Tx) error) func(context.Context, *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error { runs[key]++; return f(ctx, tx) }
	}
	parts := []txWrite{
		{ctx: bg, f: count("a", insertMeta("a"))},
		{ctx: bg, f: count("b", func(_ context.Context, tx *sql.Tx) error {
			if _, err := tx.Exec("INSERT INTO meta(key, value) VALUES('b', '1')"); err != nil {
				return err
			}
			// What SQLite does itself after an interrupt or a full disk.
			if _, err := tx.Exec("ROLLBACK"); err != nil {
				return err
			}
			return errOwn
		})},
		{ctx: bg, f: count("c", insertMeta("c"))},
		{ctx: bg, f: count("d", func(_ context.Context, tx *sql.Tx) error {
			_, err := tx.Exec("ROLLBACK") // and one that does not notice
			return err
		})},
		{ctx: bg, f: count("e", insertMeta("e"))},
	}
	errs := s.writeTogether(parts)
	if errs[0] != nil || errs[2] != nil || errs[4] != nil {
		t.Errorf("the other callers failed: %v", errs)
	}
	if !errors.Is(errs[1], errOwn) {
		t.Errorf("the failing caller got %v, want its own error", errs[1])
	}
	if errs[3] == nil {
		t.Error("a caller whose part undid the transaction was told it succeeded")
	}
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "e": true} {
		if _, ok, err := s.meta(bg, k); ok != want || err != nil {
			t.Errorf("meta %s written = %v (%v), want %v", k, ok, err, want)
		}
	}
	if runs["b"] != 1 || runs["d"] != 1 {
		t.Errorf("the parts that undid the transaction ran %d and %d times, want once each", runs["b"], runs["d"])
	}
}

// A write made from inside a write's f would wait for the transaction it is
// part of: it fails instead of hanging.
func TestWriteInsideWriteFails(t *testing.T) {
	s := openTest(t, t.TempDir(), nil)
	result := make(chan error, 1)
	go func() {
		result <- s.inTx(context.Background(), "outer", func(ctx context.Context, tx *sql.Tx) error {
			_, err := s.exec(ctx, "INSERT INTO meta(key, value) VALUES('inner', '1')")
			return err
		})
	}()
	select {
	case err := <-result:
		if err == nil || !strings.Contains(err.Error(), "write inside a write") {
			t.Errorf("a write inside a write = %v, want it refused", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write inside a write hangs")
	}
}
