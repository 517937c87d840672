//! The magnum provider's `--cloud-config`, read as cluster-autoscaler 1.30 reads it: gcfg
//! (`gopkg.in/gcfg.v1`) into `[Global]` and the other known sections, where an unknown key is a
//! warning that still fails the start-up and a `_` in a name is a scanner error.

/// `[Global]` keys (all strings upstream; `tls-insecure` is compared to `"true"`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
    pub tls_insecure: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CloudConfig {
    pub global: GlobalConfig,
}

/// How the provider will authenticate with Keystone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// Trust-scoped password authentication (what Magnum gives its own nodes).
    Trust,
    Password,
    /// Something gophercloud needs is missing; its error text.
    Missing(String),
}

impl CloudConfig {
    pub fn auth_mode(&self) -> AuthMode {
        let g = &self.global;
        if g.auth_url.as_deref().unwrap_or("").is_empty() {
            return AuthMode::Missing("Missing input for argument [IdentityEndpoint]".into());
        }
        if g.user_id.is_none() && g.username.is_none() {
            return AuthMode::Missing(
                "Exactly one of Username and UserID must be provided for password authentication"
                    .into(),
            );
        }
        if g.password.is_none() {
            return AuthMode::Missing("Missing input for argument [Password]".into());
        }
        if g.trust_id.is_some() {
            AuthMode::Trust
        } else {
            AuthMode::Password
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CloudConfigError {
    /// gcfg's extra-data warnings, as `gopkg.in/warnings.v0` lists them.
    #[error("warnings:\n{}", .0.iter().map(|w| format!("{w}\n")).collect::<String>())]
    Warnings(Vec<String>),
    /// A scanner or parser error at `line:column`.
    #[error("{line}:{column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
}

/// Keys per known section (names are matched case-insensitively).
const SECTIONS: &[(&str, &[&str])] = &[
    (
        "global",
        &[
            "auth-url",
            "username",
            "user-id",
            "password",
            "tenant-id",
            "tenant-name",
            "trust-id",
            "domain-id",
            "domain-name",
            "region",
            "ca-file",
            "tls-insecure",
            "secret-name",
            "secret-namespace",
        ],
    ),
    (
        "loadbalancer",
        &[
            "lb-version",
            "use-octavia",
            "subnet-id",
            "floating-network-id",
            "lb-method",
            "lb-provider",
            "create-monitor",
            "monitor-delay",
            "monitor-timeout",
            "monitor-max-retries",
            "manage-security-groups",
        ],
    ),
    (
        "blockstorage",
        &[
            "bs-version",
            "trust-device-path",
            "ignore-volume-az",
            "node-volume-attach-limit",
        ],
    ),
    ("route", &["router-id"]),
    ("metadata", &["search-order", "request-timeout"]),
];

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// Reads a cloud-config; the first scanner error stops the read, unknown sections and keys
/// are collected and reported together after it.
pub fn parse_cloud_config(text: &str) -> Result<CloudConfig, CloudConfigError> {
    let mut config = CloudConfig::default();
    let mut warnings = Vec::new();
    let mut section: Option<(String, bool)> = None; // (name as written, known)
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let err = |col: usize, message: String| CloudConfigError::Syntax {
            line: line_no,
            column: col,
            message,
        };
        let chars: Vec<char> = raw.chars().collect();
        let mut i = 0;
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i == chars.len() || chars[i] == ';' || chars[i] == '#' {
            continue;
        }
        if chars[i] == '[' {
            let (name, _sub) = header(&chars, i).map_err(|(c, m)| err(c, m))?;
            let known = SECTIONS.iter().any(|(s, _)| s.eq_ignore_ascii_case(&name));
            if !known {
                warnings.push(format!("can't store data at section \"{name}\""));
            }
            section = Some((name, known));
            continue;
        }
        let start = i;
        if !chars[i].is_ascii_alphabetic() {
            return Err(err(i + 1, illegal(chars[i])));
        }
        while i < chars.len() && is_name_char(chars[i]) {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
            i += 1;
        }
        let value = match chars.get(i) {
            None | Some(';') | Some('#') => None,
            Some('=') => Some(value(&chars, i + 1).map_err(|(c, m)| err(c, m))?),
            Some(&c) => return Err(err(i + 1, illegal(c))),
        };
        let Some((sect, known)) = &section else {
            return Err(err(start + 1, "expected section header".into()));
        };
        if !known {
            continue;
        }
        let keys = SECTIONS
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(sect))
            .map_or(&[][..], |(_, k)| *k);
        let Some(&canonical) = keys.iter().find(|k| k.eq_ignore_ascii_case(&key)) else {
            warnings.push(format!(
                "can't store data at section \"{sect}\", variable \"{key}\""
            ));
            continue;
        };
        if sect.eq_ignore_ascii_case("global") {
            set_global(&mut config.global, canonical, value);
        }
    }
    if warnings.is_empty() {
        Ok(config)
    } else {
        Err(CloudConfigError::Warnings(warnings))
    }
}

fn illegal(c: char) -> String {
    format!("illegal character U+{:04X} '{c}'", c as u32)
}

/// `[name]` or `[name "sub"]` starting at `i`; returns the name as written.
fn header(chars: &[char], mut i: usize) -> Result<(String, Option<String>), (usize, String)> {
    i += 1;
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    let start = i;
    while i < chars.len() && (is_name_char(chars[i]) || chars[i] == '.') {
        i += 1;
    }
    if i == start {
        return Err((
            i + 1,
            chars
                .get(i)
                .map_or("expected section name".into(), |&c| illegal(c)),
        ));
    }
    let name: String = chars[start..i].iter().collect();
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    let mut sub = None;
    if chars.get(i) == Some(&'"') {
        let end = chars[i + 1..]
            .iter()
            .position(|&c| c == '"')
            .ok_or((i + 1, "string not terminated".to_string()))?;
        sub = Some(chars[i + 1..i + 1 + end].iter().collect());
        i += end + 2;
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
    }
    match chars.get(i) {
        Some(']') => Ok((name, sub)),
        Some(&c) => Err((i + 1, illegal(c))),
        None => Err((i + 1, "expected ']'".into())),
    }
}

/// A value: trimmed raw text up to a comment, with `"..."` parts unquoted.
fn value(chars: &[char], mut i: usize) -> Result<String, (usize, String)> {
    let mut out = String::new();
    let mut pending_space = String::new();
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    while i < chars.len() {
        match chars[i] {
            ';' | '#' => break,
            '"' => {
                out.push_str(&pending_space);
                pending_space.clear();
                let open = i;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err((open + 1, "string not terminated".into())),
                        Some('"') => break,
                        Some('\\') => {
                            match chars.get(i + 1) {
                                Some('n') => out.push('\n'),
                                Some('t') => out.push('\t'),
                                Some('"') => out.push('"'),
                                Some('\\') => out.push('\\'),
                                Some(&c) => {
                                    return Err((i + 2, format!("unknown escape sequence: \\{c}")))
                                }
                                None => return Err((i + 1, "unknown escape sequence".into())),
                            }
                            i += 1;
                        }
                        Some(&c) => out.push(c),
                    }
                    i += 1;
                }
            }
            c if c.is_whitespace() => pending_space.push(c),
            c => {
                out.push_str(&pending_space);
                pending_space.clear();
                out.push(c);
            }
        }
        i += 1;
    }
    Ok(out)
}

