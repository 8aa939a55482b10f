//! Compile-time measurements, both sides in one run, interleaved round by round:
//!
//! - `compile-cost`: the incremental rebuild of a generated crate of 200 `#[api_route]`
//!   functions against the same crate written with actix-web's `#[get]`/`#[post]` (what the
//!   full run reports too), on the default features and on the routes-only ones, and of a
//!   crate with no routes on each side (the fixed cost of the dependency);
//! - `compile-clean`: the clean build (fresh target directory) of `examples/routes-only`
//!   against `bench/compile-plain`, the same application on plain actix-web, apistos and
//!   jsonwebtoken, with the number of packages each depends on and units each build compiles.
//!
//! Neither runs in CI; `bench/compile.sh` runs both.

use std::{
    collections::BTreeSet,
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use super::{median, ratio, setup, BenchError, Result};

/// Median seconds of each side and the median of the per-round ratios.
pub(crate) struct Pair {
    pub(crate) ours: f64,
    pub(crate) theirs: f64,
    pub(crate) ratio: f64,
    /// Every round's (ours, theirs), in order.
    pub(crate) rounds: Vec<(f64, f64)>,
}

impl Pair {
    fn from_rounds(rounds: Vec<(f64, f64)>) -> Self {
        let mut ours: Vec<f64> = rounds.iter().map(|r| r.0).collect();
        let mut theirs: Vec<f64> = rounds.iter().map(|r| r.1).collect();
        let mut ratios: Vec<f64> = rounds.iter().map(|r| ratio(r.0, r.1)).collect();
        Self {
            ours: median(&mut ours),
            theirs: median(&mut theirs),
            ratio: median(&mut ratios),
            rounds,
        }
    }

    fn rounds_text(&self) -> String {
        self.rounds
            .iter()
            .map(|(a, b)| format!("{a:.2}/{b:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `bench compile-cost|compile-clean [--rounds N] [--dir DIR]`.
pub(crate) fn main(command: &str, args: &[String]) -> Result<()> {
    let mut rounds = None;
    let mut dir = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| BenchError::Setup(format!("{arg} needs a value")))?;
        match arg.as_str() {
            "--rounds" => {
                rounds = Some(
                    value
                        .parse()
                        .map_err(|_| BenchError::Setup(format!("not a number: {value}")))?,
                )
            }
            "--dir" => dir = Some(PathBuf::from(value)),
            other => return setup(format!("unknown argument {other}; see bench/compile.sh")),
        }
    }
    let root = std::env::current_dir()?;
    // A directory named with --dir is kept, and reused by the next run given it.
    let keep = dir.is_some();
    let scratch = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("mastra-compile-{}", std::process::id()))
    });
    std::fs::create_dir_all(&scratch)?;
    let text = match command {
        "compile-cost" => {
            let cost = compile_cost(&root, &scratch, rounds.unwrap_or(5), keep)?;
            cost_line(&cost)
        }
        "compile-clean" => clean_report(&clean_build(&root, &scratch, rounds.unwrap_or(3))?),
        other => return setup(format!("unknown command {other}")),
    };
    println!("{text}");
    if !keep {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    Ok(())
}

/// The incremental-rebuild figures of one run, each crate against the actix-web crate with as
/// many routes.
pub(crate) struct CostReport {
    /// 200 `#[api_route]` fns on `mastra-runtime`'s default features against 200 actix-web fns.
    pub(crate) default_features: Pair,
    /// The same 200 fns on the routes-only feature set (`openapi`, `swagger-ui`, `jwt`).
    pub(crate) routes_only: Pair,
    /// No routes at all on the routes-only feature set against no routes on actix-web: what
    /// depending on each costs a rebuild before any route is written.
    pub(crate) no_routes: Pair,
}

/// The report's lines for [`compile_cost`].
pub(crate) fn cost_line(cost: &CostReport) -> String {
    let line = |label: &str, pair: &Pair| {
        format!(
            "| {label} | {:.2} | {:.2} | **{:.2}** | {} |",
            pair.ours,
            pair.theirs,
            pair.ratio,
            pair.rounds_text()
        )
    };
    format!(
        "Compile cost: incremental rebuild of the route crate (touch `lib.rs`, `cargo build`), \
         median of {} interleaved rounds\n\n\
         | route crate | `#[api_route]` (s) | actix-web `#[get]`/`#[post]` (s) | ratio | rounds (s) |\n\
         |---|---:|---:|---:|---|\n{}\n{}\n{}",
        cost.default_features.rounds.len(),
        line("200 routes, default features", &cost.default_features),
        line(
            "200 routes, routes-only features (`openapi`, `swagger-ui`, `jwt`)",
            &cost.routes_only
        ),
        line("no routes, routes-only features", &cost.no_routes),
    )
}

/// One generated crate: its name, the `[dependencies]` of its manifest, its `lib.rs`.
struct RouteCrate {
    name: &'static str,
    dependencies: String,
    source: String,
}

/// The generated crates; [`compile_cost`] pairs them by name.
fn route_crates() -> Vec<RouteCrate> {
    const SERDE: &str = "serde.workspace = true\nserde_json.workspace = true\n";
    // The workspace's `mastra-runtime` has its default features off (a member cannot turn them
    // off again), so each crate names the features it builds with.
    const ATTR: &str = "mastra-runtime = { workspace = true, features = [\"default\"] }\nschemars.workspace = true\n";
    const ATTR_LEAN: &str = "mastra-runtime = { workspace = true, default-features = false, features = [\"openapi\", \"swagger-ui\", \"jwt\"] }\nschemars.workspace = true\n";
    const ACTIX: &str = "actix-web.workspace = true\n";
    [
        ("with-attr", ATTR, attr_source(200)),
        ("with-attr-lean", ATTR_LEAN, attr_source(200)),
        ("with-actix", ACTIX, actix_source(200)),
        ("empty-attr-lean", ATTR_LEAN, attr_source(0)),
        ("empty-actix", ACTIX, actix_source(0)),
    ]
    .into_iter()
    .map(|(name, dependencies, source)| RouteCrate {
        name,
        dependencies: format!("{SERDE}{dependencies}"),
        source,
    })
    .collect()
}

/// Builds the generated route crates and times an incremental rebuild of each (a touched
/// `lib.rs`), one after another in an order that rotates every round, so slow drift in the
/// machine's load hits every crate alike. With `keep`, the crates and their target directory in
/// `workdir` are reused from an earlier run (only the route crates are rebuilt).
pub(crate) fn compile_cost(
    root: &Path,
    workdir: &Path,
    rounds: usize,
    keep: bool,
) -> Result<CostReport> {
    let dir = workdir.join("compile-cost");
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let crates = route_crates();
    write_route_crates(root, &dir, &crates)?;
    let build = |package: &str| -> Result<f64> {
        let started = Instant::now();
        let status = Command::new("cargo")
            .args(["build", "--offline", "--quiet", "-p", package])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", dir.join("target"))
            .status()?;
        if !status.success() {
            return setup(format!("building {package} failed"));
        }
        Ok(started.elapsed().as_secs_f64())
    };
    // Dependencies first, so the timed builds measure only the route crate.
    for route_crate in &crates {
        build(route_crate.name)?;
    }
    let touch = |package: &str| -> Result<()> {
        let lib = dir.join(package).join("src/lib.rs");
        let text = std::fs::read_to_string(&lib)?;
        std::fs::write(&lib, format!("{text}\n"))?;
        Ok(())
    };
    let names: Vec<&str> = crates.iter().map(|route_crate| route_crate.name).collect();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for round in 0..rounds {
        for step in 0..names.len() {
            let index = (round + step) % names.len();
            touch(names[index])?;
            times[index].push(build(names[index])?);
        }
        let line: Vec<String> = names
            .iter()
            .zip(&times)
            .map(|(name, t)| format!("{name} {:.2} s", t[round]))
            .collect();
        eprintln!("compile cost round {}: {}", round + 1, line.join(", "));
    }
    if !keep {
        let _ = std::fs::remove_dir_all(dir.join("target"));
    }
    let times_of = |name: &str| {
        names
            .iter()
            .position(|known| *known == name)
            .map_or(&[][..], |index| &times[index][..])
    };
    let pair = |ours: &str, theirs: &str| {
        Pair::from_rounds(
            times_of(ours)
                .iter()
                .copied()
                .zip(times_of(theirs).iter().copied())
                .collect(),
        )
    };
    Ok(CostReport {
        default_features: pair("with-attr", "with-actix"),
        routes_only: pair("with-attr-lean", "with-actix"),
        no_routes: pair("empty-attr-lean", "empty-actix"),
    })
}

/// The route crates, in a workspace of their own at `dir`. Files already holding the same text
/// are left alone, so a kept directory is not rebuilt from scratch.
fn write_route_crates(root: &Path, dir: &Path, crates: &[RouteCrate]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let runtime = root.join("mastra-runtime");
    let members: Vec<String> = crates
        .iter()
        .map(|route_crate| format!("{:?}", route_crate.name))
        .collect();
    let manifest = format!(
        "[workspace]\nresolver = \"2\"\nmembers = [{}]\n\n\
         [workspace.dependencies]\nmastra-runtime = {{ path = {:?}, default-features = false }}\n\
         actix-web = {{ version = \"4.18\", default-features = false, features = [\"macros\", \"compress-gzip\"] }}\n\
         serde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\nschemars = \"=1.0.0-alpha.21\"\n\n\
         [profile.dev]\ndebug = \"line-tables-only\"\n[profile.dev.package.\"*\"]\ndebug = false\nopt-level = 1\n",
        members.join(", "),
        runtime.display().to_string()
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    if !dir.join("Cargo.lock").exists() {
        std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))?;
    }
    for RouteCrate {
        name,
        dependencies,
        source,
    } in crates
    {
        std::fs::create_dir_all(dir.join(name).join("src"))?;
        write_if_changed(
            &dir.join(name).join("Cargo.toml"),
            &format!("[package]\nname = {name:?}\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{dependencies}"),
        )?;
        let lib = dir.join(name).join("src/lib.rs");
        // A kept crate differs only by the newlines earlier rounds appended.
        let current = std::fs::read_to_string(&lib).unwrap_or_default();
        if current.trim_end() != source.trim_end() {
            std::fs::write(&lib, source)?;
        }
    }
    Ok(())
}

fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text)?;
    }
    Ok(())
}

fn attr_source(routes: usize) -> String {
    let mut source = String::from(
        "#![allow(unused_imports)]\nuse mastra_runtime::prelude::*;\n\n#[derive(Serialize, Deserialize, JsonSchema)]\npub struct Body { pub name: String }\n\n",
    );
    for i in 0..routes {
        if i % 2 == 0 {
            let _ = writeln!(
                source,
                "#[api_route(\"/r{i}/:id\", method = \"GET\")]\npub async fn r{i}(Path(id): Path<String>) -> Json<Body> {{ Json(Body {{ name: id }}) }}\n"
            );
        } else {
            let _ = writeln!(
                source,
                "#[api_route(\"/r{i}\", method = \"POST\")]\npub async fn r{i}(Json(body): Json<Body>) -> Json<Body> {{ Json(body) }}\n"
            );
        }
    }
    source
}

fn actix_source(routes: usize) -> String {
    let mut source = String::from(
        "#![allow(unused_imports)]\nuse actix_web::{get, post, web};\nuse serde::{Deserialize, Serialize};\n\n#[derive(Serialize, Deserialize)]\npub struct Body { pub name: String }\n\n",
    );
    for i in 0..routes {
        if i % 2 == 0 {
            let _ = writeln!(
                source,
                "#[get(\"/r{i}/{{id}}\")]\npub async fn r{i}(id: web::Path<String>) -> web::Json<Body> {{ web::Json(Body {{ name: id.into_inner() }}) }}\n"
            );
        } else {
            let _ = writeln!(
                source,
                "#[post(\"/r{i}\")]\npub async fn r{i}(body: web::Json<Body>) -> web::Json<Body> {{ body }}\n"
            );
        }
    }
    let _ = writeln!(source, "pub fn configure(cfg: &mut web::ServiceConfig) {{");
    for i in 0..routes {
        let _ = writeln!(source, "    cfg.service(r{i});");
    }
    let _ = writeln!(source, "}}");
    source
}

