package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// findChromium returns the browser to drive: $RELAYDESK_CHROMIUM, Debian's
// /usr/bin/chromium, or a chromium on PATH.
func findChromium() string {
	candidates := []string{"/usr/bin/chromium", "chromium", "chromium-browser"}
	if p := os.Getenv("RELAYDESK_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshotDirs are where screenshots go: the artifacts directory
// ($RELAYDESK_ARTIFACTS/admin-screenshots, or a temporary one) and, with
// RELAYDESK_UPDATE_SCREENSHOTS=1, docs/screenshots for the documentation.
func screenshotDirs(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	if base := os.Getenv("RELAYDESK_ARTIFACTS"); base != "" {
		dir = filepath.Join(base, "admin-screenshots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	dirs := []string{dir}
	if os.Getenv("RELAYDESK_UPDATE_SCREENSHOTS") == "1" {
		dirs = append(dirs, filepath.Join("..", "..", "docs", "screenshots"))
	}
	return dirs
}

// browser drives one Chromium tab against the server.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dirs []string
	// width is the viewport's width; pages must not scroll sideways in it.
	width int

	mu       sync.Mutex
	problems []string // exceptions and console errors of the admin pages
	watch    bool
}

func (br *browser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, 30*time.Second)
	defer cancel()
	require.NoError(br.t, chromedp.Do(ctx, actions...), what)
}

func (br *browser) open(path string) {
	br.t.Helper()
	br.step("open "+path, chromedp.Navigate(br.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// overflowJS lists what sticks out of the viewport on the right (the
// elements that make the page scroll sideways), for the failure message.
const overflowJS = `(() => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > window.innerWidth) {
      let clipped = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const ov = getComputedStyle(p).overflowX;
        if (ov !== "visible" && p.getBoundingClientRect().right <= window.innerWidth + 1) { clipped = true; break; }
      }
      if (!clipped) out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "") + " right=" + Math.round(r.right));
    }
  }
  return out.slice(0, 8).join(", ");
})()`

// checkLayout fails when the page scrolls sideways at the browser's width.
func (br *browser) checkLayout(where string) {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, 30*time.Second)
	defer cancel()
	widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.scrollingElement.scrollWidth, window.innerWidth]`))
	require.NoError(br.t, err)
	require.Equal(br.t, br.width, widths[1], "viewport width")
	if widths[0] > widths[1] {
		culprits, _ := chromedp.Run(ctx, chromedp.Evaluate[string](overflowJS))
		br.t.Errorf("%s scrolls sideways at %d px: %d px wide; sticking out: %s", where, br.width, widths[0], culprits)
	}
}

// contrastJS computes the WCAG contrast ratio of each element's text with
// the background it is drawn on (the nearest ancestor with a colour).
const contrastJS = `(() => {
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const out = {};
  for (const el of document.querySelectorAll(".nav a, .nav-label, .sidebar .who, #logout")) {
    if (!el.getClientRects().length) continue;
    let bg = null;
    for (let p = el; p; p = p.parentElement) {
      const c = rgb(getComputedStyle(p).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) { bg = c; break; }
    }
    bg = bg || [255, 255, 255];
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    out[(el.id || el.className || el.tagName) + ": " + el.textContent.trim()] = Math.round(ratio * 100) / 100;
  }
  return out;
})()`

// checkContrast requires 4.5:1 (WCAG AA) for the menu and "Log out".
func (br *browser) checkContrast() {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, 30*time.Second)
	defer cancel()
	ratios, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](contrastJS))
	require.NoError(br.t, err)
	require.NotEmpty(br.t, ratios)
	require.Contains(br.t, ratios, "logout: Log out")
	for what, r := range ratios {
		require.GreaterOrEqual(br.t, r, 4.5, "contrast of %q at %d px", what, br.width)
	}
}

func (br *browser) text(sel string) string {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(br.t, err, "text of %s", sel)
	return s
}

// waitText waits until the element's text contains want.
func (br *browser) waitText(sel, want string) {
	br.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(br.ctx, 5*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil && strings.Contains(s, want) {
			return
		}
		last = s
		time.Sleep(100 * time.Millisecond)
	}
	br.t.Fatalf("%s never contained %q; last text: %q", sel, want, last)
}

// fill types into a form field (name attribute), replacing its value.
func (br *browser) fill(name, value string) {
	br.t.Helper()
	sel := chromedp.CSS(`[name="` + name + `"]`)
	br.step("fill "+name, chromedp.Click(sel), chromedp.SetValue(sel, value))
}

func (br *browser) click(sel string) {
	br.t.Helper()
	br.step("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// shot saves a full-page screenshot as name.png.
func (br *browser) shot(name string) {
	br.t.Helper()
	if name != "jobs" { // River UI is a third-party app
		br.checkLayout(name)
	}
	if br.width < 600 {
		name += "-mobile"
	}
	ctx, cancel := context.WithTimeout(br.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(br.t, err)
	for _, dir := range br.dirs {
		require.NoError(br.t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
	}
}

// collect records JavaScript exceptions and console errors (a blocked
// inline script or style is one) while watch is on.
func (br *browser) collect() {
	exceptions := chromedp.Events(br.ctx, runtime.ExceptionThrown)
	entries := chromedp.Events(br.ctx, log.EntryAdded)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			br.report("exception: " + ev.ExceptionDetails.Text)
		}
	}()
	go func() {
		for ev, err := range entries {
			if err != nil {
				return
			}
			if ev.Entry.Level == log.EntryLevelError {
				br.report(fmt.Sprintf("console %s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}()
}

func (br *browser) report(p string) {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.watch {
		br.problems = append(br.problems, p)
	}
}

func (br *browser) setWatch(on bool) {
	br.mu.Lock()
	defer br.mu.Unlock()
	br.watch = on
}

// TestAdminInABrowser drives the admin page in headless Chromium against a
// real server (real PostgreSQL, fake Graph API, fake Zendesk): log in, add
// a number, connect a helpdesk with an API token, create a route, run a
// test event on the webhooks page and find it among the recent deliveries,
// look at a conversation and retry its failed reply, open River UI, log out.
// It saves a screenshot of each main page.
func TestAdminInABrowser(t *testing.T) {
	t.Parallel()
	for _, width := range []int{1366, 390} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			t.Parallel()
			adminInABrowser(t, width)
		})
	}
}

// adminInABrowser runs the flows at one viewport width; at every page
// shown, nothing may scroll sideways.
func adminInABrowser(t *testing.T, width int) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("\n" + strings.Repeat("!", 78) + "\n!!! SKIPPED: the admin browser test needs Chromium, and none was found\n" +
			"!!! (looked for $RELAYDESK_CHROMIUM, /usr/bin/chromium, chromium on PATH).\n" +
			"!!! Install it with `apt-get install -y chromium` (.ci/run does) to run it.\n" + strings.Repeat("!", 78))
	}

	b := setupAdmin(t, adminOpts{})
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)
	zd := zendesktest.New(t)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	// The first action starts the browser; its context must outlive the test.
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	watchdog := time.AfterFunc(4*time.Minute, cancelTab)
	t.Cleanup(func() { watchdog.Stop() })

	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), 900)), "viewport")
	br := &browser{t: t, ctx: ctx, base: srv.URL, dirs: screenshotDirs(t), width: width}
	br.collect()
	br.setWatch(true)

	// Log in.
	br.open("/admin/login")
	br.shot("login")
	br.fill("email", admEmail)
	br.fill("password", admPassword)
	br.click(`button[type="submit"]`)
	br.waitText("h1", "WhatsApp numbers")
	require.Contains(t, br.text(".sidebar"), admEmail)
	br.checkContrast()

	// Add a number and test its connection to (fake) Graph.
	br.click(`a[href="/admin/numbers/new"]`)
	br.waitText("h1", "Add a WhatsApp number")
	form := b.numberForm("support-us", whatsapptest.FixturePhoneNumberID)
	for _, k := range []string{"name", "display_phone_number", "phone_number_id", "waba_id", "access_token", "app_secret",
		"graph_url", "graph_version"} {
		br.fill(k, form.Get(k))
	}
	br.click("#save")
	br.waitText(".flash", "Number support-us added.")
	br.click("#test-number")
	br.waitText(".flash", "Connection works")
	// Meta's webhook settings where the number is set up, with the warning
	// that a local http:// address cannot be Meta's callback.
	require.Contains(t, br.text("#cb-url"), srv.URL+"/webhooks/whatsapp")
	require.NotEmpty(t, br.text("#vt-token"))
	require.Contains(t, br.text("#https-warning"), "Meta cannot call this address.")
	br.shot("number")
	// Test connection tests what is typed, without saving it.
	br.fill("access_token", "a-token-typed-but-wrong")
	br.click("#test-number")
	br.waitText(".flash", "WhatsApp refused the access token")
	require.Contains(t, br.text(".flash"), "nothing is saved until you press Save")
	br.open("/admin/numbers")
	br.waitText("tbody", "support-us")
	br.shot("numbers")

	// Connect the (fake) Zendesk with an API token: the form comes from the
	// connector's description.
	br.open("/admin/helpdesks/new")
	br.shot("helpdesk-kinds")
	br.click("#kind-zendesk")
	br.waitText("h1", "Connect Zendesk")
	cfg := zd.Config()
	br.fill("name", "zendesk-main")
	br.step("choose API token", chromedp.SetValue(chromedp.CSS(`select[name="settings.auth_method"]`), "api_token"))
	br.fill("settings.subdomain", zendesktest.Subdomain)
	br.fill("credentials.email", cfg.Credentials["email"])
	br.fill("credentials.api_token", cfg.Credentials["api_token"])
	br.click("details.advanced summary")
	br.fill("base_url", cfg.BaseURL)
	br.click("#save")
	br.waitText(".flash", "relaydesk installed its webhook in Zendesk.")
	require.Len(t, zd.Webhooks(), 1)
	br.shot("helpdesk")
	br.open("/admin/helpdesks")
	br.waitText("tbody", "zendesk-main")
	br.shot("helpdesks")

	// Connect a second Zendesk with OAuth against a fake provider: Connect
	// opens its sign-in (the form-action policy must not block it), Allow
	// comes back, relaydesk exchanges the code with the PKCE verifier.
	provider := newBrowserOAuth(t, zd, srv.URL+"/admin/oauth/callback")
	br.open("/admin/helpdesks/new?kind=zendesk")
	br.fill("name", "zendesk-oauth")
	br.step("choose OAuth", chromedp.SetValue(chromedp.CSS(`select[name="settings.auth_method"]`), "oauth2"))
	br.fill("settings.subdomain", zendesktest.Subdomain)
	br.fill("settings.client_id", "relaydesk-browser")
	br.fill("credentials.client_secret", "browser-secret")
	br.click("details.advanced summary")
	br.fill("base_url", provider.URL)
	br.click("#save")
	br.waitText(".flash", "Connect with Zendesk")
	br.click("#oauth-connect")
	br.waitText("h1", "Allow relaydesk?")
	br.click("#allow")
	br.waitText(".flash", "Connected to Zendesk.")
	oauthConn, err := b.store.ConnectionByName(context.Background(), "zendesk-oauth")
	require.NoError(t, err)
	require.True(t, oauthConn.HasOAuthToken())
	br.shot("helpdesk-oauth")

	// Route the number to the helpdesk.
	br.open("/admin/routes/new")
	br.waitText("h1", "Add a route")
	br.fill("tags", "whatsapp, vip")
	br.fill("template_name", "hello_world")
	br.fill("template_language", "en_US")
	br.click("#save")
	br.waitText(".flash", "Route added.")
	br.waitText("tbody", "zendesk-main")
	br.shot("routes")

	// Webhooks: run the test event through the real intake, see it listed.
	br.open("/admin/webhooks")
	acc, err := b.store.AccountByName(context.Background(), "support-us")
	require.NoError(t, err)
	br.click("#test-event-" + strconv.FormatInt(int64(acc.ID), 10))
	br.waitText(".flash", "Test event for support-us accepted")
	require.Contains(t, br.text(".flash"), "no ticket was opened")
	br.waitText("#deliveries", "test")
	require.Contains(t, br.text("#deliveries"), "Duplicate")
	br.shot("webhooks")

	// Conversations: a customer wrote, an agent's reply failed; retry it.
	convID, replyID := b.seedConversation(t, form.Get("app_secret"), "16505551234", "Kerry Fisher", "Hi! Where is my order #4521?")
	br.open("/admin/conversations")
	br.waitText("tbody", "Kerry Fisher")
	br.shot("conversations")
	br.open("/admin/conversations/" + strconv.FormatInt(convID, 10))
	br.waitText(".timeline", "Where is my order")
	require.Contains(t, br.text("#msg-"+strconv.FormatInt(replyID, 10)), "Not delivered", "no green Done beside WhatsApp: failed")
	br.shot("conversation")
	br.click("#retry-" + strconv.FormatInt(replyID, 10))
	br.waitText(".flash", "Message queued again.")
	require.Equal(t, 1, b.count(t, "SELECT count(*) FROM messages WHERE id = $1 AND state = 'pending'", replyID))

	// An application asks for access (the authorization code flow with
	// PKCE); the admin approves on the consent page and the browser goes
	// back to the application with the code; then a second request is
	// denied and goes back with access_denied.
	app := newFakeApp(t)
	client, _, err := b.store.CreateAPIClient(context.Background(), store.NewAPIClient{Name: "CRM",
		RedirectURIs: []string{app.URL + "/callback"}, Scopes: []string{apiauth.ScopeChatsRead},
		GrantTypes: []string{apiauth.GrantAuthorizationCode}, RateLimit: 600}, store.Actor{Name: "test"})
	require.NoError(t, err)
	for _, decision := range []string{"approve", "deny"} {
		verifier := oauth2.GenerateVerifier()
		conf := &oauth2.Config{ClientID: client.ClientID, RedirectURL: app.URL + "/callback", Scopes: []string{apiauth.ScopeChatsRead},
			Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/oauth/authorize"}}
		br.step("start authorization", chromedp.Navigate(conf.AuthCodeURL("state-"+decision, oauth2.S256ChallengeOption(verifier))))
		br.waitText("#"+decision, "")
		if decision == "approve" {
			br.shot("consent")
		}
		br.click("#" + decision)
		br.waitText("h1", "CRM got its answer")
		back := app.answer()
		require.Equal(t, "state-"+decision, back.Get("state"))
		require.Equal(t, srv.URL, back.Get("iss"))
		if decision == "approve" {
			require.True(t, strings.HasPrefix(back.Get("code"), apiauth.PrefixCode), "%v", back)
		} else {
			require.Equal(t, "access_denied", back.Get("error"))
		}
	}

	br.open("/admin/audit")
	br.waitText("tbody", "route.create")
	br.shot("audit")

	// River UI is a third-party app with its own scripts: watched apart.
	br.setWatch(false)
	br.open("/admin/jobs/jobs?state=available")
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := chromedp.Run(br.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#root *").length`))
		if err == nil && n > 20 {
			break
		}
		require.True(t, time.Now().Before(deadline), "River UI did not render")
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second) // let its first API calls land
	br.shot("jobs")

	// Log out.
	br.setWatch(true)
	br.open("/admin/numbers")
	br.click("#logout")
	br.waitText(".flash", "You are logged out.")
	br.open("/admin/numbers")
	br.waitText("h1", "Log in")

	br.mu.Lock()
	defer br.mu.Unlock()
	require.Empty(t, br.problems, "the admin pages logged errors (a CSP violation is one)")
}
