//! The storage benchmark: message appends, thread reads and workflow runs per second through
//! the HTTP API, on SQLite and on PostgreSQL, with one server instance and with two on the same
//! database, in one run (`bench/storage.sh`; figures in docs/performance.md).
//!
//! Every configuration is measured in each of a few rounds, the configurations' order reversed
//! every other round, and the table reports each figure's median over the rounds, so drift on a
//! shared machine hits every configuration alike. Each configuration starts fresh server
//! processes (`storage_server`) on the same database; the rounds use fresh thread ids.
//!
//! PostgreSQL: the URL in `MASTRA_BENCH_POSTGRES_URL` (or `--postgres-url`) when given, otherwise
//! a throwaway cluster from Debian's binaries (`/usr/lib/postgresql/*/bin`, run as `postgres`
//! when we are root) in a temporary directory on a free loopback port, with `fsync` and
//! `synchronous_commit` on, as SQLite's `synchronous = FULL` is: both sides pay for durable
//! commits. Everything talks to 127.0.0.1 only.
//!
//! ```text
//! storage [--bin-dir DIR] [--rounds 3] [--duration 5] [--warmup 1] [--concurrency 16]
//!         [--workers 1] [--only sqlite|postgres] [--postgres-url URL] [--out FILE] [--smoke]
//! ```

use std::{
    fmt::Write as _,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use serde_json::{json, Value};

type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

const AGENT_ID: &str = "bench-agent";
const WORKFLOW_ID: &str = "bench-quick";
/// Turns that seed the thread the read scenario lists.
const SEED_TURNS: usize = 5;

struct Settings {
    bin_dir: PathBuf,
    rounds: usize,
    duration: Duration,
    warmup: Duration,
    concurrency: usize,
    workers: usize,
    only: Option<String>,
    postgres_url: Option<String>,
    out: Option<PathBuf>,
    smoke: bool,
}

fn parse_args() -> Result<Settings> {
    let exe = std::env::current_exe()?;
    let mut s = Settings {
        bin_dir: exe.parent().map(Path::to_path_buf).unwrap_or_default(),
        rounds: 3,
        duration: Duration::from_secs(5),
        warmup: Duration::from_secs(1),
        concurrency: 16,
        workers: 1,
        only: None,
        postgres_url: std::env::var("MASTRA_BENCH_POSTGRES_URL")
            .ok()
            .filter(|u| !u.trim().is_empty()),
        out: None,
        smoke: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--bin-dir" => s.bin_dir = value()?.into(),
            "--rounds" => s.rounds = value()?.parse()?,
            "--duration" => s.duration = Duration::from_secs_f64(value()?.parse()?),
            "--warmup" => s.warmup = Duration::from_secs_f64(value()?.parse()?),
            "--concurrency" => s.concurrency = value()?.parse()?,
            "--workers" => s.workers = value()?.parse()?,
            "--only" => s.only = Some(value()?),
            "--postgres-url" => s.postgres_url = Some(value()?),
            "--out" => s.out = Some(value()?.into()),
            "--smoke" => s.smoke = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if s.smoke {
        // Every scenario answers on every configuration; the figures mean nothing.
        s.rounds = 1;
        s.duration = Duration::from_millis(300);
        s.warmup = Duration::ZERO;
        s.concurrency = 2;
    }
    // The servers run in a temporary directory: a relative path would not find them.
    s.bin_dir = std::fs::canonicalize(&s.bin_dir)?;
    if s.rounds == 0 || s.concurrency == 0 || s.workers == 0 {
        return Err("--rounds, --concurrency and --workers must be positive".into());
    }
    Ok(s)
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn http_client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?)
}

// --- PostgreSQL ---------------------------------------------------------------------------

/// A throwaway cluster, stopped and removed on drop.
struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    run_as_postgres: bool,
}

