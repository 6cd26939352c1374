package knowledge

import (
	"strings"

	"github.com/beianbot/beianbot/lang"
)

// Provider names the access provider that runs beianbot. The source page is
// QingCloud's; answers say {provider}, {filing_system} and {support} instead,
// so another provider only changes its config.
type Provider struct {
	Name         Text `yaml:"name"`          // {provider}: 青云 / QingCloud
	FilingSystem Text `yaml:"filing_system"` // {filing_system}: where customers resubmit a filing
	Support      Text `yaml:"support"`       // {support}: how to reach filing support
}

// The placeholders an answer or title may contain.
const (
	phProvider     = "provider"
	phFilingSystem = "filing_system"
	phSupport      = "support"
)

var placeholders = []string{phProvider, phFilingSystem, phSupport}

// DefaultProvider is the provider of the source page, QingCloud.
func DefaultProvider() Provider {
	return Provider{
		Name:         Text{ZH: "青云", EN: "QingCloud"},
		FilingSystem: Text{ZH: "青云备案系统", EN: "QingCloud's ICP filing system"},
		Support:      Text{ZH: "青云备案客服", EN: "QingCloud filing support"},
	}
}

// WithProvider returns a copy of the base whose titles and answers name p.
// A text p leaves empty in one language takes p's other language, and one
// empty in both takes the default's, so no placeholder reaches a customer.
func (b *Base) WithProvider(p Provider) *Base {
	def := DefaultProvider()
	p.Name = complete(p.Name, def.Name)
	p.FilingSystem = complete(p.FilingSystem, def.FilingSystem)
	p.Support = complete(p.Support, def.Support)

	out := &Base{topics: make([]Topic, len(b.topics)), byID: b.byID}
	for i, t := range b.topics {
		t.Title = Text{ZH: p.expand(t.Title.ZH, lang.ZH), EN: p.expand(t.Title.EN, lang.EN)}
		t.Answer = Text{ZH: p.expand(t.Answer.ZH, lang.ZH), EN: p.expand(t.Answer.EN, lang.EN)}
		out.topics[i] = t
	}
	return out
}

func complete(t, def Text) Text {
	t.ZH, t.EN = strings.TrimSpace(t.ZH), strings.TrimSpace(t.EN)
	switch {
	case t.ZH == "" && t.EN == "":
		return def
	case t.ZH == "":
		t.ZH = t.EN
	case t.EN == "":
		t.EN = t.ZH
	}
	return t
}

func (p Provider) expand(s string, l lang.Lang) string {
	return strings.NewReplacer(
		"{"+phProvider+"}", p.Name.In(l),
		"{"+phFilingSystem+"}", p.FilingSystem.In(l),
		"{"+phSupport+"}", p.Support.In(l),
	).Replace(s)
}
