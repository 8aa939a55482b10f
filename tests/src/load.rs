//! A bounded load generator for soak tests: a fixed number of keep-alive connections, each a
//! task sending a mix of requests back to back for a given time, counting every answer. Plus
//! the resident memory of a server process, read from `/proc`.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use reqwest::Method;

/// One kind of request in a mix.
#[derive(Debug, Clone)]
pub struct Shot {
    /// A short name for the report.
    pub name: &'static str,
    /// The method.
    pub method: Method,
    /// The path (and query).
    pub path: String,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// A JSON body, sent with `content-type: application/json`.
    pub json: Option<serde_json::Value>,
}

impl Shot {
    /// `GET path`.
    pub fn get(name: &'static str, path: &str) -> Shot {
        Shot {
            name,
            method: Method::GET,
            path: path.to_owned(),
            headers: Vec::new(),
            json: None,
        }
    }

    /// `POST path` with a JSON body.
    pub fn post(name: &'static str, path: &str, json: serde_json::Value) -> Shot {
        Shot {
            json: Some(json),
            method: Method::POST,
            ..Shot::get(name, path)
        }
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(mut self, token: &str) -> Shot {
        self.headers
            .push(("authorization", format!("Bearer {token}")));
        self
    }
}

/// What a load run saw.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Requests answered (any status).
    pub answered: u64,
    /// Answers with a 2xx status.
    pub ok: u64,
    /// Answers with any other status.
    pub non_2xx: u64,
    /// Requests that got no answer (connection errors, timeouts, unreadable bodies).
    pub errors: u64,
    /// How long the run took.
    pub elapsed: Duration,
    /// The slowest answer.
    pub slowest: Duration,
    /// The first few failures, for the assertion message.
    pub samples: Vec<String>,
    /// Answers per shot name, in mix order.
    pub per_shot: Vec<(&'static str, u64)>,
}

impl LoadReport {
    /// Answers per second.
    pub fn rate(&self) -> f64 {
        self.answered as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

struct Counters {
    answered: AtomicU64,
    ok: AtomicU64,
    non_2xx: AtomicU64,
    errors: AtomicU64,
    slowest_us: AtomicU64,
    per_shot: Vec<AtomicU64>,
    samples: Mutex<Vec<String>>,
}

impl Counters {
    fn sample(&self, text: String) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() < 5 {
            samples.push(text);
        }
    }
}

/// Sends `mix` round-robin from `connections` keep-alive connections to `base` for
/// `duration`, and reports every answer.
pub async fn run(base: &str, mix: &[Shot], connections: usize, duration: Duration) -> LoadReport {
    let counters = Arc::new(Counters {
        answered: AtomicU64::new(0),
        ok: AtomicU64::new(0),
        non_2xx: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        slowest_us: AtomicU64::new(0),
        per_shot: mix.iter().map(|_| AtomicU64::new(0)).collect(),
        samples: Mutex::new(Vec::new()),
    });
    let mix: Arc<[Shot]> = mix.to_vec().into();
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|task| {
            // One client per task, keeping one connection alive: `connections` sockets in all.
            let client = reqwest::Client::builder()
                .no_proxy()
                .pool_max_idle_per_host(1)
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client");
            let base = base.to_owned();
            let mix = Arc::clone(&mix);
            let counters = Arc::clone(&counters);
            tokio::spawn(async move {
                let mut i = task;
                while Instant::now() < deadline {
                    let index = i % mix.len();
                    i += 1;
                    let shot = &mix[index];
                    let mut request =
                        client.request(shot.method.clone(), format!("{base}{}", shot.path));
                    for (name, value) in &shot.headers {
                        request = request.header(*name, value);
                    }
                    if let Some(json) = &shot.json {
                        request = request.json(json);
                    }
                    let sent = Instant::now();
                    let result = match request.send().await {
                        Ok(res) => {
                            let status = res.status();
                            res.bytes().await.map(|body| (status, body))
                        }
                        Err(e) => Err(e),
                    };
                    let took = sent.elapsed();
                    counters
                        .slowest_us
                        .fetch_max(took.as_micros() as u64, Ordering::Relaxed);
                    match result {
                        Ok((status, body)) => {
                            counters.answered.fetch_add(1, Ordering::Relaxed);
                            counters.per_shot[index].fetch_add(1, Ordering::Relaxed);
                            if status.is_success() {
                                counters.ok.fetch_add(1, Ordering::Relaxed);
                            } else {
                                counters.non_2xx.fetch_add(1, Ordering::Relaxed);
                                counters.sample(format!(
                                    "{} {}: {status} {}",
                                    shot.method,
                                    shot.path,
                                    String::from_utf8_lossy(&body)
                                ));
                            }
                        }
                        Err(error) => {
                            counters.errors.fetch_add(1, Ordering::Relaxed);
                            counters.sample(format!("{} {}: {error}", shot.method, shot.path));
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("load task");
    }
    let samples = std::mem::take(&mut *counters.samples.lock().unwrap_or_else(|e| e.into_inner()));
    LoadReport {
        answered: counters.answered.load(Ordering::Relaxed),
        ok: counters.ok.load(Ordering::Relaxed),
        non_2xx: counters.non_2xx.load(Ordering::Relaxed),
        errors: counters.errors.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        slowest: Duration::from_micros(counters.slowest_us.load(Ordering::Relaxed)),
        samples,
        per_shot: mix
            .iter()
            .zip(&counters.per_shot)
            .map(|(shot, n)| (shot.name, n.load(Ordering::Relaxed)))
            .collect(),
    }
}

/// The resident set size of process `pid`, in bytes (`VmRSS` in `/proc/PID/status`).
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or_else(|| panic!("no VmRSS for {pid}"))
}

/// Seconds from environment variable `var`, else `default`.
pub fn secs_from_env(var: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(var)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default),
    )
}