impl PgCluster {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    /// initdb, start with durable commits, createdb; the URL of the new database.
    fn start() -> Result<(Self, String)> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|e| format!("no PostgreSQL binaries in /usr/lib/postgresql ({e}); set MASTRA_BENCH_POSTGRES_URL"))?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .max_by_key(|p| {
                p.parent()
                    .and_then(|v| v.file_name())
                    .and_then(|v| v.to_str())
                    .and_then(|v| v.parse::<u32>().ok())
                    .unwrap_or(0)
            })
            .ok_or("no initdb under /usr/lib/postgresql/*/bin; set MASTRA_BENCH_POSTGRES_URL")?;
        let dir = std::env::temp_dir().join(format!("mastra-bench-pg.{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        // initdb refuses to run as root: as root, the cluster is run by the postgres user.
        let root = Command::new("id").arg("-u").output()?.stdout.trim_ascii() == b"0";
        let cluster = PgCluster {
            bin,
            dir,
            run_as_postgres: root,
        };
        if root {
            let ok = Command::new("chown")
                .arg("postgres:")
                .arg(&cluster.dir)
                .status()?
                .success();
            if !ok {
                return Err("chown postgres: on the cluster directory failed".into());
            }
        }
        let password = format!("bench{:x}", {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            t.as_nanos() ^ u128::from(std::process::id())
        });
        let pwfile = cluster.dir.join("pwfile");
        std::fs::write(&pwfile, format!("{password}\n"))?;
        if root {
            Command::new("chown")
                .arg("postgres:")
                .arg(&pwfile)
                .status()?;
        }
        let port = free_port()?;
        let data = cluster.dir.join("data");
        let run = |mut c: Command, what: &str| -> Result<()> {
            let out = c.stdout(Stdio::null()).stderr(Stdio::piped()).output()?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!("{what}: {}", String::from_utf8_lossy(&out.stderr)).into())
            }
        };
        let mut initdb = cluster.command("initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .args(["-E", "UTF8", "--no-instructions"])
            .arg(format!("--pwfile={}", pwfile.display()));
        run(initdb, "initdb")?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c max_connections=200 \
             -c fsync=on -c synchronous_commit=on",
            cluster.dir.display()
        );
        let mut start = cluster.command("pg_ctl");
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(cluster.dir.join("server.log"))
            .args(["-w", "-o", &options, "start"]);
        run(start, "pg_ctl start")?;
        let mut createdb = cluster.command("createdb");
        createdb.arg("-h").arg(&cluster.dir).args([
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "mastra_bench",
        ]);
        run(createdb, "createdb")?;
        let url = format!("postgres://postgres:{password}@127.0.0.1:{port}/mastra_bench");
        Ok((cluster, url))
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// --- servers ------------------------------------------------------------------------------