/// What one clean build of each side compiled.
pub(crate) struct CleanBuild {
    pub(crate) time: Pair,
    /// Packages in the dependency graph (`cargo tree`, normal and build dependencies, the
    /// application included): ours, theirs.
    pub(crate) packages: (usize, usize),
    /// Units the build compiled (its `Compiling` lines: libraries, build scripts, the
    /// binary): ours, theirs.
    pub(crate) units: (usize, usize),
}

/// One side of the clean-build comparison: where to run cargo and what to build.
struct Side {
    dir: PathBuf,
    args: Vec<String>,
}

/// Clean builds (a fresh target directory each time) of `examples/routes-only` in the
/// workspace and of `bench/compile-plain` copied to `workdir` with the workspace's
/// `Cargo.lock`, alternating, `rounds` times. Downloads happen once, before the clock starts.
pub(crate) fn clean_build(root: &Path, workdir: &Path, rounds: usize) -> Result<CleanBuild> {
    if !root.join("examples/routes-only/Cargo.toml").exists() {
        return setup("examples/routes-only does not exist yet");
    }
    let plain = workdir.join("plain");
    let _ = std::fs::remove_dir_all(&plain);
    std::fs::create_dir_all(plain.join("src"))?;
    for file in ["Cargo.toml", "src/main.rs"] {
        std::fs::copy(
            root.join("bench/compile-plain").join(file),
            plain.join(file),
        )?;
    }
    std::fs::copy(root.join("Cargo.lock"), plain.join("Cargo.lock"))?;
    let ours = Side {
        dir: root.to_path_buf(),
        args: vec!["-p".into(), "routes-only".into()],
    };
    let theirs = Side {
        dir: plain.clone(),
        args: Vec::new(),
    };
    for side in [&ours, &theirs] {
        cargo(side, "fetch", &[], None)?;
    }
    let packages = (count_packages(&ours)?, count_packages(&theirs)?);
    let mut times = Vec::new();
    let mut units = (0, 0);
    for round in 0..rounds {
        let mut pair = (0.0, 0.0);
        let order: [(&Side, bool); 2] = if round % 2 == 0 {
            [(&ours, true), (&theirs, false)]
        } else {
            [(&theirs, false), (&ours, true)]
        };
        for (side, is_ours) in order {
            let target = workdir.join(format!(
                "target-{}-{round}",
                if is_ours { "ours" } else { "plain" }
            ));
            let _ = std::fs::remove_dir_all(&target);
            let started = Instant::now();
            let stderr = cargo(side, "build", &[], Some(&target))?;
            let seconds = started.elapsed().as_secs_f64();
            let compiled = stderr
                .lines()
                .filter(|line| line.trim_start().starts_with("Compiling "))
                .count();
            let _ = std::fs::remove_dir_all(&target);
            if is_ours {
                pair.0 = seconds;
                units.0 = compiled;
            } else {
                pair.1 = seconds;
                units.1 = compiled;
            }
        }
        eprintln!(
            "clean build round {}: routes-only {:.1} s, plain {:.1} s",
            round + 1,
            pair.0,
            pair.1
        );
        times.push(pair);
    }
    let _ = std::fs::remove_dir_all(&plain);
    Ok(CleanBuild {
        time: Pair::from_rounds(times),
        packages,
        units,
    })
}

