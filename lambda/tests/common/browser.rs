//! A headless Chromium for tests, driven by `chromedriver` over the W3C WebDriver protocol
//! (plain JSON over HTTP, a handful of endpoints, spoken here with reqwest).
//!
//! ```ignore
//! let browser = Browser::start().await;
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

use serde_json::{Value, json};

/// How long waits last unless a test says otherwise.
pub const WAIT: Duration = Duration::from_secs(5);

/// The key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Special keys, for [`Browser::keys`], [`Browser::chord`] and [`Element::send_keys`].
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

/// An error the driver answered with (`no such element`, `javascript error`, ...).
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

/// One browser session and the driver process behind it.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`
    session: String,
    driver: Option<Child>,
    /// The driver's log (`chromedriver --log-path`), shown when it fails to start.
    _logs: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser").field("session", &self.session).finish()
    }
}

/// An element of the current page.
#[derive(Debug, Clone)]
pub struct Element<'b> {
    browser: &'b Browser,
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

impl Browser {
    /// Starts the driver and opens a session of a headless Chromium (1280×900).
    pub async fn start() -> Browser {
        let driver_path = chromedriver();
        let chrome = chrome();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
        // A port is free when asked for and, rarely, taken by someone else a moment later: retry.
        let mut last_error = String::new();
        for _ in 0..3 {
            let logs = tempfile::tempdir().expect("tempdir");
            let log = logs.path().join("chromedriver.log");
            let port = free_port();
            let child = spawn_driver(&driver_path, port, &log);
            let mut browser = Browser { http: http.clone(), session: String::new(), driver: Some(child), _logs: logs };
            match browser.connect(&format!("http://127.0.0.1:{port}"), &chrome).await {
                Ok(()) => return browser,
                // Dropping the browser stops the driver.
                Err(e) => last_error = format!("{e}\n--- {} ---\n{}", log.display(), tail(&log)),
            }
        }
        panic!("chromedriver did not start: {last_error}")
    }

