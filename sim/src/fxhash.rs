//! A fast hasher for in-memory indexes that are only looked up, never iterated, so their
//! order cannot reach output: FxHash's multiply-rotate, eight bytes a step. The standard
//! SipHash costs more than the work these indexes save.

use std::hash::{BuildHasherDefault, Hasher};

/// `HashMap`/`HashSet` state for [`FxHasher`].
pub type FxBuild = BuildHasherDefault<FxHasher>;

#[derive(Clone, Copy, Debug, Default)]
pub struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        // The tail, little-endian, without a call to memcpy for a few bytes.
        let tail = chunks
            .remainder()
            .iter()
            .rev()
            .fold(0u64, |w, &b| (w << 8) | u64::from(b));
        self.add(tail);
    }

    fn write_u8(&mut self, i: u8) {
        self.add(i.into());
    }

    fn write_u32(&mut self, i: u32) {
        self.add(i.into());
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    #[test]
    fn field_boundaries_change_the_hash() {
        let h = |parts: (&str, &str)| FxBuild::default().hash_one(parts);
        assert_ne!(h(("ab", "c")), h(("a", "bc")));
        assert_eq!(h(("ab", "c")), h(("ab", "c")));
    }

    #[test]
    fn long_strings_differ_past_the_first_word() {
        let mut a = FxHasher::default();
        let mut b = FxHasher::default();
        "0123456789abcdef-x".hash(&mut a);
        "0123456789abcdef-y".hash(&mut b);
        assert_ne!(a.finish(), b.finish());
    }
}
