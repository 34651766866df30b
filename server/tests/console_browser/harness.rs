//! The console's real-browser harness: a real `finlock serve` on 127.0.0.1, Debian's
//! `chromedriver` on a free loopback port, and a headless Chromium driven through WebDriver
//! (fantoccini).
//!
//! Use from a test:
//!
//! ```ignore
//! #[tokio::test]
//! async fn my_flow() {
//!     let server = Server::start();
//!     with_browser(&server, Window::PHONE, |b| async move {
//!         b.open("/console/login").await;
//!         assert_eq!(b.text("h1").await, "Sign in");
//!         b.assert_no_csp_violations().await;
//!     })
//!     .await;
//! }
//! ```
//!
//! Cleanup never depends on the test passing: the body runs in its own task, the browser
//! session is closed whatever happened, chromedriver and every Chromium process it started
//! (one process group) are killed on drop, and so is the server. A missing `chromium` or
//! `chromedriver` fails the test with what to install: CI installs both.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_finlock");
/// The longest any start-up (server, chromedriver) may take.
const START: Duration = Duration::from_secs(30);
/// The longest one browser test body may take (a hung browser fails, never hangs the run).
const BODY: Duration = Duration::from_secs(180);

/// A window size: the phone a shop clerk holds, and a desktop.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub width: u32,
    pub height: u32,
    /// The browser's `Accept-Language`.
    pub accept_language: &'static str,
}

impl Window {
    pub const PHONE: Window = Window {
        width: 360,
        height: 740,
        accept_language: "en",
    };
    pub const DESKTOP: Window = Window {
        width: 1280,
        height: 800,
        accept_language: "en",
    };

    pub const fn with_language(self, accept_language: &'static str) -> Window {
        Window {
            accept_language,
            ..self
        }
    }
}

/// A `finlock serve` child on an ephemeral loopback port, with its own database and keys;
/// stopped (SIGTERM, then SIGKILL) on drop.
pub struct Server {
    child: Child,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// [`Server::start`] with more `finlock serve` arguments (`--public-url https://…`).
    pub fn start_with(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
        let mut child = finlock(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the listening line, then keeps draining so the server never blocks on a
        // full pipe.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            for _ in lines {}
        });
        let mut server = Server {
            child,
            url: String::new(),
            dir,
        };
        let line = match rx.recv_timeout(START) {
            Ok(Some(Ok(line))) => line,
            other => panic!(
                "finlock serve did not say where it listens ({other:?}); its log:\n{}",
                server.log()
            ),
        };
        server.url = line
            .trim()
            .strip_prefix("finlock listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        server
    }

    /// The `finlock` command on this server's database and keys (`lender add`, and staff
    /// accounts once they exist), to set up what a test needs.
    pub fn finlock(&self) -> Command {
        finlock(self.dir.path())
    }

    /// Runs `finlock ARGS` on this server's database (with `stdin` on standard input) and
    /// returns its standard output as JSON; panics when it fails.
    pub fn finlock_json(&self, args: &[&str], stdin: Option<&str>) -> Value {
        use std::io::Write;
        let mut child = self
            .finlock()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "finlock {args:?}: {out:?}");
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("finlock {args:?} printed no JSON ({e}): {out:?}"))
    }

    /// A new lender named `name`: its id.
    pub fn add_lender(&self, name: &str) -> String {
        let args = ["lender", "add", name, "--phone", "+254700000001"];
        let more = ["--payment-url", "https://pay.example/p", "--json"];
        let created = self.finlock_json(&[&args[..], &more[..]].concat(), None);
        created["lender_id"].as_str().unwrap().to_string()
    }

    /// A staff member of `lender` with `password` set: their staff id.
    pub fn add_staff(
        &self,
        lender: &str,
        email: &str,
        name: &str,
        role: &str,
        password: &str,
    ) -> String {
        let added = self.finlock_json(
            &[
                "staff",
                "add",
                "--lender",
                lender,
                "--email",
                email,
                "--name",
                name,
                "--role",
                role,
                "--password-stdin",
                "--json",
            ],
            Some(password),
        );
        added["staff"]["staff_id"].as_str().unwrap().to_string()
    }

    /// The staff of `lender` as `finlock staff list --json` prints them.
    pub fn staff_list(&self, lender: &str) -> Value {
        self.finlock_json(&["staff", "list", "--lender", lender, "--json"], None)
    }

    /// The lender's audit log (`finlock keys list --json`'s `log`).
    pub fn lender_audit(&self, lender: &str) -> Vec<Value> {
        let listed = self.finlock_json(&["keys", "list", lender, "--json"], None);
        listed["log"].as_array().cloned().unwrap_or_default()
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }
}

