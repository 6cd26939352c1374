package support

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
)

// Beijing is the time zone customers and MIIT's system use (UTC+8, no DST).
var Beijing = time.FixedZone("UTC+8", 8*60*60)

// ReminderText is the message for a due reminder, in the customer's
// language. For an Expired one it is a lead-in: send the deadline topic's
// answer after it (or in the same message).
func ReminderText(d Due) string {
	at := d.Deadline.In(Beijing)
	var s string
	switch {
	case d.Kind == store.Expired && d.Lang == lang.EN:
		s = fmt.Sprintf("⏰ The 24-hour limit for your SMS verification ended at %s (Beijing time). "+
			"If you have already verified, please ignore this message. If not, here is what to do now:",
			at.Format("15:04 on 2 Jan"))
	case d.Kind == store.Expired:
		s = fmt.Sprintf("⏰ 您的短信核验时限已于%s（北京时间）到期。如果已经完成核验，请忽略这条消息；如果还没有，现在这样处理：",
			at.Format("1月2日 15:04"))
	case d.Lang == lang.EN:
		s = fmt.Sprintf("⏰ Reminder: please complete the SMS verification by %s (Beijing time), %s from now. "+
			"If it is not done within 24 hours, the filing is sent back and has to be submitted again.\n"+
			"Already verified? Tap “Done” and I will stop reminding you.",
			at.Format("15:04 on 2 Jan"), leftEN(d.Left))
	default:
		s = fmt.Sprintf("⏰ 提醒：请在%s（北京时间）前完成短信核验，还剩%s。超过 24 小时未完成，备案申请会被退回，需要重新提交。\n"+
			"已经完成核验？点“已完成”，我就不再提醒。",
			at.Format("1月2日 15:04"), leftZH(d.Left))
	}
	return inScript(s, d.Lang, d.Traditional)
}

// DoneLabel is the label of the button that cancels a reminder.
func DoneLabel(l lang.Lang, traditional bool) string {
	if l == lang.EN {
		return "✅ Done, verified"
	}
	return inScript("✅ 已完成", l, traditional)
}

// ScheduledText confirms a scheduled reminder: when the deadline is and
// when the reminders will come.
func ScheduledText(r store.Reminder) string {
	at := r.Deadline.In(Beijing)
	var times []string
	for _, st := range r.Steps {
		if st.Kind != store.Before {
			continue
		}
		times = append(times, st.DueAt.In(Beijing).Format("15:04"))
	}
	if r.Lang == lang.EN {
		s := fmt.Sprintf("OK. Your SMS verification must be done by %s (Beijing time).", at.Format("15:04 on 2 Jan"))
		if len(times) > 0 {
			s += " I will remind you at " + strings.Join(times, " and ") + "."
		}
		return s + " Tap “Done” on a reminder once you have verified."
	}
	s := fmt.Sprintf("好的。短信核验需在%s（北京时间）前完成。", at.Format("1月2日 15:04"))
	if len(times) > 0 {
		s += "我会在 " + strings.Join(times, "、") + " 提醒您。"
	}
	return inScript(s+"完成核验后，在提醒消息上点“已完成”即可。", r.Lang, r.Traditional)
}

// CancelledText confirms the "done" button.
func CancelledText(l lang.Lang, traditional bool) string {
	if l == lang.EN {
		return "Great — no more reminders for this verification."
	}
	return inScript("好的，这次核验不再提醒。", l, traditional)
}

func inScript(s string, l lang.Lang, traditional bool) string {
	if l == lang.ZH && traditional {
		return lang.ToTraditional(s)
	}
	return s
}

// leftZH and leftEN say roughly how long is left: whole hours from an
// hour on, else minutes.
func leftZH(d time.Duration) string {
	if d >= time.Hour {
		return fmt.Sprintf("约 %d 小时", int(math.Round(d.Hours())))
	}
	return fmt.Sprintf("约 %d 分钟", max(1, int(math.Round(d.Minutes()))))
}

func leftEN(d time.Duration) string {
	if d >= time.Hour {
		h := int(math.Round(d.Hours()))
		if h == 1 {
			return "about 1 hour"
		}
		return fmt.Sprintf("about %d hours", h)
	}
	return fmt.Sprintf("about %d minutes", max(1, int(math.Round(d.Minutes()))))
}

// Arrival choices: the buttons that answer "when did the SMS arrive?".
var ArrivalChoices = []time.Duration{0, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour}

