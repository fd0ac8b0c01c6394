//! `compare`: csp beside crossbeam-channel, flume, kanal, std, async-channel, tokio and Go, in
//! one run, with ratios.
//!
//! ```text
//! cargo run --release -p csp-bench --bin compare -- [--filter S] [--quick] [--reps K] [--no-go]
//! ```
//!
//! For each row (mode × workload × kind) it runs every implementation that supports the row,
//! interleaved (A B C, then B C A, then C A B ...: no implementation always runs first) for
//! `reps` repetitions (sync rows: 15 unless `--reps` is given), and reports the median ns per
//! message (per operation for sync), the best peer, and the ratio csp / best peer (< 1.00: csp is faster). Go (built
//! from `benches/go` with the system `go`, when installed) is one more column: its goroutines
//! are the same whether the Rust side uses threads or tasks, so each Go cell is measured once
//! per workload and kind, interleaved with the thread row. Writes `target/compare/latest.tsv`
//! and `target/compare/latest.md`.

use csp_bench::adapters::{AsyncChannel, Crossbeam, Csp, Flume, Kanal, Std, Tokio};
use csp_bench::{
    AsyncChan, Executor, Kind, SelectWorkload, SyncChan, Workload, async_supported, run_async,
    run_select, run_sync, sync_supported,
};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

struct Opts {
    filter: Option<String>,
    quick: bool,
    reps: usize,
    /// Repetitions of the sync rows: each lasts milliseconds, and the contended ones swing by
    /// 30% from one repetition to the next on a shared machine, so they get more by default.
    sync_reps: usize,
    go: bool,
}

fn parse_args() -> Opts {
    let mut o = Opts {
        filter: None,
        quick: false,
        reps: 0,
        sync_reps: 0,
        go: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--filter" => o.filter = args.next(),
            "--quick" => o.quick = true,
            "--reps" => o.reps = args.next().and_then(|s| s.parse().ok()).unwrap_or(0),
            "--no-go" => o.go = false,
            "--bench" => {} // passed by `cargo bench`
            "-h" | "--help" => {
                println!("compare [--filter S] [--quick] [--reps K] [--no-go]");
                std::process::exit(0);
            }
            other => {
                eprintln!("unknown argument {other:?} (try --help)");
                std::process::exit(2);
            }
        }
    }
    if o.reps == 0 {
        o.reps = if o.quick { 3 } else { 7 };
        o.sync_reps = if o.quick { 5 } else { 15 };
    } else {
        o.sync_reps = o.reps;
    }
    o
}

/// Messages per run: rendezvous-like kinds park on many messages and are slow for some peers.
fn messages(kind: Kind, quick: bool) -> usize {
    match (kind, quick) {
        (Kind::Bounded0 | Kind::Bounded1, true) => 4_000,
        (Kind::Bounded0 | Kind::Bounded1, false) => 20_000,
        (_, true) => 40_000,
        (_, false) => 200_000,
    }
}

type Cell = Box<dyn Fn() -> Duration>;

fn sync_cell<C: SyncChan + 'static>(
    name: &'static str,
    w: Workload,
    k: Kind,
    n: usize,
    cells: &mut Vec<(&'static str, Cell)>,
) {
    if sync_supported::<C>(w, k, n) {
        cells.push((name, Box::new(move || run_sync::<C>(w, k, n))));
    }
}

fn async_cell<C: AsyncChan + 'static>(
    name: &'static str,
    ex: &'static Executor,
    w: Workload,
    k: Kind,
    n: usize,
    cells: &mut Vec<(&'static str, Cell)>,
) where
    C::R: Sync,
{
    if async_supported::<C>(w, k, n) {
        cells.push((name, Box::new(move || run_async::<C>(ex, w, k, n))));
    }
}

const COLUMNS: [&str; 8] = [
    "csp",
    "crossbeam",
    "flume",
    "kanal",
    "std",
    "async-channel",
    "tokio",
    "go",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Builds the Go harness; `None` when `go` is not installed or the build fails.
fn build_go() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("../target/compare/go-bench");
    std::fs::create_dir_all(out.parent()?).ok()?;
    let status = Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg(".")
        .current_dir(root.join("go"))
        .env("GOFLAGS", "-mod=mod")
        .env("GOCACHE", root.join("../target/compare/go-cache"))
        .env("GO111MODULE", "on")
        .status()
        .ok()?;
    status.success().then_some(out)
}

