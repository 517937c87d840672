//! Secrets the mocks hand out (Keystone token ids, the Kubernetes bearer token and TLS keys'
//! seeds): drawn from the operating system, never from the engine's seeded stream, so that
//! no client can guess them and timelines stay byte-identical.

/// `N` bytes from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness (never on the platforms served): a per-process random hasher
        // keyed by the clock still makes values no client can predict.
        use std::hash::{BuildHasher, Hasher};
        let state = std::collections::hash_map::RandomState::new();
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let mut h = state.build_hasher();
            h.write_usize(i);
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            let v = h.finish().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    bytes
}

/// A random URL-safe base64 string of `N` bytes.
pub(crate) fn random_text<const N: usize>() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_differ() {
        assert_ne!(super::random_text::<32>(), super::random_text::<32>());
        assert_eq!(super::random_text::<132>().len(), 176);
    }
}
