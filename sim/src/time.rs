//! Virtual time: the engine's clock never reads the wall clock.
//!
//! [`SimTime`] is milliseconds since the scenario's start; [`Epoch`] anchors it to a UTC
//! instant so status ConfigMaps and event timestamps can print real-looking dates.

use std::fmt;

/// A span of virtual time in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

/// An instant on the virtual clock: milliseconds since the scenario started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms)
    }
    /// Panics past `u64::MAX` milliseconds (for constants; input goes through
    /// [`SimDuration::checked_from_secs`] or [`SimDuration::parse`]).
    pub const fn from_secs(s: u64) -> Self {
        match SimDuration::checked_from_secs(s) {
            Some(d) => d,
            None => panic!("SimDuration::from_secs overflows u64 milliseconds"),
        }
    }
    /// `None` when `s` seconds do not fit in `u64` milliseconds.
    pub const fn checked_from_secs(s: u64) -> Option<Self> {
        match s.checked_mul(1000) {
            Some(ms) => Some(SimDuration(ms)),
            None => None,
        }
    }
    /// Panics past `u64::MAX` milliseconds (for constants).
    pub const fn from_mins(m: u64) -> Self {
        match m.checked_mul(60_000) {
            Some(ms) => SimDuration(ms),
            None => panic!("SimDuration::from_mins overflows u64 milliseconds"),
        }
    }
    pub const fn checked_add(self, d: SimDuration) -> Option<SimDuration> {
        match self.0.checked_add(d.0) {
            Some(ms) => Some(SimDuration(ms)),
            None => None,
        }
    }
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    pub fn saturating_mul(self, k: u64) -> Self {
        SimDuration(self.0.saturating_mul(k))
    }

    /// Parses a Go-style duration (`10s`, `1m30s`, `15m`, `3h`, `500ms`, `0`), the form both
    /// cluster-autoscaler flags and scenario files use.
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let s = text.trim();
        if s == "0" {
            return Ok(SimDuration::ZERO);
        }
        if s.is_empty() {
            return Err(DurationError(text.to_string()));
        }
        let mut total: u64 = 0;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit() && c != '.')
                .ok_or_else(|| DurationError(text.to_string()))?;
            if digits == 0 {
                return Err(DurationError(text.to_string()));
            }
            let number: f64 = rest[..digits]
                .parse()
                .map_err(|_| DurationError(text.to_string()))?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let scale = match &rest[..unit_len] {
                "ms" => 1.0,
                "s" => 1000.0,
                "m" => 60_000.0,
                "h" => 3_600_000.0,
                _ => return Err(DurationError(text.to_string())),
            };
            rest = &rest[unit_len..];
            // `as u64` would saturate; a value past u64 milliseconds is refused instead.
            let ms = (number * scale).round();
            if !ms.is_finite() || ms >= u64::MAX as f64 {
                return Err(DurationError(text.to_string()));
            }
            total = total
                .checked_add(ms as u64)
                .ok_or_else(|| DurationError(text.to_string()))?;
        }
        Ok(SimDuration(total))
    }
}

/// A duration that is not in Go's `1h2m3s` form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {0:?}: expected a number with a unit (ms, s, m, h), e.g. 10s, 1m30s, 15m"
)]
pub struct DurationError(pub String);

