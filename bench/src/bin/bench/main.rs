//! The benchmark driver: starts the framework and the baseline side by side, loads each with
//! `wrk` in interleaved rounds, and prints requests/s, p50, p99 and peak RSS with the ratio
//! framework / baseline for every scenario. `--smoke` only checks that every scenario answers 2xx.
//!
//! Run it through `bench/run.sh`, which builds the release binaries first.

use std::{
    fmt::Write as _,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

mod compile;

use mastra_bench::{
    extra_route_path, sse_body, token, CREATE_BODY, EXTRA_ROUTES, PROTECTED_PATH, SSE_FRAMES,
};

#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error("{0}")]
    Setup(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
}

type Result<T> = std::result::Result<T, BenchError>;

fn setup<T>(message: impl Into<String>) -> Result<T> {
    Err(BenchError::Setup(message.into()))
}

/// Settings from the command line.
struct Options {
    smoke: bool,
    rounds: usize,
    duration: u64,
    warmup: u64,
    connections: usize,
    bin_dir: PathBuf,
    out: Option<PathBuf>,
    only: Vec<String>,
    skip_compile: bool,
}

fn parse_args() -> Result<Options> {
    let mut options = Options {
        smoke: false,
        rounds: 3,
        duration: 8,
        warmup: 2,
        connections: 32,
        bin_dir: PathBuf::from("target/release"),
        out: None,
        only: Vec::new(),
        skip_compile: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| BenchError::Setup(format!("{name} needs a value")))
        };
        match arg.as_str() {
            "--smoke" => options.smoke = true,
            "--rounds" => options.rounds = parse(&value("--rounds")?)?,
            "--duration" => options.duration = parse(&value("--duration")?)?,
            "--warmup" => options.warmup = parse(&value("--warmup")?)?,
            "--connections" => options.connections = parse(&value("--connections")?)?,
            "--bin-dir" => options.bin_dir = PathBuf::from(value("--bin-dir")?),
            "--out" => options.out = Some(PathBuf::from(value("--out")?)),
            "--only" => options.only.push(value("--only")?),
            "--skip-compile" => options.skip_compile = true,
            other => return setup(format!("unknown argument {other}; see bench/run.sh")),
        }
    }
    // The servers run with their own working directory, so a relative bin dir (the default
    // `target/...` of a clone without CARGO_TARGET_DIR) must be resolved against ours first.
    if options.bin_dir.is_relative() {
        options.bin_dir = std::env::current_dir()?.join(&options.bin_dir);
    }
    Ok(options)
}

fn parse<T: std::str::FromStr>(text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| BenchError::Setup(format!("not a number: {text}")))
}

/// One load scenario: the same request against both servers.
struct Scenario {
    name: &'static str,
    method: &'static str,
    path: String,
    body: Option<String>,
    headers: Vec<(String, String)>,
    extra_routes: usize,
    /// An event stream, whose frames the smoke run counts.
    sse: bool,
}

fn scenarios() -> Result<Vec<Scenario>> {
    let bearer = format!(
        "Bearer {}",
        token().map_err(|e| BenchError::Setup(e.to_string()))?
    );
    let json = || vec![("content-type".to_owned(), "application/json".to_owned())];
    Ok(vec![
        Scenario {
            name: "GET /items/:itemId",
            method: "GET",
            path: "/items/1".into(),
            body: None,
            headers: vec![],
            extra_routes: 0,
            sse: false,
        },
        Scenario {
            name: "POST /items (validated body)",
            method: "POST",
            path: "/items".into(),
            body: Some(CREATE_BODY.into()),
            headers: json(),
            extra_routes: 0,
            sse: false,
        },
        Scenario {
            name: "GET protected (HS256 JWT)",
            method: "GET",
            path: PROTECTED_PATH.into(),
            body: None,
            headers: vec![("authorization".into(), bearer)],
            extra_routes: 0,
            sse: false,
        },
        Scenario {
            name: "GET /api/openapi.json",
            method: "GET",
            path: "/api/openapi.json".into(),
            body: None,
            headers: vec![],
            extra_routes: 0,
            sse: false,
        },
        Scenario {
            name: "SSE, 1 000 chunks (offline model)",
            method: "POST",
            path: "/api/agents/my-agent/stream".into(),
            body: Some(sse_body()),
            headers: json(),
            extra_routes: 0,
            sse: true,
        },
        Scenario {
            name: "GET with 1 000 routes registered",
            method: "GET",
            path: extra_route_path(EXTRA_ROUTES - 1).replace("{itemId}", "1"),
            body: None,
            headers: vec![],
            extra_routes: EXTRA_ROUTES,
            sse: false,
        },
    ])
}

