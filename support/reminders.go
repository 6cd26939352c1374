package support

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
)

// VerifyWindow is how long the persons in charge have to verify once the
// SMS arrives; after it MIIT's system sends the filing back (the source:
// 需在24小时内全部核验完成).
const VerifyWindow = 24 * time.Hour

// clockSkew is how far in the future an arrival time may be and still be
// taken as "now": clocks and typing are not exact.
const clockSkew = 5 * time.Minute

var (
	// ErrDeadlinePassed: the SMS arrived 24 hours ago or more; answer with
	// the deadline topic instead of scheduling.
	ErrDeadlinePassed = errors.New("the 24-hour verification window has already passed")
	// ErrFutureArrival: the arrival time given is later than now.
	ErrFutureArrival = errors.New("the SMS arrival time is in the future")
)

// ReminderStore is the storage Reminders needs; *store.Store implements it.
type ReminderStore interface {
	ScheduleReminder(ctx context.Context, r store.NewReminder) (store.Reminder, error)
	DueReminders(ctx context.Context, now time.Time) ([]store.Reminder, error)
	MarkReminderSent(ctx context.Context, reminderID, send int64, skip []int64) (bool, error)
	ReleaseReminderStep(ctx context.Context, stepID int64) error
	CancelReminder(ctx context.Context, chatID, reminderID int64) (bool, error)
	ActiveReminder(ctx context.Context, chatID int64) (store.Reminder, bool, error)
}

// Plan works out when to remind a customer whose SMS arrived at smsAt, at
// the moment now: one reminder at each of before ahead of the deadline that
// is still in the future, then one message once the deadline has passed.
// Reminders already past are left out; they would only say what the
// customer just told us.
func Plan(smsAt, now time.Time, before []time.Duration) (deadline time.Time, steps []store.NewStep, err error) {
	if smsAt.After(now.Add(clockSkew)) {
		return time.Time{}, nil, ErrFutureArrival
	}
	if smsAt.After(now) {
		smsAt = now
	}
	deadline = smsAt.Add(VerifyWindow)
	if !now.Before(deadline) {
		return deadline, nil, ErrDeadlinePassed
	}
	bs := slices.Clone(before)
	slices.Sort(bs)
	bs = slices.Compact(bs)
	for i := len(bs) - 1; i >= 0; i-- { // longest lead first: earliest reminder first
		b := bs[i]
		if b <= 0 || b >= VerifyWindow {
			continue
		}
		if due := deadline.Add(-b); due.After(now) {
			steps = append(steps, store.NewStep{Kind: store.Before, DueAt: due})
		}
	}
	steps = append(steps, store.NewStep{Kind: store.Expired, DueAt: deadline})
	return deadline, steps, nil
}

// Due is one reminder message to send now.
type Due struct {
	ReminderID  int64
	StepID      int64
	ChatID      int64
	Lang        lang.Lang
	Traditional bool
	// Kind is store.Before while the deadline is ahead; store.Expired once it
	// has passed: then send the after-deadline message (the deadline topic).
	Kind     store.StepKind
	SMSAt    time.Time
	Deadline time.Time
	Left     time.Duration // from the tick to the deadline; 0 when Expired
}

// Reminders schedules 24-hour reminders and hands out the ones due.
// Time always comes in as an argument, so tests need no sleeping.
type Reminders struct {
	st     ReminderStore
	before []time.Duration
	log    *slog.Logger
}

// ReminderOption changes a default of NewReminders.
type ReminderOption func(*Reminders)

// WithLogger makes Run report failed ticks through l (default: nowhere).
func WithLogger(l *slog.Logger) ReminderOption { return func(r *Reminders) { r.log = l } }