/// A running `storage_server`, killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_server(s: &Settings, database_url: &str, workdir: &Path) -> Result<Server> {
    let port = free_port()?;
    let binary = s.bin_dir.join("storage_server");
    let child = Command::new(&binary)
        .current_dir(workdir)
        .env("PORT", port.to_string())
        .env("BENCH_WORKERS", s.workers.to_string())
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = http_client()?;
    let health = format!("{}/health", server.base);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(res) = client.get(&health).send().await {
            if res.status().is_success() {
                return Ok(server);
            }
        }
        if Instant::now() > deadline {
            return Err(format!("{} never answered {health}", binary.display()).into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// --- scenarios ----------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    /// An agent turn with memory: reads the thread's last messages, saves the user's message
    /// and the answer.
    Append,
    /// `GET /api/memory/threads/:threadId/messages` of a thread of ten messages.
    Read,
    /// `start-async` of the two-step workflow: the run's snapshots and lease in the store.
    Run,
}

const SCENARIOS: [Scenario; 3] = [Scenario::Append, Scenario::Read, Scenario::Run];

fn generate_body(thread: &str) -> String {
    json!({
        "messages": "Hello, how are you today?",
        "memory": { "thread": thread, "resource": "bench-user" },
    })
    .to_string()
}

/// One request of `scenario`; whether it succeeded.
async fn request(
    client: &reqwest::Client,
    base: &str,
    scenario: Scenario,
    tag: &str,
    task: usize,
) -> bool {
    let sent = match scenario {
        Scenario::Append => {
            client
                .post(format!("{base}/api/agents/{AGENT_ID}/generate"))
                .header("content-type", "application/json")
                .body(generate_body(&format!("append-{tag}-{task}")))
                .send()
                .await
        }
        Scenario::Read => {
            client
                .get(format!("{base}/api/memory/threads/read-{tag}/messages"))
                .send()
                .await
        }
        Scenario::Run => {
            client
                .post(format!("{base}/api/workflows/{WORKFLOW_ID}/start-async"))
                .header("content-type", "application/json")
                .body(r#"{"inputData":{"n":1}}"#)
                .send()
                .await
        }
    };
    let Ok(res) = sent else { return false };
    if !res.status().is_success() {
        return false;
    }
    match scenario {
        // A run that failed still answers 200; only a successful one counts.
        Scenario::Run => res
            .json::<Value>()
            .await
            .is_ok_and(|v| v["status"] == "success"),
        _ => res.bytes().await.is_ok(),
    }
}

#[derive(Clone, Copy, Default)]
struct Measured {
    per_sec: f64,
    errors: u64,
}

/// `concurrency` tasks send `scenario` for `warmup` then `duration`, task `i` to instance
/// `i % instances`; successes per second over `duration`.
async fn measure(
    s: &Settings,
    client: &reqwest::Client,
    bases: &[String],
    scenario: Scenario,
    tag: &str,
) -> Measured {
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(s.concurrency);
    for task in 0..s.concurrency {
        let (client, base, tag) = (
            client.clone(),
            bases[task % bases.len()].clone(),
            tag.to_owned(),
        );
        let (ok, errors, counting, stop) =
            (ok.clone(), errors.clone(), counting.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let success = request(&client, &base, scenario, &tag, task).await;
                if counting.load(Ordering::Relaxed) {
                    if success { &ok } else { &errors }.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(s.warmup).await;
    counting.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(s.duration).await;
    counting.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    Measured {
        per_sec: ok.load(Ordering::Relaxed) as f64 / elapsed,
        errors: errors.load(Ordering::Relaxed),
    }
}

/// Makes the read scenario's thread (ten messages) and returns how many messages one turn
/// saves, read back from the thread rather than assumed.
async fn seed(client: &reqwest::Client, base: &str, tag: &str) -> Result<u64> {
    let thread = format!("read-{tag}");
    for _ in 0..SEED_TURNS {
        let res = client
            .post(format!("{base}/api/agents/{AGENT_ID}/generate"))
            .header("content-type", "application/json")
            .body(generate_body(&thread))
            .send()
            .await?;
        if !res.status().is_success() {
            return Err(format!("seeding turn: {} {}", res.status(), res.text().await?).into());
        }
    }
    let list: Value = client
        .get(format!("{base}/api/memory/threads/{thread}/messages"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let total = list["total"]
        .as_u64()
        .ok_or("the message list has no total")?;
    if total == 0 || total % SEED_TURNS as u64 != 0 {
        return Err(format!("{SEED_TURNS} turns saved {total} messages").into());
    }
    Ok(total / SEED_TURNS as u64)
}

// --- the run ------------------------------------------------------------------------------

struct Config {
    backend: &'static str,
    instances: usize,
    url: String,
}

/// One round of one configuration: `[append, read, run]` and the messages a turn saves.
async fn run_config(
    s: &Settings,
    config: &Config,
    tag: &str,
    workdir: &Path,
) -> Result<([Measured; 3], u64)> {
    let mut servers = Vec::new();
    for _ in 0..config.instances {
        servers.push(start_server(s, &config.url, workdir).await?);
    }
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let client = http_client()?;
    let per_turn = seed(&client, &bases[0], tag).await?;
    if s.smoke {
        // A short window may end before a slow first request (a debug build on a loaded
        // machine) answers, so the smoke check is one request of each scenario on each
        // instance, waited for.
        for (task, base) in bases.iter().enumerate() {
            for scenario in SCENARIOS {
                if !request(&client, base, scenario, tag, task).await {
                    return Err(format!(
                        "{} x{}: a request failed on {base}",
                        config.backend, config.instances
                    )
                    .into());
                }
            }
        }
    }
    let mut out = [Measured::default(); 3];
    for (slot, scenario) in out.iter_mut().zip(SCENARIOS) {
        *slot = measure(s, &client, &bases, scenario, tag).await;
    }
    drop(servers);
    Ok((out, per_turn))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let s = parse_args()?;
    let workdir = std::env::temp_dir().join(format!("mastra-bench-storage.{}", std::process::id()));
    std::fs::create_dir_all(&workdir)?;
    let want = |backend: &str| s.only.as_deref().is_none_or(|only| only == backend);

    let mut configs = Vec::new();
    if want("sqlite") {
        let url = format!("sqlite://{}", workdir.join("bench.db").display());
        for instances in [1, 2] {
            configs.push(Config {
                backend: "SQLite",
                instances,
                url: url.clone(),
            });
        }
    }
    let mut cluster = None;
    let mut pg_source = "";
    if want("postgres") {
        let url = match &s.postgres_url {
            Some(url) => {
                pg_source = "MASTRA_BENCH_POSTGRES_URL";
                url.clone()
            }
            None => {
                let (c, url) = PgCluster::start()?;
                cluster = Some(c);
                pg_source = "throwaway cluster, fsync on";
                url
            }
        };
        for instances in [1, 2] {
            configs.push(Config {
                backend: "PostgreSQL",
                instances,
                url: url.clone(),
            });
        }
    }

    // results[config][scenario] over the rounds.
    let mut results = vec![[Vec::new(), Vec::new(), Vec::new()]; configs.len()];
    let mut errors = vec![0u64; configs.len()];
    let mut per_turn = vec![2u64; configs.len()];
    let outcome: Result<()> = async {
        for round in 0..s.rounds {
            let mut order: Vec<usize> = (0..configs.len()).collect();
            if round % 2 == 1 {
                order.reverse();
            }
            for i in order {
                let config = &configs[i];
                let tag = format!("{}-r{round}-c{i}", std::process::id());
                eprintln!(
                    "round {}/{}: {} x{} ...",
                    round + 1,
                    s.rounds,
                    config.backend,
                    config.instances
                );
                let (measured, turn) = run_config(&s, config, &tag, &workdir).await?;
                per_turn[i] = turn;
                for (k, m) in measured.iter().enumerate() {
                    results[i][k].push(m.per_sec);
                    errors[i] += m.errors;
                }
            }
        }
        Ok(())
    }
    .await;
    drop(cluster);
    let _ = std::fs::remove_dir_all(&workdir);
    outcome?;

    // Each cell: the median over the rounds, then the lowest and highest round.
    let cell = |values: &mut Vec<f64>, scale: f64| {
        let mid = median(values) * scale;
        let (lo, hi) = (values[0] * scale, values[values.len() - 1] * scale);
        format!("{mid:.0} ({lo:.0}–{hi:.0})")
    };
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| store | instances | messages appended/s | thread reads/s | workflow runs/s | failed requests |"
    );
    let _ = writeln!(table, "|---|---:|---:|---:|---:|---:|");
    for (i, config) in configs.iter().enumerate() {
        let [appends, reads, runs] = &mut results[i];
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} |",
            config.backend,
            config.instances,
            cell(appends, per_turn[i] as f64),
            cell(reads, 1.0),
            cell(runs, 1.0),
            errors[i]
        );
    }
    let _ =
        writeln!(
        table,
        "\nMedian over the rounds (lowest–highest round). Appends count messages: an agent turn \
         saved {} (the user's and the answer). Settings: {} rounds x {} s per scenario (warm-up \
         {} s), {} concurrent requests, {} worker(s) per instance; PostgreSQL: {}.",
        per_turn.first().copied().unwrap_or(0),
        s.rounds,
        s.duration.as_secs_f64(),
        s.warmup.as_secs_f64(),
        s.concurrency,
        s.workers,
        if pg_source.is_empty() { "not run" } else { pg_source }
    );
    print!("{table}");
    if let Some(out) = &s.out {
        std::fs::write(out, &table)?;
    }
    if s.smoke {
        let failed: u64 = errors.iter().sum();
        if failed > 0 {
            return Err(format!("{failed} requests failed").into());
        }
    }
    Ok(())
}
