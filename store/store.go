// Package store keeps beianbot's state in one SQLite file under the data
// directory: conversations, the Telegram inbox and offset, handoff threads, reminders and the question log.
//
// Store is a concrete type. The code that uses it declares the small
// interface it needs (see package support and telegram), so a PostgreSQL
// implementation can be added later without touching those callers. Every
// method takes a context first and is safe for concurrent use.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// FileName is the database file's name inside the data directory.
const FileName = "beianbot.db"

// ErrNoDatabase is returned by Open with MustExist when there is no database file yet.
var ErrNoDatabase = errors.New("no database")

// Store is beianbot's SQLite database.
type Store struct {
	db   *sql.DB
	path string
	now  func() time.Time
	// inboxDone counts updates marked done since Open, to prune the inbox now and then.
	inboxDone atomic.Int64
	// writes gathers the write transactions of this process that come at
	// the same time into one SQLite transaction (see inTx).
	writes *groupCommit[txWrite]
	// loadConversation is prepared once: every answer reads its chat's state.
	loadConversation *sql.Stmt
}

// Option changes how Open opens the store.
type Option func(*options)

type options struct {
	now       func() time.Time
	mustExist bool
	log       *slog.Logger
}

// WithClock makes the store stamp rows (created, updated, sent, closed) with
// now instead of time.Now; tests use it to control time.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger makes Open say what it did to the file (created, migrated,
// made private) through l; by default it says nothing.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// MustExist makes Open fail with ErrNoDatabase instead of creating a new
// file: the report and purge commands read what `serve` wrote.
func MustExist() Option { return func(o *options) { o.mustExist = true } }

// Open opens (or creates) dataDir/beianbot.db, checks it is a sound SQLite
// database that can be written, and brings its schema up to date.
// Any problem is an error naming the file; a damaged file is never replaced.
func Open(ctx context.Context, dataDir string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	path := filepath.Join(dataDir, FileName)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	created := false
	switch _, err := os.Stat(path); {
	case errors.Is(err, os.ErrNotExist) && o.mustExist:
		return nil, fmt.Errorf("open database %s: %w (has `beianbot serve` run with this data_dir?)", path, ErrNoDatabase)
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create data directory for database %s: %w", path, err)
		}
		if err := createPrivate(path); err != nil {
			return nil, err
		}
		created = true
	case err != nil:
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := keepPrivate(ctx, path, o.log); err != nil {
		return nil, err
	}

	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// A handful of connections lets readers run while one writer commits
	// (WAL); writers queue on busy_timeout.
	db.SetMaxOpenConns(4)
	s := &Store{db: db, path: path, now: o.now}
	s.writes = newGroupCommit(s.writeTogether)
	if err := s.check(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if v, err := s.version(ctx); err != nil || v > len(migrations) {
		db.Close()
		if err == nil {
			err = fmt.Errorf("database %s has schema version %d, newer than this beianbot knows (%d): run a newer beianbot", path, v, len(migrations))
		}
		return nil, err
	}
	if err := s.checkWritable(ctx); err != nil {
		db.Close()
		return nil, err
	}
	from, to, err := s.migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if s.loadConversation, err = db.PrepareContext(ctx, "SELECT state FROM conversations WHERE chat_id = ?"); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// Say so when something happened to the file; stay quiet otherwise (report, purge).
	level := slog.LevelDebug
	if created || from != to {
		level = slog.LevelInfo
	}
	o.log.Log(ctx, level, "database ready", "path", path, "created", created, "schema_from", from, "schema", to)
	return s, nil
}

// createPrivate creates the empty database file with mode 0600, whatever
// the directory's mode and the umask. SQLite would create it 0644, and
// gives the -wal and -shm files it makes the database file's mode, so all
// three stay private. An empty file is an empty SQLite database.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil // another process made it meanwhile; keepPrivate checks it
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	return f.Close()
}

// keepPrivate takes group and other permissions off the database and its
// -wal and -shm files when an
// older beianbot (or a copy) left them open to others: they hold chat
// ids and, without a configured salt, the salt. It warns, once per
// directory and process, when the data directory itself lets others in.
func keepPrivate(ctx context.Context, path string, log *slog.Logger) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm()&0o077 == 0 {
			continue
		}
		private := st.Mode().Perm() &^ 0o077 // the owner keeps what it had
		if err := os.Chmod(p, private); err != nil {
			return fmt.Errorf("make database file %s private (mode %#o): %w", p, st.Mode().Perm(), err)
		}
		log.WarnContext(ctx, "database file was open to others; made it private", "path", p,
			"was", fmt.Sprintf("%#o", st.Mode().Perm()), "now", fmt.Sprintf("%#o", private))
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o077 != 0 {
		if _, warned := warnedDirs.LoadOrStore(dir, true); !warned {
			log.WarnContext(ctx, "data directory is open to group or others; the database in it is 0600, but consider chmod 700 on the directory",
				"path", dir, "mode", fmt.Sprintf("%#o", st.Mode().Perm()))
		}
	}
	return nil
}

