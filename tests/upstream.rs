//! scenarios/upstream/: cluster-autoscaler's own scale-up unit tests as scenarios. Each file
//! passes, names the upstream test it mirrors, and fails when any asserted outcome is changed
//! to another node group, count, pod or reason.

use rstest::rstest;
use serde_yaml_ng::{Mapping, Value};
use std::path::{Path, PathBuf};

#[rstest]
fn upstream_case_passes(#[files("scenarios/upstream/*.yaml")] path: PathBuf) {
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("_test.go"),
        "{} does not name the upstream test it mirrors",
        path.display()
    );
    let scenario = magsim::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let report = magsim::runner::run(&scenario, None);
    assert!(report.passed(), "{}", report.timeline_text());
}

#[rstest]
fn upstream_case_fails_when_its_outcome_changes(
    #[files("scenarios/upstream/*.yaml")] path: PathBuf,
) {
    let doc: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mutants = mutants(&doc);
    assert!(!mutants.is_empty(), "{}: nothing to mutate", path.display());
    for (what, m) in mutants {
        let text = serde_yaml_ng::to_string(&m).unwrap();
        let scenario = magsim::scenario::parse("mutant.yaml", &text)
            .unwrap_or_else(|e| panic!("{}: mutant {what} does not load: {e}", path.display()));
        assert!(
            !magsim::runner::run(&scenario, None).passed(),
            "{}: still passes with {what}",
            path.display()
        );
    }
}

fn key(s: &str) -> Value {
    Value::String(s.into())
}

/// Every group the scenario's test provider knows.
fn groups(doc: &Value) -> Vec<String> {
    let tp = &doc["cloud"]["test_provider"];
    let mut out: Vec<String> = Vec::new();
    for list in ["groups", "nodes"] {
        let field = if list == "groups" { "name" } else { "group" };
        for g in tp[list].as_sequence().into_iter().flatten() {
            if let Some(n) = g[field].as_str() {
                if !out.iter().any(|o| o == n) {
                    out.push(n.to_string());
                }
            }
        }
    }
    out
}

fn pods(doc: &Value) -> Vec<String> {
    doc["workload"]["pods"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str().map(String::from))
        .collect()
}

const REASONS: [&str; 4] = [
    "max node group size reached",
    "not ready for scale-up",
    "Insufficient cpu",
    "max cluster cpu limit reached",
];

/// One changed copy of `doc` per asserted fact and per alternative value.
fn mutants(doc: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let steps = doc["steps"].as_sequence().cloned().unwrap_or_default();
    for (si, step) in steps.iter().enumerate() {
        let Some(su) = step["expect"]["scale_up"].as_mapping() else {
            continue;
        };
        for (field, value) in su {
            let field = field.as_str().unwrap_or_default();
            let variants = match (field, value) {
                ("options" | "size_changes" | "target_sizes", Value::Mapping(m)) => {
                    count_maps(m, &groups(doc))
                }
                ("skipped", Value::Mapping(m)) => reason_maps(m, &groups(doc)),
                ("rejected", Value::Mapping(m)) => rejected_maps(m),
                ("triggered" | "remaining" | "awaiting", Value::Sequence(s)) => {
                    pod_lists(s, &pods(doc))
                }
                ("option_pods", Value::Mapping(m)) => option_pod_maps(m, &pods(doc)),
                _ => Vec::new(),
            };
            for (what, v) in variants {
                let mut m = doc.clone();
                m["steps"][si]["expect"]["scale_up"][field] = v;
                out.push((format!("steps[{si}].scale_up.{field}: {what}"), m));
            }
        }
        for (ei, e) in step["expect"]["events"]
            .as_sequence()
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(msg) = e["message"].as_str() {
                for (what, changed) in message_variants(msg) {
                    let mut m = doc.clone();
                    m["steps"][si]["expect"]["events"][ei]["message"] = key(&changed);
                    out.push((format!("steps[{si}].events[{ei}]: {what}"), m));
                }
            }
        }
    }
    out
}

