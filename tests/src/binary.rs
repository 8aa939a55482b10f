//! A workspace binary run as a real process on 127.0.0.1: a free port, a fresh working
//! directory (so `./mastra.db` starts empty), its log in a file, signals, killed on drop.

use std::{
    fs::File,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use crate::{client, temp_dir};

/// The path of workspace binary `name` next to the running test (built by `cargo build`,
/// which `tests/run.sh` does first).
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let bin = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build -p {name}`, which tests/run.sh does)",
        bin.display()
    );
    bin
}

/// A port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A running binary serving HTTP.
pub struct BinaryServer {
    child: Child,
    base: String,
    dir: PathBuf,
    log: PathBuf,
}

impl BinaryServer {
    /// Starts binary `name` with `PORT` set, in a fresh directory, without model API keys, and
    /// waits for `/health`.
    pub async fn start(name: &str, envs: &[(&str, &str)]) -> BinaryServer {
        Self::spawn(name, Command::new(workspace_binary(name)), envs).await
    }

    /// [`BinaryServer::start`] with the process's open-file limit (`RLIMIT_NOFILE`, soft and
    /// hard) set to `open_files`, as a container's `ulimit -n` would (through `sh`'s `ulimit`,
    /// which then `exec`s the binary, so the process id is the server's).
    pub async fn start_with_open_files(
        name: &str,
        envs: &[(&str, &str)],
        open_files: u64,
    ) -> BinaryServer {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit -n {open_files} && exec \"$0\""))
            .arg(workspace_binary(name));
        Self::spawn(name, command, envs).await
    }

    async fn spawn(name: &str, mut command: Command, envs: &[(&str, &str)]) -> BinaryServer {
        let port = free_port();
        let dir = temp_dir(name);
        let log = dir.join("server.log");
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = command
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .env("NO_COLOR", "1")
            .env_remove("OPENAI_API_KEY")
            .env_remove("ANTHROPIC_API_KEY")
            .envs(envs.iter().copied())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let server = BinaryServer {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
            log,
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&self) {
        let http = client();
        for _ in 0..400 {
            if http
                .get(format!("{}/health", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{} never answered /health; log:\n{}", self.base, self.log());
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Its working directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends it SIGTERM (through `kill`, so no extra crate is needed).
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for it to exit, up to `within`; panics with its log if it does not.
    pub async fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running after {within:?}; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl BinaryServer {
    /// Its process id (for `/proc/PID/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it at once (SIGKILL): no drain, no cleanup, as in a crash.
    pub fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
