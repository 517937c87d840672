//! Paged lists as kube-apiserver serves them: `limit` cuts a list into pages, each page's
//! `metadata.continue` token names the resourceVersion of the first page and the key after
//! which the next starts, and every page of one list reads the store as it was at that
//! resourceVersion. A token older than the history kept is `410 Expired`, with a fresh token
//! that continues from the current state (kube-apiserver's inconsistent continuation).

use super::discovery::Resource;
use super::objects::ObjKey;
use super::status::KubeError;
use base64::engine::general_purpose::URL_SAFE;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// kube-apiserver's text for a continue token past the history.
pub const EXPIRED_CONTINUE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// A continue token's contents (kube-apiserver's `continueToken`: `v`, `rv`, `start`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continue {
    #[serde(rename = "v")]
    pub version: String,
    pub rv: u64,
    /// `<namespace>/<name>` of the last item returned, then NUL: the next page starts after.
    pub start: String,
}

impl Continue {
    /// The token for a page read at `rv` whose last item is `last`.
    pub fn after(rv: u64, last: &ObjKey) -> Continue {
        Continue {
            version: "meta.k8s.io/v1".into(),
            rv,
            start: format!("{}/{}\u{0}", last.namespace, last.name),
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Decodes a client's token, with kube-apiserver's error texts.
    pub fn decode(token: &str) -> Result<Continue, KubeError> {
        let invalid =
            |why: &str| KubeError::bad_request(format!("continue key is not valid: {why}"));
        let bytes = URL_SAFE
            .decode(token)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token))
            .map_err(|e| invalid(&e.to_string()))?;
        let c: Continue = serde_json::from_slice(&bytes).map_err(|e| invalid(&e.to_string()))?;
        if c.version != "meta.k8s.io/v1" {
            return Err(invalid(
                "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
            ));
        }
        if c.rv == 0 {
            return Err(invalid(
                "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
            ));
        }
        Ok(c)
    }

    /// The key after which the next page starts, for `resource`.
    pub fn start_key(&self, resource: Resource) -> Result<ObjKey, KubeError> {
        let key = self.start.strip_suffix('\u{0}').unwrap_or(&self.start);
        let (namespace, name) = key.split_once('/').ok_or_else(|| {
            KubeError::bad_request("continue key is not valid: start key has no namespace")
        })?;
        Ok(ObjKey {
            resource,
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bad_ones_are_400() {
        let last = ObjKey {
            resource: Resource::Pods,
            namespace: "default".into(),
            name: "p-1".into(),
        };
        let t = Continue::after(42, &last).encode();
        let c = Continue::decode(&t).unwrap();
        assert_eq!(c.rv, 42);
        assert_eq!(c.start_key(Resource::Pods).unwrap(), last);
        let e = Continue::decode("!!!").unwrap_err();
        assert_eq!(e.code, 400);
        assert!(
            e.message.starts_with("continue key is not valid: "),
            "{}",
            e.message
        );
        let other = URL_SAFE.encode(br#"{"v":"x","rv":1,"start":"a/b"}"#);
        assert_eq!(Continue::decode(&other).unwrap_err().code, 400);
    }
}