fn finlock(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env(
        "FINLOCK_DB",
        format!("sqlite://{}", dir.join("finlock.db").display()),
    )
    .env("FINLOCK_KEYS", dir.join("keys"))
    .env("FINLOCK_LOG", "warn")
    .env_remove("FINLOCK_PUBLIC_URL")
    .env_remove("FINLOCK_LENDER");
    c
}

impl Drop for Server {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `program` on PATH (or one of the usual Debian paths).
fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([
            PathBuf::from("/usr/bin"),
            PathBuf::from("/usr/lib/chromium"),
        ])
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn require(program: &str, package: &str) -> PathBuf {
    find(program).unwrap_or_else(|| {
        panic!(
            "`{program}` not found: the console's browser tests need Debian's `{package}` \
             package (`cargo xtask install` installs it; CI runs that first)"
        )
    })
}

/// A chromedriver child in its own process group; on drop the whole group (chromedriver
/// and every Chromium process it started) is killed.
struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Driver {
    async fn start() -> (Driver, PathBuf) {
        let chromedriver = require("chromedriver", "chromium-driver");
        let chromium = require("chromium", "chromium");
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let profile = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(profile.path().join("chromedriver.log")).unwrap();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap();
        let driver = Driver {
            child,
            port,
            _profile: profile,
        };
        driver.wait_ready().await;
        (driver, chromium)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `/status` until chromedriver says it is ready, at most [`START`].
    async fn wait_ready(&self) {
        let http = http_client();
        let deadline = Instant::now() + START;
        loop {
            let ready = http
                .get(format!("{}/status", self.url()))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if let Ok(r) = ready
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver was not ready within {START:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn profile(&self) -> &Path {
        self._profile.path()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where one press of Tab led.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabStop {
    pub element: String,
    /// Whether the focused element draws a focus outline (2 px or wider).
    pub outline: bool,
}

/// One headless Chromium window on a page of `server`.
pub struct Browser {
    pub client: Client,
    /// The server's base URL (`http://127.0.0.1:PORT`).
    pub base: String,
    driver_url: String,
    pub window: Window,
}

/// Only one Chromium at a time: two cores cannot run several side by side quickly.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `body` with a fresh headless Chromium of `window`'s size on `server`, then closes
/// the browser and stops chromedriver, whether `body` passed or panicked (the panic is
/// then raised again).
pub async fn with_browser<F, Fut>(server: &Server, window: Window, body: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let _turn = ONE_AT_A_TIME.lock().await;
    let (driver, chromium) = Driver::start().await;
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-extensions",
                "--hide-scrollbars",
                format!("--window-size={},{}", window.width, window.height),
                format!("--user-data-dir={}", driver.profile().join("profile").display()),
            ],
            "prefs": { "intl.accept_languages": window.accept_language },
        },
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    let mut builder = ClientBuilder::new(hyper_util_connector());
    builder.capabilities(caps.as_object().unwrap().clone());
    let driver_url = driver.url();
    let client = tokio::time::timeout(START * 2, builder.connect(&driver_url))
        .await
        .unwrap_or_else(|_| panic!("no WebDriver session within {:?}", START * 2))
        .unwrap_or_else(|e| panic!("no WebDriver session from chromedriver: {e}"));
    // Chromium's --window-size is not always the viewport: ask for the inner size.
    client
        .set_window_size(window.width, window.height)
        .await
        .unwrap();
    let browser = Browser {
        client: client.clone(),
        base: server.url.clone(),
        driver_url: driver.url(),
        window,
    };
    let task = tokio::spawn(body(browser));
    let abort = task.abort_handle();
    let outcome = tokio::time::timeout(BODY, task).await;
    abort.abort();
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    drop(driver);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Ok(Err(e)) => panic!("browser test task: {e}"),
        Err(_) => panic!("the browser test did not finish within {BODY:?}"),
    }
}

/// Plain http to chromedriver on loopback: no TLS stack at all.
fn hyper_util_connector() -> hyper_util::client::legacy::connect::HttpConnector {
    hyper_util::client::legacy::connect::HttpConnector::new()
}

impl Browser {
    /// Loads `path` of the server (`/console/login`).
    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("opening {path}: {e}"));
    }

    /// The path (and query) the browser shows now.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The browser's console messages since the last call (chromedriver's log endpoint).
    pub async fn console_log(&self) -> Vec<Value> {
        let session = self.client.session_id().await.unwrap().unwrap();
        let answer: Value = http_client()
            .post(format!("{}/session/{session}/se/log", self.driver_url))
            .json(&json!({ "type": "browser" }))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["value"].as_array().cloned().unwrap_or_default()
    }

    /// Fails if the browser reported any Content-Security-Policy violation, script error
    /// or failed load since the last call. The document itself answering an error status
    /// (a 404 page on purpose) is not a failure.
    pub async fn assert_no_csp_violations(&self) {
        let page = self.client.current_url().await.unwrap().to_string();
        let errors: Vec<Value> = self
            .console_log()
            .await
            .into_iter()
            .filter(|e| is_csp_violation(e) || e["level"] == "SEVERE")
            .filter(|e| {
                !(e["source"] == "network"
                    && e["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with(&format!("{page} "))))
            })
            .collect();
        assert!(errors.is_empty(), "browser console errors: {errors:#?}");
    }

    /// Presses Tab `n` times from the top of the page and returns each stop: a short
    /// description of the focused element (`input#email`, `a[href=#main]`,
    /// `button[Sign in]`, `body` past the last one) and whether its focus outline shows.
    pub async fn tab_stops(&self, n: usize) -> Vec<TabStop> {
        // Start before the first focusable element.
        self.js(
            "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);",
            vec![],
        )
        .await;
        let mut stops = Vec::new();
        for _ in 0..n {
            let actions = KeyActions::new("keys".to_string())
                .then(KeyAction::Down {
                    value: Key::Tab.into(),
                })
                .then(KeyAction::Up {
                    value: Key::Tab.into(),
                });
            self.client.perform_actions(actions).await.unwrap();
            let stop = self
                .js(
                    "const e = document.activeElement; \
                     if (!e || e === document.body) return ['body', false]; \
                     let d = e.tagName.toLowerCase(); \
                     if (e.id) d += '#' + e.id; \
                     else if (e.getAttribute('href')) d += '[href=' + e.getAttribute('href') + ']'; \
                     else if (e.name) d += '[name=' + e.name + ']'; \
                     else d += '[' + e.textContent.trim() + ']'; \
                     const s = getComputedStyle(e); \
                     return [d, s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2];",
                    vec![],
                )
                .await;
            stops.push(TabStop {
                element: stop[0].as_str().unwrap_or("?").to_string(),
                outline: stop[1] == true,
            });
        }
        self.client.release_actions().await.unwrap();
        stops
    }

    /// Picks `lang` (`sw`) in the page's language picker and sends it.
    pub async fn choose_language(&self, lang: &str) {
        self.client
            .find(Locator::Css("#lang-picker"))
            .await
            .unwrap()
            .select_by_value(lang)
            .await
            .unwrap_or_else(|e| panic!("no language {lang} in the picker: {e}"));
        self.click_and_wait("form.lang button").await;
    }

    /// Clicks the element matching `css` (a submit button, a link) and waits, at most
    /// 10 s, until the next page has loaded.
    pub async fn click_and_wait(&self, css: &str) {
        self.js("window.__finlockOldPage = true;", vec![]).await;
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let loaded = self
                .client
                .execute(
                    "return !window.__finlockOldPage && document.readyState === 'complete';",
                    vec![],
                )
                .await;
            if let Ok(Value::Bool(true)) = loaded {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no new page 10 s after clicking {css}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A PNG of what the window shows.
    pub async fn screenshot(&self) -> Vec<u8> {
        self.client.screenshot().await.unwrap()
    }

    /// A PNG of the whole page at the window's width: the window is made as tall as the
    /// page for the picture, then given its size back.
    pub async fn full_page_screenshot(&self) -> Vec<u8> {
        let sizes = self
            .js(
                "return [document.documentElement.scrollHeight, \
                         window.outerHeight - window.innerHeight];",
                vec![],
            )
            .await;
        let page = sizes[0].as_u64().unwrap_or(0) as u32;
        let frame = sizes[1].as_u64().unwrap_or(0) as u32;
        let height = page.max(self.window.height - frame.min(self.window.height));
        self.client
            .set_window_size(self.window.width, height + frame)
            .await
            .unwrap();
        let png = self.screenshot().await;
        self.client
            .set_window_size(self.window.width, self.window.height)
            .await
            .unwrap();
        png
    }
}

/// A plain-http client for loopback (our reqwest has rustls without a default crypto
/// provider: install ring's first).
pub fn http_client() -> reqwest::Client {
    finlock_core::checkin::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A console entry Chromium writes for a blocked resource or inline code.
pub fn is_csp_violation(entry: &Value) -> bool {
    entry["message"]
        .as_str()
        .is_some_and(|m| m.contains("Content Security Policy"))
}

// What every console page flow does: shared by the browser tests that use it (the older
// files still carry their own copies).

/// Types `text` into the field matching `css`, after clearing it.
pub async fn fill(b: &Browser, css: &str, text: &str) {
    let field = b
        .client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Sets the date input `id` to `date` (`YYYY-MM-DD`; typing into one depends on the
/// browser's locale).
pub async fn set_date(b: &Browser, id: &str, date: &str) {
    b.js(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![json!(id), json!(date)],
    )
    .await;
}

/// Signs in through the form and lands on the dashboard.
pub async fn sign_in(b: &Browser, email: &str, password: &str) {
    b.open("/console/login").await;
    fill(b, "#email", email).await;
    fill(b, "#password", password).await;
    b.click_and_wait("main form button[type=submit]").await;
    assert_eq!(b.path().await, "/console/", "signing in as {email} failed");
}

/// Every control labelled and every button or link named, nothing wider than the window
/// (the elements that are, named), no Content-Security-Policy violation.
pub async fn assert_page_is_sound(b: &Browser, what: &str) {
    let unlabelled = b
        .js(
            "const bad = []; \
             for (const e of document.querySelectorAll('input:not([type=hidden]), select, textarea')) { \
               const named = (e.labels && e.labels.length > 0 && e.labels[0].textContent.trim()) \
                 || e.getAttribute('aria-label'); \
               if (!named) bad.push(e.outerHTML); \
             } \
             for (const e of document.querySelectorAll('button, a[href]')) { \
               if (!e.textContent.trim() && !e.getAttribute('aria-label')) bad.push(e.outerHTML); \
             } \
             return bad;",
            vec![],
        )
        .await;
    assert_eq!(unlabelled, json!([]), "{what}");
    let wide = b
        .js(
            "const out = []; const w = document.documentElement.clientWidth; \
             if (document.documentElement.scrollWidth > w) \
               for (const e of document.querySelectorAll('main *')) { \
                 const r = e.getBoundingClientRect(); \
                 if (r.right > w + 0.5) out.push(e.tagName + '#' + e.id + '.' + e.className); \
               } \
             return [document.documentElement.scrollWidth, w, out];",
            vec![],
        )
        .await;
    assert!(
        wide[0].as_u64() <= wide[1].as_u64(),
        "{what} scrolls sideways: {wide}"
    );
    b.assert_no_csp_violations().await;
}

/// Where screenshots go: `$FINLOCK_CONSOLE_SCREENS` (`cargo xtask console-screens`), else a
/// throw-away directory kept alive by the second value.
pub fn screens_dir() -> (PathBuf, Option<tempfile::TempDir>) {
    match std::env::var_os("FINLOCK_CONSOLE_SCREENS") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir).unwrap();
            (dir, None)
        }
        None => {
            let tmp = tempfile::tempdir().unwrap();
            (tmp.path().to_path_buf(), Some(tmp))
        }
    }
}

/// A full-page PNG of what `b` shows, as `dir/NAME-WIDTH.png`, checked to be a picture of
/// the window's width.
pub async fn save_screenshot(b: &Browser, dir: &Path, name: &str) {
    let png = b.full_page_screenshot().await;
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}: not a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(width, b.window.width, "{name}");
    std::fs::write(dir.join(format!("{name}-{}.png", b.window.width)), &png).unwrap();
}
