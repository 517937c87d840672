//! The run's timeline: what happened, when, and who did it.

use crate::time::SimTime;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    pub time: SimTime,
    /// `step`, `scheduler`, `autoscaler`, `magnum`, `capi`, `kubelet`, ...
    pub actor: String,
    pub text: String,
}

impl fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}  {:<18} {}", self.time, self.actor, self.text)
    }
}

/// Timeline entries in the order they happened; the engine only appends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub entries: Vec<TraceEntry>,
}

impl Trace {
    pub fn push(&mut self, time: SimTime, actor: &str, text: impl Into<String>) {
        self.entries.push(TraceEntry {
            time,
            actor: actor.to_string(),
            text: text.into(),
        });
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}
