//! Field types that check themselves while the YAML is read, so a bad value is reported at its
//! own line and column.

use magsim_sim::limits::MAX_DURATION;
use magsim_sim::resources::{parse_bytes, parse_cpu};
use magsim_sim::time::SimDuration;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

/// `1h30m`-shaped: numbers each followed by a unit.
fn well_formed(s: &str) -> bool {
    let s = s.trim();
    s.starts_with(|c: char| c.is_ascii_digit())
        && s.ends_with(|c: char| c.is_ascii_alphabetic())
        && s.split(|c: char| c.is_ascii_digit() || c == '.')
            .all(|u| matches!(u, "" | "ms" | "s" | "m" | "h"))
}

/// Reads a scalar (string or number) as text.
struct ScalarText;

impl Visitor<'_> for ScalarText {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or number")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(ScalarText)
}

/// A Go-style duration: `90s`, `5m`, `1h30m`; a bare number means seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub SimDuration);

/// At most [`MAX_DURATION`]: times and spans in a scenario are on a virtual clock that runs
/// for at most that long, so no sum of them can overflow.
impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = scalar(d)?;
        let parsed = match s.parse::<u64>() {
            Ok(secs) => SimDuration::checked_from_secs(secs),
            Err(_) => match SimDuration::parse(&s) {
                Ok(d) => Some(d),
                // Digits and units only: well formed, so too large for the clock.
                Err(_) if well_formed(&s) => None,
                Err(e) => return Err(de::Error::custom(e)),
            },
        };
        match parsed {
            Some(d) if d <= MAX_DURATION => Ok(Duration(d)),
            _ => Err(de::Error::custom(format!(
                "{s} is longer than {MAX_DURATION}: expected at most 7 days (magsim's limit on virtual time)"
            ))),
        }
    }
}

/// A CPU quantity (`500m`, `2`) in milli-CPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpu(pub u64);

impl<'de> Deserialize<'de> for Cpu {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_cpu(&scalar(d)?).map(Cpu).map_err(de::Error::custom)
    }
}

/// A byte quantity (`4Gi`, `6G`, `512Mi`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_bytes(&scalar(d)?)
            .map(Bytes)
            .map_err(de::Error::custom)
    }
}

/// A Kubernetes label value or annotation: always text, even when written as a number.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar(d).map(Text)
    }
}

/// A command line as an operator typed it, parsed while the file is read.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandLine(pub String, pub crate::command::Command);

impl<'de> Deserialize<'de> for CommandLine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::command::parse(&s)
            .map(|c| CommandLine(s.trim().to_string(), c))
            .map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duration(yaml: &str) -> Result<Duration, String> {
        serde_yaml_ng::from_str::<Duration>(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn durations_past_the_limit_are_refused_never_wrapped() {
        assert_eq!(duration("90").unwrap().0, SimDuration::from_secs(90));
        assert_eq!(duration("168h").unwrap().0, MAX_DURATION);
        // 18446744073709552 s = 2^64 ms + 384 ms: this used to run at +0.384 s.
        for text in [
            "18446744073709552",
            "99999999h",
            "168h1ms",
            "5124095576030h5124095576030h",
        ] {
            let e = duration(text).unwrap_err();
            assert!(e.contains("is longer than 168h0m0s"), "{text}: {e}");
        }
        assert!(duration("10x").unwrap_err().contains("invalid duration"));
    }
}
