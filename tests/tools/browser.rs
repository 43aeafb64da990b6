//! The quickstart's "Your sessions" page in a real browser: Debian's headless `chromium`
//! driven through `chromedriver` (WebDriver, with the `fantoccini` client), two browser
//! profiles (two WebDriver sessions, each with its own user-data-dir, so their own
//! cookies) logged in as the same user against the built quickstart example.
//!
//! `scripts/test.sh` installs `chromium` and `chromium-driver`. Without them the test
//! fails under `CI=true`, and elsewhere says "NOT RUN" on stderr and returns.
//!
//! `SESSIONS_SCREENSHOT=docs/sessions-page.png` also saves the page with two sessions
//! (1000x700) to that path: the README's picture.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// How long a page may take to show what a step expects.
const PATIENCE: Duration = Duration::from_secs(20);
/// The user agents the two profiles send, so that the page says which row is which.
const AGENT_ONE: &str = "Chromium (headless) profile one";
const AGENT_TWO: &str = "Chromium (headless) profile two";

/// `examples/quickstart.rs`, built once.
fn quickstart() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| crate::examples::build("quickstart"))
}

/// `name` in a directory of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The `chromium` and `chromedriver` executables; `None` (said on stderr) when one is
/// missing outside CI, a panic under `CI=true`.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    match (on_path("chromium"), on_path("chromedriver")) {
        (Some(chromium), Some(driver)) => Some((chromium, driver)),
        (chromium, driver) => {
            let missing: Vec<&str> = [("chromium", chromium), ("chromedriver", driver)]
                .into_iter()
                .filter(|(_, found)| found.is_none())
                .map(|(name, _)| name)
                .collect();
            let message = format!(
                "{} not found on PATH: install Debian's chromium and chromium-driver \
                 (scripts/test.sh does)",
                missing.join(" and ")
            );
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("CI=true: {message}");
            }
            eprintln!("NOT RUN: the browser test needs a headless Chromium: {message}");
            None
        }
    }
}

/// A child process in its own process group, killed with the whole group (a browser and
/// its helpers) when dropped; its output is kept for failure messages.
struct Process {
    name: &'static str,
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Process {
    /// Starts `command` and waits for the output line that `announce` reads a value from.
    fn start<T: Send + 'static>(
        name: &'static str,
        mut command: Command,
        announce: fn(&str) -> Option<T>,
    ) -> (Self, T) {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let output = Arc::new(Mutex::new(String::new()));
        let (found, wait) = mpsc::channel();
        let kept = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(value) = found.as_ref().and_then(|_| announce(&line))
                    && let Some(sender) = found.take()
                {
                    let _ = sender.send(value);
                }
                let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                kept.push_str(&line);
                kept.push('\n');
            }
        });
        let process = Self {
            name,
            child,
            output,
        };
        match wait.recv_timeout(PATIENCE) {
            Ok(value) => (process, value),
            Err(_) => panic!(
                "{name} did not announce itself within {PATIENCE:?}; its output:\n{}",
                process.output()
            ),
        }
    }

    fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // The group's id is the child's pid (`process_group(0)`).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- output of {}:\n{}", self.name, self.output());
        }
    }
}

/// The quickstart on a free port in `dir` (its filesystem store goes there), with the
/// example's defaults; returns it and its base URL.
fn start_quickstart(dir: &Path) -> (Process, String) {
    let mut command = Command::new(quickstart());
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("PORT", "0");
    Process::start("the quickstart", command, |line| {
        let at = line.find("serving http://")? + "serving ".len();
        let url = line[at..].split_whitespace().next()?;
        Some(url.to_owned())
    })
}

/// chromedriver on a free port; returns it and its URL.
fn start_chromedriver(driver: &Path) -> (Process, String) {
    let mut command = Command::new(driver);
    command.arg("--port=0");
    Process::start("chromedriver", command, |line| {
        let rest = line.split("started successfully on port ").nth(1)?;
        let port: u16 = rest.trim_end_matches('.').trim().parse().ok()?;
        Some(format!("http://127.0.0.1:{port}"))
    })
}

/// Asks chromedriver to end its browsers before its process group is killed.
fn shutdown_chromedriver(url: &str) {
    let Some(authority) = url.strip_prefix("http://") else {
        return;
    };
    if let Ok(mut stream) = TcpStream::connect(authority) {
        let _ = stream.set_read_timeout(Some(PATIENCE));
        let _ = write!(
            stream,
            "GET /shutdown HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
        );
        let _ = stream.read_to_end(&mut Vec::new());
    }
}

