//! A headless Chromium for tests, driven by `chromedriver` over the W3C WebDriver protocol
//! through the [`fantoccini`] crate. This module keeps what the tests need in one place: the
//! driver process, waits that fail with a useful message, screenshots, axe-core, typed keys,
//! and Chromium's DevTools commands (`goog/cdp/execute`, as a custom fantoccini command).
//!
//! ```ignore
//! let browser = Browser::start().await;                      // Browser::start_without_js() too
//! browser.goto(&app.url("/")).await;
//! browser.keys("/").await;                                   // to whatever has the focus
//! browser.active().await.send_keys("wachtwoord").await;      // to one element
//! let item = browser.wait_for(".search-suggest-item", WAIT).await;
//! browser.quit().await;                                      // or just drop it
//! ```
//!
//! The driver is `CHROMEDRIVER` (scripts/test.sh sets it), else `chromedriver` on the `PATH`;
//! the browser is `CHROME`, else `/usr/bin/chromium`. Without a driver the test fails and says
//! how to get one; `SKIP_BROWSER_TESTS=1` skips browser tests knowingly (see [`skip`]).
//! The driver runs on a free loopback port in a process group of its own, and dropping the
//! [`Browser`] (also when a test panics) ends the session and kills that group, so no driver or
//! browser outlives the test.

use std::future::Future;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::error::{CmdError, NewSessionError};
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// How long waits last unless a test says otherwise.
pub const WAIT: Duration = Duration::from_secs(5);

/// The key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Special keys, for [`Browser::keys`], [`Browser::chord`] and [`Element::send_keys`] (the
/// WebDriver code points, as `fantoccini::key::Key` has them).
pub mod keys {
    pub const BACKSPACE: &str = "\u{E003}";
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const SHIFT: &str = "\u{E008}";
    pub const CONTROL: &str = "\u{E009}";
    pub const ALT: &str = "\u{E00A}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const ARROW_LEFT: &str = "\u{E012}";
    pub const ARROW_UP: &str = "\u{E013}";
    pub const ARROW_RIGHT: &str = "\u{E014}";
    pub const ARROW_DOWN: &str = "\u{E015}";
}

/// `true` (after saying so) when browser tests are to be skipped: `SKIP_BROWSER_TESTS` is set.
pub fn skip() -> bool {
    if std::env::var_os("SKIP_BROWSER_TESTS").is_some() {
        eprintln!("browser test skipped by SKIP_BROWSER_TESTS");
        return true;
    }
    false
}

/// An error the driver answered with (`no such element`, `javascript error`, ...), or the
/// client's own (`client`: the driver could not be reached, a malformed answer).
#[derive(Debug, Clone)]
pub struct DriverError {
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

impl From<CmdError> for DriverError {
    fn from(e: CmdError) -> Self {
        match e {
            CmdError::Standard(w) => DriverError { error: w.error(), message: w.message.into_owned() },
            other => DriverError { error: "client".into(), message: other.to_string() },
        }
    }
}

/// Any WebDriver command fantoccini has no method for: `method` on `path` under the session
/// (`/goog/cdp/execute`, `/alert/text`, `/element/{id}/property/{name}`, ...).
#[derive(Debug)]
struct SessionCommand {
    method: reqwest::Method,
    path: String,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}{}", self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        let body = match (&self.body, &self.method) {
            (Some(b), _) => Some(b.to_string()),
            // chromedriver wants a JSON body with every POST.
            (None, &reqwest::Method::POST) => Some("{}".to_owned()),
            (None, _) => None,
        };
        (self.method.clone(), body)
    }
}

/// One browser session and the driver process behind it.
pub struct Browser {
    client: Client,
    /// `http://127.0.0.1:<port>/session/<id>`, for ending the session without a runtime.
    session: String,
    driver: Option<Child>,
    scripts: bool,
    /// The driver's log (`chromedriver --log-path`), shown when it fails to start.
    _logs: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser").field("session", &self.session).field("scripts", &self.scripts).finish()
    }
}

