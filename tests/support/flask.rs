//! The real Flask-Session app (`tests/interop/flask_app.py`) as a child process.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Settings;

/// A running Flask app on 127.0.0.1, killed on drop.
pub struct FlaskApp {
    child: Child,
    port: u16,
}

/// Where `scripts/interop-venv.sh` puts the venv.
fn venv() -> PathBuf {
    match std::env::var_os("INTEROP_VENV") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
            home.join(".cache/actix-flask-session-services/venv-interop")
        }
    }
}

impl FlaskApp {
    /// Starts the app configured by `settings` (as environment variables) on a free port
    /// and waits until it answers.
    ///
    /// # Panics
    ///
    /// When the venv is missing or the app does not come up: run `scripts/test.sh` (or
    /// `scripts/interop-venv.sh`) first.
    pub fn start(settings: &Settings) -> Self {
        Self::start_with_env(settings, &[])
    }

    /// [`start`](Self::start) with extra environment variables for the Flask side only
    /// (switches of `flask_app.py` that are not configuration keys).
    pub fn start_with_env(settings: &Settings, extra: &[(&str, &str)]) -> Self {
        let python = venv().join("bin/python");
        assert!(
            python.exists(),
            "the Flask interop venv is missing ({}); run scripts/test.sh (or scripts/interop-venv.sh) first",
            python.display()
        );
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/flask_app.py");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut command = Command::new(&python);
        command
            .arg(&script)
            .arg("--port")
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        // Only the settings of this test: nothing inherited from the caller's environment.
        for (key, _) in std::env::vars() {
            if key.starts_with("SESSION_")
                || key == "SECRET_KEY"
                || key == "PERMANENT_SESSION_LIFETIME"
            {
                command.env_remove(key);
            }
        }
        command.envs(settings.env());
        command.envs(extra.iter().copied());
        let child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {} ({e}); run scripts/test.sh",
                python.display()
            )
        });
        let mut app = FlaskApp { child, port };
        app.wait_ready();
        app
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `GET /ready` until it answers 200.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the Flask app exited with {status} before it was ready (see its stderr above)"
                );
            }
            if probe(self.port) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the Flask app on port {} never became ready",
                self.port
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// One `GET /ready`; true on a 200.
fn probe(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /ready HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

impl Drop for FlaskApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
