package bot

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// evalQuestions reads every question of the evaluation set, the realistic mix
// the latency goal is about.
func evalQuestions(tb testing.TB) []string {
	return questionsIn(tb, "../testdata/eval/*.yaml")
}

// questionsIn reads every question (cases and dialog turns) of the
// evaluation files matching glob.
func questionsIn(tb testing.TB, glob string) []string {
	tb.Helper()
	paths, err := filepath.Glob(glob)
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no evaluation files %s: %v", glob, err)
	}
	var qs []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		var f struct {
			Cases []struct {
				Q string `yaml:"q"`
			} `yaml:"cases"`
			Dialogs []struct {
				Turns []struct {
					Q string `yaml:"q"`
				} `yaml:"turns"`
			} `yaml:"dialogs"`
		}
		if err := yaml.Unmarshal(data, &f); err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		for _, c := range f.Cases {
			qs = append(qs, c.Q)
		}
		for _, d := range f.Dialogs {
			for _, t := range d.Turns {
				qs = append(qs, t.Q)
			}
		}
	}
	return qs
}

// BenchmarkReply measures one reply over the evaluation questions and reports
// the p50 and p99 of single replies (goal: p99 under 1 ms on one core).
func BenchmarkReply(b *testing.B) {
	ctx := context.Background()
	e, err := New(ctx, Options{})
	if err != nil {
		b.Fatal(err)
	}
	qs := evalQuestions(b)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		e.Reply(ctx, &Conversation{}, qs[i%len(qs)])
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkStartup measures building the engine: loading the embedded data
// and indexing it (goal: under 300 ms), and the heap it leaves (goal for the
// whole process: under 60 MB resident).
func BenchmarkStartup(b *testing.B) {
	ctx := context.Background()
	var heap uint64
	for i := 0; i < b.N; i++ {
		e, err := New(ctx, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		heap = m.HeapAlloc
		e.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}