/// An element of the current page.
#[derive(Debug, Clone)]
pub struct Element<'b> {
    browser: &'b Browser,
    inner: fantoccini::elements::Element,
    pub id: String,
}

impl PartialEq for Element<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

fn chromedriver() -> PathBuf {
    if let Some(p) = std::env::var_os("CHROMEDRIVER").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "CHROMEDRIVER={} does not exist", p.display());
        return p;
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("chromedriver"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "chromedriver not found: run scripts/test.sh (it installs chromium and chromium-driver), or set \
                 CHROMEDRIVER (and CHROME) to their paths; SKIP_BROWSER_TESTS=1 skips the browser tests"
            )
        })
}

fn chrome() -> PathBuf {
    let p =
        std::env::var_os("CHROME").filter(|p| !p.is_empty()).map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from);
    assert!(p.is_file(), "no browser at {}: install chromium, or set CHROME to its path", p.display());
    p
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// What the session asks of chromedriver: a headless Chromium 1280×900, asking for Dutch, and
/// with `scripts: false` one that runs no JavaScript of any page (Chromium's content setting,
/// as a person who switched it off has it; the driver's own commands still work).
fn capabilities(chrome: &Path, scripts: bool) -> Capabilities {
    let mut options = json!({
        "binary": chrome.to_string_lossy(),
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=nl",
        ],
    });
    if !scripts {
        options["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
    }
    let caps = json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": {"implicit": 0, "pageLoad": 30_000, "script": 30_000},
        "goog:chromeOptions": options,
    });
    match caps {
        Value::Object(map) => map,
        _ => unreachable!("an object"),
    }
}

impl Browser {
    /// Starts the driver and opens a session of a headless Chromium (1280×900).
    pub async fn start() -> Browser {
        Self::launch(true).await
    }

    /// Like [`Browser::start`], with JavaScript switched off for every page (the way a person
    /// does in the browser's settings). Checked before it is handed out: an inline script on a
    /// test page must not run.
    pub async fn start_without_js() -> Browser {
        let browser = Self::launch(false).await;
        assert!(!browser.runs_scripts().await, "JavaScript is still on in the browser started without it");
        browser
    }

    /// Whether pages run their scripts: opens a page whose inline script changes its title.
    /// (It leaves that page open.)
    pub async fn runs_scripts(&self) -> bool {
        self.goto("data:text/html,<title>off</title><script>document.title='on'</script>").await;
        match self.title().await.as_str() {
            "on" => true,
            "off" => false,
            other => panic!("unexpected title of the script test page: {other:?}"),
        }
    }

    /// Whether this browser was started with JavaScript on.
    pub fn scripts_enabled(&self) -> bool {
        self.scripts
    }

