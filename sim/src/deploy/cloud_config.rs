//! The magnum provider's `--cloud-config` file, read exactly as cluster-autoscaler 1.30.2 reads it.
//!
//! CA's magnum provider (`cloudprovider/magnum/magnum_openstack_clients.go::readConfig`) calls
//! `gcfg.ReadInto` (gopkg.in/gcfg.v1 v1.2.3, gopkg.in/warnings.v0 v0.1.2) on the file and
//! treats *any* error as fatal, including gcfg's "warnings" for data it cannot store. This module
//! reimplements that reader so the simulator fails (or starts) on the same files with the same
//! texts:
//!
//! * the scanner (`gcfg.v1/scanner/scanner.go`): names are letters, digits and `-` (starting with
//!   a letter); `;`/`#` comments; values run to end of line or comment, are trimmed, may contain
//!   `"..."` parts with `\"`, `\\`, `\n`, `\t` escapes and continue over a `\`-newline; any other
//!   character where a token starts is `illegal character U+XXXX 'c'`;
//! * the parser (`gcfg.v1/read.go::readIntoPass`), run twice (`readInto`): once for struct
//!   sections, once for map ("subsection") sections. Unknown sections are reported in **both**
//!   passes, unknown variables of known sections only in the first, so `[Foo]` with one key
//!   yields four `can't store data at section "Foo"` lines while `use-clouds` in `[Global]`
//!   yields one (matching the measured 1.30.2 output);
//! * the setters (`gcfg.v1/set.go`): section and key names match case-insensitively
//!   (`strings.EqualFold` on the `gcfg` tag, or on the Go field name with `-` read as `_`);
//!   strings reject a key without `=` (`blank value not supported for type`); bools accept
//!   `true/yes/on/1/false/no/off/0` (any case) and a bare key means true; integers and
//!   durations are parsed as Go's `fmt.Sscanf` / `time.ParseDuration` would.
//!
//! Positions are `line:column`, 1-based, the column counted in **bytes** as Go's `token.Position`
//! does (identical to characters for ASCII files). No file name is printed because `ReadInto`
//! reads a stream.
//!
//! Known approximations: Go's `unicode.IsLetter` / `IsDigit` / `strconv.IsPrint` are approximated
//! with Rust's `char` predicates for non-ASCII characters; durations follow Go's
//! `time.ParseDuration` rules and error texts but are stored as [`SimDuration`] (milliseconds,
//! unsigned), so a negative duration is stored as zero and one written in `ns`/`us` units is
//! reported as invalid.

use crate::gostd::{go_duration, go_quote, is_go_print};
use crate::time::SimDuration;

/// What the magnum provider's `Config` struct holds after a successful read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudConfig {
    /// `[Global]`: the Keystone credentials and region the provider authenticates with.
    pub global: GlobalConfig,
    /// `[LoadBalancer]`: kept upstream only so cloud-provider-openstack files still parse.
    pub load_balancer: LoadBalancerConfig,
    /// `[BlockStorage]`: kept upstream only so cloud-provider-openstack files still parse.
    pub block_storage: BlockStorageConfig,
    /// `[Route]`: kept upstream only so cloud-provider-openstack files still parse.
    pub route: RouteConfig,
    /// `[Metadata]`: kept upstream only so cloud-provider-openstack files still parse.
    pub metadata: MetadataConfig,
}

/// `[Global]`. A string key that was written (even as `key =`) is `Some`, so the simulator can
/// tell "absent" from "empty"; upstream Go cannot, and treats both as unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalConfig {
    pub auth_url: Option<String>,
    pub username: Option<String>,
    pub user_id: Option<String>,
    pub password: Option<String>,
    pub tenant_id: Option<String>,
    pub tenant_name: Option<String>,
    pub trust_id: Option<String>,
    pub domain_id: Option<String>,
    pub domain_name: Option<String>,
    pub region: Option<String>,
    pub ca_file: Option<String>,
    pub secret_name: Option<String>,
    pub secret_namespace: Option<String>,
    /// `tls-insecure` is a Go string compared to `"true"` (case-sensitive): only `true` counts.
    pub tls_insecure: bool,
}

/// `[LoadBalancer]` (`LoadBalancerOpts`); unused by the autoscaler but type-checked by gcfg.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadBalancerConfig {
    pub lb_version: Option<String>,
    pub use_octavia: bool,
    pub subnet_id: Option<String>,
    pub floating_network_id: Option<String>,
    pub lb_method: Option<String>,
    pub lb_provider: Option<String>,
    pub create_monitor: bool,
    pub monitor_delay: Option<SimDuration>,
    pub monitor_timeout: Option<SimDuration>,
    pub monitor_max_retries: u64,
    pub manage_security_groups: bool,
    /// The untagged Go field `NodeSecurityGroupIDs`, settable as `nodesecuritygroupids`
    /// (multi-valued: each line appends, a bare key clears).
    pub node_security_group_ids: Vec<String>,
}

/// `[BlockStorage]` (`BlockStorageOpts`); unused by the autoscaler but type-checked by gcfg.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockStorageConfig {
    pub bs_version: Option<String>,
    pub trust_device_path: bool,
    pub ignore_volume_az: bool,
    pub node_volume_attach_limit: i64,
}

/// `[Route]` (`RouterOpts`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteConfig {
    pub router_id: Option<String>,
}

/// `[Metadata]` (`MetadataOpts`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataConfig {
    pub search_order: Option<String>,
    pub request_timeout: Option<SimDuration>,
}

/// How the provider would authenticate to Keystone with this `[Global]`, decided by the same
/// local checks gophercloud makes before sending the token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// Password authentication scoped to a Keystone trust (`trust-id`), what Magnum gives CA.
    Trust { trust_id: String },
    /// Plain password authentication (project-scoped by `tenant-id`/`tenant-name` if given).
    Password,
    /// Authentication cannot succeed; the text is the error gophercloud reports, which CA wraps
    /// as `could not authenticate client: <text>`.
    Missing(String),
}

