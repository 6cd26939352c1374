package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/lang"
)

// clock is a settable time source shared by a test and its store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var t0 = time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)

func openTest(t *testing.T, dir string, c *clock) *Store {
	t.Helper()
	if c == nil {
		c = newClock(t0)
	}
	s, err := Open(context.Background(), dir, WithClock(c.Now))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenEmptyCreatesCurrentSchema(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	s := openTest(t, dir, nil)
	ctx := context.Background()
	if v, err := s.version(ctx); err != nil || v != SchemaVersion() {
		t.Fatalf("version = %d, %v; want %d", v, err, SchemaVersion())
	}
	if want := filepath.Join(dir, FileName); s.Path() != want {
		t.Errorf("Path = %q, want %q", s.Path(), want)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := s.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	// Reopening applies nothing and keeps the data.
	if err := s.SetLastUpdateID(ctx, 42); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := openTest(t, dir, nil)
	if id, err := s2.LastUpdateID(ctx); err != nil || id != 42 {
		t.Errorf("after reopen LastUpdateID = %d, %v; want 42", id, err)
	}
}

func TestOpenErrorsNameTheFile(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		setup func(t *testing.T) string // returns the data dir
		opts  []Option
		want  []string
	}{
		{
			name: "garbage bytes",
			setup: func(t *testing.T) string {
				dir := t.TempDir()
				garbage := []byte(strings.Repeat("this is not sqlite \x00\xff\x13", 400))
				if err := os.WriteFile(filepath.Join(dir, FileName), garbage, 0o600); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			want: []string{FileName, "damaged or not a beianbot database", "will not replace", "backup"},
		},
		{
			name: "damaged pages",
			setup: func(t *testing.T) string {
				dir := t.TempDir()
				s, err := Open(ctx, dir)
				if err != nil {
					t.Fatal(err)
				}
				for i := range 200 {
					if _, err := s.LogQuestion(ctx, Question{ChatHash: "h", Lang: lang.ZH, Topic: "deadline", Text: strings.Repeat("问", 200) + string(rune('a'+i%26))}); err != nil {
						t.Fatal(err)
					}
				}
				// Fold the WAL into the main file, then overwrite pages past the header.
				if _, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
					t.Fatal(err)
				}
				s.Close()
				f, err := os.OpenFile(filepath.Join(dir, FileName), os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteAt([]byte(strings.Repeat("\xde\xad\xbe\xef", 4096)), 4096); err != nil {
					t.Fatal(err)
				}
				f.Close()
				return dir
			},
			want: []string{FileName, "damaged"},
		},
		{
			name: "data dir is a file",
			setup: func(t *testing.T) string {
				path := filepath.Join(t.TempDir(), "data")
				if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
				return path
			},
			want: []string{filepath.Join("data", FileName)},
		},
		{
			name:  "must exist",
			setup: func(t *testing.T) string { return t.TempDir() },
			opts:  []Option{MustExist()},
			want:  []string{FileName, "no database"},
		},
		{
			name: "newer schema",
			setup: func(t *testing.T) string {
				dir := t.TempDir()
				db := rawDB(t, filepath.Join(dir, FileName))
				if _, err := db.Exec("PRAGMA journal_mode = WAL; PRAGMA user_version = 99"); err != nil {
					t.Fatal(err)
				}
				db.Close()
				return dir
			},
			want: []string{FileName, "schema version 99", "newer"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t)
			before, _ := os.ReadFile(filepath.Join(dir, FileName))
			s, err := Open(ctx, dir, tc.opts...)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// Never a silently recreated database: the file is untouched.
			after, _ := os.ReadFile(filepath.Join(dir, FileName))
			if string(before) != string(after) {
				t.Error("Open changed the file it refused")
			}
		})
	}
}

func TestOpenReadOnlyFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write read-only files")
	}
	dir := t.TempDir()
	s := openTest(t, dir, nil)
	s.Close()
	if err := os.Chmod(filepath.Join(dir, FileName), 0o400); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, FileName+"-wal"))
	os.Remove(filepath.Join(dir, FileName+"-shm"))
	_, err := Open(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), FileName) {
		t.Fatalf("Open of a read-only file: %v, want an error naming %s", err, FileName)
	}
}

func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestFixtureIsV1 keeps testdata/schema_v1.sql honest: its schema is what
// migration 1 creates.
func TestFixtureIsV1(t *testing.T) {
	dir := t.TempDir()
	fromCode := rawDB(t, filepath.Join(dir, "code.db"))
	defer fromCode.Close()
	if _, err := fromCode.Exec(migrations[0]); err != nil {
		t.Fatal(err)
	}
	fromFixture := loadFixture(t, filepath.Join(dir, "fixture.db"))
	defer fromFixture.Close()
	if got, want := schema(t, fromFixture), schema(t, fromCode); !reflect.DeepEqual(got, want) {
		t.Errorf("fixture schema differs from migration 1:\nfixture: %q\ncode:    %q", got, want)
	}
}

