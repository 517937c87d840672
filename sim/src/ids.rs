//! Stable ids derived from names (never drawn from the RNG), shared by the engine's Heat
//! stacks and the mock APIs' objects, so a server id in Heat is the node's `providerID` in
//! Kubernetes without anything stored.

/// A stable uuid-shaped id derived from `parts` (FNV-1a, two seeds).
pub fn derived_uid(parts: &[&str]) -> String {
    let hash = |seed: u64| {
        let mut h = seed;
        for p in parts {
            for b in p.bytes().chain([0xff]) {
                h = (h ^ b as u64).wrapping_mul(0x100000001b3);
            }
        }
        h
    };
    let (a, b) = (hash(0xcbf29ce484222325), hash(0x84222325cbf29ce4));
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
    }
}
