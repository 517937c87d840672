//! Load errors that point at the file, line and field.

use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: {message}")]
    Io { file: String, message: String },
    /// A value that is not what the field expects.
    #[error("{0}")]
    At(Located),
}

/// `file:line:column: field: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// `steps[3].expect.status`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if self.field.is_empty() || self.field == "." {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.field, self.message)
        }
    }
}

impl LoadError {
    pub fn at(file: &str, text: &str, field: &str, message: impl Into<String>) -> LoadError {
        let (line, column) = locate(text, field);
        LoadError::At(Located {
            file: file.to_string(),
            line,
            column,
            field: field.to_string(),
            message: message.into(),
        })
    }

    pub fn located(&self) -> Option<&Located> {
        match self {
            LoadError::At(l) => Some(l),
            LoadError::Io { .. } => None,
        }
    }
}

/// Finds where a field path such as `steps[2].run` is written, by walking the YAML text: each
/// `name` narrows to the lines under that key (block or flow style), each `[i]` to the i-th
/// `-` item. The column is the value's when it is on the key's line, else the key's.
pub fn locate(text: &str, field: &str) -> (Option<usize>, Option<usize>) {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let (mut from, mut to) = (0usize, lines.len());
    let mut at: Option<(usize, usize)> = None;
    for part in field.split('.').filter(|p| !p.is_empty()) {
        let (key, indices) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !key.is_empty() {
            let Some((line, key_col, value_col)) = find_key(&lines[from..to], key) else {
                break;
            };
            let i = from + line;
            at = Some((i + 1, value_col.unwrap_or(key_col) + 1));
            let base = indent(lines[i].trim_start_matches("- "))
                + (lines[i].len() - lines[i].trim_start_matches("- ").len())
                    .min(indent(lines[i]) + 2);
            from = i;
            to = (i + 1..to)
                .find(|&j| {
                    !lines[j].trim().is_empty()
                        && !lines[j].trim_start().starts_with('#')
                        && indent(lines[j]) < base.max(1)
                        && indent(lines[j]) <= indent(lines[i])
                })
                .unwrap_or(to);
        }
        for idx in indices
            .split(']')
            .filter_map(|s| s.strip_prefix('['))
            .filter_map(|s| s.parse::<usize>().ok())
        {
            let items: Vec<usize> = (from..to)
                .filter(|&i| lines[i].trim_start().starts_with('-'))
                .collect();
            let Some(min) = items.iter().map(|&i| indent(lines[i])).min() else {
                return split(at);
            };
            let items: Vec<usize> = items
                .into_iter()
                .filter(|&i| indent(lines[i]) == min)
                .collect();
            let Some(&i) = items.get(idx) else {
                return split(at);
            };
            at = Some((i + 1, indent(lines[i]) + 1));
            to = items.iter().copied().find(|&j| j > i).unwrap_or(to);
            from = i;
        }
    }
    split(at)
}

fn split(at: Option<(usize, usize)>) -> (Option<usize>, Option<usize>) {
    (at.map(|a| a.0), at.map(|a| a.1))
}

/// The first line in `lines` holding `key:` as a block key or inside a flow mapping: (line,
/// key column, value column when the value is on that line).
fn find_key(lines: &[&str], key: &str) -> Option<(usize, usize, Option<usize>)> {
    let pat = format!("{key}:");
    for (i, l) in lines.iter().enumerate() {
        let mut search = 0;
        while let Some(pos) = l[search..].find(&pat).map(|p| p + search) {
            let before = l[..pos].chars().last();
            if matches!(before, None | Some(' ') | Some('{') | Some(',') | Some('-')) {
                let after = pos + pat.len();
                let value = l[after..]
                    .find(|c: char| c != ' ')
                    .map(|v| after + v)
                    .filter(|&v| !l[v..].starts_with('#'));
                return Some((i, pos, value));
            }
            search = pos + 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_walks_keys_and_items() {
        let text = "name: x\nsteps:\n  - at: 1m\n    run: a\n  - at: 2m\n    run: b\n    expect:\n      status: 400\n";
        assert_eq!(locate(text, "steps[1].run"), (Some(6), Some(10)));
        assert_eq!(locate(text, "steps[1].expect.status"), (Some(8), Some(15)));
        let flow = "groups:\n  - {name: a, flavor: m3.small}\n  - {name: b, flavor: x}\n";
        assert_eq!(locate(flow, "groups[1].flavor"), (Some(3), Some(23)));
        assert_eq!(locate(text, "steps[0]"), (Some(3), Some(3)));
        assert_eq!(locate(text, "name"), (Some(1), Some(7)));
    }
}
