//! What the magnum provider's HTTP client says when a request fails: the texts of the
//! gophercloud copy vendored in `cloudprovider/magnum/gophercloud` (errors.go,
//! provider_client.go) and of Go's `net/http`, which the provider wraps in its own
//! `could not …` prefixes.

/// `ErrUnexpectedResponseCode` and the per-status `ErrDefaultNNN` texts for an answer of
/// `status` to `method url`, where `ok` lists the codes the call accepts.
pub fn status_error(status: u16, method: &str, url: &str, ok: &[u16], body: &str) -> String {
    match status {
        400 => format!("Bad request with: [{method} {url}], error message: {body}"),
        401 => "Authentication failed".into(),
        403 => format!("Request forbidden: [{method} {url}], error message: {body}"),
        404 => "Resource not found".into(),
        405 => "Method not allowed".into(),
        408 => "The server timed out waiting for the request".into(),
        429 => "Too many requests have been sent in a given amount of time. Pause requests, wait up to one minute, and try again.".into(),
        500 => "Internal Server Error".into(),
        503 => "The service is currently unable to handle the request due to a temporary overloading or maintenance. This is a temporary condition. Try again later.".into(),
        _ => unexpected(status, method, url, ok, body),
    }
}

/// `ErrUnexpectedResponseCode.Error()`: Go prints the accepted codes as `[200 202]`.
pub fn unexpected(status: u16, method: &str, url: &str, ok: &[u16], body: &str) -> String {
    let ok: Vec<String> = ok.iter().map(u16::to_string).collect();
    format!(
        "Expected HTTP response code [{}] when accessing [{method} {url}], but got {status} instead\n{body}",
        ok.join(" ")
    )
}

/// A connection closed before any answer: `net/http`'s `*url.Error` around `io.EOF`.
pub fn dropped(method: &str, url: &str) -> String {
    let op = match method.split_at_checked(1) {
        Some((first, rest)) => format!("{first}{}", rest.to_ascii_lowercase()),
        None => method.to_string(),
    };
    format!("{op} {url:?}: EOF")
}

/// A 401 whose re-authentication failed (`ErrUnableToReauthenticate`).
pub fn unable_to_reauthenticate(original: &str) -> String {
    format!("Unable to re-authenticate: {original}")
}

/// The retried request failed too (`ErrErrorAfterReauthentication`).
pub fn after_reauthentication(err: &str) -> String {
    format!("Successfully re-authenticated, but got error executing request: {err}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:9511/v1/clusters/k8s/actions/resize";

    #[test]
    fn texts_are_gophercloud_s() {
        assert_eq!(
            status_error(503, "POST", URL, &[200, 202], "{}"),
            "The service is currently unable to handle the request due to a temporary overloading or maintenance. This is a temporary condition. Try again later."
        );
        assert_eq!(
            status_error(400, "POST", URL, &[200, 202], "{\"errors\": []}"),
            format!("Bad request with: [POST {URL}], error message: {{\"errors\": []}}")
        );
        assert_eq!(
            status_error(409, "POST", URL, &[200, 202], "b"),
            format!("Expected HTTP response code [200 202] when accessing [POST {URL}], but got 409 instead\nb")
        );
        assert_eq!(dropped("POST", URL), format!("Post \"{URL}\": EOF"));
        assert_eq!(
            unable_to_reauthenticate("x"),
            "Unable to re-authenticate: x"
        );
    }
}