func loadFixture(t *testing.T, path string) *sql.DB {
	t.Helper()
	fixture, err := os.ReadFile("testdata/schema_v1.sql")
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if _, err := db.Exec(string(fixture)); err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	return db
}

var comment = regexp.MustCompile(`--[^\n]*`)

func schema(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatal(err)
		}
		out = append(out, typ+" "+name+": "+strings.Join(strings.Fields(comment.ReplaceAllString(text, "")), " "))
	}
	return out
}

func TestMigrateFromV1(t *testing.T) {
	dir := t.TempDir()
	loadFixture(t, filepath.Join(dir, FileName)).Close()
	c := newClock(time.UnixMilli(1741079200000 + 60_000).UTC()) // a minute after step 2 is due
	s := openTest(t, dir, c)
	ctx := context.Background()

	if v, _ := s.version(ctx); v != SchemaVersion() {
		t.Fatalf("version after migration = %d, want %d", v, SchemaVersion())
	}
	if id, err := s.LastUpdateID(ctx); err != nil || id != 912345678 {
		t.Errorf("LastUpdateID = %d, %v", id, err)
	}
	conv, err := s.Load(ctx, 1002)
	if err != nil || conv.Lang != lang.EN || conv.Pending == nil || conv.Pending.Options[0].Business != "变更备案" {
		t.Errorf("Load(1002) = %+v, %v", conv, err)
	}
	th, ok, err := s.ThreadBySupportMessage(ctx, -100500, 11)
	if err != nil || !ok || th.ID != 1 || th.CustomerChatID != 1001 || !th.Open || !th.Traditional || th.QuestionID != 0 || th.ResolvedTopic != "" {
		t.Errorf("ThreadBySupportMessage = %+v, %v, %v", th, ok, err)
	}
	due, err := s.DueReminders(ctx, c.Now())
	if err != nil || len(due) != 1 || len(due[0].Steps) != 3 || due[0].Steps[0].Outcome != Sent {
		t.Fatalf("DueReminders = %+v, %v", due, err)
	}
	// The new columns and tables work on the migrated data.
	if err := s.AddSupportMessage(ctx, 1, -100500, 12, true); err != nil {
		t.Fatal(err)
	}
	qid, err := s.LogQuestion(ctx, Question{ChatHash: "h", Lang: lang.ZH, Topic: "unknown", Text: "问"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.OpenThread(ctx, NewThread{CustomerChatID: 1004, SupportChatID: -100500, Lang: lang.ZH, QuestionID: qid}); err != nil {
		t.Fatal(err)
	}
}

func TestConversations(t *testing.T) {
	s := openTest(t, t.TempDir(), nil)
	ctx := context.Background()
	if c, err := s.Load(ctx, 7); err != nil || !reflect.ValueOf(c).IsZero() {
		t.Fatalf("Load of an unknown chat = %+v, %v; want zero", c, err)
	}
	want := bot.Conversation{
		Lang: lang.ZH, Traditional: true, LastTopic: "who-verifies", PendingLang: lang.ZH,
		Pending: &bot.Clarify{Question: "是否涉及变更省份？", Options: []bot.Option{
			{Business: "变更主体", Subcase: "涉及变更省份", Label: "涉及"},
			{Business: "变更主体", Subcase: "不涉及变更省份", Label: "不涉及"},
		}},
	}
	if err := s.Save(ctx, 7, want); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, -100123, bot.Conversation{Lang: lang.EN}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, 7)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Load = %+v, %v; want %+v", got, err, want)
	}
	// Saving the zero value removes the row.
	if err := s.Save(ctx, 7, bot.Conversation{}); err != nil {
		t.Fatal(err)
	}
	var n int
	s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM conversations").Scan(&n)
	if n != 1 {
		t.Errorf("%d conversation rows after saving a zero value, want 1", n)
	}
	// A row that no longer decodes is an error naming the chat.
	s.db.ExecContext(ctx, "UPDATE conversations SET state = '{bad' WHERE chat_id = -100123")
	if _, err := s.Load(ctx, -100123); err == nil || !strings.Contains(err.Error(), "-100123") {
		t.Errorf("Load of a bad row: %v", err)
	}
}

