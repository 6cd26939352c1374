package eval

import (
	"context"
	"fmt"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/knowledge"
)

// CrossValidate runs k-fold cross-validation over the knowledge base's own
// example questions: for each fold, an engine is built (index and classifier)
// from the other folds' examples and answers the held-out ones, each in a
// fresh conversation. An example is answered right when it gets its topic
// (for who-verifies, a verdict or an ask-back both count, since examples
// carry no verdict). opts carries what every fold's engine shares besides
// the knowledge base (thresholds, provider).
func CrossValidate(ctx context.Context, kb *knowledge.Base, k int, opts bot.Options) ([]Outcome, error) {
	if k < 2 {
		return nil, fmt.Errorf("cross-validation needs at least 2 folds, got %d", k)
	}
	var out []Outcome
	for i := 0; i < k; i++ {
		train, held := kb.Fold(k, i)
		o := opts
		o.Knowledge = train
		e, err := bot.New(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", i+1, err)
		}
		var f File
		f.Name = fmt.Sprintf("cv fold %d/%d", i+1, k)
		for _, ex := range held {
			f.Cases = append(f.Cases, Case{Q: ex.Text, Topic: ex.TopicID, Lang: ex.Lang})
		}
		out = append(out, Run(ctx, e, []*File{&f})...)
		e.Close()
	}
	return out, nil
}
