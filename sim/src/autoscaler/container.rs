//! The autoscaler's container as the kubelet keeps it: its restarts, its last termination and
//! the log each instance of the process wrote (what `kubectl logs` prints, and `--previous`).
//!
//! Lines come from klog calls of the binary at their verbosity (`--v`), as the real process
//! writes them to stderr; the timeline keeps magsim's own narration apart.

use crate::time::{Epoch, SimTime, Timestamp};
use std::collections::VecDeque;

/// Lines kept per instance: the kubelet rotates a container's log at 10 MiB
/// (`containerLogMaxSize`); this keeps memory bounded on the same order.
pub const MAX_LOG_LINES: usize = 20_000;

/// klog's severities, written as the line's first letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
    Error,
    Fatal,
}

impl Severity {
    fn letter(self) -> char {
        match self {
            Severity::Info => 'I',
            Severity::Warning => 'W',
            Severity::Error => 'E',
            Severity::Fatal => 'F',
        }
    }
}

/// One klog call of the binary: its severity, its `V` level and its `file:line`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Site {
    pub severity: Severity,
    pub v: u8,
    pub location: &'static str,
}

impl Site {
    pub const fn info(v: u8, location: &'static str) -> Site {
        Site {
            severity: Severity::Info,
            v,
            location,
        }
    }

    pub const fn error(location: &'static str) -> Site {
        Site {
            severity: Severity::Error,
            v: 0,
            location,
        }
    }
}

/// A line the process wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub time: SimTime,
    /// `None` for text written without klog's header (pflag's usage errors).
    pub site: Option<Site>,
    pub text: String,
}

impl LogLine {
    /// The line as the process printed it: `I1110 14:03:21.120000       1 file:line] text`
    /// (the process is pid 1 in its container).
    pub fn render(&self, epoch: Epoch) -> String {
        match self.site {
            Some(site) => klog_line(
                epoch.at(self.time),
                site.severity,
                site.location,
                &self.text,
            ),
            None => self.text.clone(),
        }
    }
}

/// klog's text header and `text`.
pub fn klog_line(ts: Timestamp, severity: Severity, location: &str, text: &str) -> String {
    format!(
        "{}{} {:>7} {location}] {text}",
        severity.letter(),
        ts.klog(),
        1
    )
}

/// One run of the process, from start to exit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub started: SimTime,
    /// When it exited, and with which status; `None` while it runs.
    pub exited: Option<(SimTime, i32)>,
    /// The newest [`MAX_LOG_LINES`] lines.
    pub log: VecDeque<LogLine>,
    /// How many lines it ever wrote (a follower's cursor).
    pub written: u64,
}

impl Instance {
    fn new(started: SimTime) -> Instance {
        Instance {
            started,
            exited: None,
            log: VecDeque::new(),
            written: 0,
        }
    }

    /// The kept lines written after the first `cursor` ones.
    pub fn since(&self, cursor: u64) -> impl Iterator<Item = &LogLine> {
        let first_kept = self.written - self.log.len() as u64;
        let skip = usize::try_from(cursor.saturating_sub(first_kept)).unwrap_or(usize::MAX);
        self.log.iter().skip(skip)
    }
}

/// The container: its current instance (running, or the one that last crashed while the
/// kubelet backs off), the one before it, and how often it was restarted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    /// When the pod was created (its first start).
    pub created: SimTime,
    pub restarts: u32,
    pub current: Instance,
    pub previous: Option<Instance>,
    /// The highest `V` level written (`--v`; 0 until the flags are read).
    pub verbosity: u8,
}

impl Container {
    /// The first instance, started at `now`.
    pub fn new(now: SimTime) -> Container {
        Container {
            created: now,
            restarts: 0,
            current: Instance::new(now),
            previous: None,
            verbosity: 0,
        }
    }

    /// The kubelet starts the container again at `now`.
    pub fn restart(&mut self, now: SimTime) {
        let old = std::mem::replace(&mut self.current, Instance::new(now));
        self.previous = Some(old);
        self.restarts += 1;
    }

    /// Writes `text` at `site` if `--v` lets it through.
    pub fn write(&mut self, now: SimTime, site: Site, text: impl Into<String>) {
        if site.v <= self.verbosity {
            self.push(LogLine {
                time: now,
                site: Some(site),
                text: text.into(),
            });
        }
    }

    /// Writes text without a klog header (pflag's error and usage).
    pub fn write_plain(&mut self, now: SimTime, text: impl Into<String>) {
        self.push(LogLine {
            time: now,
            site: None,
            text: text.into(),
        });
    }

    fn push(&mut self, line: LogLine) {
        let log = &mut self.current.log;
        if log.len() == MAX_LOG_LINES {
            log.pop_front();
        }
        log.push_back(line);
        self.current.written += 1;
    }

    /// The process exits at `now` with `code`.
    pub fn exit(&mut self, now: SimTime, code: i32) {
        self.current.exited = Some((now, code));
    }

    /// The instance the kubelet reports as `lastState.terminated`: the current one once it
    /// has exited, else the one before.
    pub fn last_terminated(&self) -> Option<&Instance> {
        if self.current.exited.is_some() {
            Some(&self.current)
        } else {
            self.previous.as_ref()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    #[test]
    fn lines_above_the_verbosity_are_not_written() {
        let mut c = Container::new(SimTime::ZERO);
        c.verbosity = 1;
        c.write(SimTime::ZERO, Site::info(1, "main.go:1"), "kept");
        c.write(SimTime::ZERO, Site::info(2, "main.go:2"), "dropped");
        let texts: Vec<&str> = c.current.log.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["kept"]);
    }

    #[test]
    fn a_line_renders_with_klog_s_header() {
        let epoch = Epoch::parse_rfc3339("2025-11-10T14:00:00Z").unwrap();
        let line = LogLine {
            time: SimTime::ZERO + SimDuration::from_millis(1120),
            site: Some(Site::error("static_autoscaler.go:5")),
            text: "boom".into(),
        };
        assert_eq!(
            line.render(epoch),
            "E1110 14:00:01.120000       1 static_autoscaler.go:5] boom"
        );
    }

    #[test]
    fn the_last_termination_is_the_crashed_instance_then_the_one_before() {
        let mut c = Container::new(SimTime::ZERO);
        c.exit(SimTime::ZERO, 255);
        assert_eq!(c.last_terminated().map(|i| i.started), Some(SimTime::ZERO));
        let later = SimTime::ZERO + SimDuration::from_secs(10);
        c.restart(later);
        assert_eq!(c.restarts, 1);
        assert_eq!(c.last_terminated().map(|i| i.started), Some(SimTime::ZERO));
        c.exit(later, 255);
        assert_eq!(c.last_terminated().map(|i| i.started), Some(later));
    }

    #[test]
    fn the_log_keeps_its_newest_lines() {
        let mut c = Container::new(SimTime::ZERO);
        for i in 0..=MAX_LOG_LINES {
            c.write_plain(SimTime::ZERO, i.to_string());
        }
        assert_eq!(c.current.log.len(), MAX_LOG_LINES);
        assert_eq!(c.current.log.front().map(|l| l.text.as_str()), Some("1"));
        let after: Vec<&str> = c
            .current
            .since(MAX_LOG_LINES as u64)
            .map(|l| l.text.as_str())
            .collect();
        assert_eq!(after, [MAX_LOG_LINES.to_string()]);
    }
}
