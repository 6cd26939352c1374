// Package classify is a small topic classifier trained at start-up on the knowledge base's
// example questions: multinomial logistic regression over words, character pairs and concepts.
package classify

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Feature is one input of the model with its weight in the message.
type Feature struct {
	Name   string
	Weight float64
}

// Example is one training question: its features and its topic.
type Example struct {
	Features []Feature
	Label    string
}

// Score is a topic's probability for one message.
type Score struct {
	Label string
	Prob  float64
}

// Options tune training; the zero value means the defaults.
type Options struct {
	Epochs int     // passes over the examples (default 40)
	Rate   float64 // initial learning rate (default 0.5)
	L2     float64 // weight decay per step (default 1e-4)
	Seed   uint64  // shuffling seed, for reproducible models
}

// Model is a trained classifier. It is read-only and safe for concurrent use.
type Model struct {
	labels []string
	vocab  map[string]int
	w      []float64 // len(vocab) × len(labels), row-major
	b      []float64 // one bias per label
}

// Labels returns the model's labels, sorted.
func (m *Model) Labels() []string { return slices.Clone(m.labels) }

// Train fits a model to the examples by stochastic gradient descent on the
// cross-entropy, with AdaGrad step sizes and L2 decay. Features are
// L2-normalised per example, so long and short questions weigh alike.
func Train(examples []Example, opts Options) *Model {
	if opts.Epochs == 0 {
		opts.Epochs = 40
	}
	if opts.Rate == 0 {
		opts.Rate = 0.5
	}
	if opts.L2 == 0 {
		opts.L2 = 1e-4
	}
	m := &Model{vocab: map[string]int{}}
	labelIndex := map[string]int{}
	for _, e := range examples {
		if _, ok := labelIndex[e.Label]; !ok {
			labelIndex[e.Label] = 0
			m.labels = append(m.labels, e.Label)
		}
	}
	sort.Strings(m.labels)
	for i, l := range m.labels {
		labelIndex[l] = i
	}
	type sparse struct {
		idx   []int
		val   []float64
		label int
	}
	data := make([]sparse, 0, len(examples))
	for _, e := range examples {
		var s sparse
		s.label = labelIndex[e.Label]
		for _, f := range normalize(e.Features) {
			i, ok := m.vocab[f.Name]
			if !ok {
				i = len(m.vocab)
				m.vocab[f.Name] = i
			}
			s.idx = append(s.idx, i)
			s.val = append(s.val, f.Weight)
		}
		data = append(data, s)
	}
	k := len(m.labels)
	m.w = make([]float64, len(m.vocab)*k)
	m.b = make([]float64, k)
	gw := make([]float64, len(m.w)) // AdaGrad accumulators
	gb := make([]float64, k)
	p := make([]float64, k)
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	const eps = 1e-8
	for epoch := 0; epoch < opts.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, n := range order {
			s := data[n]
			m.probs(s.idx, s.val, p)
			for c := 0; c < k; c++ {
				g := p[c]
				if c == s.label {
					g -= 1
				}
				gb[c] += g * g
				m.b[c] -= opts.Rate * g / math.Sqrt(gb[c]+eps)
				for j, i := range s.idx {
					at := i*k + c
					gi := g*s.val[j] + opts.L2*m.w[at]
					gw[at] += gi * gi
					m.w[at] -= opts.Rate * gi / math.Sqrt(gw[at]+eps)
				}
			}
		}
	}
	return m
}

// probs fills p with the label probabilities of a normalised sparse input.
func (m *Model) probs(idx []int, val []float64, p []float64) {
	k := len(m.labels)
	copy(p, m.b)
	for j, i := range idx {
		row := m.w[i*k : i*k+k]
		for c := range p {
			p[c] += row[c] * val[j]
		}
	}
	softmax(p)
}

func softmax(p []float64) {
	top := math.Inf(-1)
	for _, v := range p {
		top = max(top, v)
	}
	sum := 0.0
	for i, v := range p {
		p[i] = math.Exp(v - top)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
}

// Prediction is the model's view of one message.
type Prediction struct {
	Scores []Score // every label's probability, best first
	// Coverage is the share of the message the model knows: the squared
	// weight of its features seen in training (the features are normalised,
	// so 1 means all of them). Gibberish scores near 0, and its probabilities
	// say little.
	Coverage float64
}

// Predict rates every label for a message's features. Features the model
// never saw are ignored, and lower the coverage.
func (m *Model) Predict(features []Feature) Prediction {
	var idx []int
	var val []float64
	coverage := 0.0
	for _, f := range normalize(features) {
		if i, ok := m.vocab[f.Name]; ok {
			idx = append(idx, i)
			val = append(val, f.Weight)
			coverage += f.Weight * f.Weight
		}
	}
	p := make([]float64, len(m.labels))
	m.probs(idx, val, p)
	out := make([]Score, len(p))
	for i, l := range m.labels {
		out[i] = Score{Label: l, Prob: p[i]}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Prob > out[j].Prob })
	return Prediction{Scores: out, Coverage: coverage}
}

// normalize merges repeated features and scales the vector to unit length.
func normalize(fs []Feature) []Feature {
	sum := map[string]float64{}
	var order []string
	for _, f := range fs {
		if _, ok := sum[f.Name]; !ok {
			order = append(order, f.Name)
		}
		sum[f.Name] += f.Weight
	}
	norm := 0.0
	for _, name := range order { // in a fixed order: a float sum depends on it, and answers must not
		norm += sum[name] * sum[name]
	}
	if norm == 0 {
		return nil
	}
	norm = math.Sqrt(norm)
	out := make([]Feature, 0, len(order))
	for _, name := range order {
		out = append(out, Feature{Name: name, Weight: sum[name] / norm})
	}
	return out
}