fn run_go(bin: &PathBuf, w: &str, k: Kind, n: usize) -> Option<f64> {
    let out = Command::new(bin)
        .args([w, k.name(), &n.to_string()])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

const SYNC_COLUMNS: [&str; 9] = [
    "csp",
    "csp async",
    "std",
    "parking_lot",
    "dashmap",
    "tokio",
    "async-lock",
    "crossbeam",
    "go",
];

/// The csp-sync and csp-map rows: ns per operation, csp beside std, parking_lot, dashmap,
/// tokio, async-lock, crossbeam's WaitGroup and Go's `sync` (`sync.Map` for the map row; std
/// and parking_lot there are their `RwLock<HashMap>`).
fn sync_table(opts: &Opts, go_bin: Option<&PathBuf>, tsv: &mut String) -> String {
    use csp_bench::sync_bench::*;
    type SyncCell = Box<dyn Fn(usize) -> Duration>;
    let n = if opts.quick { 100_000 } else { 1_000_000 };
    let contended = n / 4;
    /// (label, operations per run, Go workload name, cells)
    type SyncRow = (
        &'static str,
        usize,
        &'static str,
        Vec<(&'static str, SyncCell)>,
    );
    let mut rows: Vec<SyncRow> = Vec::new();
    rows.push((
        "mutex lock+unlock, uncontended",
        n,
        "mutex1",
        vec![
            ("csp", Box::new(mutex_contended::<CspMutex>.curry(1))),
            (
                "csp async",
                Box::new(mutex_contended::<CspMutexAsync>.curry(1)),
            ),
            ("std", Box::new(mutex_contended::<StdMutex>.curry(1))),
            (
                "parking_lot",
                Box::new(mutex_contended::<ParkingLotMutex>.curry(1)),
            ),
            ("tokio", Box::new(mutex_contended::<TokioMutex>.curry(1))),
            (
                "async-lock",
                Box::new(mutex_contended::<AsyncLockMutex>.curry(1)),
            ),
        ],
    ));
    for t in [2usize, 4] {
        rows.push((
            if t == 2 {
                "mutex, 2 threads contended"
            } else {
                "mutex, 4 threads contended"
            },
            contended,
            if t == 2 { "mutex2" } else { "mutex4" },
            vec![
                ("csp", Box::new(mutex_contended::<CspMutex>.curry(t))),
                (
                    "csp async",
                    Box::new(mutex_contended::<CspMutexAsync>.curry(t)),
                ),
                ("std", Box::new(mutex_contended::<StdMutex>.curry(t))),
                (
                    "parking_lot",
                    Box::new(mutex_contended::<ParkingLotMutex>.curry(t)),
                ),
                ("tokio", Box::new(mutex_contended::<TokioMutex>.curry(t))),
                (
                    "async-lock",
                    Box::new(mutex_contended::<AsyncLockMutex>.curry(t)),
                ),
            ],
        ));
    }
    rows.push((
        "map, 4 threads, 90% get / 10% insert",
        contended,
        "map90",
        vec![
            ("csp", Box::new(map_read_heavy::<CspMap>)),
            ("std", Box::new(map_read_heavy::<StdRwLockMap>)),
            (
                "parking_lot",
                Box::new(map_read_heavy::<ParkingLotRwLockMap>),
            ),
            ("dashmap", Box::new(map_read_heavy::<DashMapMap>)),
        ],
    ));
    rows.push((
        "rwlock, 4 threads, 95% reads",
        contended,
        "rwlock95",
        vec![
            ("csp", Box::new(rwlock_read_heavy::<CspRwLock>)),
            ("std", Box::new(rwlock_read_heavy::<StdRwLock>)),
            (
                "parking_lot",
                Box::new(rwlock_read_heavy::<ParkingLotRwLock>),
            ),
            ("tokio", Box::new(rwlock_read_heavy::<TokioRwLock>)),
            ("async-lock", Box::new(rwlock_read_heavy::<AsyncLockRwLock>)),
        ],
    ));
    rows.push((
        "waitgroup add+done+wait round",
        n,
        "wground",
        vec![
            ("csp", Box::new(waitgroup_round_csp)),
            ("crossbeam", Box::new(waitgroup_round_crossbeam)),
        ],
    ));
    rows.push((
        "once, completed (fast path)",
        // A fraction of a ns each: 50x the operations, so that a run lasts milliseconds and
        // the clock's resolution and a stray interrupt do not decide the cell.
        n * 50,
        "oncefast",
        vec![
            ("csp", Box::new(once_fast_csp)),
            ("std", Box::new(once_fast_std)),
            ("parking_lot", Box::new(once_fast_parking_lot)),
            ("tokio", Box::new(once_fast_tokio)),
        ],
    ));
    rows.push((
        "semaphore acquire+release, uncontended",
        n,
        "sema",
        vec![
            ("csp", Box::new(semaphore_csp)),
            ("tokio", Box::new(semaphore_tokio)),
            ("async-lock", Box::new(semaphore_async_lock)),
        ],
    ));

    let mut md = String::new();
    let _ = writeln!(
        md,
        "| sync workload | {} | best peer | csp / best peer | csp / go |",
        SYNC_COLUMNS.join(" | ")
    );
    let _ = writeln!(md, "|{}", "---|".repeat(SYNC_COLUMNS.len() + 4));
    print!("\n{md}");
    for (label, n, go_name, cells) in rows {
        // `--filter sync` runs every sync row, `--filter "sync rwlock"` the matching ones.
        if let Some(rest) = opts.filter.as_deref().and_then(|f| f.strip_prefix("sync")) {
            // Matched at a word start, so "map" picks the map row and not "semaphore".
            let rest = rest.trim();
            if !(label.starts_with(rest) || label.contains(&format!(" {rest}"))) {
                continue;
            }
        }
        let mut samples: HashMap<&str, Vec<f64>> = HashMap::new();
        for rep in 0..opts.sync_reps {
            // Each repetition starts at the next implementation, so none always runs first.
            for i in 0..cells.len() {
                let (name, f) = &cells[(i + rep) % cells.len()];
                samples
                    .entry(name)
                    .or_default()
                    .push(f(n).as_nanos() as f64 / n as f64);
            }
            if let Some(bin) = go_bin {
                if let Some(ns) = run_go(bin, go_name, Kind::Bounded0, n) {
                    samples.entry("go").or_default().push(ns);
                }
            }
        }
        let med: HashMap<&str, f64> = samples.into_iter().map(|(k, v)| (k, median(v))).collect();
        let mut line = format!("| {label} |");
        for c in SYNC_COLUMNS {
            match med.get(c) {
                // Sub-ns cells (the once fast path) need the second decimal.
                Some(v) if *v < 1.0 => {
                    let _ = write!(line, " {v:.2} |");
                    let _ = writeln!(tsv, "sync\t{label}\t-\t{c}\t{v:.3}");
                }
                Some(v) => {
                    let _ = write!(line, " {v:.1} |");
                    let _ = writeln!(tsv, "sync\t{label}\t-\t{c}\t{v:.2}");
                }
                None => line.push_str(" — |"),
            }
        }
        let best = med
            .iter()
            .filter(|(k, _)| !k.starts_with("csp") && **k != "go")
            .min_by(|a, b| a.1.total_cmp(b.1));
        let csp = med.get("csp").copied();
        match (csp, best) {
            (Some(c), Some((bn, bv))) => {
                let _ = write!(line, " {bn} | {:.2} |", c / bv);
            }
            _ => line.push_str(" — | — |"),
        }
        match (csp, med.get("go")) {
            (Some(c), Some(g)) => {
                let _ = write!(line, " {:.2} |", c / g);
            }
            _ => line.push_str(" — |"),
        }
        println!("{line}");
        md.push_str(&line);
        md.push('\n');
    }
    md
}

/// `f.curry(a)`: a closure taking the remaining argument.
trait Curry<A, B> {
    fn curry(self, a: A) -> impl Fn(B) -> Duration;
}

impl<A: Copy, B, F: Fn(A, B) -> Duration> Curry<A, B> for F {
    fn curry(self, a: A) -> impl Fn(B) -> Duration {
        move |b| self(a, b)
    }
}

fn main() {
    let opts = parse_args();
    let go_bin = if opts.go { build_go() } else { None };
    if opts.go && go_bin.is_none() {
        eprintln!("note: `go` not found or the Go harness did not build; the go column is empty");
    }
    let tokio_ex: &'static Executor = Box::leak(Box::new(Executor::tokio()));
    let smol_ex: &'static Executor = Box::leak(Box::new(Executor::smol()));

    let mut md = String::new();
    let mut tsv = String::from("mode\tworkload\tkind\timpl\tmedian_ns_per_msg\n");
    let _ = writeln!(
        md,
        "| mode | workload | kind | {} | best peer | csp / best peer | csp / go |",
        COLUMNS.join(" | ")
    );
    let _ = writeln!(md, "|{}", "---|".repeat(COLUMNS.len() + 6));
    print!("{md}");
    let mut go_cache: HashMap<(&'static str, &'static str), f64> = HashMap::new();
    let started = std::time::Instant::now();

    // Every row: its label, its cells, and the Go workload name measured beside it.
    struct Row {
        mode: &'static str,
        workload: &'static str,
        kind: Kind,
        n: usize,
        cells: Vec<(&'static str, Cell)>,
    }
    let mut rows: Vec<Row> = Vec::new();
    for mode in ["thread", "tokio", "smol"] {
        for w in Workload::ALL {
            for k in Kind::ALL {
                if !w.fits(k) {
                    continue;
                }
                let n = messages(k, opts.quick);
                let mut cells: Vec<(&'static str, Cell)> = Vec::new();
                match mode {
                    "thread" => {
                        sync_cell::<Csp>("csp", w, k, n, &mut cells);
                        sync_cell::<Crossbeam>("crossbeam", w, k, n, &mut cells);
                        sync_cell::<Flume>("flume", w, k, n, &mut cells);
                        sync_cell::<Kanal>("kanal", w, k, n, &mut cells);
                        sync_cell::<Std>("std", w, k, n, &mut cells);
                    }
                    _ => {
                        let ex = if mode == "tokio" { tokio_ex } else { smol_ex };
                        async_cell::<Csp>("csp", ex, w, k, n, &mut cells);
                        async_cell::<Flume>("flume", ex, w, k, n, &mut cells);
                        async_cell::<Kanal>("kanal", ex, w, k, n, &mut cells);
                        async_cell::<AsyncChannel>("async-channel", ex, w, k, n, &mut cells);
                        async_cell::<Tokio>("tokio", ex, w, k, n, &mut cells);
                    }
                }
                rows.push(Row {
                    mode,
                    workload: w.name(),
                    kind: k,
                    n,
                    cells,
                });
            }
        }
        if mode == "thread" {
            for w in SelectWorkload::ALL {
                for k in Kind::ALL {
                    let n = messages(k, opts.quick);
                    let mut cells: Vec<(&'static str, Cell)> = Vec::new();
                    cells.push(("csp", Box::new(move || run_select::<Csp>(w, k, n))));
                    cells.push((
                        "crossbeam",
                        Box::new(move || run_select::<Crossbeam>(w, k, n)),
                    ));
                    if w == SelectWorkload::SelectRx {
                        cells.push(("flume", Box::new(move || run_select::<Flume>(w, k, n))));
                    }
                    rows.push(Row {
                        mode,
                        workload: w.name(),
                        kind: k,
                        n,
                        cells,
                    });
                }
            }
        }
    }

    for row in rows {
        let Row {
            mode,
            workload,
            kind: k,
            n,
            cells,
        } = row;
        let label = format!("{mode} {workload} {}", k.name());
        if let Some(f) = &opts.filter {
            if !label.contains(f.as_str()) {
                continue;
            }
        }
        let measure_go = go_bin.is_some() && !go_cache.contains_key(&(workload, k.name()));
        let mut samples: HashMap<&str, Vec<f64>> = HashMap::new();
        for rep in 0..opts.reps {
            // Each repetition starts at the next implementation, so none always runs first.
            for i in 0..cells.len() {
                let (name, f) = &cells[(i + rep) % cells.len()];
                let d = f();
                samples
                    .entry(name)
                    .or_default()
                    .push(d.as_nanos() as f64 / n as f64);
            }
            if measure_go {
                if let Some(ns) = run_go(go_bin.as_ref().unwrap(), workload, k, n) {
                    samples.entry("go").or_default().push(ns);
                }
            }
        }
        let mut med: HashMap<&str, f64> =
            samples.into_iter().map(|(k, v)| (k, median(v))).collect();
        if let Some(&g) = med.get("go") {
            go_cache.insert((workload, k.name()), g);
        } else if let Some(&g) = go_cache.get(&(workload, k.name())) {
            med.insert("go", g);
        }
        let best_peer = med
            .iter()
            .filter(|(k, _)| **k != "csp" && **k != "go")
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(k, v)| (*k, *v));
        let csp = med.get("csp").copied();
        let mut line = format!("| {mode} | {workload} | {} |", k.name());
        for c in COLUMNS {
            match med.get(c) {
                Some(v) => {
                    let _ = write!(line, " {v:.0} |");
                    let _ = writeln!(tsv, "{mode}\t{workload}\t{}\t{c}\t{v:.1}", k.name());
                }
                None => line.push_str(" — |"),
            }
        }
        match (csp, best_peer) {
            (Some(c), Some((bn, bv))) => {
                let _ = write!(line, " {bn} | {:.2} |", c / bv);
            }
            _ => line.push_str(" — | — |"),
        }
        match (csp, med.get("go")) {
            (Some(c), Some(g)) => {
                let _ = write!(line, " {:.2} |", c / g);
            }
            _ => line.push_str(" — |"),
        }
        println!("{line}");
        md.push_str(&line);
        md.push('\n');
    }
    if opts
        .filter
        .as_deref()
        .is_none_or(|f| "sync".contains(f) || f.starts_with("sync"))
    {
        let table = sync_table(&opts, go_bin.as_ref(), &mut tsv);
        md.push('\n');
        md.push_str(&table);
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/compare");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("latest.md"), &md);
    let _ = std::fs::write(dir.join("latest.tsv"), &tsv);
    eprintln!(
        "median ns per message ({} repetitions, sync rows {}, {}); {:.0} s; wrote target/compare/latest.{{md,tsv}}",
        opts.reps,
        opts.sync_reps,
        if opts.quick { "quick" } else { "full" },
        started.elapsed().as_secs_f64()
    );
}
