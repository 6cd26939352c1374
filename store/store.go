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
	// writeMu lets one write transaction of this process run at a time.
	// SQLite allows one writer anyway; queueing here instead of in its
	// busy handler (which sleeps 1 ms, then longer) keeps writes flowing
	// when many goroutines write at once.
	writeMu sync.Mutex
	// saves gathers conversation saves made at the same time into one transaction.
	saves *groupCommit[savedConversation]
}

// Option changes how Open opens the store.
type Option func(*options)

type options struct {
	now       func() time.Time
	mustExist bool
}

// WithClock makes the store stamp rows (created, updated, sent, closed) with
// now instead of time.Now; tests use it to control time.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// MustExist makes Open fail with ErrNoDatabase instead of creating a new
// file: the report and purge commands read what `serve` wrote.
func MustExist() Option { return func(o *options) { o.mustExist = true } }

// Open opens (or creates) dataDir/beianbot.db, checks it is a sound SQLite
// database that can be written, and brings its schema up to date.
// Any problem is an error naming the file; a damaged file is never replaced.
func Open(ctx context.Context, dataDir string, opts ...Option) (*Store, error) {
	o := options{now: time.Now}
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
		created = true
	case err != nil:
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}

	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// A handful of connections lets readers run while one writer commits
	// (WAL); writers queue on busy_timeout.
	db.SetMaxOpenConns(4)
	s := &Store{db: db, path: path, now: o.now}
	s.saves = newGroupCommit(s.writeConversations)
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
	// Say so when something happened to the file; stay quiet otherwise (report, purge).
	level := slog.LevelDebug
	if created || from != to {
		level = slog.LevelInfo
	}
	slog.Log(ctx, level, "database ready", "path", path, "created", created, "schema_from", from, "schema", to)
	return s, nil
}

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
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close database %s: %w", s.path, err)
	}
	return nil
}

// exec runs one write statement.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.db.ExecContext(ctx, query, args...)
}

// inTx runs f in a write transaction and commits it when f returns nil.
func (s *Store) inTx(ctx context.Context, what string, f func(*sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback() // a no-op after Commit
	if err := f(tx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
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
	err := s.inTx(ctx, "store chat salt in "+s.path, func(tx *sql.Tx) error {
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
