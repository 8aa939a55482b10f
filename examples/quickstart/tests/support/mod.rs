//! Runs an example binary the way the README does and speaks plain HTTP/1.1 to it, with no
//! client library: shared by the examples' own CLI tests (the streaming example includes this
//! file with `#[path]`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Generous: a loaded CI machine can take seconds to start a debug binary.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A running example binary on a free loopback port, in a directory of its own (so the
/// SQLite file it may create lands there); killed on drop.
pub struct Example {
    child: Child,
    /// The port it serves on.
    pub port: u16,
    dir: PathBuf,
}

impl Example {
    /// Starts `bin` with `PORT` set to a free port and waits until `/health` answers 200.
    pub fn start(bin: &str) -> Example {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .expect("a free loopback port");
        let dir = std::env::temp_dir().join(format!("example-cli-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a working directory");
        let child = Command::new(bin)
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .env("MASTRA_HOST", "127.0.0.1")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the example binary");
        let example = Example { child, port, dir };
        let started = Instant::now();
        while example.get("/health").map(|(status, _)| status) != Some(200) {
            assert!(
                started.elapsed() < DEADLINE,
                "no /health within {DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        example
    }

    /// One `GET` over a fresh connection: the status and the body, or `None` when nothing
    /// answers.
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(DEADLINE)).ok()?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let status = response.split(' ').nth(1)?.parse().ok()?;
        let body = response.split_once("\r\n\r\n")?.1.to_owned();
        Some((status, body))
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let signalled = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(signalled.success());
        let started = Instant::now();
        loop {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                return exit;
            }
            assert!(started.elapsed() < DEADLINE, "still running after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
