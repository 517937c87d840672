//! Lines read with a bound: `magsim serve --step` reads one line per step from stdin, and a
//! line with no end (`< /dev/zero`) must not be buffered.

use std::io::{self, BufRead};

/// Longest line kept, in bytes (without its newline). Step mode only needs Enter; 4096 bytes
/// is a terminal's line buffer, far more than anyone types.
pub const MAX_LINE_BYTES: usize = 4096;

/// One read from [`BoundedLines::next_line`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line (lossily UTF-8, newline and carriage return removed).
    Text(String),
    /// A line longer than the bound: refused, and the rest of it is skipped unread.
    TooLong,
    /// The input ended.
    Eof,
}

/// Reads lines of at most `max` bytes, keeping at most `max` bytes in memory whatever the
/// input.
pub struct BoundedLines<R> {
    inner: R,
    max: usize,
    /// In the middle of a refused line: drop bytes up to its newline first.
    skipping: bool,
}

impl<R: BufRead> BoundedLines<R> {
    pub fn new(inner: R, max: usize) -> Self {
        BoundedLines {
            inner,
            max,
            skipping: false,
        }
    }

    /// The next line. A line past the bound answers [`Line::TooLong`] as soon as the bound is
    /// passed; the call after skips the rest of it (up to its newline) without keeping it.
    pub fn next_line(&mut self) -> io::Result<Line> {
        let mut line: Vec<u8> = Vec::new();
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                self.skipping = false;
                return Ok(if line.is_empty() {
                    Line::Eof
                } else {
                    Line::Text(text(line))
                });
            }
            let newline = buf.iter().position(|&b| b == b'\n');
            let take = newline.unwrap_or(buf.len());
            if self.skipping {
                self.inner.consume(newline.map_or(take, |n| n + 1));
                if newline.is_some() {
                    self.skipping = false;
                }
                continue;
            }
            if line.len() + take > self.max {
                self.inner.consume(newline.map_or(take, |n| n + 1));
                self.skipping = newline.is_none();
                return Ok(Line::TooLong);
            }
            line.extend_from_slice(&buf[..take]);
            self.inner.consume(newline.map_or(take, |n| n + 1));
            if newline.is_some() {
                return Ok(Line::Text(text(line)));
            }
        }
    }
}

fn text(mut line: Vec<u8>) -> String {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8_lossy(&line).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_within_the_bound_are_read_and_longer_ones_refused_then_skipped() {
        let input = format!("\nok\r\n{}\nnext\nlast", "x".repeat(10_000));
        let mut r = BoundedLines::new(io::BufReader::with_capacity(64, input.as_bytes()), 8);
        assert_eq!(r.next_line().unwrap(), Line::Text(String::new()));
        assert_eq!(r.next_line().unwrap(), Line::Text("ok".into()));
        assert_eq!(r.next_line().unwrap(), Line::TooLong);
        assert_eq!(r.next_line().unwrap(), Line::Text("next".into()));
        assert_eq!(r.next_line().unwrap(), Line::Text("last".into()));
        assert_eq!(r.next_line().unwrap(), Line::Eof);
        let mut exact = BoundedLines::new("12345678\n".as_bytes(), 8);
        assert_eq!(exact.next_line().unwrap(), Line::Text("12345678".into()));
    }

    #[test]
    fn an_endless_line_is_refused_after_the_bound_not_buffered() {
        // /dev/zero: no newline ever. The refusal comes after at most `max` + one buffer.
        use std::io::Read;
        let mut zeros = io::repeat(0).take(u64::MAX);
        let mut r = BoundedLines::new(io::BufReader::with_capacity(1024, &mut zeros), 4096);
        assert_eq!(r.next_line().unwrap(), Line::TooLong);
        assert!(r.skipping);
        let left = r.inner.get_ref().limit();
        assert!(
            u64::MAX - left <= 4096 + 1024,
            "read {} bytes",
            u64::MAX - left
        );
    }
}