// NewReminders returns Reminders that remind at each of before ahead of the
// deadline (config reminders.before: 12h and 2h by default).
func NewReminders(st ReminderStore, before []time.Duration, opts ...ReminderOption) *Reminders {
	r := &Reminders{st: st, before: before, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Schedule sets a reminder for a chat whose SMS arrived at smsAt, replacing
// the chat's earlier one. It returns ErrDeadlinePassed or ErrFutureArrival
// (nothing stored) when the time makes no reminder possible.
func (r *Reminders) Schedule(ctx context.Context, chatID int64, l lang.Lang, traditional bool, smsAt, now time.Time) (store.Reminder, error) {
	deadline, steps, err := Plan(smsAt, now, r.before)
	if err != nil {
		return store.Reminder{}, err
	}
	if smsAt.After(now) {
		smsAt = now
	}
	return r.st.ScheduleReminder(ctx, store.NewReminder{
		ChatID: chatID, Lang: l, Traditional: traditional, SMSAt: smsAt, Deadline: deadline, Steps: steps,
	})
}

// Cancel stops a chat's reminder (the "done" button). ok is false when it
// was already cancelled, finished, or belongs to another chat.
func (r *Reminders) Cancel(ctx context.Context, chatID, reminderID int64) (bool, error) {
	return r.st.CancelReminder(ctx, chatID, reminderID)
}

// StopChat cancels whatever a chat still has to be reminded of: the
// customer blocked the bot, or removed it from their group. It returns how
// many reminders it cancelled.
func (r *Reminders) StopChat(ctx context.Context, chatID int64) (int, error) {
	n := 0
	for {
		rem, ok, err := r.st.ActiveReminder(ctx, chatID)
		if err != nil || !ok {
			return n, err
		}
		cancelled, err := r.st.CancelReminder(ctx, chatID, rem.ID)
		if err != nil || !cancelled { // not cancelled: someone else just did
			return n, err
		}
		n++
	}
}

// Active returns the chat's reminder that still has something to send.
func (r *Reminders) Active(ctx context.Context, chatID int64) (store.Reminder, bool, error) {
	return r.st.ActiveReminder(ctx, chatID)
}

// Tick claims and returns the messages due at now. Each message is claimed
// in the database before it is returned, so it is handed out once, however
// many ticks or processes run (at most once: see store.MarkReminderSent).
//
// Per reminder only the latest due step is sent and earlier due ones are
// skipped: after downtime the customer gets one current reminder, not a
// backlog; and once the deadline has passed, only the after-deadline message.
func (r *Reminders) Tick(ctx context.Context, now time.Time) ([]Due, error) {
	var out []Due
	err := r.tick(ctx, now, func(d Due) { out = append(out, d) })
	return out, err
}

func (r *Reminders) tick(ctx context.Context, now time.Time, each func(Due)) error {
	rems, err := r.st.DueReminders(ctx, now)
	if err != nil {
		return err
	}
	var errs []error
	for _, rem := range rems {
		var send store.Step
		var skip []int64
		for _, st := range rem.Steps { // in due order: the last due one is sent
			if st.Outcome != store.Pending || st.DueAt.After(now) {
				continue
			}
			if send.ID != 0 {
				skip = append(skip, send.ID)
			}
			send = st
		}
		if send.ID == 0 {
			continue
		}
		ok, err := r.st.MarkReminderSent(ctx, rem.ID, send.ID, skip)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue // claimed elsewhere or cancelled meanwhile
		}
		d := Due{
			ReminderID: rem.ID, StepID: send.ID, ChatID: rem.ChatID, Lang: rem.Lang, Traditional: rem.Traditional,
			Kind: store.Before, SMSAt: rem.SMSAt, Deadline: rem.Deadline, Left: rem.Deadline.Sub(now),
		}
		if d.Left <= 0 {
			d.Kind, d.Left = store.Expired, 0
		}
		each(d)
	}
	return errors.Join(errs...)
}

// Failed gives a claimed message back, for when sending it certainly failed
// (Telegram answered with an error other than "blocked"): the next tick
// tries again. After a timeout, do not call it — the message may have gone out.
func (r *Reminders) Failed(ctx context.Context, d Due) error {
	return r.st.ReleaseReminderStep(ctx, d.StepID)
}

// Run ticks at once (so what fell due while the bot was down goes out at
// start) and then every interval until ctx ends, calling send for each
// message. Each message is claimed just before its send, so a crash loses
// at most the one in flight.
func (r *Reminders) Run(ctx context.Context, every time.Duration, now func() time.Time, send func(context.Context, Due)) error {
	if every <= 0 {
		return fmt.Errorf("reminders: tick interval %s is not positive", every)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := r.tick(ctx, now(), func(d Due) { send(ctx, d) }); err != nil && ctx.Err() == nil {
			r.log.ErrorContext(ctx, "reminders: tick failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
