//! The loader against damaged scenario files: every shipped scenario under `scenarios/`, each
//! mutated [`MUTANTS`] times by a fixed-seed generator (so a failure reproduces) with edits an
//! operator or a bad merge makes — a line deleted, duplicated, swapped or re-indented, a value
//! of the wrong type, a number or a duration out of range, the file cut short, brackets nested
//! thousands deep, one very long line. [`magsim_scenario::parse`] never panics; it accepts the
//! mutant or refuses it with an error that starts with the file's name and, for everything the
//! YAML text can point at, its line; and an accepted mutant runs on the engine for a short
//! stretch of virtual time without panicking.

use magsim_scenario::{parse, LoadError, Scenario, StepAction};
use magsim_sim::time::{SimDuration, SimTime};
use std::path::{Path, PathBuf};

/// Mutants per scenario file: every mutation kind several times, the whole run a few seconds.
const MUTANTS: usize = 40;

/// How long an accepted mutant runs on the virtual clock (a few autoscaler loops).
const RUN_FOR: SimDuration = SimDuration::from_secs(180);

/// The engine's seeded stream: fixed seeds make every run send the same cases.
use magsim_sim::rng::SimRng as Gen;

/// Every `.yaml` file under `dir`, sorted (so the stream of mutants is the same on every
/// machine).
fn scenario_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("readable directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The text as lines, each with its `\n` (the last may lack one).
fn lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

/// Byte ranges of the maximal runs of `text` that `is` accepts.
fn runs(text: &str, is: impl Fn(u8) -> bool) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if is(b[i]) {
            let start = i;
            while i < b.len() && is(b[i]) {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// Where a number is written: a run of digits not inside a word (so `m3.small` keeps its 3).
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    runs(text, |c| c.is_ascii_digit())
        .into_iter()
        .filter(|&(s, e)| {
            let before = s.checked_sub(1).map(|i| b[i]);
            let after = b.get(e).copied();
            !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
                && !after.is_some_and(|c| c.is_ascii_alphabetic() || c == b'.')
        })
        .collect()
}

/// Where a Go-style duration is written: digits then `ms`, `s`, `m` or `h`, then not a letter.
fn durations(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    runs(text, |c| c.is_ascii_digit())
        .into_iter()
        .filter_map(|(s, e)| {
            let unit = ["ms", "s", "m", "h"]
                .into_iter()
                .find(|u| b[e..].starts_with(u.as_bytes()))?;
            let end = e + unit.len();
            let word = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_alphanumeric());
            (!word(s.checked_sub(1).map(|i| &b[i])) && !word(b.get(end))).then_some((s, end))
        })
        .collect()
}

/// Lines holding `key: value` with a value on the line: (line index, byte where the value
/// starts in the line).
fn scalar_values(lines: &[String]) -> Vec<(usize, usize)> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let t = l.trim_end();
            if t.trim_start().starts_with('#') {
                return None;
            }
            let colon = t.find(": ")?;
            let value = colon + 2;
            (value < t.len()).then_some((i, value))
        })
        .collect()
}

fn splice(text: &str, (s, e): (usize, usize), with: &str) -> String {
    format!("{}{with}{}", &text[..s], &text[e..])
}

