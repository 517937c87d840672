//! Checks a scenario file's size and nesting before the YAML parser sees it: a cheap scan of
//! indentation, `- ` items and flow brackets, so a file nested thousands deep is refused at
//! once instead of taking the parser tens of seconds.

use crate::error::{LoadError, Located};
use magsim_sim::limits::{MAX_SCENARIO_BYTES, MAX_YAML_DEPTH};

/// Refuses text over [`MAX_SCENARIO_BYTES`] or nested deeper than [`MAX_YAML_DEPTH`], naming
/// the line where the limit is crossed.
pub fn check(file: &str, text: &str) -> Result<(), LoadError> {
    if text.len() > MAX_SCENARIO_BYTES {
        return Err(too_big(file, text.len()));
    }
    if let Some((line, column)) = too_deep(text) {
        return Err(LoadError::At(Located {
            file: file.to_string(),
            line: Some(line),
            column: Some(column),
            field: String::new(),
            message: format!(
                "nested deeper than {MAX_YAML_DEPTH} levels: expected at most {MAX_YAML_DEPTH} levels of mappings, lists and brackets (magsim's limit)"
            ),
        }));
    }
    Ok(())
}

pub(crate) fn too_big(file: &str, len: usize) -> LoadError {
    LoadError::At(Located {
        file: file.to_string(),
        line: None,
        column: None,
        field: String::new(),
        message: format!(
            "file is {len} bytes: expected at most {MAX_SCENARIO_BYTES} bytes (4 MiB, magsim's limit)"
        ),
    })
}

/// The (line, column), 1-based, where nesting first passes [`MAX_YAML_DEPTH`]. Depth counts
/// each indentation level still open, each `- ` that starts an item on a line, and each open
/// `[` or `{` (outside quotes and comments). It over-counts at worst (a bracket in a plain
/// scalar), so a file the parser would accept at depth 64 may read deeper here only when it
/// writes brackets inside unquoted text.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if flow == 0 {
            while indents.last().is_some_and(|&top| top >= indent) {
                indents.pop();
            }
            indents.push(indent);
        }
        if indents.len() + flow > MAX_YAML_DEPTH {
            return Some((i + 1, indent + 1));
        }
        let bytes = trimmed.as_bytes();
        let mut j = 0;
        // `- - - x`: each dash opens a list inside the item before it.
        let mut base = indents.len();
        while bytes.get(j) == Some(&b'-') && matches!(bytes.get(j + 1), Some(b' ') | None) {
            base += 1;
            j += 2;
            if base + flow > MAX_YAML_DEPTH {
                return Some((i + 1, indent + j - 1));
            }
        }
        let mut quote: Option<u8> = None;
        while j < bytes.len() {
            let b = bytes[j];
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None => match b {
                    b'"' | b'\'' if j == 0 || matches!(bytes[j - 1], b' ' | b'[' | b'{' | b',') => {
                        quote = Some(b)
                    }
                    b'#' if j == 0 || bytes[j - 1] == b' ' => break,
                    b'[' | b'{' => {
                        flow += 1;
                        if base + flow > MAX_YAML_DEPTH {
                            return Some((i + 1, indent + j + 1));
                        }
                    }
                    b']' | b'}' => flow = flow.saturating_sub(1),
                    _ => {}
                },
            }
            j += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_files_pass() {
        let text = "name: x\nsteps:\n  - at: 1m\n    run: kubectl get pods -o jsonpath='{.items[*]}'\n    expect: {pods: [{name: a}]}\n";
        assert_eq!(too_deep(text), None);
        for (file, text) in crate::builtin() {
            assert!(check(file, text).is_ok(), "{file}");
        }
    }

    #[test]
    fn deep_flow_block_and_dash_nesting_is_refused_with_its_line() {
        let flow = format!(
            "name: x\nv: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(too_deep(&flow), Some((2, 3 + MAX_YAML_DEPTH)));
        let err = check("deep.yaml", &flow).unwrap_err().to_string();
        assert!(err.starts_with("deep.yaml:2:"), "{err}");
        assert!(err.contains("nested deeper than 64 levels"), "{err}");
        let block: String = (0..100)
            .map(|d| format!("{}k{d}:\n", " ".repeat(d)))
            .collect();
        assert_eq!(too_deep(&block).map(|p| p.0), Some(MAX_YAML_DEPTH + 1));
        let dashes = format!("v:\n  {}x\n", "- ".repeat(200));
        assert_eq!(too_deep(&dashes).map(|p| p.0), Some(2));
        let at_limit: String = (0..MAX_YAML_DEPTH)
            .map(|d| format!("{}k{d}:\n", " ".repeat(d)))
            .collect();
        assert_eq!(too_deep(&at_limit), None);
    }

    #[test]
    fn size_is_checked_before_anything_is_parsed() {
        let text = format!("name: x\n#{}\n", " ".repeat(MAX_SCENARIO_BYTES));
        let err = check("big.yaml", &text).unwrap_err().to_string();
        assert!(err.starts_with("big.yaml: file is"), "{err}");
        assert!(err.contains("expected at most 4194304 bytes"), "{err}");
    }
}
