package store

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// logTo is a buffer for what Open logs, and the option that sends it there.
func logTo(*testing.T) (*lockedBuffer, Option) {
	var buf lockedBuffer
	return &buf, WithLogger(slog.New(slog.NewTextHandler(&buf, nil)))
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A new database in a 0755 directory, under a permissive umask, is 0600,
// and so are its -wal and -shm files; the directory is named in one warning.
func TestNewDatabaseIsPrivate(t *testing.T) {
	logs, withLog := logTo(t)
	old := syscall.Umask(0o002) // what a shared account might have
	t.Cleanup(func() { syscall.Umask(old) })
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := Open(ctx, dir, withLog)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Write, so that the WAL and the shared-memory file exist.
	if _, err := s.ChatSalt(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{FileName, FileName + "-wal", FileName + "-shm"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %#o, want 0600", name, st.Mode().Perm())
		}
	}
	// Opening again (report, purge) does not warn again.
	s2, err := Open(ctx, dir, withLog)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if n := strings.Count(logs.String(), "data directory is open to group or others"); n != 1 || !strings.Contains(logs.String(), "path="+dir) {
		t.Errorf("want one warning naming %s, got %d:\n%s", dir, n, logs.String())
	}
}

// A database an older beianbot left 0644 is made private at open.
func TestExistingDatabaseMadePrivate(t *testing.T) {
	logs, withLog := logTo(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), dir, withLog)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := filepath.Join(dir, FileName)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(context.Background(), dir, withLog)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %#o, want 0600", st.Mode().Perm())
	}
	if !strings.Contains(logs.String(), "made it private") || !strings.Contains(logs.String(), path) {
		t.Errorf("no warning naming %s:\n%s", path, logs.String())
	}
	if strings.Contains(logs.String(), "data directory is open") {
		t.Errorf("a 0700 directory was warned about:\n%s", logs.String())
	}
}