var (
	arrivalNow      = regexp.MustCompile(`^(?:刚刚|刚才|刚收到|刚到|现在|just now|right now|now|just arrived)$`)
	arrivalRelative = regexp.MustCompile(`^(?:约|大约|大概|about|around|~)?\s*([0-9]+(?:\.[0-9]+)?|[零一二两三四五六七八九十]+|半|an|a)\s*(?:个)?\s*(半)?\s*(小时|钟头|h|hr|hrs|hour|hours|分钟|分|min|mins|minute|minutes)\s*(?:前|以前|之前|ago)?$`)
	arrivalClock    = regexp.MustCompile(`^(今天|昨天|昨晚|today|yesterday)?\s*(上午|早上|凌晨|中午|下午|晚上|傍晚)?\s*([0-9]{1,2}|[零一二两三四五六七八九十]+)\s*(?:(?::|点|时)\s*([0-9]{1,2}|半)?\s*分?|(am|pm))\s*(am|pm)?$`)
)

// ParseArrival reads when the SMS arrived from what the customer typed:
// "刚刚", "3小时前", "半小时前", "2 hours ago", "14:30", "昨天 下午3点",
// "yesterday 9pm". Clock times are Beijing time; a clock time later than now
// without a day means yesterday. ok is false when the text is not a time.
func ParseArrival(text string, now time.Time) (t time.Time, ok bool) {
	s := lang.Normalize(text)
	s = strings.TrimRight(s, "。.!！ ")
	if arrivalNow.MatchString(s) {
		return now, true
	}
	if m := arrivalRelative.FindStringSubmatch(s); m != nil {
		n, ok := number(m[1])
		if !ok {
			return time.Time{}, false
		}
		if m[2] != "" { // 两个半小时
			n += 0.5
		}
		unit := time.Hour
		if strings.HasPrefix(m[3], "分") || strings.HasPrefix(m[3], "min") {
			unit = time.Minute
		}
		d := time.Duration(n * float64(unit))
		if d < 0 || d > 7*24*time.Hour {
			return time.Time{}, false
		}
		return now.Add(-d), true
	}
	if m := arrivalClock.FindStringSubmatch(s); m != nil {
		day, part, hs, ms, ampm := m[1], m[2], m[3], m[4], m[5]+m[6]
		hf, ok := number(hs)
		h := int(hf)
		if !ok || hf != float64(h) {
			return time.Time{}, false
		}
		mi := 0
		if ms == "半" {
			mi = 30
		} else if ms != "" {
			mi, _ = strconv.Atoi(ms)
		}
		switch {
		case (part == "下午" || part == "晚上" || part == "傍晚" || day == "昨晚" || ampm == "pm") && h < 12:
			h += 12
		case (part == "凌晨" || ampm == "am") && h == 12:
			h = 0
		case part == "中午" && h < 6:
			h += 12
		}
		if h > 23 || mi > 59 {
			return time.Time{}, false
		}
		local := now.In(Beijing)
		t = time.Date(local.Year(), local.Month(), local.Day(), h, mi, 0, 0, Beijing)
		switch day {
		case "昨天", "昨晚", "yesterday":
			t = t.AddDate(0, 0, -1)
		case "":
			if t.After(now.Add(clockSkew)) {
				t = t.AddDate(0, 0, -1)
			}
		}
		return t.In(now.Location()), true
	}
	return time.Time{}, false
}

// number reads digits or a small Chinese numeral (一 … 九十九, 两, 半).
func number(s string) (float64, bool) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, true
	}
	switch s {
	case "半":
		return 0.5, true
	case "a", "an":
		return 1, true
	}
	digits := map[rune]int{'零': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	rs := []rune(s)
	switch {
	case len(rs) == 1 && rs[0] == '十':
		return 10, true
	case len(rs) == 1:
		v, ok := digits[rs[0]]
		return float64(v), ok
	case len(rs) == 2 && rs[0] == '十': // 十二
		v, ok := digits[rs[1]]
		return float64(10 + v), ok
	case len(rs) == 2 && rs[1] == '十': // 二十
		v, ok := digits[rs[0]]
		return float64(10 * v), ok
	case len(rs) == 3 && rs[1] == '十': // 二十三
		a, ok1 := digits[rs[0]]
		b, ok2 := digits[rs[2]]
		return float64(10*a + b), ok1 && ok2
	}
	return 0, false
}