fn set_global(g: &mut GlobalConfig, key: &str, value: Option<String>) {
    let v = value.clone().unwrap_or_default();
    let slot = match key {
        "auth-url" => &mut g.auth_url,
        "username" => &mut g.username,
        "user-id" => &mut g.user_id,
        "password" => &mut g.password,
        "tenant-id" => &mut g.tenant_id,
        "tenant-name" => &mut g.tenant_name,
        "trust-id" => &mut g.trust_id,
        "domain-id" => &mut g.domain_id,
        "domain-name" => &mut g.domain_name,
        "region" => &mut g.region,
        "ca-file" => &mut g.ca_file,
        "secret-name" => &mut g.secret_name,
        "secret-namespace" => &mut g.secret_namespace,
        "tls-insecure" => {
            g.tls_insecure = v == "true";
            return;
        }
        _ => return,
    };
    *slot = Some(v);
}

/// The fatal line when the file cannot be parsed (`magnum_cloud_provider.go:341`).
pub fn manager_error(err: &CloudConfigError) -> String {
    format!("Failed to create magnum manager: couldn't read cloud config: {err}")
}

/// The fatal line when the file is missing (`magnum_cloud_provider.go:326`).
pub fn open_error(path: &str) -> String {
    format!("Couldn't open cloud provider configuration from {path}: &fs.PathError{{Op:\"open\", Path:\"{path}\", Err:0x2}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_clouds_yaml_style_keys_are_warnings() {
        let text =
            "[Global]\nuse-clouds=true\nclouds-file=/etc/config/clouds.yaml\ncloud=openstack\n";
        let err = parse_cloud_config(text).unwrap_err();
        assert_eq!(
            manager_error(&err),
            "Failed to create magnum manager: couldn't read cloud config: warnings:\ncan't store data at section \"Global\", variable \"use-clouds\"\ncan't store data at section \"Global\", variable \"clouds-file\"\ncan't store data at section \"Global\", variable \"cloud\"\n"
        );
    }

    #[test]
    fn underscores_are_illegal_characters() {
        let text = "[Global]\nauth-url=https://js2.jetstream-cloud.org:5000/v3/\napplication_credential_id=abc\n";
        assert_eq!(
            parse_cloud_config(text).unwrap_err().to_string(),
            "3:12: illegal character U+005F '_'"
        );
        assert_eq!(
            parse_cloud_config("[Glo_bal]\n").unwrap_err().to_string(),
            "1:5: illegal character U+005F '_'"
        );
    }

    #[test]
    fn trust_config_parses() {
        let text = "; magnum's node config\n[global]\nAuth-URL = https://js2.jetstream-cloud.org:5000/v3 # keystone\nuser-id = u1\npassword = \"p a;ss\"\ntrust-id = t1\nregion = IU\ntls-insecure\n";
        let c = parse_cloud_config(text).unwrap();
        assert_eq!(
            c.global.auth_url.as_deref(),
            Some("https://js2.jetstream-cloud.org:5000/v3")
        );
        assert_eq!(c.global.password.as_deref(), Some("p a;ss"));
        assert_eq!(c.global.region.as_deref(), Some("IU"));
        assert!(
            !c.global.tls_insecure,
            "a bare key is blank, and only \"true\" counts"
        );
        assert_eq!(c.auth_mode(), AuthMode::Trust);
    }

    #[test]
    fn unknown_sections_and_missing_credentials() {
        let err = parse_cloud_config("[Global]\nauth-url=x\n[Networking]\nfoo=1\n").unwrap_err();
        assert_eq!(
            err,
            CloudConfigError::Warnings(vec!["can't store data at section \"Networking\"".into()])
        );
        let c = parse_cloud_config(
            "[Global]\nauth-url=x\nuser-id=u\n[LoadBalancer]\nuse-octavia=true\n",
        )
        .unwrap();
        assert_eq!(
            c.auth_mode(),
            AuthMode::Missing("Missing input for argument [Password]".into())
        );
        assert!(matches!(
            parse_cloud_config("[Global]\nregion=\"IU\n").unwrap_err(),
            CloudConfigError::Syntax {
                line: 2,
                column: 8,
                ..
            }
        ));
        assert_eq!(
            open_error("/config/cloud-config"),
            "Couldn't open cloud provider configuration from /config/cloud-config: &fs.PathError{Op:\"open\", Path:\"/config/cloud-config\", Err:0x2}"
        );
    }
}
