// Package telegram is beianbot's Telegram front end: it takes updates by long
// polling or webhook, hands each chat's messages to the engine in order, and
// sends the answers back within Telegram's limits.
package telegram

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/lru"
	"github.com/beianbot/beianbot/matrix"
)

// engine is what the server needs of *bot.Engine; tests wrap it.
type engine interface {
	Reply(ctx context.Context, conv *bot.Conversation, text string) bot.Reply
	Choose(ctx context.Context, conv *bot.Conversation, i int) bot.Reply
	Topic(ctx context.Context, conv *bot.Conversation, id string, l lang.Lang, traditional bool) bot.Reply
	Who(ctx context.Context, conv *bot.Conversation, business, subcase string, l lang.Lang, traditional bool) bot.Reply
	Matrix() *matrix.Table
	Provider() knowledge.Provider
}

// ConfigError is a setting that keeps the server from starting (missing or
// malformed token, bad URL…). The CLI prints it on one line and exits 2.
type ConfigError struct{ msg string }

func (e *ConfigError) Error() string { return e.msg }

func configErrorf(format string, args ...any) error {
	return &ConfigError{msg: fmt.Sprintf(format, args...)}
}

// Server is the Telegram bot. Create it with New and start it with Run.
type Server struct {
	cfg     config.Telegram
	engine  engine
	log     *slog.Logger
	convs   Conversations
	inbox   Inbox
	text    *phrases
	metrics *metrics
	token   string
	secret  string // webhook secret token
	sup     Support
	// The rephraser's outcome counts, for the metrics (nil: none).
	llmStats func() map[string]int64

	// The support group's id; it changes when the group becomes a supergroup.
	supportChat atomic.Int64
	supportMu   sync.Mutex // one migration at a time

	// Replaceable by tests.
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error
	jitter     func() float64
	limits     sendLimits
	httpClient *http.Client
	// timer starts a timer (for "typing…"); tests fire their own.
	timer func(d time.Duration) (<-chan time.Time, func() bool)

	// Set up by Run.
	api         *tg.Bot
	send        *sender
	me          models.User
	sched       *scheduler
	journal     *journal
	taken       atomic.Int64 // the highest update_id taken from Telegram
	chatBacklog int          // updates one chat may have waiting
	toasts      chan toast
	flood       *lru.Cache[int64, *floodState]
	floodMu     sync.Mutex
	// Chats whose backlog overflowed, told in the log once an hour.
	backlogWarned *lru.Cache[int64, struct{}]
	// Chats asked when their SMS arrived, which may answer by typing.
	awaiting *lru.Cache[int64, arrivalWait]
	// Supergroups that just replaced a group (see noteMigration).
	migrated *lru.Cache[int64, struct{}]
	fatal    chan error
	healthy  atomic.Bool
	ready    chan struct{}  // closed once Run takes updates (for tests)
	handled  func(id int64) // told after each update is answered or skipped (for tests)
	notify   func()         // told when updates were taken or a job ended (for tests)
	// Bound addresses, known once Run is ready (":0" in tests).
	webhookAddr, metricsAddr string
}

// Option changes a default of New.
type Option func(*Server)

// WithLogger sends the server's logs to l (default: nowhere).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithLLMStats exports the LLM rephraser's outcome counts (rephrase.Client.Stats)
// with the metrics.
func WithLLMStats(stats func() map[string]int64) Option {
	return func(s *Server) { s.llmStats = stats }
}

// threadCounter is the handoff storage that can count open threads for the
// metrics; *store.Store is one.
type threadCounter interface {
	OpenThreads(ctx context.Context) (int, error)
}

// queued counts the updates in the inbox (0 before Run).
func (s *Server) queued() int {
	if s.sched == nil {
		return 0
	}
	return s.sched.len()
}

// WithConversations stores chat state in c instead of memory.
func WithConversations(c Conversations) Option { return func(s *Server) { s.convs = c } }

