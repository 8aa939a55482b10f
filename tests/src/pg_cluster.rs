//! A private PostgreSQL cluster for one test, from the binaries `tests/run.sh` names
//! (`MASTRA_TEST_POSTGRES_BIN`), run as `MASTRA_TEST_POSTGRES_RUN_AS` when set (PostgreSQL
//! refuses root). A test that stops and starts its database (the outage test) or needs TLS gets
//! its own, so tests sharing the run's cluster are not disturbed. Listens on 127.0.0.1 only;
//! stopped and deleted on drop.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use crate::stores::POSTGRES_URL_ENV;

/// The variable naming the directory of `initdb` and `pg_ctl`.
pub const POSTGRES_BIN_ENV: &str = "MASTRA_TEST_POSTGRES_BIN";

/// The variable naming the user PostgreSQL's programs run as (empty: this process's user).
pub const POSTGRES_RUN_AS_ENV: &str = "MASTRA_TEST_POSTGRES_RUN_AS";

/// The password of the cluster's `postgres` user.
pub const PASSWORD: &str = "cluster-secret";

/// A running private cluster.
#[derive(Debug)]
pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    run_as: Option<String>,
    port: u16,
    extra: Vec<String>,
}

/// TLS files for a cluster: the server's certificate and key (PEM).
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// The certificate chain the server presents.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

impl PgCluster {
    /// Initialises and starts a cluster with password authentication over TCP; with `tls`,
    /// `ssl = on` with those files and TCP connections accepted only over TLS. Panics, saying what to set, when the binaries are unknown.
    pub fn start(label: &str, tls: Option<&ServerTls>) -> PgCluster {
        let bin = match std::env::var(POSTGRES_BIN_ENV) {
            Ok(bin) if !bin.is_empty() => PathBuf::from(bin),
            _ => panic!(
                "{POSTGRES_BIN_ENV} is not set, so this test cannot start its own PostgreSQL \
                 cluster. Run tests/run.sh (it sets {POSTGRES_BIN_ENV}, {POSTGRES_URL_ENV} and \
                 {POSTGRES_RUN_AS_ENV}), or set {POSTGRES_BIN_ENV}=/usr/lib/postgresql/<version>/bin \
                 (and {POSTGRES_RUN_AS_ENV}=postgres when running as root)."
            ),
        };
        let run_as = std::env::var(POSTGRES_RUN_AS_ENV)
            .ok()
            .filter(|user| !user.is_empty());
        let dir = crate::temp_dir(&format!("pg-{label}"));
        let pwfile = dir.join("pwfile");
        std::fs::write(&pwfile, format!("{PASSWORD}\n")).expect("write the password file");
        let mut extra = Vec::new();
        if let Some(tls) = tls {
            let cert = dir.join("server.crt");
            let key = dir.join("server.key");
            std::fs::copy(&tls.cert, &cert).expect("copy the server certificate");
            std::fs::copy(&tls.key, &key).expect("copy the server key");
            set_mode(&key, 0o600);
            extra = vec![
                "-c ssl=on".to_owned(),
                format!("-c ssl_cert_file={}", cert.display()),
                format!("-c ssl_key_file={}", key.display()),
            ];
        }
        if let Some(user) = &run_as {
            run(Command::new("chown").arg("-R").arg(user).arg(&dir));
        }
        let cluster = PgCluster {
            port: free_port(),
            dir,
            bin,
            run_as,
            extra,
        };
        cluster.pg(
            "initdb",
            &[
                "-D",
                &cluster.data().display().to_string(),
                "-U",
                "postgres",
                &format!("--pwfile={}", pwfile.display()),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
        );
        if tls.is_some() {
            // TLS only: a connection without it is refused, so one that works used TLS.
            std::fs::write(
                cluster.data().join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
            )
            .expect("write pg_hba.conf");
        }
        cluster.start_again();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs `program` of the cluster's binaries with `args`, as its user; panics with its
    /// output when it fails.
    fn pg(&self, program: &str, args: &[&str]) -> Output {
        let path = self.bin.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        };
        command.args(args);
        run(&mut command)
    }

    /// `postgres://postgres:…@127.0.0.1:PORT/postgres`, with `params` (`sslmode=…`) appended.
    pub fn url(&self, params: &str) -> String {
        let base = format!(
            "postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres",
            self.port
        );
        if params.is_empty() {
            base
        } else {
            format!("{base}?{params}")
        }
    }

    /// The same URL with `localhost` as the host (the name a certificate can carry).
    pub fn localhost_url(&self, params: &str) -> String {
        self.url(params).replace("@127.0.0.1:", "@localhost:")
    }

    /// Stops the server (`pg_ctl stop -m fast`: sessions are ended, as a crash or a failover
    /// ends them), waiting until it is down.
    pub fn stop(&self) {
        self.pg(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        );
    }

    /// Freezes the server (`SIGSTOP` to the postmaster and each of its children, by process
    /// id): connections stay open and new ones are accepted by the kernel, but nothing answers,
    /// as with a network partition or a hung host.
    pub fn freeze(&self) {
        let pids = self.processes();
        assert!(!pids.is_empty(), "the cluster is not running");
        for pid in pids {
            run(Command::new("kill").args(["-STOP", &pid.to_string()]));
        }
    }

    /// Undoes [`PgCluster::freeze`] (`SIGCONT`, by process id).
    pub fn thaw(&self) {
        for pid in self.processes() {
            run(Command::new("kill").args(["-CONT", &pid.to_string()]));
        }
    }

    /// The postmaster's process id (from `postmaster.pid`) and its children's; none when the
    /// server is not running.
    fn processes(&self) -> Vec<u32> {
        let Some(postmaster) = std::fs::read_to_string(self.data().join("postmaster.pid"))
            .ok()
            .and_then(|pidfile| pidfile.lines().next()?.trim().parse::<u32>().ok())
        else {
            return Vec::new();
        };
        let mut pids = vec![postmaster];
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // `pid (comm) state ppid ...`: the command may hold spaces, so read after its `)`.
            let parent = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|ppid| ppid.parse::<u32>().ok());
            if parent == Some(postmaster) {
                pids.push(pid);
            }
        }
        pids
    }

    /// Starts the server on its port, waiting until it accepts connections.
    pub fn start_again(&self) {
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        for extra in &self.extra {
            options.push(' ');
            options.push_str(extra);
        }
        self.pg(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-l",
                &self.dir.join("server.log").display().to_string(),
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // A test that failed while the server was frozen leaves it stopped: continue it first.
        for pid in self.processes() {
            let _ = Command::new("kill")
                .args(["-CONT", &pid.to_string()])
                .output();
        }
        let _ = self.pg_quiet(&[
            "-D",
            &self.data().display().to_string(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl PgCluster {
    fn pg_quiet(&self, args: &[&str]) -> std::io::Result<Output> {
        let path = self.bin.join("pg_ctl");
        match &self.run_as {
            Some(user) => Command::new("runuser")
                .args(["-u", user, "--"])
                .arg(path)
                .args(args)
                .output(),
            None => Command::new(path).args(args).output(),
        }
    }
}

fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .expect("set the file's mode");
}
