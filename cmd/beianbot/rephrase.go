package main

import (
	"errors"
	"log/slog"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/rephrase"
)

// newRephraser connects the configured OpenAI-compatible server. Rephrasing
// is off unless llm.enabled is true: asking for it otherwise is an error, not
// a silent no-op, so that nobody believes they tested it.
func newRephraser(cfg config.Config, logger *slog.Logger) (bot.Rephraser, error) {
	if !cfg.LLM.Enabled {
		return nil, errors.New("rephrasing is off: set llm.enabled: true (or BEIANBOT_LLM_ENABLED=true) with llm.base_url and llm.model")
	}
	return rephrase.New(cfg.LLM, rephrase.WithLogger(logger))
}
