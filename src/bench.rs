//! `magsim bench`: times the benchmark workloads on this machine (wall clock is fine here: it
//! never reaches the engine) and reports median, p95 and peak memory.

use anyhow::{bail, Result};
use magsim_bench::{default_sizes, Workload, NAMES};
use serde_json::{json, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The system allocator, counting live and peak bytes so a run's peak memory can be reported.
pub struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

/// One measured workload at one size.
struct Row {
    name: String,
    params: Value,
    median: f64,
    p95: f64,
    peak: usize,
    answer: Value,
}

pub struct Options {
    pub workloads: Vec<String>,
    pub sizes: Vec<Vec<u64>>,
    pub iterations: usize,
    pub csv: Option<std::path::PathBuf>,
    pub json: Option<std::path::PathBuf>,
    pub plot: Option<std::path::PathBuf>,
}

pub fn run(o: Options) -> Result<()> {
    let names: Vec<String> = if o.workloads.is_empty() {
        NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        o.workloads.clone()
    };
    let mut plan = Vec::new();
    for n in &names {
        if !NAMES.contains(&n.as_str()) {
            bail!(
                "unknown workload {n:?}: expected one of {}",
                NAMES.join(", ")
            );
        }
        let sizes = if o.sizes.is_empty() {
            default_sizes(n)
        } else {
            o.sizes.clone()
        };
        plan.extend(sizes.into_iter().map(|s| (n.clone(), s)));
    }
    let mut rows = Vec::new();
    let tty = std::io::stderr().is_terminal();
    for (i, (name, size)) in plan.iter().enumerate() {
        let w = Workload::prepare(name, size).map_err(anyhow::Error::msg)?;
        let answer = w.run();
        if let Some(expected) = w.expected() {
            let matches = expected
                .as_object()
                .is_some_and(|e| e.iter().all(|(k, v)| answer.get(k) == Some(v)));
            if !matches {
                bail!(
                    "{name} {}: answer {answer} differs from upstream's {expected}",
                    w.params
                );
            }
        }
        let mut times = Vec::with_capacity(o.iterations);
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let budget = Instant::now();
        for k in 0..o.iterations {
            if tty {
                let bar = "#".repeat((k + 1) * 20 / o.iterations);
                eprint!(
                    "\r\x1b[2K[{}/{}] {name} {} [{bar:<20}]",
                    i + 1,
                    plan.len(),
                    w.params
                );
            }
            let (elapsed, answer) = w.measure();
            std::hint::black_box(answer);
            times.push(elapsed);
            if budget.elapsed() > Duration::from_secs(20) && k >= 4 {
                break;
            }
        }
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
        times.sort();
        let q = |f: f64| times[((times.len() as f64 - 1.0) * f).round() as usize].as_secs_f64();
        rows.push(Row {
            name: name.clone(),
            params: w.params.clone(),
            median: q(0.5),
            p95: q(0.95),
            peak,
            answer,
        });
    }
    if tty {
        eprint!("\r\x1b[2K");
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<20} {:<50} {:>12} {:>12} {:>12}  answer",
        "workload", "params", "median", "p95", "peak"
    )?;
    for r in &rows {
        writeln!(
            out,
            "{:<20} {:<50} {:>12} {:>12} {:>12}  {}",
            r.name,
            r.params.to_string(),
            human(r.median),
            human(r.p95),
            bytes(r.peak),
            r.answer
        )?;
    }
    if let Some(p) = &o.csv {
        let mut s = String::from("name,params,median_seconds,p95_seconds,peak_bytes,answer\n");
        for r in &rows {
            s.push_str(&format!(
                "{},\"{}\",{},{},{},\"{}\"\n",
                r.name,
                r.params.to_string().replace('"', "\"\""),
                r.median,
                r.p95,
                r.peak,
                r.answer.to_string().replace('"', "\"\"")
            ));
        }
        std::fs::write(p, s)?;
    }
    if let Some(p) = &o.json {
        let v: Vec<Value> = rows.iter().map(|r| json!({"name": r.name, "params": r.params, "median_seconds": r.median, "p95_seconds": r.p95, "peak_bytes": r.peak, "answer": r.answer})).collect();
        std::fs::write(p, serde_json::to_string_pretty(&v)? + "\n")?;
    }
    if let Some(p) = &o.plot {
        std::fs::write(p, plot(&rows))?;
    }
    Ok(())
}

fn human(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

fn bytes(b: usize) -> String {
    if b < 1 << 20 {
        format!("{:.1} KiB", b as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", b as f64 / (1 << 20) as f64)
    }
}

/// Median latency against cluster size (nodes), one polyline per workload, log-log axes.
fn plot(rows: &[Row]) -> String {
    let pts: Vec<(&str, f64, f64)> = rows
        .iter()
        .filter_map(|r| {
            r.params["nodes"]
                .as_f64()
                .filter(|n| *n > 0.0)
                .map(|n| (r.name.as_str(), n, r.median))
        })
        .collect();
    let (w, h, m) = (640.0, 400.0, 60.0);
    let lx = |v: f64| v.log10();
    let (x0, x1) = pts.iter().fold((f64::MAX, f64::MIN), |(a, b), p| {
        (a.min(lx(p.1)), b.max(lx(p.1)))
    });
    let (y0, y1) = pts.iter().fold((f64::MAX, f64::MIN), |(a, b), p| {
        (a.min(lx(p.2)), b.max(lx(p.2)))
    });
    let sx = |v: f64| m + (lx(v) - x0) / (x1 - x0).max(1e-9) * (w - 2.0 * m);
    let sy = |v: f64| h - m - (lx(v) - y0) / (y1 - y0).max(1e-9) * (h - 2.0 * m);
    let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n");
    svg.push_str(&format!("<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n<line x1=\"{m}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"black\"/>\n<line x1=\"{m}\" y1=\"{m}\" x2=\"{m}\" y2=\"{0}\" stroke=\"black\"/>\n", h - m, w - m));
    svg.push_str(&format!("<text x=\"{}\" y=\"{}\">nodes (log)</text>\n<text x=\"8\" y=\"{}\">median seconds (log)</text>\n", w / 2.0, h - 20.0, m - 20.0));
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
    let mut names: Vec<&str> = pts.iter().map(|p| p.0).collect();
    names.dedup();
    for (i, n) in names.iter().enumerate() {
        let line: Vec<String> = pts
            .iter()
            .filter(|p| p.0 == *n)
            .map(|p| format!("{:.1},{:.1}", sx(p.1), sy(p.2)))
            .collect();
        let c = colors[i % colors.len()];
        svg.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"2\" points=\"{}\"/>\n",
            line.join(" ")
        ));
        for p in pts.iter().filter(|p| p.0 == *n) {
            svg.push_str(&format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{c}\"><title>{} nodes: {}</title></circle>\n", sx(p.1), sy(p.2), p.1, human(p.2)));
        }
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" fill=\"{c}\">{n}</text>\n",
            w - 2.0 * m - 40.0,
            m + 16.0 * i as f64
        ));
    }
    svg.push_str("</svg>\n");
    svg
}
