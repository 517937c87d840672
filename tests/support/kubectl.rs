//! What kubectl prints, shared by the tests that run it.

/// Asserts kubectl's last line for a 401: the Status's message once discovery is cached,
/// client-go's own while discovery itself is refused.
pub fn assert_unauthorized(stderr: &str) {
    let texts = [
        "error: You must be logged in to the server (Unauthorized)",
        "error: You must be logged in to the server (the server has asked for the client to provide credentials)",
    ];
    assert!(
        texts.iter().any(|m| stderr.lines().last() == Some(*m)),
        "only the token is admitted: {stderr}"
    );
}
