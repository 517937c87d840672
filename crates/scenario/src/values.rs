//! Field types that check themselves while the YAML is read, so a bad value is reported at its
//! own line and column.

use magsim_sim::resources::{parse_bytes, parse_cpu};
use magsim_sim::time::SimDuration;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

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

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = scalar(d)?;
        if let Ok(secs) = s.parse::<u64>() {
            return Ok(Duration(SimDuration::from_secs(secs)));
        }
        SimDuration::parse(&s)
            .map(Duration)
            .map_err(de::Error::custom)
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
