//! Go behaviours that cluster-autoscaler's texts depend on, ported: `strconv.Quote` and
//! `IsPrint` and `time.ParseDuration` (here), `strconv`'s number parsing ([`strconv`]), and
//! the parts of `gopkg.in/yaml.v2` its status ConfigMap is written with (`yaml`).

pub mod strconv;
pub(crate) mod yaml;

use crate::time::SimDuration;

/// Go's `strconv.Quote` (`%q`).
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if is_go_print(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// The `time` package's own `quote`: non-ASCII and control bytes as `\xNN`.
pub fn time_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c < ' ' || !c.is_ascii() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Go's `time.ParseDuration`: its error text for inputs Go rejects (checked in Go's order), else
/// the value via [`SimDuration::parse`]. A negative duration is stored as zero; a Go-valid one
/// that `SimDuration` cannot represent (`ns`/`us` units) is reported as invalid.
pub fn go_duration(s: &str) -> Result<SimDuration, String> {
    let invalid = || format!("time: invalid duration {}", time_quote(s));
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    if body == "0" {
        return Ok(SimDuration::ZERO);
    }
    if body.is_empty() {
        return Err(invalid());
    }
    let mut rest = body;
    while let Some(&first) = rest.as_bytes().first() {
        let b = rest.as_bytes();
        if first != b'.' && !first.is_ascii_digit() {
            return Err(invalid());
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        // Go's leadingInt fails above 1<<63.
        let int_part = rest.get(..int_len).unwrap_or("");
        if int_part.trim_start_matches('0').len() > 19
            || int_part.parse::<u128>().is_ok_and(|v| v > 1u128 << 63)
        {
            return Err(invalid());
        }
        let mut i = int_len;
        let mut fraction = false;
        if b.get(i) == Some(&b'.') {
            let f = b
                .iter()
                .skip(i + 1)
                .take_while(|c| c.is_ascii_digit())
                .count();
            fraction = f > 0;
            i += 1 + f;
        }
        if int_len == 0 && !fraction {
            return Err(invalid());
        }
        let unit_len = b
            .iter()
            .skip(i)
            .take_while(|c| **c != b'.' && !c.is_ascii_digit())
            .count();
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", time_quote(s)));
        }
        let unit = rest.get(i..i + unit_len).unwrap_or("");
        if !["ns", "us", "\u{b5}s", "\u{3bc}s", "ms", "s", "m", "h"].contains(&unit) {
            return Err(format!(
                "time: unknown unit {} in duration {}",
                time_quote(unit),
                time_quote(s)
            ));
        }
        rest = rest.get(i + unit_len..).unwrap_or("");
    }
    match SimDuration::parse(body) {
        Ok(_) if neg => Ok(SimDuration::ZERO),
        Ok(d) => Ok(d),
        Err(_) => Err(invalid()),
    }
}

/// Approximates Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and the
/// ASCII space; not controls, other spaces, format characters or private-use characters.
pub fn is_go_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    let format_or_private = matches!(u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0x110BD | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F
        | 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD);
    !format_or_private
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_durations() {
        assert_eq!(go_quote("a\"\u{1}é\n"), "\"a\\\"\\x01é\\n\"");
        assert_eq!(time_quote("é"), "\"\\xc3\\xa9\"");
        assert_eq!(go_duration("+1m30s"), Ok(SimDuration::from_secs(90)));
        assert_eq!(go_duration("-5s"), Ok(SimDuration::ZERO));
        assert_eq!(go_duration("-0"), Ok(SimDuration::ZERO));
        assert_eq!(go_duration(".5s"), Ok(SimDuration::from_millis(500)));
        assert_eq!(
            go_duration("1.5"),
            Err("time: missing unit in duration \"1.5\"".into())
        );
        assert_eq!(
            go_duration("1x"),
            Err("time: unknown unit \"x\" in duration \"1x\"".into())
        );
        assert_eq!(
            go_duration(".s"),
            Err("time: invalid duration \".s\"".into())
        );
        assert_eq!(
            go_duration("99999999999999999999s"),
            Err("time: invalid duration \"99999999999999999999s\"".into())
        );
        assert_eq!(
            go_duration("5us"),
            Err("time: invalid duration \"5us\"".into())
        );
    }
}