/// Why gcfg rejected the file; `Display` is gcfg's error text exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudConfigError {
    /// Data gcfg could not store (unknown section or key). gcfg returns these only after the
    /// whole file was read; warnings.v0's `List.Error` prints `warning:` (one) or `warnings:`
    /// (several), then each line followed by a newline, so the text ends with `\n`.
    #[error("{}", warnings_text(.0))]
    Warnings(Vec<String>),
    /// A scanner or parser error at a position: `3:12: illegal character U+005F '_'`.
    #[error("{line}:{column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// Several scanner errors raised by the same token (Go's `scanner.ErrorList`): the first,
    /// then ` (and N more errors)`.
    #[error("{line}:{column}: {message} (and {more} more errors)")]
    SyntaxMultiple {
        line: usize,
        column: usize,
        message: String,
        more: usize,
    },
    /// A value gcfg could not convert (gcfg's `locErr`), e.g.
    /// ``failed to parse bool `maybe` at section "LoadBalancer", variable "use-octavia"``.
    #[error("{message} at section \"{section}\", variable \"{variable}\"")]
    Value {
        section: String,
        variable: String,
        message: String,
    },
}

fn warnings_text(lines: &[String]) -> String {
    let mut out = String::from(match lines.len() {
        0 => "",
        1 => "warning:\n",
        _ => "warnings:\n",
    });
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The fatal message CA prints when the cloud-config cannot be read:
/// `Failed to create magnum manager: couldn't read cloud config: <err>`
/// (`magnum_cloud_provider.go` `klog.Fatalf`). For [`CloudConfigError::Warnings`] it ends with
/// the newline Go's error text ends with; klog then ends the line with it instead of adding one.
pub fn manager_error(err: &CloudConfigError) -> String {
    format!("Failed to create magnum manager: couldn't read cloud config: {err}")
}

/// The fatal text CA prints when `--cloud-config` names a file that does not exist
/// (`klog.Fatalf("Couldn't open cloud provider configuration from %s: %#v", ...)` with an
/// ENOENT `*fs.PathError`).
pub fn open_error(path: &str) -> String {
    format!(
        "Couldn't open cloud provider configuration from {path}: &fs.PathError{{Op:\"open\", Path:{}, Err:0x2}}",
        go_quote(path)
    )
}

/// Reads a cloud-config as CA 1.30.2's gcfg does: `Ok` only if gcfg returned no error at all.
pub fn parse_cloud_config(text: &str) -> Result<CloudConfig, CloudConfigError> {
    let mut reader = Reader {
        src: text,
        cfg: CloudConfig::default(),
        warnings: Vec::new(),
    };
    for subsect_pass in [false, true] {
        if let Err(fatal) = reader.pass(subsect_pass) {
            return Err(fatal.into_error(text));
        }
    }
    if reader.warnings.is_empty() {
        Ok(reader.cfg)
    } else {
        Err(CloudConfigError::Warnings(reader.warnings))
    }
}

impl CloudConfig {
    /// Whether the provider can authenticate, following gophercloud's local checks in order:
    /// project scope (`tenant-name` needs `domain-id`/`domain-name` unless `tenant-id` is set),
    /// password, exactly one of `username`/`user-id`, the domain rules for each, then a
    /// non-empty `auth-url` (an empty one makes the token POST go to `/v3/auth/tokens`, which
    /// Go's HTTP client refuses; that text is derived from code, not measured). Empty values
    /// count as absent, as in Go.
    pub fn auth_mode(&self) -> AuthMode {
        let g = &self.global;
        let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        let missing = |s: &str| AuthMode::Missing(s.to_string());
        if !set(&g.tenant_id) && set(&g.tenant_name) && !set(&g.domain_id) && !set(&g.domain_name) {
            return missing(
                "You must provide exactly one of DomainID or DomainName in a Scope with ProjectName",
            );
        }
        if !set(&g.password) {
            return missing("You must provide a password to authenticate");
        }
        let user_or_id =
            "Exactly one of Username and UserID must be provided for password authentication";
        match (set(&g.username), set(&g.user_id)) {
            (false, false) | (true, true) => return missing(user_or_id),
            (true, false) => {
                if set(&g.domain_id) == set(&g.domain_name) {
                    return missing(
                        "You must provide exactly one of DomainID or DomainName to authenticate by Username",
                    );
                }
            }
            (false, true) => {
                if set(&g.domain_id) {
                    return missing(
                        "DomainID may not be provided when authenticating with a UserID",
                    );
                }
                if set(&g.domain_name) {
                    return missing(
                        "DomainName may not be provided when authenticating with a UserID",
                    );
                }
            }
        }
        if !set(&g.auth_url) {
            return missing("Post \"/v3/auth/tokens\": unsupported protocol scheme \"\"");
        }
        match &g.trust_id {
            Some(t) if !t.is_empty() => AuthMode::Trust {
                trust_id: t.clone(),
            },
            _ => AuthMode::Password,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scanner (gcfg.v1/scanner)

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Eof,
    Eol,
    Ident,
    Str,
    LBrack,
    RBrack,
    Assign,
    Illegal,
}

/// A scanned token: byte offset, kind and literal.
struct Token {
    pos: usize,
    tok: Tok,
    lit: String,
}

impl Token {
    fn fatal(&self, msg: &str) -> Fatal {
        Fatal::At(self.pos, msg.to_string())
    }
}

struct Scanner<'a> {
    src: &'a str,
    /// Current character; `None` at end of input.
    ch: Option<char>,
    /// Byte offset of `ch`.
    offset: usize,
    /// Byte offset after `ch`.
    rd_offset: usize,
    /// The token after `=` is a value string.
    next_val: bool,
    /// Every error reported so far, as (byte offset, message).
    errors: Vec<(usize, String)>,
}

fn is_ws(c: Option<char>) -> bool {
    matches!(c, Some(' ' | '\t' | '\r'))
}

fn is_letter(c: Option<char>) -> bool {
    match c {
        Some(c) if c.is_ascii() => c.is_ascii_alphabetic(),
        Some(c) => c.is_alphabetic(),
        None => false,
    }
}

fn is_digit(c: Option<char>) -> bool {
    match c {
        Some(c) if c.is_ascii() => c.is_ascii_digit(),
        Some(c) => c.is_numeric(),
        None => false,
    }
}

impl<'a> Scanner<'a> {
    fn new(src: &'a str) -> Self {
        let mut s = Scanner {
            src,
            ch: Some(' '),
            offset: 0,
            rd_offset: 0,
            next_val: false,
            errors: Vec::new(),
        };
        s.next();
        s
    }

    /// gcfg checks the scanner's error list after most tokens; any entry is fatal.
    fn check(&self) -> Result<(), Fatal> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Fatal::Scan(self.errors.clone()))
        }
    }

    fn error(&mut self, offset: usize, msg: impl Into<String>) {
        self.errors.push((offset, msg.into()));
    }

    /// Loads the next character; a NUL is reported when it is loaded, as Go's `next` does.
    fn next(&mut self) {
        let c = self
            .src
            .get(self.rd_offset..)
            .and_then(|r| r.chars().next());
        match c {
            Some(c) => {
                self.offset = self.rd_offset;
                if c == '\0' {
                    self.error(self.offset, "illegal character NUL");
                }
                self.rd_offset += c.len_utf8();
                self.ch = Some(c);
            }
            None => {
                self.offset = self.src.len();
                self.ch = None;
            }
        }
    }

    fn slice(&self, from: usize, to: usize) -> String {
        self.src.get(from..to).unwrap_or("").to_string()
    }

    fn skip_whitespace(&mut self) {
        while is_ws(self.ch) {
            self.next();
        }
    }

    fn scan_escape(&mut self, val: bool) {
        let offs = self.offset;
        let c = self.ch;
        self.next();
        match c {
            Some('\\' | '"') => {}
            Some('n' | 't') if val => {}
            _ => self.error(offs, "unknown escape sequence"),
        }
    }

    /// A quoted subsection name; the opening quote is already consumed.
    fn scan_string(&mut self) -> String {
        let offs = self.offset.saturating_sub(1);
        while self.ch != Some('"') {
            let c = self.ch;
            self.next();
            if c == Some('\n') || c.is_none() {
                self.error(offs, "string not terminated");
                break;
            }
            if c == Some('\\') {
                self.scan_escape(false);
            }
        }
        self.next();
        self.slice(offs, self.offset)
    }

    /// A value: everything to end of line or an unquoted comment, trailing blanks dropped.
    fn scan_val_string(&mut self) -> String {
        let offs = self.offset;
        let mut has_cr = false;
        let mut end = offs;
        let mut in_quote = false;
        loop {
            let more = in_quote || matches!(self.ch, Some(c) if c != '\n' && c != ';' && c != '#');
            if !more {
                break;
            }
            let c = self.ch;
            self.next();
            if in_quote && c == Some('\\') {
                self.scan_escape(true);
            } else if !in_quote && c == Some('\\') {
                if self.ch == Some('\r') {
                    has_cr = true;
                    self.next();
                }
                if self.ch != Some('\n') && self.ch != Some('"') {
                    self.error(
                        offs,
                        "unquoted '\\' must be followed by new line or double quote",
                    );
                    break;
                }
                self.next();
            } else if c == Some('"') {
                in_quote = !in_quote;
            } else if c == Some('\r') {
                has_cr = true;
            } else if c.is_none() || (in_quote && c == Some('\n')) {
                self.error(offs, "string not terminated");
                break;
            }
            if in_quote || !is_ws(c) {
                end = self.offset;
            }
        }
        let lit = self.slice(offs, end);
        if has_cr {
            lit.replace('\r', "")
        } else {
            lit
        }
    }

    /// Go's `Scan` with comments skipped.
    fn scan(&mut self) -> Token {
        let (pos, tok, lit) = self.scan_raw();
        Token { pos, tok, lit }
    }

    fn scan_raw(&mut self) -> (usize, Tok, String) {
        loop {
            self.skip_whitespace();
            let pos = self.offset;
            if self.next_val {
                self.next_val = false;
                return (pos, Tok::Str, self.scan_val_string());
            }
            if is_letter(self.ch) {
                while is_letter(self.ch) || is_digit(self.ch) || self.ch == Some('-') {
                    self.next();
                }
                return (pos, Tok::Ident, self.slice(pos, self.offset));
            }
            let c = self.ch;
            self.next();
            let tok = match c {
                None => Tok::Eof,
                Some('\n') => Tok::Eol,
                Some('"') => return (pos, Tok::Str, self.scan_string()),
                Some('[') => Tok::LBrack,
                Some(']') => Tok::RBrack,
                Some(';' | '#') => {
                    while self.ch.is_some() && self.ch != Some('\n') {
                        self.next();
                    }
                    continue;
                }
                Some('=') => {
                    self.next_val = true;
                    Tok::Assign
                }
                Some(other) => {
                    self.error(pos, format!("illegal character {}", go_unicode(other)));
                    return (pos, Tok::Illegal, other.to_string());
                }
            };
            return (pos, tok, String::new());
        }
    }
}

