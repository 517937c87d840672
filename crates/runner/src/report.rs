//! Reports: the timeline a person reads, and JUnit XML / JSON for CI systems.

use crate::cli::Outcome;
use magsim_scenario::{Scenario, Step, StepAction};
use magsim_sim::time::SimTime;
use magsim_sim::trace::Trace;
use serde_json::json;

/// One timeline line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub time: Option<SimTime>,
    pub actor: String,
    pub text: String,
}

/// One checked expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub step: usize,
    pub what: String,
    pub ok: bool,
    /// Expected and actual, for a failure.
    pub detail: String,
}

#[derive(Clone, Debug)]
pub struct ScenarioReport {
    pub file: String,
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub lines: Vec<Line>,
    pub checks: Vec<Check>,
}

impl ScenarioReport {
    pub fn new(s: &Scenario, seed: u64) -> ScenarioReport {
        ScenarioReport {
            file: s.file.clone(),
            name: s.name.clone(),
            description: s.description.clone(),
            seed,
            lines: Vec::new(),
            checks: Vec::new(),
        }
    }

    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }

    pub(crate) fn absorb_trace(&mut self, trace: &Trace, shown: &mut usize) {
        for e in &trace.entries[*shown..] {
            self.lines.push(Line {
                time: Some(e.time),
                actor: e.actor.clone(),
                text: e.text.clone(),
            });
        }
        *shown = trace.len();
    }

    pub(crate) fn step(&mut self, step: &Step) {
        let actor = format!("step {}", step.index + 1);
        if let Some(n) = &step.note {
            self.lines.push(Line {
                time: Some(step.at),
                actor: actor.clone(),
                text: format!("# {n}"),
            });
        }
        match &step.action {
            StepAction::Check => {}
            StepAction::Command { line, .. } => self.lines.push(Line {
                time: Some(step.at),
                actor: actor.clone(),
                text: format!("$ {line}"),
            }),
            StepAction::Op { label, .. } => self.lines.push(Line {
                time: Some(step.at),
                actor: actor.clone(),
                text: format!("> {label}"),
            }),
        }
    }

    /// What the command printed: stdout indented, stderr marked `!`.
    pub(crate) fn outcome(&mut self, o: &Outcome) {
        for l in o.stdout.lines() {
            self.lines.push(Line {
                time: None,
                actor: String::new(),
                text: format!("  {l}"),
            });
        }
        for l in o.stderr.lines() {
            self.lines.push(Line {
                time: None,
                actor: String::new(),
                text: format!("! {l}"),
            });
        }
        if o.exit_code != 0 {
            self.lines.push(Line {
                time: None,
                actor: String::new(),
                text: format!("(exit status {})", o.exit_code),
            });
        }
    }

    pub(crate) fn check(&mut self, at: SimTime, c: Check) {
        let mark = if c.ok { "ok  " } else { "FAIL" };
        let mut text = format!("{mark} {}", c.what);
        if !c.ok {
            text.push_str(&format!(" -- {}", c.detail));
        }
        self.lines.push(Line {
            time: Some(at),
            actor: "check".into(),
            text,
        });
        self.checks.push(c);
    }

    /// The timeline as printed by `magsim run`.
    pub fn timeline_text(&self) -> String {
        let mut out = format!("=== {} ({}, seed {})\n", self.name, self.file, self.seed);
        if !self.description.is_empty() {
            for l in self.description.lines() {
                out.push_str(&format!("    {l}\n"));
            }
        }
        for l in &self.lines {
            let time = l.time.map_or(String::new(), |t| t.to_string());
            let mut text = l.text.lines();
            out.push_str(&format!(
                "{time:<10} {:<18} {}\n",
                l.actor,
                text.next().unwrap_or("")
            ));
            for more in text {
                out.push_str(&format!("{:30}{more}\n", ""));
            }
        }
        let failed = self.failures().count();
        let verdict = if failed == 0 { "PASS" } else { "FAIL" };
        out.push_str(&format!(
            "{verdict} {} ({} checks, {failed} failed)\n",
            self.name,
            self.checks.len()
        ));
        out
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML: one test case per scenario, its failed checks as the failure text.
pub fn junit_xml(reports: &[ScenarioReport]) -> String {
    let failures = reports.iter().filter(|r| !r.passed()).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"magsim\" tests=\"{}\" failures=\"{failures}\">\n",
        reports.len()
    ));
    out.push_str(&format!("  <testsuite name=\"magsim scenarios\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n", reports.len()));
    for r in reports {
        out.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\">\n",
            xml_escape(&r.file),
            xml_escape(&r.name)
        ));
        if !r.passed() {
            let msg: Vec<String> = r
                .failures()
                .map(|c| format!("step {}: {} -- {}", c.step + 1, c.what, c.detail))
                .collect();
            out.push_str(&format!(
                "      <failure message=\"{} of {} checks failed\">{}</failure>\n",
                msg.len(),
                r.checks.len(),
                xml_escape(&msg.join("\n"))
            ));
        }
        out.push_str(&format!(
            "      <system-out>{}</system-out>\n",
            xml_escape(&r.timeline_text())
        ));
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// JSON: per scenario, its verdict, checks and timeline.
pub fn json_report(reports: &[ScenarioReport]) -> serde_json::Value {
    json!({
        "passed": reports.iter().filter(|r| r.passed()).count(),
        "failed": reports.iter().filter(|r| !r.passed()).count(),
        "scenarios": reports.iter().map(|r| json!({
            "name": r.name,
            "file": r.file,
            "seed": r.seed,
            "passed": r.passed(),
            "checks": r.checks.iter().map(|c| json!({"step": c.step + 1, "what": c.what, "ok": c.ok, "detail": c.detail})).collect::<Vec<_>>(),
            "timeline": r.lines.iter().map(|l| json!({
                "time_ms": l.time.map(|t| t.as_millis()),
                "actor": l.actor,
                "text": l.text,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
