//! Text layouts of the clients: cliff's boxed tables (python-openstackclient) and kubectl's
//! tab-aligned columns.

/// cliff's `Field | Value` table.
pub fn cliff(rows: &[(String, String)], headers: (&str, &str)) -> String {
    let w0 = rows
        .iter()
        .map(|r| r.0.chars().count())
        .chain([headers.0.len()])
        .max()
        .unwrap_or(0);
    let w1 = rows
        .iter()
        .map(|r| r.1.chars().count())
        .chain([headers.1.len()])
        .max()
        .unwrap_or(0);
    let rule = format!("+{}+{}+\n", "-".repeat(w0 + 2), "-".repeat(w1 + 2));
    let row = |a: &str, b: &str| format!("| {a:<w0$} | {b:<w1$} |\n");
    let mut out = rule.clone();
    out.push_str(&row(headers.0, headers.1));
    out.push_str(&rule);
    for (a, b) in rows {
        out.push_str(&row(a, b));
    }
    out.push_str(&rule);
    out
}

/// cliff's list table: one column per header.
pub fn cliff_list(headers: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([headers[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let rule = format!(
        "+{}+\n",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("+")
    );
    let line = |cells: Vec<&str>| {
        format!(
            "|{}|\n",
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!(" {c:<w$} "))
                .collect::<Vec<_>>()
                .join("|")
        )
    };
    let mut out = rule.clone();
    out.push_str(&line(headers.to_vec()));
    out.push_str(&rule);
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out.push_str(&rule);
    out
}

/// kubectl's column layout: each column as wide as its widest cell plus `pad` spaces; the
/// last column is not padded.
pub fn columns(rows: &[Vec<String>], pad: usize) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<w$}", w = widths[i] + pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// kubectl's `HumanDuration` (AGE, LAST SEEN).
pub fn human_duration(ms: u64) -> String {
    let s = ms / 1000;
    let m = s / 60;
    let h = s / 3600;
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s.is_multiple_of(60) {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        if m.is_multiple_of(60) {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        if h.is_multiple_of(24) {
            format!("{}d", h / 24)
        } else {
            format!("{}d{}h", h / 24, h % 24)
        }
    } else {
        format!("{}d", h / 24)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_durations() {
        assert_eq!(human_duration(32_000), "32s");
        assert_eq!(human_duration(582_000), "9m42s");
        assert_eq!(human_duration(600_000), "10m");
        assert_eq!(human_duration(7_200_000), "120m");
        assert_eq!(human_duration(4 * 3_600_000 + 60_000), "4h1m");
        assert_eq!(human_duration(3 * 86_400_000), "3d");
    }

    #[test]
    fn cliff_table_shape() {
        let t = cliff(
            &[("status".into(), "CREATE_COMPLETE".into())],
            ("Field", "Value"),
        );
        assert_eq!(t, "+--------+-----------------+\n| Field  | Value           |\n+--------+-----------------+\n| status | CREATE_COMPLETE |\n+--------+-----------------+\n");
        assert_eq!(
            columns(
                &[
                    vec!["NAME".into(), "AGE".into()],
                    vec!["a".into(), "3d".into()]
                ],
                3
            ),
            "NAME   AGE\na      3d\n"
        );
    }
}