// warnedDirs are the data directories already warned about in this process.
var warnedDirs sync.Map

// dsn sets, on every connection the pool opens: a 5 s wait for the write
// lock instead of failing at once, foreign keys (off by default in SQLite),
// WAL so readers don't block the writer, full fsync on commit so a
// committed reminder claim survives a power cut, and BEGIN IMMEDIATE for
// write transactions so two writers queue instead of deadlocking on upgrade.
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// check fails on a file that is not a database or is damaged, naming the
// file and what to do.
func (s *Store) check(ctx context.Context) error {
	var result string
	if err := s.db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&result); err != nil {
		return s.damaged(err)
	}
	if result != "ok" {
		return s.damaged(errors.New(result))
	}
	return nil
}

// checkWritable writes something now, so a read-only file or directory
// fails at start rather than at the first customer message.
func (s *Store) checkWritable(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("database %s is not writable: %w", s.path, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS _write_check(x INTEGER)"); err != nil {
		return fmt.Errorf("database %s is not writable: %w", s.path, err)
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE _write_check"); err != nil {
		return fmt.Errorf("database %s is not writable: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("database %s is not writable: %w", s.path, err)
	}
	return nil
}

func (s *Store) damaged(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "not a database") || strings.Contains(msg, "malformed") || strings.Contains(msg, "corrupt") {
		return fmt.Errorf("database %s is damaged or not a beianbot database (%w); beianbot will not replace it: restore it from a backup or move it away to start empty", s.path, err)
	}
	return fmt.Errorf("open database %s: %w", s.path, err)
}

// Path is the database file's absolute path.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	s.loadConversation.Close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close database %s: %w", s.path, err)
	}
	return nil
}