/// Go's `token.Position` for a byte offset: line starts are 0 and each offset after a `\n`
/// that is still inside the text (`token.File.AddLine` ignores an offset equal to the size).
fn position(src: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut start = 0;
    for (i, b) in src.bytes().enumerate().take(offset) {
        if b == b'\n' && i + 1 < src.len() {
            line += 1;
            start = i + 1;
        }
    }
    (line, offset.saturating_sub(start) + 1)
}

/// gcfg's `unquote`: drops quotes, resolves escapes, joins `\`-newline continuations.
fn unquote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut q, mut esc) = (false, false);
    for c in s.chars() {
        if esc {
            esc = false;
            match c {
                '\\' | '"' => out.push(c),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                // `\`-newline outside quotes is a line continuation; anything else cannot reach
                // here (the scanner rejected it) and is kept as written.
                '\n' if !q => {}
                other => out.push(other),
            }
            continue;
        }
        match c {
            '"' => q = !q,
            '\\' => esc = true,
            _ => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Parser and setters (gcfg.v1/read.go, set.go)

enum Fatal {
    /// Scanner errors (`scanner.ErrorList`).
    Scan(Vec<(usize, String)>),
    /// A parser error at the current token.
    At(usize, String),
    /// A value that could not be converted.
    Value {
        section: String,
        variable: String,
        message: String,
    },
}

impl Fatal {
    fn into_error(self, src: &str) -> CloudConfigError {
        match self {
            Fatal::Scan(list) => {
                let more = list.len().saturating_sub(1);
                let (offset, message) = list.into_iter().next().unwrap_or_default();
                let (line, column) = position(src, offset);
                if more == 0 {
                    CloudConfigError::Syntax {
                        line,
                        column,
                        message,
                    }
                } else {
                    CloudConfigError::SyntaxMultiple {
                        line,
                        column,
                        message,
                        more,
                    }
                }
            }
            Fatal::At(offset, message) => {
                let (line, column) = position(src, offset);
                CloudConfigError::Syntax {
                    line,
                    column,
                    message,
                }
            }
            Fatal::Value {
                section,
                variable,
                message,
            } => CloudConfigError::Value {
                section,
                variable,
                message,
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Global,
    LoadBalancer,
    BlockStorage,
    Route,
    Metadata,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    AuthUrl,
    Username,
    UserId,
    Password,
    TenantId,
    TenantName,
    TrustId,
    DomainId,
    DomainName,
    Region,
    CaFile,
    TlsInsecure,
    SecretName,
    SecretNamespace,
    LbVersion,
    UseOctavia,
    SubnetId,
    FloatingNetworkId,
    LbMethod,
    LbProvider,
    CreateMonitor,
    MonitorDelay,
    MonitorTimeout,
    MonitorMaxRetries,
    ManageSecurityGroups,
    NodeSecurityGroupIds,
    BsVersion,
    TrustDevicePath,
    IgnoreVolumeAz,
    NodeVolumeAttachLimit,
    RouterId,
    SearchOrder,
    RequestTimeout,
}

/// (gcfg tag or Go field name, whether it is a tag, field) for each section, in struct order.
fn fields(section: Section) -> &'static [(&'static str, bool, Field)] {
    use Field::*;
    match section {
        Section::Global => &[
            ("auth-url", true, AuthUrl),
            ("Username", false, Username),
            ("user-id", true, UserId),
            ("Password", false, Password),
            ("tenant-id", true, TenantId),
            ("tenant-name", true, TenantName),
            ("trust-id", true, TrustId),
            ("domain-id", true, DomainId),
            ("domain-name", true, DomainName),
            ("Region", false, Region),
            ("ca-file", true, CaFile),
            ("tls-insecure", true, TlsInsecure),
            ("secret-name", true, SecretName),
            ("secret-namespace", true, SecretNamespace),
        ],
        Section::LoadBalancer => &[
            ("lb-version", true, LbVersion),
            ("use-octavia", true, UseOctavia),
            ("subnet-id", true, SubnetId),
            ("floating-network-id", true, FloatingNetworkId),
            ("lb-method", true, LbMethod),
            ("lb-provider", true, LbProvider),
            ("create-monitor", true, CreateMonitor),
            ("monitor-delay", true, MonitorDelay),
            ("monitor-timeout", true, MonitorTimeout),
            ("monitor-max-retries", true, MonitorMaxRetries),
            ("manage-security-groups", true, ManageSecurityGroups),
            ("NodeSecurityGroupIDs", false, NodeSecurityGroupIds),
        ],
        Section::BlockStorage => &[
            ("bs-version", true, BsVersion),
            ("trust-device-path", true, TrustDevicePath),
            ("ignore-volume-az", true, IgnoreVolumeAz),
            ("node-volume-attach-limit", true, NodeVolumeAttachLimit),
        ],
        Section::Route => &[("router-id", true, RouterId)],
        Section::Metadata => &[
            ("search-order", true, SearchOrder),
            ("request-timeout", true, RequestTimeout),
        ],
    }
}

/// One character under Go's simple case folding, enough to compare against ASCII names:
/// `ſ` (U+017F) folds to `s` and the Kelvin sign (U+212A) to `k`.
fn fold(c: char) -> char {
    match c {
        '\u{17F}' => 's',
        '\u{212A}' => 'k',
        c => c.to_ascii_lowercase(),
    }
}

/// `strings.EqualFold` for a target made of ASCII characters.
fn fold_eq(name: &str, target: &str) -> bool {
    name.chars().count() == target.chars().count()
        && name
            .chars()
            .zip(target.chars())
            .all(|(a, b)| fold(a) == fold(b))
}

/// gcfg's `fieldFold`: a tagged field matches its tag, an untagged one its Go name with the
/// config name's `-` read as `_` (and an `X` prefix for an uncased leading letter).
fn field_matches(name: &str, ident: &str, tagged: bool) -> bool {
    if tagged {
        return fold_eq(name, ident);
    }
    let mut n = String::new();
    if let Some(c) = name.chars().next() {
        if c.is_alphabetic() && !c.is_lowercase() && !c.is_uppercase() {
            n.push('X');
        }
    }
    n.push_str(&name.replace('-', "_"));
    fold_eq(&n, ident)
}

fn find_section(name: &str) -> Option<Section> {
    [
        ("Global", Section::Global),
        ("LoadBalancer", Section::LoadBalancer),
        ("BlockStorage", Section::BlockStorage),
        ("Route", Section::Route),
        ("Metadata", Section::Metadata),
    ]
    .into_iter()
    .find(|(ident, _)| field_matches(name, ident, false))
    .map(|(_, s)| s)
}

fn find_field(section: Section, name: &str) -> Option<Field> {
    fields(section)
        .iter()
        .find(|(ident, tagged, _)| field_matches(name, ident, *tagged))
        .map(|(_, _, f)| *f)
}

const BLANK: &str = "blank value not supported for type";

fn string_value(blank: bool, value: &str) -> Result<Option<String>, String> {
    if blank {
        Err(BLANK.to_string())
    } else {
        Ok(Some(value.to_string()))
    }
}

/// gcfg's `types.ParseBool` (case-insensitive), a bare key being `true`.
fn bool_value(blank: bool, value: &str) -> Result<bool, String> {
    if blank {
        return Ok(true);
    }
    let lower = value.to_lowercase();
    match lower.as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!("failed to parse bool {}", go_backquote(&lower))),
    }
}

/// gcfg's `types.ParseInt` in its default `Dec|Hex` mode, i.e. `fmt.Sscanf` with `%d%s`
/// (or `%v%s` when the value starts with `0x`/`-0x`), into a Go `int` or `uint`.
fn int_value(blank: bool, value: &str, signed: bool) -> Result<i128, String> {
    if blank {
        return Err(BLANK.to_string());
    }
    let val = value.trim();
    let type_name = if signed { "int" } else { "uint" };
    let fail = |why: String| format!("failed to parse {} as {type_name}: {why}", go_quote(val));
    let verb_v = val.starts_with("0x") || val.starts_with("-0x");
    let (number, rest) = sscan_int(val, verb_v, signed).map_err(&fail)?;
    let rest = rest.trim_start();
    if !rest.is_empty() {
        let extra: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
        return Err(fail(format!("extra characters {}", go_quote(&extra))));
    }
    Ok(number)
}

/// The integer part of Go's `fmt` scanning (`scanInt`/`scanUint`): returns the number and the
/// unread rest, or fmt's error text.
fn sscan_int(s: &str, verb_v: bool, signed: bool) -> Result<(i128, &str), String> {
    if s.is_empty() {
        return Err("EOF".to_string());
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    if signed && matches!(bytes.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let mut base = 10;
    let mut have_digits = false;
    // `%d` scans plain decimal digits; `%v` (after a `0x` check) allows `_` separators.
    let mut digits: &[u8] = b"0123456789";
    if verb_v && bytes.get(i) == Some(&b'0') {
        i += 1;
        have_digits = true;
        base = 0;
        match bytes.get(i) {
            Some(b'b' | b'B') => {
                i += 1;
                digits = b"01_";
            }
            Some(b'o' | b'O') => {
                i += 1;
                digits = b"01234567_";
            }
            Some(b'x' | b'X') => {
                i += 1;
                digits = b"0123456789aAbBcCdDeEfF_";
            }
            _ => digits = b"01234567_",
        }
    } else if verb_v {
        base = 0;
        digits = b"0123456789_";
    }
    if !have_digits {
        match bytes.get(i) {
            None => return Err("EOF".to_string()),
            Some(b) if digits.contains(b) => {}
            Some(_) => return Err("expected integer".to_string()),
        }
    }
    while bytes.get(i).is_some_and(|b| digits.contains(b)) {
        i += 1;
    }
    let tok = s.get(..i).unwrap_or("");
    let rest = s.get(i..).unwrap_or("");
    let func = if signed { "ParseInt" } else { "ParseUint" };
    match crate::gostd::strconv::parse_int(tok, base, signed, 64) {
        Ok(v) => Ok((v, rest)),
        Err(e) => Err(e.strconv(func, tok)),
    }
}

/// `MyDuration.UnmarshalText` = `time.ParseDuration`.
fn duration_value(blank: bool, value: &str) -> Result<Option<SimDuration>, String> {
    if blank {
        return Err(BLANK.to_string());
    }
    go_duration(value).map(Some)
}

struct Reader<'a> {
    src: &'a str,
    cfg: CloudConfig,
    warnings: Vec<String>,
}

impl Reader<'_> {
    /// One `readIntoPass`.
    fn pass(&mut self, subsect_pass: bool) -> Result<(), Fatal> {
        let mut s = Scanner::new(self.src);
        let (mut sect, mut sectsub) = (String::new(), String::new());
        let mut t = s.scan();
        loop {
            s.check()?;
            match t.tok {
                Tok::Eof => return Ok(()),
                Tok::Eol => t = s.scan(),
                Tok::LBrack => {
                    t = s.scan();
                    s.check()?;
                    if t.tok != Tok::Ident {
                        return Err(t.fatal("expected section name"));
                    }
                    sect = std::mem::take(&mut t.lit);
                    sectsub.clear();
                    t = s.scan();
                    s.check()?;
                    if t.tok == Tok::Str {
                        sectsub = unquote(&t.lit);
                        if sectsub.is_empty() {
                            return Err(t.fatal("empty subsection name"));
                        }
                        t = s.scan();
                        s.check()?;
                    }
                    if t.tok != Tok::RBrack {
                        return Err(t.fatal(if sectsub.is_empty() {
                            "expected subsection name or right bracket"
                        } else {
                            "expected right bracket"
                        }));
                    }
                    t = s.scan();
                    if t.tok != Tok::Eol && t.tok != Tok::Eof {
                        return Err(t.fatal("expected EOL, EOF, or comment"));
                    }
                    self.set(&sect, &sectsub, "", true, "", subsect_pass)?;
                }
                Tok::Ident => {
                    if sect.is_empty() {
                        return Err(t.fatal("expected section header"));
                    }
                    let name = std::mem::take(&mut t.lit);
                    t = s.scan();
                    s.check()?;
                    let blank = t.tok == Tok::Eof || t.tok == Tok::Eol;
                    let mut value = String::new();
                    if !blank {
                        if t.tok != Tok::Assign {
                            return Err(t.fatal("expected '='"));
                        }
                        t = s.scan();
                        s.check()?;
                        if t.tok != Tok::Str {
                            return Err(t.fatal("expected value"));
                        }
                        value = unquote(&t.lit);
                        t = s.scan();
                        s.check()?;
                        if t.tok != Tok::Eol && t.tok != Tok::Eof {
                            return Err(t.fatal("expected EOL, EOF, or comment"));
                        }
                    }
                    self.set(&sect, &sectsub, &name, blank, &value, subsect_pass)?;
                }
                _ => {
                    return Err(t.fatal(if sect.is_empty() {
                        "expected section header"
                    } else {
                        "expected section header or variable declaration"
                    }));
                }
            }
        }
    }

    /// gcfg's `set`: warnings for data it cannot store, conversion errors as fatal.
    fn set(
        &mut self,
        sect: &str,
        sub: &str,
        name: &str,
        blank: bool,
        value: &str,
        subsect_pass: bool,
    ) -> Result<(), Fatal> {
        let Some(section) = find_section(sect) else {
            self.warnings
                .push(format!("can't store data at section \"{sect}\""));
            return Ok(());
        };
        // Every known section is a struct, handled in the first pass only.
        if subsect_pass {
            return Ok(());
        }
        if !sub.is_empty() {
            self.warnings
                .push(format!("can't store data at section \"{sect}\""));
            return Ok(());
        }
        if name.is_empty() {
            return Ok(());
        }
        let Some(field) = find_field(section, name) else {
            self.warnings.push(format!(
                "can't store data at section \"{sect}\", variable \"{name}\""
            ));
            return Ok(());
        };
        self.assign(field, blank, value)
            .map_err(|message| Fatal::Value {
                section: sect.to_string(),
                variable: name.to_string(),
                message,
            })
    }

    fn assign(&mut self, field: Field, blank: bool, v: &str) -> Result<(), String> {
        use Field::*;
        let c = &mut self.cfg;
        let g = &mut c.global;
        let lb = &mut c.load_balancer;
        let bs = &mut c.block_storage;
        match field {
            AuthUrl => g.auth_url = string_value(blank, v)?,
            Username => g.username = string_value(blank, v)?,
            UserId => g.user_id = string_value(blank, v)?,
            Password => g.password = string_value(blank, v)?,
            TenantId => g.tenant_id = string_value(blank, v)?,
            TenantName => g.tenant_name = string_value(blank, v)?,
            TrustId => g.trust_id = string_value(blank, v)?,
            DomainId => g.domain_id = string_value(blank, v)?,
            DomainName => g.domain_name = string_value(blank, v)?,
            Region => g.region = string_value(blank, v)?,
            CaFile => g.ca_file = string_value(blank, v)?,
            TlsInsecure => {
                g.tls_insecure = string_value(blank, v)?.as_deref() == Some("true");
            }
            SecretName => g.secret_name = string_value(blank, v)?,
            SecretNamespace => g.secret_namespace = string_value(blank, v)?,
            LbVersion => lb.lb_version = string_value(blank, v)?,
            UseOctavia => lb.use_octavia = bool_value(blank, v)?,
            SubnetId => lb.subnet_id = string_value(blank, v)?,
            FloatingNetworkId => lb.floating_network_id = string_value(blank, v)?,
            LbMethod => lb.lb_method = string_value(blank, v)?,
            LbProvider => lb.lb_provider = string_value(blank, v)?,
            CreateMonitor => lb.create_monitor = bool_value(blank, v)?,
            MonitorDelay => lb.monitor_delay = duration_value(blank, v)?,
            MonitorTimeout => lb.monitor_timeout = duration_value(blank, v)?,
            MonitorMaxRetries => {
                let n = int_value(blank, v, false)?;
                lb.monitor_max_retries = u64::try_from(n).unwrap_or(u64::MAX);
            }
            ManageSecurityGroups => lb.manage_security_groups = bool_value(blank, v)?,
            NodeSecurityGroupIds => {
                if blank {
                    lb.node_security_group_ids.clear();
                } else {
                    lb.node_security_group_ids.push(v.to_string());
                }
            }
            BsVersion => bs.bs_version = string_value(blank, v)?,
            TrustDevicePath => bs.trust_device_path = bool_value(blank, v)?,
            IgnoreVolumeAz => bs.ignore_volume_az = bool_value(blank, v)?,
            NodeVolumeAttachLimit => {
                let n = int_value(blank, v, true)?;
                bs.node_volume_attach_limit = i64::try_from(n).unwrap_or(0);
            }
            RouterId => c.route.router_id = string_value(blank, v)?,
            SearchOrder => c.metadata.search_order = string_value(blank, v)?,
            RequestTimeout => c.metadata.request_timeout = duration_value(blank, v)?,
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Go formatting helpers

/// Go's `%#U`: `U+005F '_'`, without the quoted character when it is not printable.
fn go_unicode(c: char) -> String {
    if is_go_print(c) {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// Go's `%#q`: a back-quoted string when `strconv.CanBackquote`, else `%q`.
fn go_backquote(s: &str) -> String {
    let can = s.chars().all(|c| {
        if c.len_utf8() > 1 {
            c != '\u{FEFF}'
        } else {
            !((c < ' ' && c != '\t') || c == '`' || c == '\x7f')
        }
    });
    if can {
        format!("`{s}`")
    } else {
        go_quote(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gostd::time_quote;

    fn syntax(line: usize, column: usize, message: &str) -> CloudConfigError {
        CloudConfigError::Syntax {
            line,
            column,
            message: message.to_string(),
        }
    }

    fn err_text(text: &str) -> String {
        match parse_cloud_config(text) {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    // Measured with the real 1.30.2 binary (ca-semantics.md "Node group limits").
    #[test]
    fn clouds_yaml_style_keys_are_warnings() {
        let text =
            "[Global]\nuse-clouds=true\nclouds-file=/etc/config/clouds.yaml\ncloud=openstack\n";
        let err = parse_cloud_config(text).unwrap_err();
        assert_eq!(
            err,
            CloudConfigError::Warnings(vec![
                "can't store data at section \"Global\", variable \"use-clouds\"".into(),
                "can't store data at section \"Global\", variable \"clouds-file\"".into(),
                "can't store data at section \"Global\", variable \"cloud\"".into(),
            ])
        );
        assert_eq!(
            err.to_string(),
            "warnings:\n\
             can't store data at section \"Global\", variable \"use-clouds\"\n\
             can't store data at section \"Global\", variable \"clouds-file\"\n\
             can't store data at section \"Global\", variable \"cloud\"\n"
        );
        assert_eq!(
            manager_error(&err),
            "Failed to create magnum manager: couldn't read cloud config: warnings:\n\
             can't store data at section \"Global\", variable \"use-clouds\"\n\
             can't store data at section \"Global\", variable \"clouds-file\"\n\
             can't store data at section \"Global\", variable \"cloud\"\n"
        );
    }

    #[test]
    fn underscore_in_a_key_is_illegal_at_its_column() {
        let text = "[Global]\nauth-url = https://keystone.example:5000/v3\napplication_credential_id = 0123abcd\napplication_credential_secret = s3cret\n";
        let err = parse_cloud_config(text).unwrap_err();
        assert_eq!(err, syntax(3, 12, "illegal character U+005F '_'"));
        assert_eq!(err.to_string(), "3:12: illegal character U+005F '_'");
        assert_eq!(
            manager_error(&err),
            "Failed to create magnum manager: couldn't read cloud config: 3:12: illegal character U+005F '_'"
        );
    }

    #[test]
    fn trust_config_reads_and_authenticates_by_trust() {
        let text = "[Global]\nauth-url=https://keystone.example:5000/v3\nuser-id=3f2a9c\npassword=pa55\ntrust-id=9d1e77\nregion=RegionOne\n";
        let cfg = parse_cloud_config(text).unwrap();
        assert_eq!(
            cfg.global.auth_url.as_deref(),
            Some("https://keystone.example:5000/v3")
        );
        assert_eq!(cfg.global.user_id.as_deref(), Some("3f2a9c"));
        assert_eq!(cfg.global.password.as_deref(), Some("pa55"));
        assert_eq!(cfg.global.region.as_deref(), Some("RegionOne"));
        assert!(!cfg.global.tls_insecure);
        assert_eq!(
            cfg.auth_mode(),
            AuthMode::Trust {
                trust_id: "9d1e77".into()
            }
        );
    }

    #[test]
    fn names_match_case_insensitively_and_keep_their_spelling_in_warnings() {
        let text = "[gLoBaL]\nAUTH-URL = https://k\nUserName = bob\nPASSWORD = pw\nDomain-Name = Default\nREGION = r1\nTLS-Insecure = true\nUse-Clouds = true\n";
        let err = parse_cloud_config(text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "warning:\ncan't store data at section \"gLoBaL\", variable \"Use-Clouds\"\n"
        );
        let cfg = parse_cloud_config(&text.replace("Use-Clouds = true\n", "")).unwrap();
        assert_eq!(cfg.global.username.as_deref(), Some("bob"));
        assert_eq!(cfg.global.region.as_deref(), Some("r1"));
        assert!(cfg.global.tls_insecure);
        assert_eq!(cfg.auth_mode(), AuthMode::Password);
        // Untagged Go fields are matched by name, so `user-name` is not `Username`.
        assert_eq!(
            err_text("[Global]\nuser-name = x\n"),
            "warning:\ncan't store data at section \"Global\", variable \"user-name\"\n"
        );
        // Go's EqualFold folds the long s onto `s`.
        let cfg = parse_cloud_config("[Global]\npaſſword = x\n").unwrap();
        assert_eq!(cfg.global.password.as_deref(), Some("x"));
    }

    #[test]
    fn comments_blank_lines_and_trailing_comments() {
        let text = "; leading comment\n# another\n\n[Global] ; section comment\n  auth-url = https://k/v3   # trailing\npassword = p;w\nregion=\"r;1\" ; quoted semicolon\n\r\n";
        let cfg = parse_cloud_config(text).unwrap();
        assert_eq!(cfg.global.auth_url.as_deref(), Some("https://k/v3"));
        assert_eq!(cfg.global.password.as_deref(), Some("p"));
        assert_eq!(cfg.global.region.as_deref(), Some("r;1"));
    }

    #[test]
    fn quoting_and_escapes() {
        let text = "[Global]\npassword = \"a \\\"b\\\" \\\\ c\\n\\t\"\nusername = x \"  y  \" z\nregion = \\\"r\\\"\nca-file = /a \\\n  /b\n";
        let cfg = parse_cloud_config(text).unwrap();
        assert_eq!(cfg.global.password.as_deref(), Some("a \"b\" \\ c\n\t"));
        assert_eq!(cfg.global.username.as_deref(), Some("x   y   z"));
        assert_eq!(cfg.global.region.as_deref(), Some("\"r\""));
        assert_eq!(cfg.global.ca_file.as_deref(), Some("/a   /b"));
        // CRLF line endings are stripped from values.
        let cfg = parse_cloud_config("[Global]\r\nregion = r1\r\n").unwrap();
        assert_eq!(cfg.global.region.as_deref(), Some("r1"));
    }

    #[test]
    fn unknown_section_is_reported_in_both_passes() {
        let err =
            parse_cloud_config("[Global]\nregion = r\n[Clouds]\ncloud = openstack\n").unwrap_err();
        let line = "can't store data at section \"Clouds\"".to_string();
        assert_eq!(err, CloudConfigError::Warnings(vec![line.clone(); 4]));
        assert_eq!(
            err.to_string(),
            format!("warnings:\n{}", format!("{line}\n").repeat(4))
        );
        // Warnings keep pass order: first pass (known section keys too), then the second.
        let err = parse_cloud_config("[Foo]\n[Global]\nx = 1\n").unwrap_err();
        assert_eq!(
            err,
            CloudConfigError::Warnings(vec![
                "can't store data at section \"Foo\"".into(),
                "can't store data at section \"Global\", variable \"x\"".into(),
                "can't store data at section \"Foo\"".into(),
            ])
        );
    }

    #[test]
    fn subsection_of_a_struct_section_cannot_be_stored() {
        let err = parse_cloud_config("[Global \"extra\"]\nregion = r\n").unwrap_err();
        assert_eq!(
            err,
            CloudConfigError::Warnings(vec!["can't store data at section \"Global\"".into(); 2])
        );
        assert_eq!(err_text("[Global \"\"]\n"), "1:9: empty subsection name");
        assert_eq!(
            err_text("[Global \"a\" x]\n"),
            "1:13: expected right bracket"
        );
    }

    #[test]
    fn underscore_in_a_section_name_is_illegal() {
        let err = parse_cloud_config("; c\n[Load_Balancer]\n").unwrap_err();
        assert_eq!(err, syntax(2, 6, "illegal character U+005F '_'"));
    }

    #[test]
    fn other_scanner_and_parser_errors() {
        assert_eq!(
            err_text("[Global\nregion = r\n"),
            "1:8: expected subsection name or right bracket"
        );
        assert_eq!(err_text("[]\n"), "1:2: expected section name");
        assert_eq!(
            err_text("[Global] x\n"),
            "1:10: expected EOL, EOF, or comment"
        );
        assert_eq!(err_text("region = r\n"), "1:1: expected section header");
        assert_eq!(err_text("[Global]\nregion r\n"), "2:8: expected '='");
        assert_eq!(
            err_text("[Global]\n= r\n"),
            "2:1: expected section header or variable declaration"
        );
        assert_eq!(
            err_text("[Global]\npassword = \"abc\n"),
            "2:12: string not terminated"
        );
        assert_eq!(
            err_text("[Global]\npassword = \"a\\qb\"\n"),
            "2:15: unknown escape sequence"
        );
        assert_eq!(
            err_text("[Global]\npassword = a\\b\n"),
            "2:12: unquoted '\\' must be followed by new line or double quote"
        );
        assert_eq!(err_text("[Global \"abc\n"), "1:9: string not terminated");
        assert_eq!(
            err_text("[Global]\n.x = 1\n"),
            "2:1: illegal character U+002E '.'"
        );
        assert_eq!(
            err_text("\u{feff}[Global]\n"),
            "1:1: illegal character U+FEFF"
        );
        // A NUL is reported when it is read and again as the illegal token; both land in
        // the same error list only when nothing checked the list in between.
        assert_eq!(
            err_text("\0[Global]\n"),
            "1:1: illegal character NUL (and 1 more errors)"
        );
        assert_eq!(err_text("[Global]\n\0"), "2:1: illegal character NUL");
        // Columns count bytes, as Go's token.Position does.
        assert_eq!(
            err_text("[Global]\nrégion_x = 1\n"),
            "2:8: illegal character U+005F '_'"
        );
    }

    #[test]
    fn value_errors_are_fatal_and_drop_warnings() {
        assert_eq!(
            err_text("[Global]\nuse-clouds = true\ntls-insecure\n"),
            "blank value not supported for type at section \"Global\", variable \"tls-insecure\""
        );
        assert_eq!(
            err_text("[LoadBalancer]\nuse-octavia = Maybe\n"),
            "failed to parse bool `maybe` at section \"LoadBalancer\", variable \"use-octavia\""
        );
        assert_eq!(
            err_text("[LoadBalancer]\nmonitor-max-retries = 3x\n"),
            "failed to parse \"3x\" as uint: extra characters \"x\" at section \"LoadBalancer\", variable \"monitor-max-retries\""
        );
        assert_eq!(
            err_text("[LoadBalancer]\nmonitor-max-retries = -1\n"),
            "failed to parse \"-1\" as uint: expected integer at section \"LoadBalancer\", variable \"monitor-max-retries\""
        );
        assert_eq!(
            err_text("[LoadBalancer]\nmonitor-delay = 5\n"),
            "time: missing unit in duration \"5\" at section \"LoadBalancer\", variable \"monitor-delay\""
        );
        assert_eq!(
            err_text("[Metadata]\nrequest-timeout = soon\n"),
            "time: invalid duration \"soon\" at section \"Metadata\", variable \"request-timeout\""
        );
    }

    #[test]
    fn typed_sections_parse() {
        let text = "[LoadBalancer]\nuse-octavia\ncreate-monitor = off\nmonitor-delay = 1m30s\nmonitor-max-retries = 0x10\nnodesecuritygroupids = a\nNodeSecurityGroupIDs = b\n[BlockStorage]\nnode-volume-attach-limit = -5\nignore-volume-az = YES\n[Route]\nrouter-id = r\n[Metadata]\nsearch-order = configDrive,metadataService\nrequest-timeout = 10s\n";
        let cfg = parse_cloud_config(text).unwrap();
        assert!(cfg.load_balancer.use_octavia);
        assert!(!cfg.load_balancer.create_monitor);
        assert_eq!(
            cfg.load_balancer.monitor_delay,
            Some(SimDuration::from_secs(90))
        );
        assert_eq!(cfg.load_balancer.monitor_max_retries, 16);
        assert_eq!(cfg.load_balancer.node_security_group_ids, vec!["a", "b"]);
        assert_eq!(cfg.block_storage.node_volume_attach_limit, -5);
        assert!(cfg.block_storage.ignore_volume_az);
        assert_eq!(cfg.route.router_id.as_deref(), Some("r"));
        assert_eq!(
            cfg.metadata.request_timeout,
            Some(SimDuration::from_secs(10))
        );
        assert_eq!(parse_cloud_config(""), Ok(CloudConfig::default()));
    }

    #[test]
    fn auth_modes_follow_gophercloud_checks() {
        let base = "[Global]\nauth-url = https://k/v3\n";
        let mode = |extra: &str| {
            parse_cloud_config(&format!("{base}{extra}"))
                .unwrap()
                .auth_mode()
        };
        assert_eq!(
            mode("user-id = u\n"),
            AuthMode::Missing("You must provide a password to authenticate".into())
        );
        assert_eq!(
            mode("password = p\n"),
            AuthMode::Missing(
                "Exactly one of Username and UserID must be provided for password authentication"
                    .into()
            )
        );
        assert_eq!(
            mode("password = p\nusername = u\n"),
            AuthMode::Missing(
                "You must provide exactly one of DomainID or DomainName to authenticate by Username"
                    .into()
            )
        );
        assert_eq!(
            mode("password = p\nuser-id = u\ndomain-id = d\n"),
            AuthMode::Missing(
                "DomainID may not be provided when authenticating with a UserID".into()
            )
        );
        assert_eq!(
            mode("password = p\nuser-id = u\ntenant-name = t\n"),
            AuthMode::Missing(
                "You must provide exactly one of DomainID or DomainName in a Scope with ProjectName"
                    .into()
            )
        );
        assert_eq!(
            mode("password = p\nusername = u\ndomain-name = Default\ntenant-name = t\n"),
            AuthMode::Password
        );
        assert_eq!(
            mode("password = p\nuser-id = u\ntrust-id =\n"),
            AuthMode::Password
        );
        let no_url = parse_cloud_config("[Global]\npassword = p\nuser-id = u\ntrust-id = t\n")
            .unwrap()
            .auth_mode();
        assert_eq!(
            no_url,
            AuthMode::Missing("Post \"/v3/auth/tokens\": unsupported protocol scheme \"\"".into())
        );
    }

    #[test]
    fn open_error_text() {
        assert_eq!(
            open_error("/config/cloud-config"),
            "Couldn't open cloud provider configuration from /config/cloud-config: &fs.PathError{Op:\"open\", Path:\"/config/cloud-config\", Err:0x2}"
        );
        assert_eq!(
            open_error("/etc/kubernetes/cloud.conf"),
            "Couldn't open cloud provider configuration from /etc/kubernetes/cloud.conf: &fs.PathError{Op:\"open\", Path:\"/etc/kubernetes/cloud.conf\", Err:0x2}"
        );
    }

    #[test]
    fn gcfg_number_values() {
        assert_eq!(
            int_value(false, "", true),
            Err("failed to parse \"\" as int: EOF".into())
        );
        assert_eq!(
            int_value(false, "1_0", true),
            Err("failed to parse \"1_0\" as int: extra characters \"_0\"".into())
        );
        assert_eq!(
            int_value(false, "0x_", false),
            Err("failed to parse \"0x_\" as uint: strconv.ParseUint: parsing \"0x_\": invalid syntax".into())
        );
        assert_eq!(go_quote("a\"\u{1}é"), "\"a\\\"\\x01é\"");
        assert_eq!(go_backquote("a`b"), "\"a`b\"");
        assert_eq!(time_quote("é\"\t"), "\"\\xc3\\xa9\\\"\\x09\"");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "[",
            "[G",
            "[Global",
            "[Global \"",
            "[Global \"\\",
            "[Global]\nx = \"\\",
            "[Global]\nx = \\",
            "[Global]\nx = \"\\\n",
            "[Global]\nx\\",
            "\"",
            "]",
            "=",
            "[Global]\nx = é\"",
            "\n\n\n",
            "[Global]\nregion = \"\"",
            "[Global]\nx = a\\\r\n",
            "[Global]\r",
            "\0\0",
            "[\u{0}]",
        ] {
            let _ = parse_cloud_config(text).map(|c| c.auth_mode());
        }
    }
}