impl fmt::Display for SimDuration {
    /// Go's `time.Duration` string: `10s`, `1m30s`, `15m0s`, `1h0m0s`, `500ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms == 0 {
            return f.write_str("0s");
        }
        if ms < 1000 {
            return write!(f, "{ms}ms");
        }
        let h = ms / 3_600_000;
        let m = (ms / 60_000) % 60;
        let s = (ms / 1000) % 60;
        let frac = ms % 1000;
        let secs = if frac == 0 {
            format!("{s}s")
        } else {
            let f3 = format!("{frac:03}");
            format!("{s}.{}s", f3.trim_end_matches('0'))
        };
        if h > 0 {
            write!(f, "{h}h{m}m{secs}")
        } else if m > 0 {
            write!(f, "{m}m{secs}")
        } else {
            f.write_str(&secs)
        }
    }
}

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);

    pub fn as_millis(self) -> u64 {
        self.0
    }
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
    /// `None` past `u64::MAX` milliseconds; the scenario loader uses it for every time it
    /// computes, so a file never wraps the clock.
    pub const fn checked_add(self, d: SimDuration) -> Option<SimTime> {
        match self.0.checked_add(d.0) {
            Some(ms) => Some(SimTime(ms)),
            None => None,
        }
    }
}

/// Saturates at `u64::MAX` milliseconds (585 million years), which the engine reads as
/// "never": a timer that far out is never due. It never wraps to an earlier time.
impl std::ops::Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl std::ops::Sub<SimDuration> for SimTime {
    type Output = SimTime;
    fn sub(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(d.0))
    }
}

impl fmt::Display for SimTime {
    /// `+HH:MM:SS` (with `.mmm` when not on a whole second): the timeline's time column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        let (h, m, s) = (ms / 3_600_000, (ms / 60_000) % 60, (ms / 1000) % 60);
        write!(f, "+{h:02}:{m:02}:{s:02}")?;
        if !ms.is_multiple_of(1000) {
            write!(f, ".{:03}", ms % 1000)?;
        }
        Ok(())
    }
}

/// The UTC instant a scenario's virtual clock starts at, in seconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Epoch(pub i64);

impl Default for Epoch {
    /// 2025-11-10T14:00:00Z, the morning of the incident.
    fn default() -> Self {
        Epoch(1_762_783_200)
    }
}

/// A UTC wall-clock instant derived from virtual time, for texts that print dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    /// Milliseconds since the Unix epoch.
    pub unix_millis: i64,
}

impl Epoch {
    pub fn at(self, t: SimTime) -> Timestamp {
        Timestamp {
            unix_millis: self
                .0
                .saturating_mul(1000)
                .saturating_add(i64::try_from(t.0).unwrap_or(i64::MAX)),
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn parse_rfc3339(text: &str) -> Option<Epoch> {
        let b = text.as_bytes();
        if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 {
            return None;
        }
        Some(Epoch(
            days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s,
        ))
    }
}

impl Timestamp {
    fn parts(self) -> (i64, i64, i64, i64, i64, i64, i64) {
        let secs = self.unix_millis.div_euclid(1000);
        let ms = self.unix_millis.rem_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (y, m, d, sod / 3600, (sod / 60) % 60, sod % 60, ms)
    }

    /// Go's `time.Time.String()` for UTC without the monotonic part:
    /// `2025-11-10 14:03:21.12 +0000 UTC` (trailing zeros of the fraction dropped).
    pub fn go_string(self) -> String {
        let (y, mo, d, h, mi, s, ms) = self.parts();
        format!(
            "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}{} +0000 UTC",
            frac(ms)
        )
    }

    /// RFC 3339 with nanosecond precision as Go's `MarshalText` prints it: `2025-11-10T14:03:20.5Z`.
    pub fn rfc3339_nano(self) -> String {
        let (y, mo, d, h, mi, s, ms) = self.parts();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{}Z", frac(ms))
    }

    /// RFC 3339 with nine fraction digits, always (Kubernetes' `RFC3339NanoFixed`, the
    /// kubelet's log timestamps): `2025-11-10T14:03:20.500000000Z`.
    pub fn rfc3339_nano_fixed(self) -> String {
        let (y, mo, d, h, mi, s, ms) = self.parts();
        format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:09}Z",
            ms * 1_000_000
        )
    }