/// A server process; killed on drop.
struct Server {
    child: Child,
    port: u16,
    started: Instant,
    ready_after: Duration,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Resident set size now and at its peak, in KiB (from /proc).
    fn rss_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts `binary` pinned to core 0 (when `taskset` exists) and waits for `/health`.
async fn start(
    binary: &Path,
    extra_routes: usize,
    openapi_file: Option<&Path>,
    workdir: &Path,
) -> Result<Server> {
    let port = free_port()?;
    let mut command = if which("taskset") {
        let mut c = Command::new("taskset");
        c.arg("-c").arg("0").arg(binary);
        c
    } else {
        Command::new(binary)
    };
    command
        .current_dir(workdir)
        .env("PORT", port.to_string())
        .env("BENCH_WORKERS", "1")
        .env("BENCH_EXTRA_ROUTES", extra_routes.to_string())
        .env("RUST_LOG", "warn")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(file) = openapi_file {
        command.env("BENCH_OPENAPI_FILE", file);
    }
    let started = Instant::now();
    let child = command.spawn()?;
    let client = http_client()?;
    let url = format!("http://127.0.0.1:{port}/health");
    let deadline = started + Duration::from_secs(30);
    loop {
        if let Ok(res) = client.get(&url).send().await {
            if res.status().is_success() {
                break;
            }
        }
        if Instant::now() > deadline {
            return setup(format!("{} never answered {url}", binary.display()));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(Server {
        child,
        port,
        started,
        ready_after: started.elapsed(),
    })
}

fn which(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn http_client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?)
}

async fn send(
    client: &reqwest::Client,
    server: &Server,
    scenario: &Scenario,
) -> Result<(u16, bytes::Bytes)> {
    let method = reqwest::Method::from_bytes(scenario.method.as_bytes())
        .map_err(|e| BenchError::Setup(e.to_string()))?;
    let mut request = client.request(method, server.url(&scenario.path));
    for (name, value) in &scenario.headers {
        request = request.header(name, value);
    }
    if let Some(body) = &scenario.body {
        request = request.body(body.clone());
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.bytes().await?))
}

/// What one wrk run measured.
#[derive(Debug, Clone, Copy, Default)]
struct Measure {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    errors: u64,
}

fn lua_script(index: usize, scenario: &Scenario, dir: &Path) -> Result<PathBuf> {
    let mut lua = format!("wrk.method = {:?}\n", scenario.method);
    if let Some(body) = &scenario.body {
        lua.push_str(&format!("wrk.body = {}\n", lua_string(body)));
    }
    for (name, value) in &scenario.headers {
        lua.push_str(&format!(
            "wrk.headers[{:?}] = {}\n",
            name,
            lua_string(value)
        ));
    }
    let path = dir.join(format!("scenario-{index}.lua"));
    std::fs::write(&path, lua)?;
    Ok(path)
}

fn lua_string(text: &str) -> String {
    // Long brackets need no escaping; pick a level the text does not contain.
    let mut level = String::new();
    while text.contains(&format!("]{level}]")) {
        level.push('=');
    }
    format!("[{level}[{text}]{level}]")
}

fn wrk(url: &str, script: &Path, seconds: u64, connections: usize) -> Result<Measure> {
    let mut command = if which("taskset") {
        let mut c = Command::new("taskset");
        c.arg("-c").arg("1").arg("wrk");
        c
    } else {
        Command::new("wrk")
    };
    let output = command
        .args(["-t1", "--latency", "--timeout", "10s"])
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg("-s")
        .arg(script)
        .arg(url)
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return setup(format!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    parse_wrk(&text).ok_or_else(|| BenchError::Setup(format!("cannot read wrk output:\n{text}")))
}

fn parse_wrk(text: &str) -> Option<Measure> {
    let mut measure = Measure::default();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            measure.rps = rest.trim().parse().ok()?;
        } else if let Some(rest) = line.strip_prefix("50%") {
            measure.p50_us = duration_us(rest.trim())?;
        } else if let Some(rest) = line.strip_prefix("99%") {
            measure.p99_us = duration_us(rest.trim())?;
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            measure.errors += rest.trim().parse::<u64>().ok()?;
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            measure.errors += rest
                .split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    (measure.rps > 0.0).then_some(measure)
}

fn duration_us(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.trim().parse().ok()?;
    Some(match unit.trim() {
        "us" => value,
        "ms" => value * 1_000.0,
        "s" => value * 1_000_000.0,
        "m" => value * 60_000_000.0,
        _ => return None,
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

struct Row {
    name: &'static str,
    framework: Vec<Measure>,
    baseline: Vec<Measure>,
    framework_peak_kib: u64,
    baseline_peak_kib: u64,
}

async fn run_load(options: &Options, workdir: &Path, openapi_file: &Path) -> Result<Vec<Row>> {
    let framework_bin = options.bin_dir.join("framework");
    let baseline_bin = options.bin_dir.join("baseline");
    let mut rows = Vec::new();
    for (index, scenario) in scenarios()?.into_iter().enumerate() {
        if !options.only.is_empty() && !options.only.iter().any(|o| scenario.name.contains(o)) {
            continue;
        }
        eprintln!("scenario: {}", scenario.name);
        let framework = start(&framework_bin, scenario.extra_routes, None, workdir).await?;
        let baseline = start(
            &baseline_bin,
            scenario.extra_routes,
            Some(openapi_file),
            workdir,
        )
        .await?;
        let script = lua_script(index, &scenario, workdir)?;
        let mut row = Row {
            name: scenario.name,
            framework: Vec::new(),
            baseline: Vec::new(),
            framework_peak_kib: 0,
            baseline_peak_kib: 0,
        };
        for round in 0..options.rounds {
            // Alternate which side goes first so drift in the machine hits both equally.
            let order: [(&Server, bool); 2] = if round % 2 == 0 {
                [(&framework, true), (&baseline, false)]
            } else {
                [(&baseline, false), (&framework, true)]
            };
            for (server, is_framework) in order {
                let url = server.url(&scenario.path);
                wrk(&url, &script, options.warmup, options.connections)?;
                let measure = wrk(&url, &script, options.duration, options.connections)?;
                if measure.errors > 0 {
                    return setup(format!(
                        "{}: {} non-2xx or socket errors against {}",
                        scenario.name,
                        measure.errors,
                        if is_framework {
                            "framework"
                        } else {
                            "baseline"
                        }
                    ));
                }
                if is_framework {
                    row.framework.push(measure);
                } else {
                    row.baseline.push(measure);
                }
            }
        }
        row.framework_peak_kib = framework.rss_kib().1;
        row.baseline_peak_kib = baseline.rss_kib().1;
        rows.push(row);
    }
    Ok(rows)
}

/// Cold start: process spawn to the first successful `/health`, median of `runs`.
async fn cold_start(binary: &Path, workdir: &Path, runs: usize) -> Result<(f64, u64)> {
    let mut times = Vec::new();
    let mut idle_rss = 0;
    for _ in 0..runs {
        let server = start(binary, 0, None, workdir).await?;
        times.push(server.ready_after.as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(200)).await;
        idle_rss = idle_rss.max(server.rss_kib().0);
        let _ = server.started;
    }
    Ok((median(&mut times), idle_rss))
}

fn ratio(framework: f64, baseline: f64) -> f64 {
    if baseline > 0.0 {
        framework / baseline
    } else {
        0.0
    }
}

fn report(
    rows: &[Row],
    cold: &[(&str, f64, u64)],
    compile: Option<&compile::CostReport>,
    options: &Options,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| scenario | framework req/s | baseline req/s | ratio | p50 fw / base (µs) | p99 fw / base (µs) | peak RSS fw / base (MiB) |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let rps = |m: &[Measure]| median(&mut m.iter().map(|x| x.rps).collect::<Vec<_>>());
        let p50 = |m: &[Measure]| median(&mut m.iter().map(|x| x.p50_us).collect::<Vec<_>>());
        let p99 = |m: &[Measure]| median(&mut m.iter().map(|x| x.p99_us).collect::<Vec<_>>());
        // The ratio is the median of per-round ratios, each round measured back to back.
        let mut ratios: Vec<f64> = row
            .framework
            .iter()
            .zip(&row.baseline)
            .map(|(f, b)| ratio(f.rps, b.rps))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.0} | **{:.3}** | {:.0} / {:.0} | {:.0} / {:.0} | {:.1} / {:.1} |",
            row.name,
            rps(&row.framework),
            rps(&row.baseline),
            median(&mut ratios),
            p50(&row.framework),
            p50(&row.baseline),
            p99(&row.framework),
            p99(&row.baseline),
            row.framework_peak_kib as f64 / 1024.0,
            row.baseline_peak_kib as f64 / 1024.0,
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| process | cold start to first 200 (ms, median) | idle RSS (MiB) |"
    );
    let _ = writeln!(out, "|---|---:|---:|");
    for (name, ms, rss) in cold {
        let _ = writeln!(out, "| {name} | {ms:.1} | {:.1} |", *rss as f64 / 1024.0);
    }
    if let Some(cost) = compile {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", compile::cost_line(cost));
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Settings: {} rounds x {} s (warm-up {} s), {} connections, wrk -t1 on core 1, servers with 1 worker on core 0.",
        options.rounds, options.duration, options.warmup, options.connections
    );
    out
}

async fn smoke(options: &Options, workdir: &Path, openapi_file: &Path) -> Result<()> {
    let client = http_client()?;
    for scenario in scenarios()? {
        for (label, binary) in [("framework", "framework"), ("baseline", "baseline")] {
            let server = start(
                &options.bin_dir.join(binary),
                scenario.extra_routes,
                Some(openapi_file),
                workdir,
            )
            .await?;
            for _ in 0..3 {
                let (status, body) = send(&client, &server, &scenario).await?;
                if !(200..300).contains(&status) {
                    return setup(format!(
                        "smoke: {} on {label} answered {status}",
                        scenario.name
                    ));
                }
                if body.is_empty() {
                    return setup(format!(
                        "smoke: {} on {label} sent an empty body",
                        scenario.name
                    ));
                }
                if scenario.sse {
                    let frames = String::from_utf8_lossy(&body).matches("data: ").count();
                    if frames != SSE_FRAMES + 1 {
                        return setup(format!(
                            "smoke: {} on {label} sent {frames} frames, not {} chunks and [DONE]",
                            scenario.name, SSE_FRAMES
                        ));
                    }
                }
            }
            println!("smoke ok: {} ({label})", scenario.name);
        }
    }
    for binary in ["framework", "baseline"] {
        let (ms, _) = cold_start(&options.bin_dir.join(binary), workdir, 1).await?;
        println!("smoke ok: cold start ({binary}) {ms:.0} ms");
    }
    Ok(())
}

async fn fetch_openapi(options: &Options, workdir: &Path) -> Result<PathBuf> {
    let server = start(&options.bin_dir.join("framework"), 0, None, workdir).await?;
    let client = http_client()?;
    let response = client.get(server.url("/api/openapi.json")).send().await?;
    if !response.status().is_success() {
        return setup(format!(
            "framework /api/openapi.json answered {}",
            response.status()
        ));
    }
    let path = workdir.join("openapi.json");
    std::fs::write(&path, response.bytes().await?)?;
    Ok(path)
}

async fn run(options: Options) -> Result<()> {
    for binary in ["framework", "baseline"] {
        if !options.bin_dir.join(binary).exists() {
            return setup(format!(
                "{} is missing; build first (bench/run.sh does)",
                options.bin_dir.join(binary).display()
            ));
        }
    }
    let workdir = std::env::temp_dir().join(format!("mastra-bench-{}", std::process::id()));
    std::fs::create_dir_all(&workdir)?;
    let openapi_file = fetch_openapi(&options, &workdir).await?;
    if options.smoke {
        let result = smoke(&options, &workdir, &openapi_file).await;
        let _ = std::fs::remove_dir_all(&workdir);
        return result;
    }
    if !which("wrk") {
        return setup("wrk is not installed (bench/run.sh installs Debian's wrk)");
    }
    let rows = run_load(&options, &workdir, &openapi_file).await?;
    let mut cold = Vec::new();
    for (label, binary) in [
        ("framework (quickstart + auth)", "framework"),
        ("baseline (raw actix-web)", "baseline"),
    ] {
        let (ms, rss) = cold_start(&options.bin_dir.join(binary), &workdir, 10).await?;
        cold.push((label, ms, rss));
    }
    let compile = if options.skip_compile {
        None
    } else {
        eprintln!("compile cost: building 200-route crates");
        Some(compile::compile_cost(
            &std::env::current_dir()?,
            &workdir,
            3,
            false,
        )?)
    };
    let text = report(&rows, &cold, compile.as_ref(), &options);
    println!("{text}");
    if let Some(out) = &options.out {
        std::fs::write(out, &text)?;
    }
    let _ = std::fs::remove_dir_all(&workdir);
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // For bench/callgrind.sh: the token the JWT scenario sends.
    if std::env::args().nth(1).as_deref() == Some("--print-token") {
        return match token() {
            Ok(token) => {
                println!("{token}");
                std::process::ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("bench: {error}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    // `compile-cost` and `compile-clean` (bench/compile.sh): compile times only, no servers.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(command @ ("compile-cost" | "compile-clean")) = args.first().map(String::as_str) {
        return match compile::main(command, &args[1..]) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("bench: {error}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let result = match parse_args() {
        Ok(options) => run(options).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_latency_and_throughput() {
        let text = "  Latency Distribution\n     50%  152.00us\n     75%  1.20ms\n     90%  2.00ms\n     99%    1.05s\n  12345 requests in 8.00s\nRequests/sec:   1543.21\n";
        let m = parse_wrk(text).unwrap();
        assert_eq!(m.rps, 1543.21);
        assert_eq!(m.p50_us, 152.0);
        assert_eq!(m.p99_us, 1_050_000.0);
        assert_eq!(m.errors, 0);
        let failing = format!("{text}  Non-2xx or 3xx responses: 7\n  Socket errors: connect 0, read 2, write 0, timeout 1\n");
        assert_eq!(parse_wrk(&failing).unwrap().errors, 10);
    }

    #[test]
    fn lua_strings_survive_brackets() {
        assert_eq!(lua_string("a]]b"), "[=[a]]b]=]");
    }
}
