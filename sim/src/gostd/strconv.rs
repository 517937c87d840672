//! Go's `strconv` number and boolean parsing, with its two failure kinds and their texts:
//! cluster-autoscaler's flags, its cloud-config and yaml.v2's resolver all parse with it.

use super::go_quote;

/// strconv's two failure kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumError {
    Syntax,
    Range,
}

impl NumError {
    /// What Go's `flag` package reports for it (`numError`).
    pub fn flag_reason(self) -> String {
        match self {
            NumError::Syntax => "parse error".to_string(),
            NumError::Range => "value out of range".to_string(),
        }
    }

    /// Its `Err` text: `invalid syntax` / `value out of range`.
    pub fn text(self) -> &'static str {
        match self {
            NumError::Syntax => "invalid syntax",
            NumError::Range => "value out of range",
        }
    }

    /// strconv's own text, e.g. `strconv.ParseInt: parsing "x": invalid syntax`.
    pub fn strconv(self, func: &str, input: &str) -> String {
        format!(
            "strconv.{func}: parsing {}: {}",
            go_quote(input),
            self.text()
        )
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseInt`/`ParseUint` in `base` (0: prefix-detected, `_` separators
/// allowed) and the given bit size.
pub fn parse_int(s: &str, base: u32, signed: bool, bits: u32) -> Result<i128, NumError> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') if signed => (false, s.get(1..).unwrap_or("")),
        Some(b'-') if signed => (true, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    if body.is_empty() {
        return Err(NumError::Syntax);
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if base == 0 {
        if let Some(r) = lower.strip_prefix("0x") {
            (16, r, true)
        } else if let Some(r) = lower.strip_prefix("0b") {
            (2, r, true)
        } else if let Some(r) = lower.strip_prefix("0o") {
            (8, r, true)
        } else if lower.len() > 1 && lower.starts_with('0') {
            (8, lower.get(1..).unwrap_or(""), true)
        } else {
            (10, lower.as_str(), false)
        }
    } else {
        (base, lower.as_str(), false)
    };
    if digits.contains('_') && (base != 0 || !underscore_ok(&lower, prefixed)) {
        return Err(NumError::Syntax);
    }
    let mut value: u128 = 0;
    let mut any = false;
    for c in digits.chars().filter(|&c| c != '_') {
        let d = c.to_digit(radix).ok_or(NumError::Syntax)?;
        any = true;
        value = (value * u128::from(radix) + u128::from(d)).min(u128::from(u64::MAX) + 2);
    }
    if !any {
        return Err(NumError::Syntax);
    }
    let limit: u128 = match (signed, neg) {
        (false, _) => (1u128 << bits) - 1,
        (true, false) => (1u128 << (bits - 1)) - 1,
        (true, true) => 1u128 << (bits - 1),
    };
    if value > limit {
        return Err(NumError::Range);
    }
    let v = value as i128;
    Ok(if neg { -v } else { v })
}

/// Go's `underscoreOK` on an unsigned, lower-cased number.
fn underscore_ok(s: &str, prefixed: bool) -> bool {
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if prefixed && b.len() >= 2 && b[0] == b'0' && matches!(b[1], b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1] == b'x';
    }
    for &c in b.iter().skip(i) {
        if c.is_ascii_digit() || (hex && (b'a'..=b'f').contains(&c)) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal forms, `inf`/`infinity`/`nan` (any case) and
/// `_` separators; hexadecimal floats are not supported.
pub fn parse_float(s: &str) -> Result<f64, NumError> {
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if unsigned.len() + 1 < lower.len() {
        return Err(NumError::Syntax);
    }
    let special = matches!(unsigned, "inf" | "infinity");
    if unsigned == "nan" && unsigned.len() != lower.len() {
        return Err(NumError::Syntax);
    }
    let body = if lower.contains('_') {
        if !underscore_ok(unsigned, false) {
            return Err(NumError::Syntax);
        }
        lower.replace('_', "")
    } else {
        lower.clone()
    };
    if !special
        && unsigned != "nan"
        && !body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
    {
        return Err(NumError::Syntax);
    }
    let x: f64 = body.parse().map_err(|_| NumError::Syntax)?;
    if x.is_infinite() && !special {
        return Err(NumError::Range);
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_number_helpers() {
        assert_eq!(parse_int("0x1_f", 0, true, 64), Ok(31));
        assert_eq!(parse_int("0b101", 0, true, 64), Ok(5));
        assert_eq!(parse_int("017", 0, true, 64), Ok(15));
        assert_eq!(parse_int("08", 0, true, 64), Err(NumError::Syntax));
        assert_eq!(parse_int("1_0", 10, true, 64), Err(NumError::Syntax));
        assert_eq!(parse_int("_1", 0, true, 64), Err(NumError::Syntax));
        assert_eq!(parse_int("2147483648", 10, false, 31), Err(NumError::Range));
        assert_eq!(
            parse_int("-9223372036854775808", 10, true, 64),
            Ok(i64::MIN as i128)
        );
        assert_eq!(parse_int("+", 10, true, 64), Err(NumError::Syntax));
        assert_eq!(parse_float("1_000.5"), Ok(1000.5));
        assert_eq!(parse_float(".5"), Ok(0.5));
        assert_eq!(parse_float("-Inf"), Ok(f64::NEG_INFINITY));
        assert!(parse_float("NaN").is_ok_and(f64::is_nan));
        assert_eq!(parse_float("+nan"), Err(NumError::Syntax));
        assert_eq!(parse_float("1e"), Err(NumError::Syntax));
        assert_eq!(parse_float("--1"), Err(NumError::Syntax));
    }

    #[test]
    fn the_cloud_config_s_integers() {
        assert_eq!(parse_int("0x1_f", 0, true, 64), Ok(31));
        assert_eq!(parse_int("1_0", 10, true, 64), Err(NumError::Syntax));
        assert_eq!(parse_int("010", 0, true, 64), Ok(8));
        assert_eq!(
            parse_int("-9223372036854775808", 10, true, 64),
            Ok(i64::MIN as i128)
        );
        assert_eq!(
            parse_int("9223372036854775808", 10, true, 64),
            Err(NumError::Range)
        );
        assert_eq!(
            parse_int("18446744073709551615", 10, false, 64),
            Ok(u64::MAX as i128)
        );
    }

    #[test]
    fn other_bases_and_the_error_texts() {
        assert_eq!(parse_int("101", 2, false, 64), Ok(5));
        assert_eq!(parse_int("102", 2, false, 64), Err(NumError::Syntax));
        assert_eq!(
            parse_int("-101", 2, false, 64),
            Err(NumError::Syntax),
            "unsigned takes no sign"
        );
        assert_eq!(
            NumError::Range.strconv("ParseInt", "99999999999999999999"),
            "strconv.ParseInt: parsing \"99999999999999999999\": value out of range"
        );
        assert_eq!(parse_bool("T"), Some(true));
        assert_eq!(parse_bool("yes"), None);
    }
}