    /// RFC 3339 with six fraction digits, as Kubernetes writes a `MicroTime` (Lease times).
    pub fn rfc3339_micro(self) -> String {
        let (y, mo, d, h, mi, s, ms) = self.parts();
        format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}Z",
            ms * 1000
        )
    }

    /// RFC 3339 at second precision, as Kubernetes object timestamps are written.
    pub fn rfc3339(self) -> String {
        let (y, mo, d, h, mi, s, _) = self.parts();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }

    /// klog's header date and time: `1110 14:03:21.123000` (`MMDD hh:mm:ss.uuuuuu`).
    pub fn klog(self) -> String {
        let (_, mo, d, h, mi, s, ms) = self.parts();
        format!("{mo:02}{d:02} {h:02}:{mi:02}:{s:02}.{:06}", ms * 1000)
    }
}

fn frac(ms: i64) -> String {
    if ms == 0 {
        String::new()
    } else {
        format!(".{ms:03}").trim_end_matches('0').to_string()
    }
}

// Howard Hinnant's civil-calendar conversions.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_round_trip() {
        for (text, ms) in [
            ("10s", 10_000),
            ("1m30s", 90_000),
            ("15m", 900_000),
            ("3h", 10_800_000),
            ("500ms", 500),
            ("0", 0),
            ("1.5s", 1500),
        ] {
            assert_eq!(SimDuration::parse(text), Ok(SimDuration(ms)), "{text}");
        }
        assert_eq!(SimDuration(900_000).to_string(), "15m0s");
        assert_eq!(SimDuration(10_800_000).to_string(), "3h0m0s");
        assert_eq!(SimDuration(90_000).to_string(), "1m30s");
        assert!(SimDuration::parse("10x").is_err());
        assert!(SimDuration::parse("s").is_err());
        assert!(SimDuration::parse("").is_err());
    }

    #[test]
    fn durations_and_times_never_wrap() {
        // 18446744073709552 s is 2^64 ms + 384 ms: it used to wrap to 0.384 s.
        assert_eq!(SimDuration::checked_from_secs(18_446_744_073_709_552), None);
        assert_eq!(
            SimDuration::checked_from_secs(5),
            Some(SimDuration::from_secs(5))
        );
        assert!(SimDuration::parse("18446744073709552s").is_err());
        assert!(SimDuration::parse("99999999999999999999h").is_err());
        assert!(SimDuration::parse("5124095576030h5124095576030h").is_err());
        assert_eq!(SimTime(u64::MAX - 1).checked_add(SimDuration(2)), None);
        assert_eq!(SimTime(u64::MAX - 1) + SimDuration(2), SimTime(u64::MAX));
        assert_eq!(SimDuration(u64::MAX).checked_add(SimDuration(1)), None);
        let far = Epoch::default().at(SimTime(u64::MAX));
        assert_eq!(far.unix_millis, i64::MAX);
    }

    #[test]
    fn epoch_formats_like_go() {
        let e = Epoch::parse_rfc3339("2025-11-10T14:00:00Z").unwrap();
        assert_eq!(e, Epoch::default());
        let t = e.at(SimTime(201_120));
        assert_eq!(t.go_string(), "2025-11-10 14:03:21.12 +0000 UTC");
        assert_eq!(t.rfc3339_nano(), "2025-11-10T14:03:21.12Z");
        assert_eq!(
            e.at(SimTime(0)).go_string(),
            "2025-11-10 14:00:00 +0000 UTC"
        );
        assert_eq!(t.klog(), "1110 14:03:21.120000");
        assert_eq!(
            Epoch::parse_rfc3339("2024-02-29T00:00:00Z").unwrap().0,
            1_709_164_800
        );
        assert!(Epoch::parse_rfc3339("2024-13-01T00:00:00Z").is_none());
    }

    #[test]
    fn sim_time_prints_as_offset() {
        assert_eq!(SimTime(3_723_000).to_string(), "+01:02:03");
        assert_eq!(SimTime(1_500).to_string(), "+00:00:01.500");
    }
}
