//! Stable ids derived from names (never drawn from the RNG), shared by the engine's Heat
//! stacks and the mock APIs' objects, so a server id in Heat is the node's `providerID` in
//! Kubernetes without anything stored.

/// FNV-1a, the one hash behind every id derived from names: stable across runs, builds and
/// platforms (std's hashers are not), and cheap.
#[derive(Clone, Copy, Debug)]
pub struct Fnv(u64);

impl Fnv {
    const OFFSET: u64 = 0xcbf29ce484222325;
    const PRIME: u64 = 0x100000001b3;

    /// The hash of nothing (FNV-1a's offset basis).
    pub const fn new() -> Fnv {
        Fnv(Fnv::OFFSET)
    }

    /// Starts from `seed` instead of the offset basis (a second, independent hash).
    pub const fn seeded(seed: u64) -> Fnv {
        Fnv(seed)
    }

    pub fn bytes(self, bytes: &[u8]) -> Fnv {
        bytes.iter().fold(self, |h, &b| h.byte(b))
    }

    pub fn byte(self, b: u8) -> Fnv {
        Fnv((self.0 ^ u64::from(b)).wrapping_mul(Fnv::PRIME))
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv::new()
    }
}

/// FNV-1a of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    Fnv::new().bytes(bytes).finish()
}

/// A stable uuid-shaped id derived from `parts` (FNV-1a, two seeds; each part ends in 0xff).
pub fn derived_uid(parts: &[&str]) -> String {
    let hash = |start: Fnv| {
        parts
            .iter()
            .fold(start, |h, p| h.bytes(p.as_bytes()).byte(0xff))
            .finish()
    };
    let (a, b) = (hash(Fnv::new()), hash(Fnv::seeded(0x84222325cbf29ce4)));
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn derived_uids_are_stable_and_uuid_shaped() {
        let a = super::derived_uid(&["node", "x"]);
        assert_eq!(a, super::derived_uid(&["node", "x"]));
        assert_ne!(a, super::derived_uid(&["node", "y"]));
        assert_eq!((a.len(), a.matches('-').count(), &a[14..15]), (36, 4, "4"));
        assert_eq!(
            a, "bb4c2bdc-4a07-4cef-a7a3-494bb3d6f5d0",
            "the same ids run after run"
        );
    }

    #[test]
    fn fnv1a_is_the_published_function() {
        assert_eq!(super::fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(super::fnv1a(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(super::fnv1a(b"foobar"), 0x85944171f73967e8);
    }
}
