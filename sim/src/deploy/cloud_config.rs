// TEMPORARY STUB — replaced by the helper's module.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CloudConfig {
    pub global: GlobalConfig,
}
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GlobalConfig {
    pub auth_url: Option<String>,
}
#[derive(Debug, thiserror::Error)]
pub enum CloudConfigError {
    #[error("warnings:\n{}", .0.join("\n"))]
    Warnings(Vec<String>),
    #[error("{line}:{column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
}
pub enum AuthMode {
    Trust,
    Password,
    Missing(String),
}
impl CloudConfig {
    pub fn auth_mode(&self) -> AuthMode {
        AuthMode::Trust
    }
}
pub fn parse_cloud_config(text: &str) -> Result<CloudConfig, CloudConfigError> {
    let mut w = vec![];
    for (i, l) in text.lines().enumerate() {
        if let Some(p) = l.find('_') {
            return Err(CloudConfigError::Syntax {
                line: i + 1,
                column: p + 1,
                message: "illegal character U+005F '_'".into(),
            });
        }
        let k = l.split('=').next().unwrap_or("").trim();
        if ["use-clouds", "clouds-file", "cloud"].contains(&k) {
            w.push(format!(
                "can't store data at section \"Global\", variable \"{k}\""
            ));
        }
    }
    if w.is_empty() {
        Ok(CloudConfig::default())
    } else {
        Err(CloudConfigError::Warnings(w))
    }
}
pub fn manager_error(err: &CloudConfigError) -> String {
    format!("Failed to create magnum manager: couldn't read cloud config: {err}")
}
pub fn open_error(path: &str) -> String {
    format!("Couldn't open cloud provider configuration from {path}: &fs.PathError{{Op:\"open\", Path:\"{path}\", Err:0x2}}")
}
