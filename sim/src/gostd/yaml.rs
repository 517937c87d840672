//! The parts of `gopkg.in/yaml.v2` (v2.4.0, the one cluster-autoscaler vendors) that its
//! status ConfigMap's text depends on, ported: how the encoder writes a Go string (plain when
//! it reads back as a string, else double-quoted; a literal block for several lines;
//! `!!binary` base64 for invalid UTF-8) and the block-style subset of the emitter
//! (`emitterc.go`), line folding at column 80 included. [`crate::autoscaler::status`] builds
//! the [`Node`] tree; [`document`] writes it.

use super::strconv::parse_int;

/// The YAML document `root` is, as yaml.v2's `Marshal` writes it.
pub(crate) fn document(root: &Node) -> String {
    Emitter::document(root)
}

/// A YAML node as yaml.v2's encoder produces events for it.
#[derive(Debug)]
pub(crate) enum Node {
    Map(Vec<(&'static str, Node)>),
    Seq(Vec<Node>),
    Scalar(Scalar),
}

/// The scalar styles yaml.v2 asks for or the emitter falls back to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// A scalar event: its text, the style the encoder asked for, and an explicit tag suffix
/// (`binary` for `!!binary`).
#[derive(Debug)]
pub(crate) struct Scalar {
    value: Vec<u8>,
    style: Style,
    tag: Option<&'static str>,
}

impl Scalar {
    /// A scalar the encoder always writes plain: mapping keys and integers.
    fn plain(text: &str) -> Scalar {
        Scalar {
            value: text.as_bytes().to_vec(),
            style: Style::Plain,
            tag: None,
        }
    }
}

/// A Go `string` field as yaml.v2's `encoder.stringv` emits it.
pub(crate) fn go_string(bytes: &[u8]) -> Node {
    let (value, tag, can_use_plain) = match std::str::from_utf8(bytes) {
        Ok(s) => (
            bytes.to_vec(),
            None,
            resolves_to_str(s) && !is_base60_float(s),
        ),
        Err(_) => (
            encode_base64_lines(bytes).into_bytes(),
            Some("binary"),
            true,
        ),
    };
    let style = if value.contains(&b'\n') {
        Style::Literal
    } else if can_use_plain {
        Style::Plain
    } else {
        Style::DoubleQuoted
    };
    Node::Scalar(Scalar { value, style, tag })
}

/// A Go `string` field given as text.
pub(crate) fn go_str(s: &str) -> Node {
    go_string(s.as_bytes())
}

/// A Go integer field.
pub(crate) fn int(n: u32) -> Node {
    Node::Scalar(Scalar::plain(&n.to_string()))
}

/// Go's `encodeBase64` in yaml.v2: standard base64 cut into 70-character lines, each ending
/// in `\n` once there is more than one line.
fn encode_base64_lines(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                encoded.push(char::from(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    const LINE: usize = 70;
    let lines = encoded.len() / LINE + 1;
    if lines <= 1 {
        return encoded;
    }
    let mut out = String::new();
    for piece in encoded.as_bytes().chunks(LINE) {
        out.push_str(&String::from_utf8_lossy(piece));
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// yaml.v2 `resolve`: does a string read back as `!!str` when written plain?

/// The words yaml.v2 resolves to bools, null or special floats.
const RESOLVE_WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no", "No",
    "NO", "false", "False", "FALSE", "off", "Off", "OFF", "", "~", "null", "Null", "NULL", ".nan",
    ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
];

/// yaml.v2 `resolve("", s)` gives `!!str`: otherwise the encoder double-quotes the string.
fn resolves_to_str(s: &str) -> bool {
    let b = s.as_bytes();
    let hint = match b.first() {
        None => return false,
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => return true,
    };
    if RESOLVE_WORDS.contains(&s) {
        return false;
    }
    match hint {
        b'M' => true,
        b'.' => !go_parse_float_ok(s),
        _ => {
            if is_yaml_timestamp(s) {
                return false;
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            if parse_int(&plain, 0, true, 64).is_ok() || parse_int(&plain, 0, false, 64).is_ok() {
                return false;
            }
            if is_yaml_style_float(&plain) && plain.parse::<f64>().is_ok_and(f64::is_finite) {
                return false;
            }
            if let Some(rest) = plain.strip_prefix("0b") {
                if parse_int(rest, 2, true, 64).is_ok() || parse_int(rest, 2, false, 64).is_ok() {
                    return false;
                }
            } else if let Some(rest) = plain.strip_prefix("-0b") {
                if parse_int(&format!("-{rest}"), 2, true, 64).is_ok() {
                    return false;
                }
            }
            true
        }
    }
}

/// `strconv.ParseFloat` succeeds on a string starting with `.`: `.digits[e[+-]digits]`,
/// finite.
fn go_parse_float_ok(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('.') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let tail = &rest[digits..];
    let exponent_ok = tail.is_empty() || {
        let t = tail
            .strip_prefix(['e', 'E'])
            .map(|t| t.strip_prefix(['+', '-']).unwrap_or(t));
        t.is_some_and(|t| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()))
    };
    exponent_ok && s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, yaml.v2's `yamlStyleFloat`.
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |from: usize| {
        b.iter()
            .skip(from)
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return false;
        }
        i += 1 + n;
    } else {
        let n = digits(i);
        if n == 0 {
            return false;
        }
        i += n;
        if b.get(i) == Some(&b'.') {
            i += 1 + digits(i + 1);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == b.len()
}

/// yaml.v2 `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    if !matches!(b.first(), Some(b'+' | b'-' | b'0'..=b'9')) || !s.contains(':') {
        return false;
    }
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        // `[0-5]?[0-9]`: two digits when the first is 0-5 and a digit follows, else one
        // (taking one where two are there leaves a digit that nothing else can match).
        match (b.get(i), b.get(i + 1)) {
            (Some(b'0'..=b'5'), Some(d)) if d.is_ascii_digit() => i += 2,
            (Some(d), _) if d.is_ascii_digit() => i += 1,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// yaml.v2 `parseTimestamp`: `YYYY-` then one of Go layouts `2006-1-2T15:4:5.999999999Z07:00`
/// (`T` or `t`), `2006-1-2 15:4:5.999999999` or `2006-1-2`, as `time.Parse` accepts them.
fn is_yaml_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let year_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if year_digits != 4 || b.get(4) != Some(&b'-') {
        return false;
    }
    [Some(b'T'), Some(b't'), Some(b' '), None]
        .into_iter()
        .any(|sep| go_parse_yaml_layout(b, sep))
}

/// `time.Parse` with one of yaml.v2's layouts; `sep` is the date/time separator, `None` for
/// the date-only layout. Only the `T`/`t` layouts carry a `Z07:00` zone.
fn go_parse_yaml_layout(b: &[u8], sep: Option<u8>) -> bool {
    let mut p = Cursor { b, i: 0 };
    let year = b
        .iter()
        .take(4)
        .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'));
    p.i = 4;
    if !p.lit(b'-') {
        return false;
    }
    let Some(month) = p.getnum() else {
        return false;
    };
    if !p.lit(b'-') {
        return false;
    }
    let Some(day) = p.getnum() else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return false;
    }
    let Some(sep) = sep else {
        return p.done();
    };
    if !p.lit(sep) {
        return false;
    }
    let Some(hour) = p.getnum() else {
        return false;
    };
    if !p.lit(b':') {
        return false;
    }
    let Some(minute) = p.getnum() else {
        return false;
    };
    if !p.lit(b':') {
        return false;
    }
    let Some(second) = p.getnum() else {
        return false;
    };
    if hour >= 24 || minute >= 60 || second >= 60 {
        return false;
    }
    if matches!(p.peek(0), Some(b'.' | b',')) && p.peek(1).is_some_and(|c| c.is_ascii_digit()) {
        p.i += 1;
        while p.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            p.i += 1;
        }
    }
    if sep == b' ' {
        return p.done();
    }
    if p.lit(b'Z') {
        return p.done();
    }
    let zone = b.get(p.i..p.i + 6);
    let Some(&[sign, h1, h2, colon, m1, m2]) = zone else {
        return false;
    };
    let two = |x: u8, y: u8| {
        (x.is_ascii_digit() && y.is_ascii_digit())
            .then(|| u32::from(x - b'0') * 10 + u32::from(y - b'0'))
    };
    let (Some(zh), Some(zm)) = (two(h1, h2), two(m1, m2)) else {
        return false;
    };
    p.i += 6;
    matches!(sign, b'+' | b'-') && colon == b':' && zh <= 24 && zm <= 60 && p.done()
}

/// A read position in a byte string, for the timestamp parser.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }
    fn lit(&mut self, c: u8) -> bool {
        let ok = self.peek(0) == Some(c);
        if ok {
            self.i += 1;
        }
        ok
    }
    /// Go's `getnum(s, false)`: one or two digits.
    fn getnum(&mut self) -> Option<u32> {
        let d0 = self.peek(0).filter(u8::is_ascii_digit)?;
        self.i += 1;
        match self.peek(0).filter(u8::is_ascii_digit) {
            Some(d1) => {
                self.i += 1;
                Some(u32::from(d0 - b'0') * 10 + u32::from(d1 - b'0'))
            }
            None => Some(u32::from(d0 - b'0')),
        }
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// ---------------------------------------------------------------------------------------------
// The block-style subset of yaml.v2's emitter (emitterc.go): same state, same decisions.

/// Analysis of a scalar's text (`yaml_emitter_analyze_scalar`).
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

const BEST_INDENT: i32 = 2;
const BEST_WIDTH: usize = 80;

/// Where a node sits: as a mapping key/value, and whether it is a simple key.
#[derive(Clone, Copy)]
struct Ctx {
    mapping: bool,
    simple_key: bool,
}

/// yaml.v2's emitter state for one document.
struct Emitter {
    out: Vec<u8>,
    column: usize,
    whitespace: bool,
    indention: bool,
    indent: i32,
    indents: Vec<i32>,
}

fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// UTF-8 sequence length from the first byte (1 for anything unexpected, so loops advance).
fn width(c: u8) -> usize {
    match c {
        c if c & 0x80 == 0 => 1,
        c if c & 0xE0 == 0xC0 => 2,
        c if c & 0xF0 == 0xE0 => 3,
        c if c & 0xF8 == 0xF0 => 4,
        _ => 1,
    }
}

fn is_printable(b: &[u8], i: usize) -> bool {
    let (c, c1, c2) = (at(b, i), at(b, i + 1), at(b, i + 2));
    c == 0x0A
        || (0x20..=0x7E).contains(&c)
        || (c == 0xC2 && c1 >= 0xA0)
        || (c > 0xC2 && c < 0xED)
        || (c == 0xED && c1 < 0xA0)
        || c == 0xEE
        || (c == 0xEF && !(c1 == 0xBB && c2 == 0xBF) && !(c1 == 0xBF && (c2 == 0xBE || c2 == 0xBF)))
}

fn is_space(b: &[u8], i: usize) -> bool {
    at(b, i) == b' '
}

fn is_blank(b: &[u8], i: usize) -> bool {
    matches!(at(b, i), b' ' | b'\t')
}

fn is_break(b: &[u8], i: usize) -> bool {
    let (c, c1, c2) = (at(b, i), at(b, i + 1), at(b, i + 2));
    c == b'\r'
        || c == b'\n'
        || (c == 0xC2 && c1 == 0x85)
        || (c == 0xE2 && c1 == 0x80 && (c2 == 0xA8 || c2 == 0xA9))
}

fn is_blankz(b: &[u8], i: usize) -> bool {
    is_blank(b, i) || is_break(b, i) || at(b, i) == 0
}

/// yaml.v2 checks for a BOM at the start of the value whatever the position.
fn starts_with_bom(b: &[u8]) -> bool {
    b.starts_with(&[0xEF, 0xBB, 0xBF])
}

fn analyze(value: &[u8]) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = value.starts_with(b"---") || value.starts_with(b"...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let mut i = 0;
    while i < value.len() {
        let w = width(value[i]);
        let followed_by_whitespace = i + w >= value.len() || is_blank(value, i + w);
        let c = value[i];
        if i == 0 {
            match c {
                b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>'
                | b'\'' | b'"' | b'%' | b'@' | b'`' => block_indicators = true,
                b'?' | b':' | b'-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                b':' if followed_by_whitespace => block_indicators = true,
                b'#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(value, i) {
            special = true;
        }
        if is_space(value, i) {
            leading_space |= i == 0;
            trailing_space |= i + w == value.len();
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(value, i) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= i + w == value.len();
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(value, i);
        i += w;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

impl Emitter {
    /// Marshals one document (`yaml.Marshal`): the root node, then a final line break.
    fn document(root: &Node) -> String {
        let mut e = Emitter {
            out: Vec::new(),
            column: 0,
            whitespace: true,
            indention: true,
            indent: -1,
            indents: Vec::new(),
        };
        e.node(
            root,
            Ctx {
                mapping: false,
                simple_key: false,
            },
        );
        e.write_indent();
        String::from_utf8(e.out)
            .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
    }

    fn node(&mut self, node: &Node, ctx: Ctx) {
        match node {
            Node::Scalar(s) => self.scalar(s, ctx),
            Node::Map(entries) if entries.is_empty() => self.empty_flow(b"{", b"}"),
            Node::Seq(items) if items.is_empty() => self.empty_flow(b"[", b"]"),
            Node::Map(entries) => {
                self.increase_indent(false, false);
                for (key, value) in entries {
                    self.write_indent();
                    let key = Scalar::plain(key);
                    self.scalar(
                        &key,
                        Ctx {
                            mapping: true,
                            simple_key: true,
                        },
                    );
                    self.write_indicator(b":", false, false, false);
                    self.node(
                        value,
                        Ctx {
                            mapping: true,
                            simple_key: false,
                        },
                    );
                }
                self.pop_indent();
            }
            Node::Seq(items) => {
                let indentless = ctx.mapping && !self.indention;
                self.increase_indent(false, indentless);
                for item in items {
                    self.write_indent();
                    self.write_indicator(b"-", true, false, true);
                    self.node(
                        item,
                        Ctx {
                            mapping: false,
                            simple_key: false,
                        },
                    );
                }
                self.pop_indent();
            }
        }
    }

    fn empty_flow(&mut self, open: &[u8], close: &[u8]) {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn scalar(&mut self, s: &Scalar, ctx: Ctx) {
        let a = analyze(&s.value);
        let mut style = s.style;
        if ctx.simple_key && a.multiline {
            style = Style::DoubleQuoted;
        }
        if style == Style::Plain
            && (!a.block_plain_allowed || (s.value.is_empty() && ctx.simple_key))
        {
            style = Style::SingleQuoted;
        }
        if style == Style::SingleQuoted && !a.single_quoted_allowed {
            style = Style::DoubleQuoted;
        }
        if style == Style::Literal && (!a.block_allowed || ctx.simple_key) {
            style = Style::DoubleQuoted;
        }
        if let Some(suffix) = s.tag {
            self.write_tag(suffix);
        }
        self.increase_indent(true, false);
        let allow_breaks = !ctx.simple_key;
        match style {
            Style::Plain => self.write_plain(&s.value, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted(&s.value, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted(&s.value, allow_breaks),
            Style::Literal => self.write_literal(&s.value),
        }
        self.pop_indent();
    }

    /// `!!suffix` (handle `!!` from the default tag directives); suffixes here are letters.
    fn write_tag(&mut self, suffix: &str) {
        if !self.whitespace {
            self.put(b' ');
        }
        self.write_all(b"!!");
        self.write_all(suffix.as_bytes());
        self.whitespace = false;
        self.indention = false;
    }

    fn put(&mut self, c: u8) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push(b'\n');
        self.column = 0;
    }

    /// Copies one character and advances `i` past it.
    fn write(&mut self, value: &[u8], i: &mut usize) {
        let w = width(at(value, *i));
        let end = (*i + w).min(value.len());
        self.out
            .extend_from_slice(value.get(*i..end).unwrap_or_default());
        self.column += 1;
        *i = end.max(*i + 1);
    }

    fn write_all(&mut self, s: &[u8]) {
        let mut i = 0;
        while i < s.len() {
            self.write(s, &mut i);
        }
    }

    fn write_break(&mut self, value: &[u8], i: &mut usize) {
        if at(value, *i) == b'\n' {
            self.put_break();
            *i += 1;
        } else {
            self.write(value, i);
            self.column = 0;
        }
    }

    fn write_indent(&mut self) {
        let indent = usize::try_from(self.indent.max(0)).unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(b' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, s: &[u8], need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(b' ');
        }
        self.write_all(s);
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    fn write_plain(&mut self, value: &[u8], allow_breaks: bool) {
        if !self.whitespace {
            self.put(b' ');
        }
        let (mut spaces, mut breaks) = (false, false);
        let mut i = 0;
        while i < value.len() {
            if is_space(value, i) {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !is_space(value, i + 1) {
                    self.write_indent();
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                spaces = true;
            } else if is_break(value, i) {
                if !breaks && at(value, i) == b'\n' {
                    self.put_break();
                }
                self.write_break(value, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(value, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, value: &[u8], allow_breaks: bool) {
        self.write_indicator(b"'", true, false, false);
        let (mut spaces, mut breaks) = (false, false);
        let mut i = 0;
        while i < value.len() {
            if is_space(value, i) {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < value.len()
                    && !is_space(value, i + 1)
                {
                    self.write_indent();
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                spaces = true;
            } else if is_break(value, i) {
                if !breaks && at(value, i) == b'\n' {
                    self.put_break();
                }
                self.write_break(value, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if at(value, i) == b'\'' {
                    self.put(b'\'');
                }
                self.write(value, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator(b"'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, value: &[u8], allow_breaks: bool) {
        let mut spaces = false;
        self.write_indicator(b"\"", true, false, false);
        let bom = starts_with_bom(value);
        let mut i = 0;
        while i < value.len() {
            let c = at(value, i);
            if !is_printable(value, i) || bom || is_break(value, i) || c == b'"' || c == b'\\' {
                let w = width(c);
                let end = (i + w).min(value.len());
                let v = decode_char(value.get(i..end).unwrap_or_default());
                i = end.max(i + 1);
                self.put(b'\\');
                match v {
                    0x00 => self.put(b'0'),
                    0x07 => self.put(b'a'),
                    0x08 => self.put(b'b'),
                    0x09 => self.put(b't'),
                    0x0A => self.put(b'n'),
                    0x0B => self.put(b'v'),
                    0x0C => self.put(b'f'),
                    0x0D => self.put(b'r'),
                    0x1B => self.put(b'e'),
                    0x22 => self.put(b'"'),
                    0x5C => self.put(b'\\'),
                    0x85 => self.put(b'N'),
                    0xA0 => self.put(b'_'),
                    0x2028 => self.put(b'L'),
                    0x2029 => self.put(b'P'),
                    _ => {
                        let (letter, digits) = if v <= 0xFF {
                            (b'x', 2)
                        } else if v <= 0xFFFF {
                            (b'u', 4)
                        } else {
                            (b'U', 8)
                        };
                        self.put(letter);
                        for k in (0..digits).rev() {
                            let d = ((v >> (4 * k)) & 0xF) as u8;
                            self.put(if d < 10 { b'0' + d } else { b'A' + d - 10 });
                        }
                    }
                }
                spaces = false;
            } else if is_space(value, i) {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < value.len()
                {
                    self.write_indent();
                    if is_space(value, i + 1) {
                        self.put(b'\\');
                    }
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                spaces = true;
            } else {
                self.write(value, &mut i);
                spaces = false;
            }
        }
        self.write_indicator(b"\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, value: &[u8]) {
        self.write_indicator(b"|", true, false, false);
        self.write_block_hints(value);
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        let mut i = 0;
        while i < value.len() {
            if is_break(value, i) {
                self.write_break(value, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(value, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
    }

    /// The indentation and chomping indicators after `|`.
    fn write_block_hints(&mut self, value: &[u8]) {
        if is_space(value, 0) || is_break(value, 0) {
            self.write_indicator(&[b'0' + BEST_INDENT as u8], false, false, false);
        }
        let last_char_start = |end: usize| -> Option<usize> {
            let mut k = end.checked_sub(1)?;
            while at(value, k) & 0xC0 == 0x80 {
                k = k.checked_sub(1)?;
            }
            Some(k)
        };
        let chomp = match last_char_start(value.len()) {
            None => Some(b'-'),
            Some(k) if !is_break(value, k) => Some(b'-'),
            Some(0) => Some(b'+'),
            Some(k) => match last_char_start(k) {
                Some(p) if is_break(value, p) => Some(b'+'),
                _ => None,
            },
        };
        if let Some(c) = chomp {
            self.write_indicator(&[c], false, false, false);
        }
    }
}

/// The code point of one UTF-8 sequence, decoded the way yaml.v2 does (no validation).
fn decode_char(bytes: &[u8]) -> u32 {
    let Some((&first, rest)) = bytes.split_first() else {
        return 0;
    };
    let lead = match width(first) {
        2 => u32::from(first & 0x1F),
        3 => u32::from(first & 0x0F),
        4 => u32::from(first & 0x07),
        _ => u32::from(first & 0x7F),
    };
    rest.iter()
        .fold(lead, |v, &b| (v << 6) + (u32::from(b) & 0x3F))
}