// exec runs one write statement (in a transaction of its own, see inTx).
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := s.inTx(ctx, "", func(ctx context.Context, tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// inTx runs f in a write transaction and commits it when f returns nil;
// f's changes are undone when it returns an error. It returns once they
// are committed.
//
// Every answer the bot sends writes a little (the chat's state, the inbox),
// and each commit waits for the disk (synchronous=FULL). So writes that come
// at the same time are committed together: the first caller runs its f and
// those of the callers waiting meanwhile in one SQLite transaction, each in
// a savepoint of its own so that one's error undoes only its own changes,
// and commits once for all. SQLite allows one writer at a time anyway.
//
// Hence three rules for f:
//   - It runs its statements with the context it is given, not ctx: that one
//     is never cancelled, because SQLite answers an interrupted statement by
//     undoing the whole transaction, the other callers' parts too. ctx is
//     checked only before f starts: once started, f runs to its end.
//   - It may run more than once: when a part fails in a way that undoes the
//     whole transaction all the same (a full disk, an I/O error), that part
//     gets its error and the others run again in a new transaction. So f
//     sets, and does not add to, what it hands back to its caller.
//   - It must not call inTx (or exec) itself: the inner call would wait for
//     the transaction it is part of. It gets an error instead.
func (s *Store) inTx(ctx context.Context, what string, f func(ctx context.Context, tx *sql.Tx) error) error {
	if ctx.Value(inWriteKey{}) != nil {
		return wrapWhat(what, errors.New("a write inside a write (inTx called from inTx's f)"))
	}
	if err := ctx.Err(); err != nil {
		return wrapWhat(what, err)
	}
	return wrapWhat(what, s.writes.do(txWrite{ctx: ctx, f: f}))
}

// inWriteKey marks the context inTx gives its f.
type inWriteKey struct{}

func wrapWhat(what string, err error) error {
	if err == nil || what == "" {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// txWrite is one caller's part of a transaction.
type txWrite struct {
	ctx context.Context
	f   func(ctx context.Context, tx *sql.Tx) error
}

// maxWritesTogether bounds the parts of one transaction.
const maxWritesTogether = 256

// writeTogether runs the parts in one transaction and reports each one's
// outcome. When a part's failure undoes the whole transaction, the other
// parts run again in a new one; each round leaves one part out, so this ends.
func (s *Store) writeTogether(parts []txWrite) []error {
	errs := make([]error, len(parts))
	todo := make([]int, len(parts))
	for i := range todo {
		todo[i] = i
	}
	for len(todo) > 0 {
		todo = s.tryTogether(parts, todo, errs)
	}
	return errs
}

// tryTogether runs the parts listed in todo in one transaction and sets
// their errors. When a part's failure undid the whole transaction (SQLite
// does so after an interrupt, a full disk or an I/O error, and then knows
// the savepoints no more), that part gets its own error and the others are
// returned, to run again: their changes went with the transaction.
func (s *Store) tryTogether(parts []txWrite, todo []int, errs []error) (again []int) {
	all := func(err error) []int {
		for _, i := range todo {
			errs[i] = err
		}
		return nil
	}
	// Begin and commit belong to all the parts: no one caller's context.
	bg := context.Background()
	tx, err := s.db.BeginTx(bg, nil)
	if err != nil {
		return all(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback() // a no-op after Commit
	for n, i := range todo {
		if len(todo) == 1 {
			errs[i] = runPart(parts[i], tx)
			if errs[i] != nil {
				return nil
			}
			break
		}
		if _, err := tx.ExecContext(bg, "SAVEPOINT part"); err != nil {
			return all(fmt.Errorf("savepoint: %w", err))
		}
		errs[i] = runPart(parts[i], tx)
		var lost error
		if errs[i] != nil {
			if _, err := tx.ExecContext(bg, "ROLLBACK TO part"); err != nil {
				lost = fmt.Errorf("roll back to savepoint: %w", err)
			}
		}
		if lost == nil {
			if _, err := tx.ExecContext(bg, "RELEASE part"); err != nil {
				lost = fmt.Errorf("release savepoint: %w", err)
			}
		}
		if lost != nil {
			if errs[i] == nil { // f went on after its statement failed
				errs[i] = lost
			}
			return append(append([]int(nil), todo[:n]...), todo[n+1:]...)
		}
	}
	if err := tx.Commit(); err != nil {
		return all(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// runPart runs one caller's part, turning a panic into its error so the
// other callers of the transaction are not left waiting.
func runPart(p txWrite, tx *sql.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in a write: %v", r)
		}
	}()
	if err := p.ctx.Err(); err != nil {
		return err
	}
	return p.f(context.WithValue(context.WithoutCancel(p.ctx), inWriteKey{}, true), tx)
}

// groupCommit writes items that callers hand in at the same time in one
// batch. A caller that finds no batch being written writes what has
// gathered so far (up to maxWritesTogether); the others wait, and once the
// batch is written, whoever's item is still unwritten writes the next.
type groupCommit[T any] struct {
	write func([]T) []error // one error per item

	mu      sync.Mutex
	turn    *sync.Cond // signalled when a batch is written
	queue   []*pendingWrite[T]
	writing bool
}

type pendingWrite[T any] struct {
	item    T
	err     error
	written bool
}

func newGroupCommit[T any](write func([]T) []error) *groupCommit[T] {
	g := &groupCommit[T]{write: write}
	g.turn = sync.NewCond(&g.mu)
	return g
}

func (g *groupCommit[T]) do(item T) error {
	p := &pendingWrite[T]{item: item}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.queue = append(g.queue, p)
	for !p.written {
		if g.writing {
			g.turn.Wait()
			continue
		}
		g.writing = true
		n := min(len(g.queue), maxWritesTogether)
		batch := append([]*pendingWrite[T](nil), g.queue[:n]...)
		g.queue = g.queue[n:]
		g.mu.Unlock()

		items := make([]T, len(batch))
		for i, b := range batch {
			items[i] = b.item
		}
		errs := g.write(items)

		g.mu.Lock()
		for i, b := range batch {
			b.err, b.written = errs[i], true
		}
		g.writing = false
		g.turn.Broadcast()
	}
	return p.err
}

// Times are stored as Unix milliseconds (UTC): sortable, comparable in SQL,
// and the same in any database.
func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return fromMillis(ms.Int64)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// meta reads a key of the meta table; ok is false when it is not set.
func (s *Store) meta(ctx context.Context, key string) (value string, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s from %s: %w", key, s.path, err)
	}
	return value, true, nil
}

func setMeta(ctx context.Context, tx *sql.Tx, key, value string) error {
	_, err := tx.ExecContext(ctx,
		"INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value)
	return err
}

// ChatSalt returns this database's own random salt for hashing chat ids,
// made on first use. It is the fallback when question_log.salt is not
// configured: it keeps hashes stable across restarts, but anyone holding the
// file holds the salt too, so a configured secret salt is better.
func (s *Store) ChatSalt(ctx context.Context) (string, error) {
	if v, ok, err := s.meta(ctx, "chat_salt"); err != nil || ok {
		return v, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make chat salt: %w", err)
	}
	salt := hex.EncodeToString(b)
	err := s.inTx(ctx, "store chat salt in "+s.path, func(ctx context.Context, tx *sql.Tx) error {
		// Another process may have made one meanwhile: keep the first.
		_, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES('chat_salt', ?) ON CONFLICT(key) DO NOTHING", salt)
		return err
	})
	if err != nil {
		return "", err
	}
	v, _, err := s.meta(ctx, "chat_salt")
	return v, err
}