/// Each count one more and one less; each group renamed to every other group.
fn count_maps(m: &Mapping, groups: &[String]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (k, v) in m {
        let n = v.as_u64().unwrap_or(0);
        for other in [n + 1, n.wrapping_sub(1)] {
            if other != n && other < u64::MAX {
                let mut c = m.clone();
                c.insert(k.clone(), Value::from(other));
                out.push((format!("{k:?} {n} -> {other}"), Value::Mapping(c)));
            }
        }
        for g in groups.iter().filter(|g| !m.contains_key(key(g))) {
            let mut c = m.clone();
            c.remove(k);
            c.insert(key(g), v.clone());
            out.push((format!("{k:?} -> group {g}"), Value::Mapping(c)));
        }
    }
    if m.is_empty() {
        if let Some(g) = groups.first() {
            let mut c = Mapping::new();
            c.insert(key(g), Value::from(1));
            out.push((format!("{g} +1 added"), Value::Mapping(c)));
        }
    }
    out
}

fn reason_maps(m: &Mapping, groups: &[String]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (k, v) in m {
        for r in REASONS.iter().filter(|r| v.as_str() != Some(**r)) {
            let mut c = m.clone();
            c.insert(k.clone(), key(r));
            out.push((format!("{k:?} reason -> {r}"), Value::Mapping(c)));
        }
        for g in groups.iter().filter(|g| !m.contains_key(key(g))) {
            let mut c = m.clone();
            c.remove(k);
            c.insert(key(g), v.clone());
            out.push((format!("{k:?} -> group {g}"), Value::Mapping(c)));
        }
    }
    if m.is_empty() {
        if let Some(g) = groups.first() {
            let mut c = Mapping::new();
            c.insert(key(g), key(REASONS[0]));
            out.push((format!("{g} skipped added"), Value::Mapping(c)));
        }
    }
    out
}

fn rejected_maps(m: &Mapping) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for k in m.keys() {
        let mut c = m.clone();
        c.insert(
            k.clone(),
            Value::Sequence(vec![key("Insufficient ephemeral-storage")]),
        );
        out.push((format!("{k:?} reasons changed"), Value::Mapping(c)));
    }
    out
}

/// Drop each pod; add each pod not listed.
fn pod_lists(s: &[Value], all: &[String]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for i in 0..s.len() {
        let mut c = s.to_vec();
        let gone = c.remove(i);
        out.push((format!("{gone:?} dropped"), Value::Sequence(c)));
    }
    for p in all.iter().filter(|p| !s.contains(&key(p))) {
        let mut c = s.to_vec();
        c.push(key(p));
        out.push((format!("{p} added"), Value::Sequence(c)));
    }
    out
}

fn option_pod_maps(m: &Mapping, all: &[String]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (k, v) in m {
        let s = v.as_sequence().cloned().unwrap_or_default();
        for (what, changed) in pod_lists(&s, all).into_iter().take(3) {
            let mut c = m.clone();
            c.insert(k.clone(), changed);
            out.push((format!("{k:?}: {what}"), Value::Mapping(c)));
        }
    }
    out
}

/// Every count in the message one higher, and every group name in `{name a->b ...}` swapped.
fn message_variants(msg: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let words: Vec<&str> = msg.split(' ').collect();
    for (i, w) in words.iter().enumerate() {
        if let Ok(n) = w.trim_start_matches('{').parse::<u64>() {
            let mut c = words.clone();
            let bumped = (n + 1).to_string();
            c[i] = &bumped;
            out.push((format!("count {n} -> {}", n + 1), c.join(" ")));
        }
        if let Some((a, b)) = w.split_once("->") {
            if let (Ok(a), Ok(b)) = (a.parse::<u64>(), b.parse::<u64>()) {
                let mut c = words.clone();
                let changed = format!("{a}->{}", b + 1);
                c[i] = &changed;
                out.push((format!("size {a}->{b} changed"), c.join(" ")));
            }
        }
    }
    out
}

#[test]
fn readme_table_lists_every_upstream_scenario() {
    let readme = std::fs::read_to_string("scenarios/upstream/README.md").unwrap();
    for e in std::fs::read_dir(Path::new("scenarios/upstream")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".yaml") {
            assert!(readme.contains(&name), "README table lacks {name}");
        }
    }
}