/// A headless Chromium profile (its own user-data-dir) sending `agent` as user agent.
async fn profile(driver: &str, chromium: &Path, data_dir: &Path, agent: &str) -> Client {
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless",
                // Containers and root (CI) have no user namespaces for Chromium's sandbox.
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--window-size=1000,700",
                format!("--user-data-dir={}", data_dir.display()),
                format!("--user-agent={agent}"),
            ],
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("an object literal")
    };
    let browser = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(driver)
        .await
        .unwrap_or_else(|e| panic!("chromedriver at {driver} starts a browser: {e}"));
    // A 1000x700 page (the window's size includes its frame).
    let frame = browser
        .execute(
            "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]",
            vec![],
        )
        .await
        .expect("window sizes");
    let frame: [u32; 2] = serde_json::from_value(frame).expect("two sizes");
    browser
        .set_window_size(1000 + frame[0], 700 + frame[1])
        .await
        .expect("resize the window");
    browser
}

/// The page's visible text.
async fn text(browser: &Client) -> String {
    match browser.find(Locator::Css("body")).await {
        Ok(body) => body.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Polls the page until its visible text satisfies `ready`; returns that text.
async fn until(browser: &Client, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let seen = text(browser).await;
        if ready(&seen) {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "waited {PATIENCE:?} for {what}; the page ({}) shows:\n{seen}",
            browser
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn click(browser: &Client, css: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

const LOGGED_OUT: &str = "actix-flask-session\nYou are not logged in.\nLog in";

/// The home page after logging in as `name` with `visits`, and the session-id prefix it
/// shows.
fn home(text: &str, name: &str, visits: u64) -> Option<String> {
    let rest = text.strip_prefix(&format!(
        "actix-flask-session\nHello, {name}. visits: {visits}\nsession id: "
    ))?;
    let (prefix, rest) = rest.split_once('…')?;
    (rest == "\nYour sessions\nRegenerate session id\nLog out").then(|| prefix.to_owned())
}

/// Waits for the home page of `name` at visit `visits`; returns the session-id prefix.
async fn wait_home(browser: &Client, name: &str, visits: u64) -> String {
    let text = until(
        browser,
        &format!("{name}'s home page, visit {visits}"),
        |t| home(t, name, visits).is_some(),
    )
    .await;
    home(&text, name, visits).unwrap_or_default()
}

async fn log_in(browser: &Client, base: &str, name: &str) {
    browser.goto(base).await.expect("open the home page");
    until(browser, "the login form", |t| t == LOGGED_OUT).await;
    browser
        .find(Locator::Css("input[name=name]"))
        .await
        .expect("a name field")
        .send_keys(name)
        .await
        .expect("type the name");
    click(browser, "form[action='/login'] button").await;
    wait_home(browser, name, 1).await;
}

/// A row of "Your sessions": browser (with " (this one)"), address, logged in, last seen,
/// and the button's label.
#[derive(Debug, PartialEq, Eq)]
struct Row {
    browser: String,
    address: String,
    created: String,
    last_seen: String,
    button: String,
}

/// Opens "Your sessions" and waits until it lists `count` sessions; returns its rows.
async fn sessions(browser: &Client, base: &str, name: &str, count: usize) -> Vec<Row> {
    browser
        .goto(&format!("{base}sessions"))
        .await
        .expect("open the sessions page");
    read_sessions(browser, name, count).await
}

/// Waits until the page shown is "Your sessions" with `count` sessions; returns its rows.
async fn read_sessions(browser: &Client, name: &str, count: usize) -> Vec<Row> {
    let noun = if count == 1 { "session" } else { "sessions" };
    let heading = format!("actix-flask-session\nYour sessions, {name}\n{count} {noun}\n");
    until(browser, &format!("{count} {noun}"), |t| {
        t.starts_with(&heading)
    })
    .await;
    let mut rows = Vec::new();
    for row in browser
        .find_all(Locator::Css("tr.session"))
        .await
        .expect("session rows")
    {
        let mut cells = Vec::new();
        for cell in row.find_all(Locator::Css("td")).await.expect("cells") {
            cells.push(cell.text().await.expect("cell text"));
        }
        let [browser, address, created, last_seen, button] =
            <[String; 5]>::try_from(cells).expect("five cells per row");
        rows.push(Row {
            browser,
            address,
            created,
            last_seen,
            button,
        });
    }
    assert_eq!(rows.len(), count, "rows of the sessions table");
    rows
}

/// The quickstart's time format, for `t`.
fn shown(t: time::OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.format(&format).expect("formattable")
}

#[actix_rt::test]
async fn two_browsers_see_and_revoke_each_other_on_the_sessions_page() {
    let Some((chromium, driver)) = browser_tools() else {
        return;
    };
    let scratch = tempfile::tempdir().expect("scratch dir");
    let app_dir = scratch.path().join("app");
    let dirs = [scratch.path().join("one"), scratch.path().join("two")];
    for dir in [&app_dir, &dirs[0], &dirs[1]] {
        std::fs::create_dir(dir).expect("scratch subdirectory");
    }
    let (_app, base) = start_quickstart(&app_dir);
    let (_driver, driver_url) = start_chromedriver(&driver);
    let started = shown(time::OffsetDateTime::now_utc());
    let (one, two) = futures_util::future::join(
        profile(&driver_url, &chromium, &dirs[0], AGENT_ONE),
        profile(&driver_url, &chromium, &dirs[1], AGENT_TWO),
    )
    .await;

    // Both log in as alice; the first sees both sessions, itself first (oldest first).
    log_in(&one, &base, "alice").await;
    log_in(&two, &base, "alice").await;
    let rows = sessions(&one, &base, "alice", 2).await;
    let now = shown(time::OffsetDateTime::now_utc());
    for row in &rows {
        assert_eq!(row.address, "127.0.0.1");
        for t in [&row.created, &row.last_seen] {
            assert!(
                started <= *t && *t <= now,
                "{t} is not between {started} and {now}"
            );
        }
    }
    let browsers: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.browser.as_str(), r.button.as_str()))
        .collect();
    assert_eq!(
        browsers,
        [
            (&*format!("{AGENT_ONE} (this one)"), "Log out"),
            (AGENT_TWO, "Revoke"),
        ]
    );
    // The listing names sessions by handle, never by the id the cookie carries.
    let cookie_two = two
        .get_named_cookie("session")
        .await
        .expect("cookie of two");
    let source = one.source().await.expect("page source");
    assert!(
        !source.contains(cookie_two.value()),
        "the page shows the other browser's session id"
    );
    if let Some(path) = std::env::var_os("SESSIONS_SCREENSHOT") {
        let png = one.screenshot().await.expect("screenshot");
        std::fs::write(&path, png).expect("write the screenshot");
    }

    // The first revokes the other; the second is logged out on its next page load.
    click(&one, "tr.session[data-current=false] button").await;
    let rows = read_sessions(&one, "alice", 1).await;
    assert_eq!(rows[0].browser, format!("{AGENT_ONE} (this one)"));
    let created = rows[0].created.clone();
    two.goto(&base).await.expect("reload");
    until(&two, "the revoked browser logged out", |t| t == LOGGED_OUT).await;
    two.goto(&format!("{base}sessions")).await.expect("open");
    until(&two, "no sessions page when logged out", |t| {
        t == LOGGED_OUT
    })
    .await;

    // Regenerate: a new id (cookie and page), the same entry (still this one, same login
    // time).
    one.goto(&base).await.expect("home");
    let before = wait_home(&one, "alice", 2).await;
    let cookie_before = one.get_named_cookie("session").await.expect("cookie");
    click(&one, "form[action='/regenerate'] button").await;
    let after = wait_home(&one, "alice", 3).await;
    let cookie_after = one.get_named_cookie("session").await.expect("cookie");
    assert_ne!(before, after, "the page shows a new session id");
    assert_ne!(cookie_before.value(), cookie_after.value(), "a new cookie");
    let rows = sessions(&one, &base, "alice", 1).await;
    assert_eq!(rows[0].browser, format!("{AGENT_ONE} (this one)"));
    assert_eq!(rows[0].created, created);

    // Logging out (the button in its own row) removes the entry: the second, logged in
    // again, sees only itself.
    log_in(&two, &base, "alice").await;
    assert_eq!(sessions(&one, &base, "alice", 2).await.len(), 2);
    click(&one, "tr.session[data-current=true] button").await;
    until(&one, "logged out", |t| t == LOGGED_OUT).await;
    let rows = sessions(&two, &base, "alice", 1).await;
    assert_eq!(rows[0].browser, format!("{AGENT_TWO} (this one)"));
    assert_eq!(rows[0].button, "Log out");

    // "Log out everywhere else" from the second ends the first's new session.
    log_in(&one, &base, "alice").await;
    sessions(&two, &base, "alice", 2).await;
    click(&two, "#others").await;
    let rows = read_sessions(&two, "alice", 1).await;
    assert_eq!(rows[0].browser, format!("{AGENT_TWO} (this one)"));
    one.goto(&base).await.expect("reload");
    until(&one, "logged out everywhere else", |t| t == LOGGED_OUT).await;

    one.close().await.expect("close profile one");
    two.close().await.expect("close profile two");
    shutdown_chromedriver(&driver_url);
}