    /// Waits for the driver to be ready, then opens the session.
    async fn connect(&mut self, base: &str, chrome: &Path) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Some(child) = self.driver.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("chromedriver exited with {status}"));
            }
            let ready = self.http.get(format!("{base}/status")).send().await;
            if let Ok(r) = ready
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                break;
            }
            if start.elapsed() > Duration::from_secs(10) {
                return Err("chromedriver was not ready within 10 s".into());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"implicit": 0, "pageLoad": 30_000, "script": 30_000},
            "goog:chromeOptions": {
                "binary": chrome.to_string_lossy(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=nl",
                ],
            },
        }}});
        let resp = self.http.post(format!("{base}/session")).json(&caps).send().await.map_err(|e| e.to_string())?;
        let v: Value = resp.json().await.map_err(|e| e.to_string())?;
        let id = v["value"]["sessionId"].as_str().ok_or_else(|| format!("no session: {v}"))?;
        self.session = format!("{base}/session/{id}");
        Ok(())
    }

    /// One WebDriver command: `method` on `path` under the session, with `body` for POSTs.
    pub async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, DriverError> {
        let url = format!("{}{path}", self.session);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| DriverError { error: "http".into(), message: e.to_string() })?;
        let ok = resp.status().is_success();
        let v: Value =
            resp.json().await.map_err(|e| DriverError { error: "bad answer".into(), message: e.to_string() })?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if ok {
            Ok(value)
        } else {
            Err(DriverError {
                error: value["error"].as_str().unwrap_or("unknown error").to_owned(),
                message: format!("{method} {path}: {}", value["message"].as_str().unwrap_or_default()),
            })
        }
    }

    async fn get(&self, path: &str) -> Value {
        self.command(reqwest::Method::GET, path, None).await.unwrap_or_else(|e| panic!("{e}"))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The address of the current page.
    pub async fn url(&self) -> String {
        self.get("/url").await.as_str().unwrap_or_default().to_owned()
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
        self.get("/title").await.as_str().unwrap_or_default().to_owned()
    }

    /// The whole current document as HTML (for failure messages).
    pub async fn source(&self) -> String {
        self.get("/source").await.as_str().unwrap_or_default().to_owned()
    }

    /// The first element matching the CSS selector, if any.
    pub async fn try_find(&self, css: &str) -> Option<Element<'_>> {
        let found =
            self.command(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        match found {
            Ok(v) => Some(self.element(&v)),
            Err(e) if e.error == "no such element" => None,
            Err(e) => panic!("{e}"),
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
        let v = self.post("/elements", json!({"using": "css selector", "value": css})).await;
        v.as_array().into_iter().flatten().map(|e| self.element(e)).collect()
    }

    /// The element that has the focus (the body when nothing has).
    pub async fn active(&self) -> Element<'_> {
        let v = self.get("/element/active").await;
        self.element(&v)
    }

    fn element(&self, v: &Value) -> Element<'_> {
        let id = v[ELEMENT].as_str().unwrap_or_else(|| panic!("not an element: {v}")).to_owned();
        Element { browser: self, id }
    }

    /// Runs `script` (a function body: `return ...;`, arguments in `arguments`) in the page.
    /// Elements are passed as `element.json()`.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args })).await
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
        self.command(reqwest::Method::DELETE, "/cookie", None).await.unwrap_or_else(|e| panic!("{e}"));
    }

    /// Emulates a device `width` × `height` CSS pixels wide (a phone when `mobile`: the page's
    /// viewport meta tag applies, touch events), through Chromium's DevTools protocol.
    pub async fn emulate(&self, width: u32, height: u32, mobile: bool) {
        let params = json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile });
        self.post("/goog/cdp/execute", json!({ "cmd": "Emulation.setDeviceMetricsOverride", "params": params })).await;
        self.post(
            "/goog/cdp/execute",
            json!({ "cmd": "Emulation.setTouchEmulationEnabled", "params": { "enabled": mobile } }),
        )
        .await;
    }

    /// Saves a PNG of the viewport as `target/screenshots/<name>.png` (for a person to look at).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine as _;
        let v = self.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or_default()).expect("base64 PNG");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
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
        let v = self.post("/execute/async", json!({ "script": script, "args": [] })).await;
        v.as_array().into_iter().flatten().map(|x| x.as_str().unwrap_or_default().to_owned()).collect()
    }

    /// Types `text` to whatever has the focus, key by key (special keys from [`keys`]), as a
    /// person would: each key goes down and up before the next.
    pub async fn keys(&self, text: &str) {
        let mut actions = Vec::new();
        for c in text.chars() {
            let k = c.to_string();
            actions.push(json!({"type": "keyDown", "value": k}));
            actions.push(json!({"type": "keyUp", "value": k}));
        }
        self.key_actions(actions).await;
    }

    /// Presses `keys` together and lets go in reverse order: `chord(&[keys::CONTROL, "k"])`.
    pub async fn chord(&self, keys: &[&str]) {
        let mut actions: Vec<Value> = keys.iter().map(|k| json!({"type": "keyDown", "value": k})).collect();
        actions.extend(keys.iter().rev().map(|k| json!({"type": "keyUp", "value": k})));
        self.key_actions(actions).await;
    }

    async fn key_actions(&self, actions: Vec<Value>) {
        self.post("/actions", json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})).await;
        self.command(reqwest::Method::DELETE, "/actions", None).await.unwrap_or_else(|e| panic!("{e}"));
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
            let _ = self.command(reqwest::Method::DELETE, "", None).await;
            self.session.clear();
        }
        self.kill_driver();
    }

    fn kill_driver(&mut self) {
        if let Some(mut child) = self.driver.take() {
            // The driver leads its own process group: that takes any browser it left behind too.
            let _ =
                Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).stderr(Stdio::null()).status();
            let _ = child.kill();
            let _ = child.wait();
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
        self.kill_driver();
    }
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
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    /// The element as a script argument for [`Browser::execute`].
    pub fn json(&self) -> Value {
        json!({ ELEMENT: self.id })
    }

    pub async fn click(&self) {
        self.browser.post(&self.path("/click"), json!({})).await;
    }

    /// Types `text` into the element (focusing it first).
    pub async fn send_keys(&self, text: &str) {
        self.browser.post(&self.path("/value"), json!({ "text": text })).await;
    }

    pub async fn clear(&self) {
        self.browser.post(&self.path("/clear"), json!({})).await;
    }

    /// The rendered text, as a reader sees it.
    pub async fn text(&self) -> String {
        self.browser.get(&self.path("/text")).await.as_str().unwrap_or_default().to_owned()
    }

    /// The value of an HTML attribute.
    pub async fn attr(&self, name: &str) -> Option<String> {
        self.browser.get(&self.path(&format!("/attribute/{name}"))).await.as_str().map(str::to_owned)
    }

    /// A DOM property (`value`, `innerHTML`, `hidden`, ...).
    pub async fn prop(&self, name: &str) -> Value {
        self.browser.get(&self.path(&format!("/property/{name}"))).await
    }

    /// The element's HTML, itself included.
    pub async fn html(&self) -> String {
        self.prop("outerHTML").await.as_str().unwrap_or_default().to_owned()
    }

    pub async fn is_displayed(&self) -> bool {
        self.try_displayed().await.unwrap_or(false)
    }

    /// `None` when the element is gone from the page.
    async fn try_displayed(&self) -> Option<bool> {
        self.browser.command(reqwest::Method::GET, &self.path("/displayed"), None).await.ok()?.as_bool()
    }

    /// The first element inside this one matching `css`.
    pub async fn find(&self, css: &str) -> Element<'b> {
        let v = self.browser.post(&self.path("/element"), json!({"using": "css selector", "value": css})).await;
        self.browser.element(&v)
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element<'b>> {
        let v = self.browser.post(&self.path("/elements"), json!({"using": "css selector", "value": css})).await;
        v.as_array().into_iter().flatten().map(|e| self.browser.element(e)).collect()
    }
}