/// One mutant of `text` and what was done, for the failure message.
fn mutate(g: &mut Gen, text: &str) -> (String, String) {
    let mut ls = lines(text);
    let n = ls.len();
    match g.below(10) {
        0 if n > 0 => {
            let i = g.below(n);
            let gone = ls.remove(i);
            (ls.concat(), format!("deleted line {}: {gone:?}", i + 1))
        }
        1 if n > 0 => {
            let i = g.below(n);
            let mut line = ls[i].clone();
            if !line.ends_with('\n') {
                line.push('\n');
                ls[i].push('\n');
            }
            ls.insert(i, line);
            (ls.concat(), format!("duplicated line {}", i + 1))
        }
        2 if n > 1 => {
            let (i, j) = (g.below(n), g.below(n));
            ls.swap(i, j);
            if !ls.concat().ends_with('\n') && text.ends_with('\n') {
                ls.push("\n".into());
            }
            (
                ls.concat(),
                format!("swapped lines {} and {}", i + 1, j + 1),
            )
        }
        3 => {
            let values = scalar_values(&ls);
            if values.is_empty() {
                return (text.to_string(), "unchanged (no values)".into());
            }
            let (i, at) = *g.pick(&values);
            let with = *g.pick(&[
                "7",
                "\"seven\"",
                "seven",
                "[1, two, {three: 3}]",
                "{a: 1, b: [2]}",
                "null",
                "true",
                "~",
                "''",
                "-",
            ]);
            let end = ls[i].trim_end().len();
            let line = format!("{}{with}{}", &ls[i][..at], &ls[i][end..]);
            ls[i] = line;
            (ls.concat(), format!("line {}: value became {with}", i + 1))
        }
        4 => {
            let spots = numbers(text);
            if spots.is_empty() {
                return (text.to_string(), "unchanged (no numbers)".into());
            }
            let at = *g.pick(&spots);
            let with = *g.pick(&[
                "18446744073709552",
                "18446744073709551616",
                "-1",
                "1e308",
                "0",
                "0.5",
                "-0",
                "4294967296",
                "NaN",
                ".inf",
            ]);
            (
                splice(text, at, with),
                format!("number at byte {} became {with}", at.0),
            )
        }
        5 => {
            let spots = durations(text);
            if spots.is_empty() {
                return (text.to_string(), "unchanged (no durations)".into());
            }
            let at = *g.pick(&spots);
            let with = *g.pick(&["0s", "99999999h", "1ms", "-5m", "1.5h", "0"]);
            (
                splice(text, at, with),
                format!("duration at byte {} became {with}", at.0),
            )
        }
        6 if n > 0 => {
            let i = g.below(n);
            let how = g.below(4);
            ls[i] = match how {
                0 => format!(" {}", ls[i]),
                1 => format!("    {}", ls[i]),
                2 => format!("\t{}", ls[i]),
                _ => ls[i].trim_start().to_string(),
            };
            (ls.concat(), format!("re-indented line {} ({how})", i + 1))
        }
        7 => {
            let cut = g.below(text.len() + 1);
            let cut = (0..=cut)
                .rev()
                .find(|&c| text.is_char_boundary(c))
                .unwrap_or(0);
            (text[..cut].to_string(), format!("cut at byte {cut}"))
        }
        8 => {
            let depth = 1000 + g.below(4000);
            let i = g.below(n + 1);
            let nest = format!("deep: {}{}\n", "[".repeat(depth), "]".repeat(depth));
            ls.insert(i, nest);
            (
                ls.concat(),
                format!("{depth} brackets deep before line {}", i + 1),
            )
        }
        _ => {
            let i = g.below(n + 1);
            let long = if g.below(2) == 0 {
                format!("note: {}\n", "x".repeat(100_000 + g.below(10_000)))
            } else {
                format!("{}: 1\n", "k".repeat(50_000))
            };
            ls.insert(i, long);
            (ls.concat(), format!("long line before line {}", i + 1))
        }
    }
}

/// What a refusal says: the file's name, `:LINE:` or `:LINE:COL:`, then why. (`Located::line`
/// is optional, for a whole-file limit such as the 4 MiB size, which no mutant here reaches, so
/// every refusal must point at a line.)
fn check_refusal(file: &str, e: &LoadError, what: &str) {
    let shown = e.to_string();
    let Some(rest) = shown.strip_prefix(file) else {
        panic!("{what}: the error does not start with {file}: {shown}");
    };
    let LoadError::At(l) = e else {
        panic!("{what}: parse of text gave an I/O error: {shown}");
    };
    let at = match (l.line, l.column) {
        (Some(line), Some(col)) => format!(":{line}:{col}: "),
        (Some(line), None) => format!(":{line}: "),
        (None, _) => panic!("{what}: the error names no line: {shown}"),
    };
    assert!(rest.starts_with(&at), "{what}: {shown}");
    assert!(
        l.line >= Some(1),
        "{what}: line numbers start at 1: {shown}"
    );
    assert!(!l.message.is_empty(), "{what}: says why: {shown}");
}

/// Runs `s` on the engine for [`RUN_FOR`] (or to its end), applying the structured
/// operations of the steps due by then; command lines are the runner's (the loader has
/// already parsed them) and are not performed here.
fn run_briefly(s: &Scenario) {
    let until = SimTime(s.end.0.min((SimTime::ZERO + RUN_FOR).0));
    let mut engine = s.engine(None);
    for step in s.steps.iter().filter(|st| st.at <= until) {
        engine.run_until(step.at);
        if let StepAction::Op { op, .. } = &step.action {
            engine.apply((**op).clone(), step.request_id.clone());
        }
    }
    engine.run_until(until);
}

#[test]
fn mutated_scenarios_are_refused_with_a_location_or_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let files = scenario_files(&root);
    assert!(
        files.len() >= 40,
        "every shipped scenario ({})",
        files.len()
    );
    let mut g = Gen::new(0x2545_F491_4F6C_DD1D);
    let (mut accepted, mut refused, mut ran) = (0, 0, 0);
    for path in &files {
        let file = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(path).expect("readable scenario");
        parse(&file, &text).unwrap_or_else(|e| panic!("the shipped file loads: {e}"));
        for m in 0..MUTANTS {
            let (mutant, what) = mutate(&mut g, &text);
            let what = format!("{file} mutant {m} ({what})");
            match parse(&file, &mutant) {
                Err(e) => {
                    refused += 1;
                    check_refusal(&file, &e, &what);
                }
                Ok(s) => {
                    accepted += 1;
                    run_briefly(&s);
                    ran += 1;
                }
            }
        }
    }
    let total = files.len() * MUTANTS;
    assert_eq!(accepted + refused, total);
    assert_eq!(ran, accepted);
    assert!(
        refused * 3 > total,
        "the mutations reach the refusals ({refused}/{total})"
    );
    assert!(
        accepted * 10 > total,
        "and some mutants still load ({accepted}/{total})"
    );
}