// tokenPattern is the shape of a BotFather token: the bot's numeric id, a
// colon, and a secret of letters, digits, _ and -.
var tokenPattern = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$`)

var secretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// New checks the settings and prepares a server; nothing is sent until Run.
func New(cfg config.Telegram, e *bot.Engine, opts ...Option) (*Server, error) {
	if e == nil {
		return nil, errors.New("telegram: no engine")
	}
	return newServer(cfg, e, opts...)
}

// CheckConfig reports settings that keep the server from starting, as a
// ConfigError; New checks them too. It lets the CLI fail fast, before
// building the engine.
func CheckConfig(cfg config.Telegram) error {
	_, err := checkConfig(cfg)
	return err
}

// checkConfig validates cfg and returns it normalised.
func checkConfig(cfg config.Telegram) (config.Telegram, error) {
	cfg.Token = strings.TrimSpace(cfg.Token)
	switch {
	case cfg.Token == "":
		return cfg, configErrorf("telegram token missing: set BEIANBOT_TELEGRAM_TOKEN (or telegram.token in the config file) to the token BotFather gave you")
	case !tokenPattern.MatchString(cfg.Token):
		return cfg, configErrorf("telegram token malformed: expected <bot id>:<secret>, as BotFather gives it")
	}
	u, err := url.Parse(strings.TrimRight(cfg.APIURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return cfg, configErrorf("telegram.api_url: %q is not an http(s) URL", cfg.APIURL)
	}
	cfg.APIURL = u.String()
	switch cfg.Mode {
	case "", "polling":
		cfg.Mode = "polling"
	case "webhook":
		pu, err := url.Parse(cfg.Webhook.PublicURL)
		if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			return cfg, configErrorf("telegram.webhook.public_url: %q is not an http(s) URL", cfg.Webhook.PublicURL)
		}
		if cfg.Webhook.Listen == "" {
			return cfg, configErrorf("telegram.webhook.listen: required in webhook mode")
		}
	default:
		return cfg, configErrorf("telegram.mode: %q is neither polling nor webhook", cfg.Mode)
	}
	if s := cfg.Webhook.SecretToken; s != "" && !secretPattern.MatchString(s) {
		return cfg, configErrorf("telegram.webhook.secret_token: use 1 to 256 letters, digits, _ or -")
	}
	return cfg, nil
}

func newServer(cfg config.Telegram, e engine, opts ...Option) (*Server, error) {
	cfg, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	text, err := loadPhrases(stringsYAML)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		engine: e,
		log:    slog.New(slog.DiscardHandler),
		text:   text,
		token:  cfg.Token,
		now:    time.Now,
		sleep:  sleepCtx,
		jitter: mrand.Float64,
		limits: telegramLimits,
		timer:  realTimer,
		ready:  make(chan struct{}),
		fatal:  make(chan error, 1),
	}
	s.secret = cfg.Webhook.SecretToken
	if s.secret == "" {
		// Telegram echoes the secret in a header on every webhook call; a
		// random one per run keeps strangers from posting fake updates.
		b := make([]byte, 32)
		rand.Read(b)
		s.secret = base64.RawURLEncoding.EncodeToString(b)
	}
	if s.cfg.Workers < 1 {
		s.cfg.Workers = 1
	}
	if s.cfg.MaxChats < 1 {
		s.cfg.MaxChats = 10000
	}
	if s.cfg.PollTimeout < time.Second {
		// 0 would make getUpdates a busy short poll.
		s.cfg.PollTimeout = time.Second
	}
	if s.cfg.ShutdownGrace <= 0 {
		s.cfg.ShutdownGrace = 10 * time.Second
	}
	if s.cfg.Webhook.MaxBodyBytes <= 0 {
		s.cfg.Webhook.MaxBodyBytes = 1 << 20
	}
	if s.cfg.UserBurst < 1 {
		s.cfg.UserBurst = 1
	}
	if s.cfg.InboxLimit < 1 {
		s.cfg.InboxLimit = config.Default().Telegram.InboxLimit
	}
	if s.cfg.SendDeadline <= 0 {
		s.cfg.SendDeadline = config.Default().Telegram.SendDeadline
	}
	// One chat may fill a tenth of the inbox, so a flooded group cannot
	// stop intake for everyone.
	s.chatBacklog = max(100, s.cfg.InboxLimit/10)
	for _, o := range opts {
		o(s)
	}
	if s.convs == nil {
		s.convs = NewMemoryConversations(s.cfg.MaxChats, s.cfg.ChatTTL)
	}
	src := metricsSources{queued: s.queued, llmStats: s.llmStats, log: s.log}
	if tc, ok := s.sup.Threads.(threadCounter); ok {
		src.openThreads = tc.OpenThreads
	}
	s.metrics = newMetrics(src)
	if s.inbox == nil {
		s.inbox = newMemoryInbox(0)
	}
	if s.httpClient == nil {
		// Longer than a long poll, so the client does not cut one short.
		s.httpClient = &http.Client{Timeout: s.cfg.PollTimeout + 15*time.Second}
	}
	return s, nil
}

// scrub removes the token from text that is about to be logged: the library
// builds URLs with it, and an error can quote a URL.
func (s *Server) scrub(text string) string {
	if s.token == "" {
		return text
	}
	text = strings.ReplaceAll(text, s.token, "<token>")
	if _, secret, ok := strings.Cut(s.token, ":"); ok && len(secret) >= 8 {
		text = strings.ReplaceAll(text, secret, "<token>")
	}
	return text
}

// Run serves until ctx is cancelled, then stops taking updates, answers
// what fits in cfg.ShutdownGrace, leaves the rest in the inbox for the next
// start, and returns nil. It returns an error when it cannot start or when
// Telegram rejects the token.
func (s *Server) Run(ctx context.Context) error {
	last, err := s.inbox.InboxOffset(ctx)
	if err != nil {
		return fmt.Errorf("telegram: read the inbox offset: %w", err)
	}
	s.taken.Store(last)
	s.flood = lru.New[int64, *floodState](s.cfg.MaxChats, floodTTL(s.cfg), s.now)
	s.awaiting = lru.New[int64, arrivalWait](s.cfg.MaxChats, arrivalWaitTTL, s.now)
	s.backlogWarned = lru.New[int64, struct{}](1000, time.Hour, s.now)
	s.migrated = lru.New[int64, struct{}](1000, migratedTTL, s.now)
	s.toasts = make(chan toast, maxToasts)
	if id := s.cfg.SupportChatID; id != 0 && s.sup.Threads != nil {
		// The group may have become a supergroup since the config was written.
		if cur, err := s.sup.Threads.SupportChat(ctx, id); err != nil {
			s.log.Warn("cannot read where the support group moved; using the configured id", "err", err)
			s.supportChat.Store(id)
		} else {
			s.supportChat.Store(cur)
		}
	}

	s.api, err = tg.New(s.token,
		tg.WithSkipGetMe(), // called below, with retries and a clear error
		tg.WithServerURL(s.cfg.APIURL),
		// Used for sending only: updates are taken by poll and the webhook
		// handler here, which store them before confirming them.
		tg.WithHTTPClient(s.cfg.PollTimeout, statusClient{client: s.httpClient}),
		tg.WithErrorsHandler(s.onLibraryError),
		tg.WithDebugHandler(func(string, ...any) {}),
	)
	if err != nil {
		return fmt.Errorf("telegram: %s", s.scrub(err.Error()))
	}
	// Jobs wait on s.pause, which gives their worker back while they wait.
	s.send = newSender(s.limits, s.cfg.MaxChats, s.now, func(ctx context.Context, d time.Duration) error {
		return s.sched.pause(ctx, d)
	}, s.jitter)
	s.send.scrub, s.send.log, s.send.metrics = s.scrub, s.log, s.metrics
	cut, cutRequests := context.WithCancel(context.Background())
	defer cutRequests()
	s.send.cut = cut
	s.send.onMigrate = s.migrate
	s.send.onUnauthorized = func() {
		s.fail(configErrorf("telegram rejected the token (401 Unauthorized): check BEIANBOT_TELEGRAM_TOKEN"))
	}
	s.sched = newScheduler(s.cfg.Workers, 32*s.cfg.Workers, s.now, s.sleep, s.send.readyAt)
	s.sched.ended = func(*job) {
		if s.notify != nil {
			s.notify()
		}
	}

	if err := s.getMe(ctx); err != nil {
		return err
	}
	s.setProfile(ctx)

	// When the inbox also keeps the chats' state (one database), a chat's
	// state is written with the progress it belongs to, in one commit,
	// and no answer waits for the disk.
	keepsStates := any(s.inbox) == any(s.convs)
	s.journal = newJournal(s.inbox, keepsStates, s.log)
	defer s.journal.close() // last: what was sent and answered is written before Run returns
	if keepsStates {
		s.convs = journaledConversations{Conversations: s.convs, j: s.journal}
	}
	if err := s.restore(ctx); err != nil {
		return err
	}

	var metricsSrv *http.Server
	if s.cfg.MetricsListen != "" {
		if metricsSrv, err = s.serveMetrics(); err != nil {
			return err
		}
		defer metricsSrv.Close()
	}
	var webhookSrv *http.Server
	if s.cfg.Mode == "webhook" {
		// Telegram may post updates from here on: they are answered 503, and
		// posted again later, until the workers below have started (healthy).
		if webhookSrv, err = s.startWebhook(ctx); err != nil {
			return err
		}
	} else {
		// Telegram answers getUpdates with 409 while a webhook is set.
		err := s.send.call(ctx, s.startupSpec("deleteWebhook"), func(ctx context.Context, _ int64) error {
			_, err := s.api.DeleteWebhook(ctx, &tg.DeleteWebhookParams{})
			return err
		})
		if err != nil {
			return fmt.Errorf("telegram deleteWebhook: %w", err)
		}
	}

	// Work runs on a context of its own: cancelling ctx stops intake, and
	// work goes on until the grace period ends.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	go s.sched.run(workCtx)
	var toasting sync.WaitGroup
	for range toasters {
		toasting.Add(1)
		go func() { defer toasting.Done(); s.answerToasts(workCtx) }()
	}
	var runners sync.WaitGroup
	if s.sup.Reminders != nil {
		tick := s.sup.Tick
		if tick <= 0 {
			tick = time.Minute
		}
		runners.Add(1)
		go func() {
			defer runners.Done()
			// Ticks at once, so what fell due while the bot was down goes out now.
			s.sup.Reminders.Run(workCtx, tick, s.clock, s.sendReminder)
		}()
	}
	intakeCtx, stopIntake := context.WithCancel(ctx)
	defer stopIntake()
	intakeDone := make(chan struct{})
	if webhookSrv != nil {
		close(intakeDone)
	} else {
		go func() { s.poll(intakeCtx); close(intakeDone) }()
	}
	s.healthy.Store(true)
	close(s.ready)
	s.log.Info("telegram bot running", "mode", s.cfg.Mode, "username", s.me.Username, "workers", s.cfg.Workers,
		"waiting", s.sched.len())

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-s.fatal:
	}

	// Shutdown: stop taking updates; answer what fits in the grace period;
	// leave the rest in the inbox, not marked done, for the next start.
	s.healthy.Store(false)
	grace, cancelGrace := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancelGrace()
	stopIntake()
	if webhookSrv != nil {
		// Requests being stored finish; new ones are refused (Telegram retries them later).
		if err := webhookSrv.Shutdown(grace); err != nil {
			s.log.Warn("webhook server shutdown", "err", err)
		}
	}
	select {
	case <-intakeDone:
	case <-grace.Done():
	}
	if err := s.sched.drain(grace); err != nil {
		s.log.Warn("shutdown grace elapsed: unanswered updates stay in the inbox for the next start", "left", s.sched.len())
	}
	s.sched.stop()
	cancelWork()
	// Work that was interrupted gives up at its next wait or send; a request
	// already on its way is let finish, briefly, so its outcome is known.
	// Then what is still on its way is cut: its message is recorded as
	// unsure (sent again once at most after the restart) while the journal
	// is open, rather than answered after Run returned and never recorded.
	settled := func(d time.Duration) bool {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		s.sched.waitActive(ctx)
		waitGroup(ctx, &toasting)
		waitGroup(ctx, &runners)
		return ctx.Err() == nil
	}
	if !settled(stopDrain) {
		s.log.Warn("work still in progress at exit: Bot API requests on their way are cut, their messages count as unsure", "active", s.sched.activeCount())
		cutRequests()
		if !settled(stopDrain) {
			s.log.Warn("replies still in progress at exit; their updates will be answered again", "active", s.sched.activeCount())
		}
	}
	s.log.Info("telegram bot stopped", "left_in_inbox", s.sched.len())
	return runErr
}

// stopDrain is how long shutdown waits, after the grace period, for
// requests already sent to be answered.
const stopDrain = 2 * time.Second

// waitGroup waits for wg, or until ctx ends.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// startupSpec describes a call made at start: retried for a few seconds.
func (s *Server) startupSpec(method string) callSpec {
	return callSpec{method: method, deadline: s.now().Add(startupDeadline)}
}

// allowedUpdates are the update kinds the bot asks Telegram for.
var allowedUpdates = tg.AllowedUpdates{models.AllowedUpdateMessage, models.AllowedUpdateCallbackQuery, models.AllowedUpdateMyChatMember}

// fail ends Run with err (the first one wins).
func (s *Server) fail(err error) {
	select {
	case s.fatal <- err:
	default:
	}
}

// getMe learns the bot's id and username, needed to tell which group
// messages are meant for it.
func (s *Server) getMe(ctx context.Context) error {
	var me *models.User
	err := s.send.call(ctx, s.startupSpec("getMe"), func(ctx context.Context, _ int64) error {
		var err error
		me, err = s.api.GetMe(ctx)
		return err
	})
	var se *sendError
	switch {
	case errors.As(err, &se) && se.kind == kindUnauthorized:
		// Drop the notice onUnauthorized queued: it is returned right here.
		select {
		case <-s.fatal:
		default:
		}
		return configErrorf("telegram rejected the token (401 Unauthorized): check BEIANBOT_TELEGRAM_TOKEN")
	case err != nil:
		return fmt.Errorf("telegram getMe: %w", err)
	case me == nil || me.Username == "":
		return errors.New("telegram getMe: no username in the answer")
	}
	s.me = *me
	return nil
}

// onLibraryError receives the library's own errors (it is used for sending
// only; failed calls come back to the caller).
func (s *Server) onLibraryError(err error) {
	msg := s.scrub(err.Error())
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	s.log.Warn("telegram library", "err", msg)
}

func (s *Server) serveMetrics() (*http.Server, error) {
	ln, err := net.Listen("tcp", s.cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("telegram.metrics_listen %s: %w", s.cfg.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.metrics.handler())
	mux.HandleFunc("/healthz", s.healthz)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	s.metricsAddr = ln.Addr().String()
	s.log.Info("metrics listening", "addr", s.metricsAddr)
	return srv, nil
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	if !s.healthy.Load() {
		http.Error(w, "stopping", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}

// migrate moves a group's state to the supergroup that replaced it, and
// follows the support group there.
func (s *Server) migrate(ctx context.Context, from, to int64) {
	if from == s.supportChat.Load() {
		// Not part of any update's work: the re-posts are not in the outbox.
		rq := &request{received: s.now(), out: &delivery{lost: resendOnce, deadline: s.now().Add(s.cfg.SendDeadline)}}
		s.followSupport(ctx, rq, from, to)
		return
	}
	conv, err := s.convs.Load(ctx, from)
	if err != nil {
		return
	}
	if err := s.convs.Save(ctx, to, conv); err != nil {
		s.log.Warn("cannot move chat state to its supergroup", "from", from, "to", to, "err", err)
	}
}

// floodState is one user's token bucket, and whether they were told to slow down.
type floodState struct {
	lim     *rate.Limiter
	noticed bool
}

// floodTTL keeps a user's bucket at least until it would have refilled.
func floodTTL(cfg config.Telegram) time.Duration {
	if cfg.UserRate <= 0 {
		return time.Minute
	}
	return max(time.Minute, time.Duration(float64(cfg.UserBurst)/cfg.UserRate*float64(time.Second)))
}

// admitUser applies flood control: ok when the user's bucket has a token;
// otherwise notice is true the first time, so they are told once.
func (s *Server) admitUser(userID int64) (ok, notice bool) {
	if s.cfg.UserRate <= 0 {
		return true, false
	}
	s.floodMu.Lock()
	defer s.floodMu.Unlock()
	st := s.flood.GetOrPut(userID, func() *floodState {
		return &floodState{lim: rate.NewLimiter(rate.Limit(s.cfg.UserRate), s.cfg.UserBurst)}
	})
	if st.lim.AllowN(s.now(), 1) {
		st.noticed = false
		return true, false
	}
	if !st.noticed {
		st.noticed = true
		return false, true
	}
	return false, false
}