func TestLastUpdateID(t *testing.T) {
	s := openTest(t, t.TempDir(), nil)
	ctx := context.Background()
	if id, err := s.LastUpdateID(ctx); err != nil || id != 0 {
		t.Fatalf("LastUpdateID on a new database = %d, %v", id, err)
	}
	// Overwrites, not max: Telegram may restart ids lower after a quiet week.
	for _, id := range []int64{100, 250, 7} {
		if err := s.SetLastUpdateID(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got, err := s.LastUpdateID(ctx); err != nil || got != id {
			t.Errorf("LastUpdateID = %d, %v; want %d", got, err, id)
		}
	}
}

func TestChatSaltIsStable(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, nil)
	ctx := context.Background()
	a, err := s.ChatSalt(ctx)
	if err != nil || len(a) != 64 {
		t.Fatalf("ChatSalt = %q, %v", a, err)
	}
	s.Close()
	b, err := openTest(t, dir, nil).ChatSalt(ctx)
	if err != nil || a != b {
		t.Errorf("salt changed across reopen: %q then %q (%v)", a, b, err)
	}
	if other, _ := openTest(t, t.TempDir(), nil).ChatSalt(ctx); other == a {
		t.Error("two databases got the same salt")
	}
}

func TestContextCancelled(t *testing.T) {
	s := openTest(t, t.TempDir(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Load(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled context: %v", err)
	}
}

func TestConcurrentSaves(t *testing.T) {
	s := openTest(t, t.TempDir(), nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				chat := int64(g*100 + i%5)
				if err := s.Save(ctx, chat, bot.Conversation{LastTopic: fmt.Sprint("t", i)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for g := range 16 {
		for k := range 5 {
			// Each goroutine's last save of chat g*100+k was i = 20+k.
			if c, err := s.Load(ctx, int64(g*100+k)); err != nil || c.LastTopic != fmt.Sprint("t", 20+k) {
				t.Errorf("chat %d = %+v, %v; want its last save", g*100+k, c, err)
			}
		}
	}
}

func TestGroupCommitBatches(t *testing.T) {
	release, writing := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var batches [][]int
	g := newGroupCommit(func(items []int) []error {
		mu.Lock()
		first := len(batches) == 0
		batches = append(batches, items)
		mu.Unlock()
		if first {
			close(writing)
			<-release // the first batch is slow: the others gather meanwhile
		}
		errs := make([]error, len(items))
		for i, n := range items {
			if n == 7 {
				errs[i] = errors.New("seven fails")
			}
		}
		return errs
	})
	done := make(chan struct{})
	go func() { g.do(0); close(done) }()
	<-writing
	var wg sync.WaitGroup
	for i := 1; i <= 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.do(i); (err != nil) != (i == 7) {
				t.Errorf("item %d: %v", i, err)
			}
		}()
	}
	// Nothing tells when a caller has queued; a deadline makes a regression fail, not hang.
	for deadline := time.Now().Add(10 * time.Second); ; runtime.Gosched() {
		g.mu.Lock()
		n := len(g.queue)
		g.mu.Unlock()
		if n == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 10 writes queued behind the slow one", n)
		}
	}
	close(release)
	wg.Wait()
	<-done
	if len(batches) != 2 || len(batches[1]) != 10 {
		t.Errorf("batches %v, want the 10 saves made during the first write in one", batches)
	}
}

func TestWritesTogetherFailAlone(t *testing.T) {
	s := openTest(t, t.TempDir(), nil)
	ctx := context.Background()
	parts := []txWrite{
		{ctx: ctx, f: func(_ context.Context, tx *sql.Tx) error {
			_, err := tx.Exec("INSERT INTO meta(key, value) VALUES('a', '1')")
			return err
		}},
		{ctx: ctx, f: func(_ context.Context, tx *sql.Tx) error {
			if _, err := tx.Exec("INSERT INTO meta(key, value) VALUES('b', '1')"); err != nil {
				return err
			}
			return errors.New("b changes its mind")
		}},
		{ctx: ctx, f: func(_ context.Context, tx *sql.Tx) error { panic("c") }},
		{ctx: ctx, f: func(_ context.Context, tx *sql.Tx) error {
			_, err := tx.Exec("INSERT INTO meta(key, value) VALUES('d', '1')")
			return err
		}},
	}
	errs := s.writeTogether(parts)
	if errs[0] != nil || errs[1] == nil || errs[2] == nil || errs[3] != nil {
		t.Fatalf("errors %v", errs)
	}
	for key, want := range map[string]bool{"a": true, "b": false, "d": true} {
		if _, ok, _ := s.meta(ctx, key); ok != want {
			t.Errorf("meta %s written = %v, want %v", key, ok, want)
		}
	}
}
