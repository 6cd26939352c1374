package knowledge

import (
	"strings"
	"testing"

	"github.com/beianbot/beianbot/lang"
)

func TestWithProvider(t *testing.T) {
	b, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	other := Provider{
		Name:         Text{ZH: "示例云", EN: "ExampleCloud"},
		FilingSystem: Text{ZH: "示例云备案平台", EN: "the ExampleCloud filing portal"},
		Support:      Text{ZH: "示例云工单", EN: "an ExampleCloud ticket"},
	}
	tests := []struct {
		name   string
		p      Provider
		want   map[string]Text // topic -> substrings each answer must contain
		absent []string        // must appear in no title or answer
	}{
		{"default", DefaultProvider(), map[string]Text{
			Background:     {ZH: "青云把您的备案申请", EN: "QingCloud submits"},
			Deadline:       {ZH: "登录青云备案系统", EN: "Log in to QingCloud's ICP filing system"},
			NoRecordFound:  {ZH: "联系青云备案客服", EN: "contact QingCloud filing support"},
			NewAccessNoSMS: {ZH: "在青云重新提交", EN: "at QingCloud again"},
		}, []string{"示例云", "ExampleCloud"}},
		{"other", other, map[string]Text{
			Background:            {ZH: "示例云把您的备案申请", EN: "ExampleCloud submits"},
			Deadline:              {ZH: "登录示例云备案平台", EN: "Log in to the ExampleCloud filing portal"},
			NoApplicationToResend: {ZH: "联系示例云工单", EN: "Contact an ExampleCloud ticket"},
			Unknown:               {ZH: "示例云工单", EN: "an ExampleCloud ticket"},
		}, []string{"青云", "QingCloud"}},
		// A provider known only in English speaks English in Chinese
		// answers too, rather than leave a placeholder or name QingCloud.
		{"english only", Provider{Name: Text{EN: "ExampleCloud"}, FilingSystem: Text{EN: "the portal"}, Support: Text{EN: "our desk"}},
			map[string]Text{
				Background: {ZH: "ExampleCloud把", EN: "ExampleCloud submits"},
				Deadline:   {ZH: "登录the portal", EN: "Log in to the portal"},
			}, []string{"青云", "QingCloud"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb := b.WithProvider(tt.p)
			for _, topic := range pb.Topics() {
				for _, l := range []lang.Lang{lang.ZH, lang.EN} {
					for _, s := range []string{topic.Title.In(l), topic.Answer.In(l)} {
						if strings.ContainsAny(s, "{}") {
							t.Errorf("%s %s: placeholder left in %q", topic.ID, l, s)
						}
						for _, a := range tt.absent {
							if strings.Contains(s, a) {
								t.Errorf("%s %s: names %q", topic.ID, l, a)
							}
						}
					}
				}
			}
			for id, w := range tt.want {
				topic, _ := pb.Topic(id)
				for _, l := range []lang.Lang{lang.ZH, lang.EN} {
					if !strings.Contains(topic.Answer.In(l), w.In(l)) {
						t.Errorf("%s %s answer lacks %q:\n%s", id, l, w.In(l), topic.Answer.In(l))
					}
				}
			}
		})
	}

	// The original keeps its placeholders: WithProvider copies.
	if orig, _ := b.Topic(Deadline); !strings.Contains(orig.Answer.ZH, "{filing_system}") {
		t.Error("WithProvider changed the base it was called on")
	}
}
