//! A headless Chromium driven over the Chrome DevTools Protocol: just what the console's test
//! needs (open a page, evaluate script, click with the mouse, wait for text), on a plain
//! WebSocket. Chromium comes from the system (`apt-get install -y chromium`; `scripts/test.sh`
//! installs it); `CHROMIUM` names another binary.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

/// The Chromium binary: `CHROMIUM`, else the first of the usual names on `PATH`.
pub fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|candidate| candidate.is_file())
}

/// A running headless Chromium and one page of it.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    socket: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Browser {
    /// Starts Chromium with a fresh profile and opens a blank page.
    pub fn launch(binary: &std::path::Path) -> Result<Self, String> {
        static LAUNCHES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = LAUNCHES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let profile = std::env::temp_dir().join(format!(
            "bridge-console-chromium-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).map_err(|e| e.to_string())?;
        let child = Command::new(binary)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-port=0",
                "--window-size=1400,900",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        // Chromium writes its port and the browser's WebSocket path to DevToolsActivePort.
        let active = profile.join("DevToolsActivePort");
        let until = Instant::now() + Duration::from_secs(30);
        let (port, path) = loop {
            if let Ok(text) = std::fs::read_to_string(&active) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    break (port.trim().to_string(), path.trim().to_string());
                }
            }
            if Instant::now() > until {
                return Err("Chromium did not open its DevTools port within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let stream = TcpStream::connect(format!("127.0.0.1:{port}")).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        let url = format!("ws://127.0.0.1:{port}{path}");
        let (socket, _) = tungstenite::client(url.as_str(), stream).map_err(|e| e.to_string())?;
        let mut browser = Self {
            child,
            profile,
            socket,
            session: String::new(),
            next_id: 0,
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}))?;
        let target_id = target["targetId"].as_str().unwrap_or_default().to_string();
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        )?;
        browser.session = attached["sessionId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        browser.call("Page.enable", json!({}))?;
        browser.call("Runtime.enable", json!({}))?;
        Ok(browser)
    }

    /// Sends a command (to the page once attached) and waits for its result.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .map_err(|e| format!("{method}: {e}"))?;
        loop {
            let frame = self.socket.read().map_err(|e| format!("{method}: {e}"))?;
            let Message::Text(text) = frame else { continue };
            let Ok(answer) = serde_json::from_str::<Value>(text.as_str()) else {
                continue;
            };
            if answer["id"].as_u64() != Some(id) {
                continue; // an event, or another session's answer
            }
            if let Some(error) = answer.get("error") {
                return Err(format!("{method}: {error}"));
            }
            return Ok(answer["result"].clone());
        }
    }

    /// Opens `url` and waits until the page has loaded.
    pub fn open(&mut self, url: &str) -> Result<(), String> {
        self.call("Page.navigate", json!({"url": url}))?;
        self.wait_for("the page to load", Duration::from_secs(20), |b| {
            Ok(b.eval("document.readyState")? == json!("complete"))
        })
    }

    /// The value of a script expression (awaited when it is a promise).
    pub fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let answer = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        )?;
        if let Some(exception) = answer.get("exceptionDetails") {
            return Err(format!("{expression}: {exception}"));
        }
        Ok(answer["result"]["value"].clone())
    }

    /// The text of the first element `selector` matches (empty when none does).
    pub fn text(&mut self, selector: &str) -> Result<String, String> {
        let expression = format!(
            "(document.querySelector({}) || {{innerText: ''}}).innerText",
            json!(selector)
        );
        Ok(self
            .eval(&expression)?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Clicks the middle of the element `selector` matches with the mouse, as a user would.
    pub fn click(&mut self, selector: &str) -> Result<(), String> {
        let expression = format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return null; e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()",
            json!(selector)
        );
        let point = self.eval(&expression)?;
        let (Some(x), Some(y)) = (point[0].as_f64(), point[1].as_f64()) else {
            return Err(format!("nothing to click: no {selector} on the page"));
        };
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )?;
        }
        Ok(())
    }

    /// Waits until `ready` holds, checking every 100 ms.
    pub fn wait_for(
        &mut self,
        what: &str,
        limit: Duration,
        mut ready: impl FnMut(&mut Self) -> Result<bool, String>,
    ) -> Result<(), String> {
        let until = Instant::now() + limit;
        loop {
            if ready(self)? {
                return Ok(());
            }
            if Instant::now() > until {
                return Err(format!("timed out after {limit:?} waiting for {what}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
