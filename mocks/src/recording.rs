//! The recording format (JSON, documented in `mocks/recordings/README.md`): a [`Recording`] is
//! a list of [`Exchange`]s, each a request matcher and the response to send. What the recording
//! proxy writes ([`crate::record`]), the [`crate::journal::Journal`] turns into, and replay mode
//! serves ([`crate::replay`]); [`redact`] takes credentials out of one before it reaches disk.

pub mod redact;

pub use redact::{find_secrets, redact, redact_with, REDACTED};

use crate::Service;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// OpenStack services are Python: their JSON is written as `json.dumps` writes it.
pub(crate) fn python_json(service: Service) -> bool {
    service != Service::Kubernetes
}

/// A recording: what a cloud answered, in the order it answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub exchanges: Vec<Exchange>,
}

/// One request and its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub service: Service,
    /// What this exchange is (for people reading the file and for error messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub request: RequestMatcher,
    pub response: RecordedResponse,
}

/// What a request must look like to get this exchange's response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestMatcher {
    pub method: String,
    /// Compared without a trailing slash.
    pub path: String,
    /// When present, the request's query parameters must be exactly these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<BTreeMap<String, String>>,
    /// When present, the request body must be this JSON value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// The recorded answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedResponse {
    pub status: u16,
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    /// A JSON body; OpenStack services serve it as Python's `json.dumps` writes it
    /// (`", "` and `": "` separators), Kubernetes as compact JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// A body served byte for byte (instead of `body`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
}

/// Errors loading a recording.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("cannot read {file}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    /// The JSON error is the message, not a `source`, so a chain prints it once.
    #[error("{file}: {error}")]
    Parse {
        file: String,
        error: serde_json::Error,
    },
    #[error("{file}: exchange {index}: {message}")]
    Invalid {
        file: String,
        index: usize,
        message: String,
    },
}

/// Why a recorded response cannot be sent: a status outside 100–999 or a header that is not
/// valid HTTP.
pub(crate) fn response_problem(r: &RecordedResponse) -> Option<String> {
    if !(100..=999).contains(&r.status) {
        return Some(format!("status {} is not an HTTP status", r.status));
    }
    r.headers.iter().find_map(|(k, v)| {
        let name_ok = wiremock::http::HeaderName::from_bytes(k.as_bytes()).is_ok();
        let value_ok = wiremock::http::HeaderValue::from_str(v).is_ok();
        (!name_ok || !value_ok).then(|| format!("header {k:?}: {v:?} is not valid HTTP"))
    })
}

impl Recording {
    /// Parses a recording and checks every response can be sent.
    pub fn from_json(file: &str, text: &str) -> Result<Recording, RecordingError> {
        let r: Recording = serde_json::from_str(text).map_err(|error| RecordingError::Parse {
            file: file.to_string(),
            error,
        })?;
        for (index, e) in r.exchanges.iter().enumerate() {
            if let Some(message) = response_problem(&e.response) {
                return Err(RecordingError::Invalid {
                    file: file.to_string(),
                    index,
                    message,
                });
            }
        }
        Ok(r)
    }

    pub fn load(path: &std::path::Path) -> Result<Recording, RecordingError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| RecordingError::Io {
            file: file.clone(),
            source,
        })?;
        Recording::from_json(&file, &text)
    }

    /// The file's text: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Services that have at least one exchange, in [`Service::ALL`] order.
    pub fn services(&self) -> Vec<Service> {
        Service::ALL
            .into_iter()
            .filter(|s| self.exchanges.iter().any(|e| e.service == *s))
            .collect()
    }
}