/// Runs `cargo <command> <side's args> <extra>` in the side's directory, with `target` as its
/// target directory when given; returns its stderr.
fn cargo(side: &Side, command: &str, extra: &[&str], target: Option<&Path>) -> Result<String> {
    let mut cmd = Command::new("cargo");
    cmd.arg(command).current_dir(&side.dir);
    if command != "fetch" {
        cmd.args(&side.args);
    }
    cmd.args(extra);
    match target {
        Some(target) => cmd.env("CARGO_TARGET_DIR", target),
        None => cmd.env_remove("CARGO_TARGET_DIR"),
    };
    let output = cmd.output()?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        return setup(format!(
            "cargo {command} in {} failed:\n{stderr}",
            side.dir.display()
        ));
    }
    if command == "tree" {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    Ok(stderr)
}

/// Distinct packages in the side's graph of normal and build dependencies (no dev ones).
fn count_packages(side: &Side) -> Result<usize> {
    let tree = cargo(
        side,
        "tree",
        &["-e", "normal,build", "--prefix", "none", "--format", "{p}"],
        None,
    )?;
    let packages: BTreeSet<&str> = tree
        .lines()
        .map(|line| line.trim_end_matches(" (*)").trim())
        .map(|line| line.split(" (").next().unwrap_or(line))
        .filter(|line| !line.is_empty())
        .collect();
    Ok(packages.len())
}

fn clean_report(clean: &CleanBuild) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| clean build (fresh target dir, dev profile) | examples/routes-only | plain actix-web + apistos + jsonwebtoken | ratio |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| wall time, median of {} interleaved rounds (s) | {:.1} | {:.1} | **{:.2}** |",
        clean.time.rounds.len(),
        clean.time.ours,
        clean.time.theirs,
        clean.time.ratio
    );
    let _ = writeln!(
        out,
        "| packages in the graph (`cargo tree -e normal,build`) | {} | {} | {:.2} |",
        clean.packages.0,
        clean.packages.1,
        ratio(clean.packages.0 as f64, clean.packages.1 as f64)
    );
    let _ = writeln!(
        out,
        "| units compiled (`Compiling` lines) | {} | {} | {:.2} |",
        clean.units.0,
        clean.units.1,
        ratio(clean.units.0 as f64, clean.units.1 as f64)
    );
    let _ = writeln!(
        out,
        "\nRounds (routes-only/plain, s): {}",
        clean.time.rounds_text()
    );
    out
}
