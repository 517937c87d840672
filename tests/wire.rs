//! `magsim run --wire`: every shipped scenario, its steps and its simulated autoscalers
//! talking HTTP to the mock servers, gives the in-memory timeline byte for byte.

use rstest::rstest;
use std::path::PathBuf;

#[rstest]
fn the_wire_run_is_the_in_memory_run(#[files("scenarios/**/*.yaml")] path: PathBuf) {
    let scenario = magsim::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let memory = magsim::runner::run(&scenario, None);
    let wire = magsim::runner::run_wire(&scenario, None)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (m, w) = (memory.timeline_text(), wire.timeline_text());
    if m != w {
        let first = m
            .lines()
            .zip(w.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(m.lines().count().min(w.lines().count()));
        panic!(
            "{}: the wire run differs from line {}:\n--- memory\n{}\n--- wire\n{}",
            path.display(),
            first + 1,
            m.lines().skip(first).take(8).collect::<Vec<_>>().join("\n"),
            w.lines().skip(first).take(8).collect::<Vec<_>>().join("\n"),
        );
    }
    assert_eq!(memory.passed(), wire.passed());
}
