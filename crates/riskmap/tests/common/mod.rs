//! Helpers for end-to-end tests: run the real `riskmap` binary.
#![allow(dead_code, unreachable_pub, clippy::zombie_processes)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `riskmap` with a clean environment for the store settings.
pub fn riskmap() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_riskmap"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("RISKMAP_ADMIN_TOKEN")
        .env("RUST_LOG", "warn");
    cmd
}

/// A running `riskmap serve`, killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
    /// stderr lines after the "listening on" line.
    pub log: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `riskmap serve --addr 127.0.0.1:0 <args>` and waits until it
    /// listens and has built its world ("ready in … s").
    pub fn start(args: &[&str]) -> Server {
        Server::start_env(args, &[])
    }

    /// [`Server::start`] with extra environment variables (e.g.
    /// `RUST_LOG=info` to read the server's log).
    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut s = Server::start_listening_env(args, env);
        let deadline = std::time::Instant::now() + Duration::from_secs(300);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match s.log.recv_timeout(left) {
                Ok(line) if line.starts_with("ready in ") => return s,
                Ok(_) => {}
                Err(_) => {
                    let _ = s.child.kill();
                    panic!("riskmap serve did not get ready");
                }
            }
        }
    }

    /// Starts `riskmap serve --addr 127.0.0.1:0 <args>` and waits only
    /// until it listens (its world may still be building).
    pub fn start_listening(args: &[&str]) -> Server {
        Server::start_listening_env(args, &[])
    }

    /// [`Server::start_listening`] with extra environment variables.
    pub fn start_listening_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = riskmap()
            .envs(env.iter().copied())
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start riskmap serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut seen = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(120)) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("listening on ") {
                        return Server {
                            child,
                            base: url.trim().to_string(),
                            log: rx,
                        };
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("riskmap serve did not start; stderr:\n{}", seen.join("\n"));
                }
            }
        }
    }

    /// Sends SIGTERM and waits (up to `timeout`) for the process to exit;
    /// returns its exit code (`None` if it did not exit or was killed).
    pub fn terminate(&mut self, timeout: Duration) -> Option<i32> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking HTTP client.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// The XYZ tile at zoom `z` holding (`lon`, `lat`).
pub fn tile_at(z: u8, lon: f64, lat: f64) -> (u8, u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let y = ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n) as u32;
    (z, x, y)
}

/// The `bin` directory of the Python virtual environment `target/{name}`
/// with the pinned, hash-checked packages of `requirements`, created when
/// `ready(bin)` says it is not there yet. Never skips: tools that cannot be
/// set up fail the test.
pub fn python_venv(name: &str, requirements: &Path, ready: impl Fn(&Path) -> bool) -> PathBuf {
    let venv = repo_root().join("target").join(name);
    let bin = venv.join("bin");
    if !ready(&bin) {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(bin.join("pip"))
                .args(["install", "-q", "--require-hashes", "-r"])
                .arg(requirements)
                .status()
                .is_ok_and(|s| s.success());
        assert!(
            ok && ready(&bin),
            "cannot set up {} (python3 -m venv, then pip install --require-hashes -r {})",
            venv.display(),
            requirements.display()
        );
    }
    bin
}

/// Whether `python` runs `code` successfully (e.g. an import).
pub fn python_runs(python: &Path, code: &str) -> bool {
    Command::new(python)
        .args(["-c", code])
        .status()
        .is_ok_and(|s| s.success())
}
