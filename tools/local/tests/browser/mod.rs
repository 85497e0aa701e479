//! Headless Chromium driven through its WebDriver, chromedriver, with `fantoccini`: a
//! chromedriver of the test's own on a free port (killed, with the Chromium it started, when the
//! test ends, even by a panic), one session, and what the console's test asks of the page (the
//! rendered text of an element, a click, waiting for text), each retried over the console's
//! live re-rendering. Chromium and chromedriver come from the system (`apt-get install -y
//! chromium chromium-driver`, which `scripts/chromium.sh` does); `CHROMIUM` and `CHROMEDRIVER`
//! name other binaries.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// How long a wait for the page lasts before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// The binary `variable` names, else the first of `names` on `PATH`.
fn binary(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    names
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The Chromium binary: `CHROMIUM`, else the first of the usual names on `PATH`.
pub fn chromium() -> Option<PathBuf> {
    binary(
        "CHROMIUM",
        &[
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ],
    )
}

/// The chromedriver binary: `CHROMEDRIVER`, else `chromedriver` on `PATH`.
pub fn chromedriver() -> Option<PathBuf> {
    binary("CHROMEDRIVER", &["chromedriver"])
}

/// A chromedriver of the test's own, in a process group of its own: dropping it kills the
/// group, so also a Chromium whose session was never closed.
struct Chromedriver {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid (`process_group(0)`).
        if let Ok(group) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) only signals processes; -group names this test's own group.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Chromedriver {
    /// Starts `binary` on a free local port and waits until it is ready for a session.
    async fn start(binary: &Path) -> Result<Self, String> {
        static STARTS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let mut failures = Vec::new();
        // Another process may take the free port before chromedriver binds it: then it exits,
        // and another port is tried.
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("a free port: {e}"))?
                .port();
            let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let log = std::env::temp_dir().join(format!(
                "bridge-console-chromedriver-{}-{n}.log",
                std::process::id()
            ));
            let output = std::fs::File::create(&log).map_err(|e| format!("{log:?}: {e}"))?;
            let errors = output.try_clone().map_err(|e| e.to_string())?;
            let child = Command::new(binary)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(output)
                .stderr(errors)
                .process_group(0)
                .spawn()
                .map_err(|e| format!("starting {}: {e}", binary.display()))?;
            let mut driver = Self {
                child,
                url: format!("http://127.0.0.1:{port}"),
                log,
            };
            match driver.ready().await {
                Ok(()) => return Ok(driver),
                Err(failure) => failures.push(failure),
            }
        }
        Err(failures.join("; "))
    }

    /// Waits until chromedriver answers `/status` with `ready: true`.
    async fn ready(&mut self) -> Result<(), String> {
        let http = reqwest::Client::new();
        let until = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                return Err(format!("chromedriver exited ({status}): {}", log.trim()));
            }
            if let Ok(answer) = http.get(format!("{}/status", self.url)).send().await {
                if let Ok(status) = answer.json::<Value>().await {
                    if status["value"]["ready"] == json!(true) {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > until {
                return Err(format!("chromedriver not ready within {PATIENCE:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A headless Chromium session through a chromedriver of the test's own.
pub struct Browser {
    /// The WebDriver session, for anything the helpers below do not do.
    pub client: Client,
    // Dropped after the client: it kills chromedriver and its Chromium.
    _driver: Chromedriver,
}

impl Browser {
    /// Starts `chromedriver` and, through it, a headless `chromium` with a fresh profile.
    pub async fn launch(chromedriver: &Path, chromium: &Path) -> Result<Self, String> {
        let driver = Chromedriver::start(chromedriver).await?;
        let capabilities = json!({
            "goog:chromeOptions": {
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"],
                "binary": chromium,
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        let client = ClientBuilder::rustls()
            .map_err(|e| format!("the WebDriver client: {e}"))?
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .map_err(|e| format!("a Chromium session through chromedriver: {e}"))?;
        Ok(Self {
            client,
            _driver: driver,
        })
    }

    /// Ends the session (Chromium quits); chromedriver goes when `self` is dropped.
    pub async fn close(self) -> Result<(), CmdError> {
        self.client.clone().close().await
    }

    /// Opens `url` and waits until it has loaded.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// The rendered text of the element `selector` matches, as the user sees it (CSS
    /// `text-transform` applies). The test fails when there is none.
    pub async fn text(&self, selector: &str) -> String {
        self.try_text(selector)
            .await
            .unwrap_or_else(|e| panic!("the text of {selector}: {e}"))
    }

    /// The rendered text of the element `selector` matches. The console re-renders its live
    /// part every second, so an element gone stale between finding and reading is found again.
    async fn try_text(&self, selector: &str) -> Result<String, CmdError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let read = match self.client.find(Locator::Css(selector)).await {
                Ok(element) => element.text().await,
                Err(e) => Err(e),
            };
            match read {
                Err(e) if e.is_stale_element_reference() && tries < 10 => continue,
                read => return read,
            }
        }
    }

    /// Clicks the element `selector` matches, as a user would (WebDriver scrolls it into view
    /// and clicks its middle).
    pub async fn click(&self, selector: &str) {
        let mut tries = 0;
        loop {
            tries += 1;
            let clicked = match self
                .client
                .wait()
                .at_most(PATIENCE)
                .for_element(Locator::Css(selector))
                .await
            {
                Ok(element) => element.click().await,
                Err(e) => Err(e),
            };
            match clicked {
                Err(e) if e.is_stale_element_reference() && tries < 10 => continue,
                Err(e) => panic!("clicking {selector}: {e}"),
                Ok(()) => return,
            }
        }
    }

    /// Waits until the text of the element `selector` matches contains `needle`: that text. The
    /// test fails with what was last seen when it does not within 20 s.
    pub async fn wait_for_text(&self, selector: &str, needle: &str) -> String {
        let until = Instant::now() + PATIENCE;
        loop {
            let seen = match self.try_text(selector).await {
                Ok(text) => text,
                Err(e) if e.is_no_such_element() || e.is_stale_element_reference() => String::new(),
                Err(e) => panic!("reading {selector}: {e}"),
            };
            if seen.contains(needle) {
                return seen;
            }
            assert!(
                Instant::now() < until,
                "timed out after {PATIENCE:?} waiting for {needle:?} in {selector}; it shows: {seen}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
