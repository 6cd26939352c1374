package support

import (
	"strings"
	"testing"
	"time"

	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
)

func TestParseArrival(t *testing.T) {
	// now: 2025-03-10 15:20 Beijing time.
	now := time.Date(2025, 3, 10, 7, 20, 0, 0, time.UTC)
	bj := func(day, h, m int) time.Time { return time.Date(2025, 3, day, h, m, 0, 0, Beijing) }
	cases := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"刚刚", now, true},
		{"just now", now, true},
		{"Just now!", now, true},
		{"3小时前", now.Add(-3 * time.Hour), true},
		{"3个小时前", now.Add(-3 * time.Hour), true},
		{"３個小時前", now.Add(-3 * time.Hour), true}, // full-width, Traditional
		{"两个小时之前", now.Add(-2 * time.Hour), true},
		{"两个半小时前", now.Add(-150 * time.Minute), true},
		{"半小时前", now.Add(-30 * time.Minute), true},
		{"十二小时前", now.Add(-12 * time.Hour), true},
		{"大约20分钟前", now.Add(-20 * time.Minute), true},
		{"2.5 hours ago", now.Add(-150 * time.Minute), true},
		{"an hour ago", now.Add(-time.Hour), true},
		{"6h", now.Add(-6 * time.Hour), true},
		{"45 min ago", now.Add(-45 * time.Minute), true},
		{"14:30", bj(10, 14, 30), true},
		{"１４：３０", bj(10, 14, 30), true},
		{"16:00", bj(9, 16, 0), true}, // later than now: yesterday
		{"今天下午3点", bj(10, 15, 0), true},
		{"下午2点半", bj(10, 14, 30), true},
		{"下午3点半", bj(9, 15, 30), true}, // 10 minutes ahead of now: yesterday
		{"上午九点", bj(10, 9, 0), true},
		{"昨天 23:10", bj(9, 23, 10), true},
		{"昨晚8点", bj(9, 20, 0), true},
		{"yesterday 9pm", bj(9, 21, 0), true},
		{"9:05 am", bj(10, 9, 5), true},
		{"12am", bj(10, 0, 0), true},
		{"25:00", time.Time{}, false},
		{"14", time.Time{}, false},
		{"不记得了", time.Time{}, false},
		{"how do I verify", time.Time{}, false},
		{"", time.Time{}, false},
		{"9999小时前", time.Time{}, false},
	}
	for _, tc := range cases {
		got, ok := ParseArrival(tc.in, now)
		if ok != tc.ok || ok && !got.Equal(tc.want) {
			t.Errorf("ParseArrival(%q) = %s, %v; want %s, %v", tc.in, got.In(Beijing), ok, tc.want.In(Beijing), tc.ok)
		}
	}
}

func TestReminderText(t *testing.T) {
	deadline := time.Date(2025, 3, 11, 2, 0, 0, 0, time.UTC) // 10:00 Beijing
	cases := []struct {
		d    Due
		want []string
	}{
		{Due{Lang: lang.ZH, Kind: store.Before, Deadline: deadline, Left: 2 * time.Hour},
			[]string{"3月11日 10:00", "北京时间", "约 2 小时", "已完成"}},
		{Due{Lang: lang.ZH, Traditional: true, Kind: store.Before, Deadline: deadline, Left: 40 * time.Minute},
			[]string{"約 40 分鐘", "短信核驗", "已完成"}},
		{Due{Lang: lang.EN, Kind: store.Before, Deadline: deadline, Left: 12*time.Hour - 20*time.Second},
			[]string{"10:00 on 11 Mar", "Beijing time", "about 12 hours", "Done"}},
		{Due{Lang: lang.EN, Kind: store.Before, Deadline: deadline, Left: time.Hour},
			[]string{"about 1 hour from now"}},
		{Due{Lang: lang.ZH, Kind: store.Expired, Deadline: deadline},
			[]string{"已于3月11日 10:00", "到期", "请忽略"}},
		{Due{Lang: lang.EN, Kind: store.Expired, Deadline: deadline},
			[]string{"ended at 10:00 on 11 Mar", "ignore"}},
	}
	for _, tc := range cases {
		got := ReminderText(tc.d)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("ReminderText(%+v) = %q, missing %q", tc.d, got, w)
			}
		}
	}
	r := store.Reminder{Lang: lang.EN, Deadline: deadline, Steps: []store.Step{
		{Kind: store.Before, DueAt: deadline.Add(-12 * time.Hour)}, {Kind: store.Before, DueAt: deadline.Add(-2 * time.Hour)},
		{Kind: store.Expired, DueAt: deadline}}}
	if got, want := ScheduledText(r), "OK. Your SMS verification must be done by 10:00 on 11 Mar (Beijing time). I will remind you at 22:00 and 08:00. Tap “Done” on a reminder once you have verified."; got != want {
		t.Errorf("ScheduledText = %q\nwant %q", got, want)
	}
	r.Lang = lang.ZH
	if got, want := ScheduledText(r), "好的。短信核验需在3月11日 10:00（北京时间）前完成。我会在 22:00、08:00 提醒您。完成核验后，在提醒消息上点“已完成”即可。"; got != want {
		t.Errorf("ScheduledText = %q\nwant %q", got, want)
	}
}