    /// The fantoccini client, for anything this module has no method for.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn launch(scripts: bool) -> Browser {
        let driver_path = chromedriver();
        let caps = capabilities(&chrome(), scripts);
        // A port is free when asked for and, rarely, taken by someone else a moment later: retry.
        let mut last_error = String::new();
        for _ in 0..3 {
            let logs = tempfile::tempdir().expect("tempdir");
            let log = logs.path().join("chromedriver.log");
            let port = free_port();
            let mut child = spawn_driver(&driver_path, port, &log);
            let base = format!("http://127.0.0.1:{port}");
            match connect(&mut child, &base, &caps).await {
                Ok(client) => {
                    let id = client.session_id().await.ok().flatten().unwrap_or_default();
                    return Browser {
                        client,
                        session: format!("{base}/session/{id}"),
                        driver: Some(child),
                        scripts,
                        _logs: logs,
                    };
                }
                Err(e) => {
                    kill_group(&mut child);
                    last_error = format!("{e}\n--- {} ---\n{}", log.display(), tail(&log));
                }
            }
        }
        panic!("chromedriver did not start: {last_error}")
    }

    /// One WebDriver command: `method` on `path` under the session, with `body` for POSTs.
    pub async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, DriverError> {
        let cmd = SessionCommand { method: method.clone(), path: path.to_owned(), body };
        self.client.issue_cmd(cmd).await.map_err(|e| {
            let mut e = DriverError::from(e);
            e.message = format!("{method} {path}: {}", e.message);
            e
        })
    }

    /// A command of Chromium's DevTools protocol (`Emulation.setDeviceMetricsOverride`, ...).
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.command(reqwest::Method::POST, "/goog/cdp/execute", Some(json!({ "cmd": cmd, "params": params })))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// The address of the current page.
    pub async fn url(&self) -> String {
        self.client.current_url().await.map(String::from).unwrap_or_else(|e| panic!("current url: {e}"))
    }

    /// The path (with query and fragment) of the current page.
    pub async fn path(&self) -> String {
        let url = self.url().await;
        match url.find("://").and_then(|i| url[i + 3..].find('/').map(|j| i + 3 + j)) {
            Some(at) => url[at..].to_owned(),
            None => url,
        }
    }

    pub async fn title(&self) -> String {
        self.client.title().await.unwrap_or_else(|e| panic!("title: {e}"))
    }

    /// The whole current document as HTML (for failure messages).
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap_or_else(|e| panic!("source: {e}"))
    }

    /// The first element matching the CSS selector, if any.
    pub async fn try_find(&self, css: &str) -> Option<Element<'_>> {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => Some(self.element(e)),
            Err(e) if e.is_no_such_element() => None,
            Err(e) => panic!("find `{css}`: {e}"),
        }
    }

    /// The first element matching the CSS selector; fails the test when there is none.
    pub async fn find(&self, css: &str) -> Element<'_> {
        match self.try_find(css).await {
            Some(e) => e,
            None => panic!("no element matches `{css}` on {}", self.url().await),
        }
    }

    /// Every element matching the CSS selector, in document order.
    pub async fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self.client.find_all(Locator::Css(css)).await.unwrap_or_else(|e| panic!("find `{css}`: {e}"));
        found.into_iter().map(|e| self.element(e)).collect()
    }

    /// The element that has the focus (the body when nothing has).
    pub async fn active(&self) -> Element<'_> {
        let e = self.client.active_element().await.unwrap_or_else(|e| panic!("active element: {e}"));
        self.element(e)
    }

    fn element(&self, inner: fantoccini::elements::Element) -> Element<'_> {
        let id = inner.element_id().to_string();
        Element { browser: self, inner, id }
    }

    /// Runs `script` (a function body: `return ...;`, arguments in `arguments`) in the page.
    /// Elements are passed as `element.json()`.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script: {e}"))
    }

    /// Logs in through the login form at `login_url` as someone else than before (the cookies
    /// of the earlier login are dropped first), and waits until the login page is left.
    pub async fn log_in(&self, login_url: &str, email: &str, password: &str) {
        self.clear_cookies().await;
        self.goto(login_url).await;
        self.find("#email").await.send_keys(email).await;
        self.find("#password").await.send_keys(password).await;
        self.find("form.form button[type=submit]").await.click().await;
        self.wait_until("the login to finish", WAIT, || async { !self.path().await.starts_with("/login") }).await;
    }

    /// Forgets every cookie of the current site (logs out without a form).
    pub async fn clear_cookies(&self) {
        self.client.delete_all_cookies().await.unwrap_or_else(|e| panic!("delete cookies: {e}"));
    }

    /// Emulates a device `width` × `height` CSS pixels wide (a phone when `mobile`: the page's
    /// viewport meta tag applies, touch events), through Chromium's DevTools protocol.
    pub async fn emulate(&self, width: u32, height: u32, mobile: bool) {
        let params = json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile });
        self.cdp("Emulation.setDeviceMetricsOverride", params).await;
        self.cdp("Emulation.setTouchEmulationEnabled", json!({ "enabled": mobile })).await;
    }

    /// Saves a PNG of the viewport as `target/screenshots/<name>.png` (for a person to look at;
    /// `name` may have folders: `journeys/visitor-01-home`).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("screenshot: {e}"));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "the screenshot is a PNG");
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots").join(format!("{name}.png"));
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("screenshot dir");
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Runs axe-core (the accessibility rules of WCAG 2.0, 2.1 and 2.2, A and AA) on the current page and
    /// returns its violations, each as `rule id: help (selectors of the offending elements)`.
    /// The script is `AXE_JS` (scripts/test.sh installs axe-core with npm), else
    /// `.npm/node_modules/axe-core/axe.min.js` in the repository.
    pub async fn axe_violations(&self) -> Vec<String> {
        let path = std::env::var("AXE_JS")
            .map(PathBuf::from)
            .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.npm/node_modules/axe-core/axe.min.js"));
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("axe-core at {}: {e} (run scripts/test.sh once, or set AXE_JS)", path.display())
        });
        self.execute(&format!("{source}\nreturn true;"), vec![]).await;
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'] } })
              .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' (' +
                 v.nodes.map(n => n.target.join(' ')).join(', ') + ')')))
              .catch(e => done(['axe failed: ' + e]));";
        let v = self.client.execute_async(script, vec![]).await.unwrap_or_else(|e| panic!("axe: {e}"));
        v.as_array().into_iter().flatten().map(|x| x.as_str().unwrap_or_default().to_owned()).collect()
    }

    /// Types `text` to whatever has the focus, key by key (special keys from [`keys`]), as a
    /// person would: each key goes down and up before the next.
    pub async fn keys(&self, text: &str) {
        let mut actions = KeyActions::new("keyboard".into());
        for value in text.chars() {
            actions = actions.then(KeyAction::Down { value }).then(KeyAction::Up { value });
        }
        self.key_actions(actions).await;
    }

    /// Presses `keys` together and lets go in reverse order: `chord(&[keys::CONTROL, "k"])`.
    pub async fn chord(&self, keys: &[&str]) {
        let values: Vec<char> = keys.iter().flat_map(|k| k.chars()).collect();
        let mut actions = KeyActions::new("keyboard".into());
        for &value in &values {
            actions = actions.then(KeyAction::Down { value });
        }
        for &value in values.iter().rev() {
            actions = actions.then(KeyAction::Up { value });
        }
        self.key_actions(actions).await;
    }

    async fn key_actions(&self, actions: KeyActions) {
        self.client.perform_actions(actions).await.unwrap_or_else(|e| panic!("keys: {e}"));
        self.client.release_actions().await.unwrap_or_else(|e| panic!("release keys: {e}"));
    }

    /// Waits until `check` is true, polling every 25 ms; fails the test after `timeout`, naming
    /// `what` was awaited.
    pub async fn wait_until<F, Fut>(&self, what: &str, timeout: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let start = Instant::now();
        while !check().await {
            if start.elapsed() > timeout {
                panic!("waited {timeout:?} for {what}; on {}", self.url().await);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits for an element matching `css` that is displayed, and returns it.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element<'_> {
        let start = Instant::now();
        loop {
            for e in self.find_all(css).await {
                if e.try_displayed().await == Some(true) {
                    return e;
                }
            }
            if start.elapsed() > timeout {
                panic!("waited {timeout:?} for a visible `{css}` on {}", self.url().await);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until the current page's path (with query) starts with `path`.
    pub async fn wait_for_path(&self, path: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let now = self.path().await;
            if now.starts_with(path) {
                return now;
            }
            if start.elapsed() > timeout {
                panic!("waited {timeout:?} to be on {path}; still on {now}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Ends the session (the driver closes the browser) and stops the driver.
    pub async fn quit(mut self) {
        if !self.session.is_empty() {
            let _ = self.client.clone().close().await;
            self.session.clear();
        }
        if let Some(mut child) = self.driver.take() {
            kill_group(&mut child);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            // Not async here (a test that panicked, or no `quit`): a plain blocking DELETE, so the
            // driver closes the browser itself.
            let _ = delete_blocking(&self.session);
        }
        if let Some(mut child) = self.driver.take() {
            kill_group(&mut child);
        }
    }
}

/// Waits (up to 10 s) for the driver at `base` to listen, then opens the session.
async fn connect(child: &mut Child, base: &str, caps: &Capabilities) -> Result<Client, String> {
    let start = Instant::now();
    let mut builder = ClientBuilder::new(HttpConnector::new());
    builder.capabilities(caps.clone());
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("chromedriver exited with {status}"));
        }
        match builder.connect(base).await {
            Ok(client) => return Ok(client),
            // Not listening yet: try again.
            Err(NewSessionError::Failed(_) | NewSessionError::FailedC(_) | NewSessionError::Lost(_))
                if start.elapsed() < Duration::from_secs(10) =>
            {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Err(e) => return Err(format!("no session: {e}")),
        }
    }
}

/// Kills the driver's process group: that takes any browser it left behind too.
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).stderr(Stdio::null()).status();
    let _ = child.kill();
    let _ = child.wait();
}

/// `DELETE <url>` without an async runtime.
fn delete_blocking(url: &str) -> std::io::Result<()> {
    let rest = url.strip_prefix("http://").ok_or_else(|| std::io::Error::other("not http"))?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = std::net::TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "DELETE {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    Ok(())
}

fn spawn_driver(path: &Path, port: u16, log: &Path) -> Child {
    use std::os::unix::process::CommandExt as _;
    Command::new(path)
        .arg(format!("--port={port}"))
        .arg(format!("--log-path={}", log.display()))
        .arg("--allowed-ips=127.0.0.1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()))
}

/// The last lines of a log file.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

impl<'b> Element<'b> {
    /// The element as a script argument for [`Browser::execute`].
    pub fn json(&self) -> Value {
        json!({ ELEMENT: self.id })
    }

    /// The fantoccini element, for anything this module has no method for.
    pub fn inner(&self) -> &fantoccini::elements::Element {
        &self.inner
    }

    pub async fn click(&self) {
        self.inner.click().await.unwrap_or_else(|e| panic!("click: {e}"));
    }

    /// Types `text` into the element (focusing it first).
    pub async fn send_keys(&self, text: &str) {
        self.inner.send_keys(text).await.unwrap_or_else(|e| panic!("send keys: {e}"));
    }

    pub async fn clear(&self) {
        self.inner.clear().await.unwrap_or_else(|e| panic!("clear: {e}"));
    }

    /// The rendered text, as a reader sees it.
    pub async fn text(&self) -> String {
        self.inner.text().await.unwrap_or_else(|e| panic!("text: {e}"))
    }

    /// The value of an HTML attribute.
    pub async fn attr(&self, name: &str) -> Option<String> {
        self.inner.attr(name).await.unwrap_or_else(|e| panic!("attribute {name}: {e}"))
    }

    /// A DOM property (`value`, `innerHTML`, `hidden`, ...), as the JSON the driver gives.
    pub async fn prop(&self, name: &str) -> Value {
        let path = format!("/element/{}/property/{name}", self.id);
        self.browser.command(reqwest::Method::GET, &path, None).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// The element's HTML, itself included.
    pub async fn html(&self) -> String {
        self.inner.html(false).await.unwrap_or_else(|e| panic!("html: {e}"))
    }

    pub async fn is_displayed(&self) -> bool {
        self.try_displayed().await.unwrap_or(false)
    }

    /// `None` when the element is gone from the page.
    async fn try_displayed(&self) -> Option<bool> {
        self.inner.is_displayed().await.ok()
    }

    /// The first element inside this one matching `css`.
    pub async fn find(&self, css: &str) -> Element<'b> {
        let e = self.inner.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("find `{css}` inside: {e}"));
        self.browser.element(e)
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element<'b>> {
        let found = self.inner.find_all(Locator::Css(css)).await.unwrap_or_else(|e| panic!("find `{css}` inside: {e}"));
        found.into_iter().map(|e| self.browser.element(e)).collect()
    }
}
