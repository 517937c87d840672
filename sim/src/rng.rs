//! The engine's only source of randomness.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Alphabet Kubernetes uses for generated name suffixes (`k8s.io/apimachinery/pkg/util/rand`):
/// no vowels, so generated names never spell words.
const KUBE_ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A seeded RNG; ChaCha8 because its output is stable across platforms and rand releases.
#[derive(Clone, Debug)]
pub struct SimRng(ChaCha8Rng);

impl SimRng {
    pub fn new(seed: u64) -> Self {
        SimRng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// A uniform index below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n.max(1))
    }

    /// A uniform 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        self.0.random()
    }

    /// One element of a non-empty slice, uniformly.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// True once in `n` draws on average.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.0.random_range(0..n.max(1)) == 0
    }

    /// A Kubernetes-style random suffix, e.g. `4md88`.
    pub fn kube_suffix(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| KUBE_ALPHANUMS[self.below(KUBE_ALPHANUMS.len())] as char)
            .collect()
    }

    /// Lower-case alphanumerics, as Magnum uses for Helm release ids.
    pub fn lower_alnum(&mut self, len: usize) -> String {
        const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALNUM[self.below(ALNUM.len())] as char)
            .collect()
    }

    /// A random version-4 UUID in canonical form.
    pub fn uuid4(&mut self) -> String {
        let mut b: [u8; 16] = self.0.random();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let (mut a, mut b) = (SimRng::new(7), SimRng::new(7));
        assert_eq!(a.kube_suffix(5), b.kube_suffix(5));
        assert_eq!(a.uuid4(), b.uuid4());
        assert_ne!(SimRng::new(1).uuid4(), SimRng::new(2).uuid4());
    }

    #[test]
    fn suffix_uses_kube_alphabet_and_uuid_is_v4() {
        let mut r = SimRng::new(1);
        let s = r.kube_suffix(200);
        assert!(s.bytes().all(|c| KUBE_ALPHANUMS.contains(&c)));
        let u = r.uuid4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }
}
