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

/// Finds the line of a field path such as `steps[2].run` by walking the YAML text: each
/// `name` narrows to the lines under that key, each `[i]` to the i-th `-` item.
pub fn locate(text: &str, field: &str) -> (Option<usize>, Option<usize>) {
    let lines: Vec<&str> = text.lines().collect();
    let (mut from, mut to, mut indent) = (0usize, lines.len(), -1i64);
    let mut found: Option<(usize, usize)> = None;
    for part in field.split('.').filter(|p| !p.is_empty()) {
        let (key, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            let hit = (from..to).find(|&i| {
                let l = lines[i];
                let ind = (l.len() - l.trim_start().len()) as i64;
                let t = l.trim_start().trim_start_matches("- ");
                ind > indent && (t.starts_with(&format!("{key}:")) || t.starts_with(&format!("\"{key}\":")))
            });
            let Some(i) = hit else { break };
            let ind = (lines[i].len() - lines[i].trim_start().len()) as i64;
            let col = lines[i].find(key).unwrap_or(0);
            found = Some((i + 1, col + 1));
            from = i + 1;
            to = (from..lines.len())
                .find(|&j| {
                    let l = lines[j];
                    !l.trim().is_empty() && !l.trim_start().starts_with('#') && ((l.len() - l.trim_start().len()) as i64) <= ind && !l.trim_start().starts_with("- ") || ((l.len() - l.trim_start().len()) as i64) < ind
                })
                .unwrap_or(lines.len());
            indent = ind;
        }
        for idx in indices.split(']').filter_map(|s| s.strip_prefix('[')).filter_map(|s| s.parse::<usize>().ok()) {
            let items: Vec<usize> = (from..to).filter(|&i| lines[i].trim_start().starts_with("- ") || lines[i].trim() == "-").collect();
            let item_indent = items.iter().map(|&i| lines[i].len() - lines[i].trim_start().len()).min();
            let items: Vec<usize> = items.into_iter().filter(|&i| Some(lines[i].len() - lines[i].trim_start().len()) == item_indent).collect();
            let Some(&i) = items.get(idx) else { return (found.map(|f| f.0), found.map(|f| f.1)) };
            let ind = lines[i].len() - lines[i].trim_start().len();
            found = Some((i + 1, ind + 1));
            let end = items.iter().find(|&&j| j > i).copied().unwrap_or(to);
            from = i;
            to = end;
            indent = ind as i64;
        }
    }
    (found.map(|f| f.0), found.map(|f| f.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_walks_keys_and_items() {
        let text = "name: x\nsteps:\n  - at: 1m\n    run: a\n  - at: 2m\n    run: b\n    expect:\n      status: 400\n";
        assert_eq!(locate(text, "steps[1].run"), (Some(6), Some(5)));
        assert_eq!(locate(text, "steps[1].expect.status"), (Some(8), Some(7)));
        assert_eq!(locate(text, "steps[0]"), (Some(3), Some(3)));
        assert_eq!(locate(text, "name"), (Some(1), Some(1)));
    }
}
