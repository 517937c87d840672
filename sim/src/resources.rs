//! Resource quantities: what pods request and nodes offer.

use std::fmt;

/// Requests or capacity, in the units the scheduler compares: milli-CPU, bytes, pod slots,
/// GPUs (`nvidia.com/gpu`) and ephemeral-storage bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Resources {
    pub milli_cpu: u64,
    pub memory: u64,
    pub pods: u64,
    pub gpus: u64,
    pub ephemeral_storage: u64,
}

pub const GIB: u64 = 1 << 30;
pub const MIB: u64 = 1 << 20;

impl Resources {
    pub const ZERO: Resources = Resources {
        milli_cpu: 0,
        memory: 0,
        pods: 0,
        gpus: 0,
        ephemeral_storage: 0,
    };

    /// Adds component-wise.
    pub fn plus(self, o: Resources) -> Resources {
        Resources {
            milli_cpu: self.milli_cpu + o.milli_cpu,
            memory: self.memory + o.memory,
            pods: self.pods + o.pods,
            gpus: self.gpus + o.gpus,
            ephemeral_storage: self.ephemeral_storage + o.ephemeral_storage,
        }
    }

    /// Every component times `k`.
    pub fn times(self, k: u64) -> Resources {
        Resources {
            milli_cpu: self.milli_cpu.saturating_mul(k),
            memory: self.memory.saturating_mul(k),
            pods: self.pods.saturating_mul(k),
            gpus: self.gpus.saturating_mul(k),
            ephemeral_storage: self.ephemeral_storage.saturating_mul(k),
        }
    }

    /// Subtracts component-wise, stopping at zero.
    pub fn minus(self, o: Resources) -> Resources {
        Resources {
            milli_cpu: self.milli_cpu.saturating_sub(o.milli_cpu),
            memory: self.memory.saturating_sub(o.memory),
            pods: self.pods.saturating_sub(o.pods),
            gpus: self.gpus.saturating_sub(o.gpus),
            ephemeral_storage: self.ephemeral_storage.saturating_sub(o.ephemeral_storage),
        }
    }

    /// True when every component of `self` fits into `free`.
    pub fn fits_in(&self, free: &Resources) -> bool {
        self.milli_cpu <= free.milli_cpu
            && self.memory <= free.memory
            && self.pods <= free.pods
            && self.gpus <= free.gpus
            && self.ephemeral_storage <= free.ephemeral_storage
    }

    /// True when `self` still fits a node with `allocatable` that already has `used` placed:
    /// the hot-path form of `fits_in(&allocatable.minus(used))`.
    #[inline]
    pub fn fits_beside(&self, used: &Resources, allocatable: &Resources) -> bool {
        used.milli_cpu.saturating_add(self.milli_cpu) <= allocatable.milli_cpu
            && used.memory.saturating_add(self.memory) <= allocatable.memory
            && used.pods.saturating_add(self.pods) <= allocatable.pods
            && used.gpus.saturating_add(self.gpus) <= allocatable.gpus
            && used
                .ephemeral_storage
                .saturating_add(self.ephemeral_storage)
                <= allocatable.ephemeral_storage
    }

    /// kube-scheduler's NodeResourcesFit reasons for a request that does not fit `free`, in
    /// upstream's order: pods, cpu, memory, ephemeral-storage, then extended resources.
    pub fn insufficient(&self, free: &Resources) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.pods > free.pods {
            out.push("Too many pods");
        }
        if self.milli_cpu > free.milli_cpu {
            out.push("Insufficient cpu");
        }
        if self.memory > free.memory {
            out.push("Insufficient memory");
        }
        if self.ephemeral_storage > free.ephemeral_storage {
            out.push("Insufficient ephemeral-storage");
        }
        if self.gpus > free.gpus {
            out.push("Insufficient nvidia.com/gpu");
        }
        out
    }
}

/// A Kubernetes quantity string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid quantity {0:?}: expected a Kubernetes quantity such as 500m, 2, 4Gi, 512Mi, 6G")]
pub struct QuantityError(pub String);

/// Parses a CPU quantity (`500m`, `2`, `1.5`) into milli-CPU.
pub fn parse_cpu(text: &str) -> Result<u64, QuantityError> {
    let t = text.trim();
    let err = || QuantityError(text.to_string());
    if let Some(m) = t.strip_suffix('m') {
        return m.parse::<u64>().map_err(|_| err());
    }
    let v: f64 = t.parse().map_err(|_| err())?;
    if !v.is_finite() || v < 0.0 {
        return Err(err());
    }
    Ok((v * 1000.0).round() as u64)
}

/// Parses a byte quantity (`4Gi`, `512Mi`, `6G`, `100`, `1e3`) into bytes.
pub fn parse_bytes(text: &str) -> Result<u64, QuantityError> {
    let t = text.trim();
    let err = || QuantityError(text.to_string());
    const SUFFIXES: [(&str, u64); 12] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("Pi", 1 << 50),
        ("Ei", 1 << 60),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
        ("P", 1_000_000_000_000_000),
        ("E", 1_000_000_000_000_000_000),
    ];
    for (suffix, scale) in SUFFIXES {
        if let Some(n) = t.strip_suffix(suffix) {
            let v: f64 = n.parse().map_err(|_| err())?;
            if !v.is_finite() || v < 0.0 {
                return Err(err());
            }
            return Ok((v * scale as f64).round() as u64);
        }
    }
    let v: f64 = t.parse().map_err(|_| err())?;
    if !v.is_finite() || v < 0.0 {
        return Err(err());
    }
    Ok(v.round() as u64)
}

/// Formats milli-CPU as Kubernetes does: `500m`, `2`.
pub fn format_cpu(milli: u64) -> String {
    if milli.is_multiple_of(1000) {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

/// Formats bytes with the largest exact binary suffix: `4Gi`, `100Mi`, `1000`.
pub fn format_bytes(bytes: u64) -> String {
    for (suffix, scale) in [
        ("Ti", 1u64 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ] {
        if bytes >= scale && bytes.is_multiple_of(scale) {
            return format!("{}{suffix}", bytes / scale);
        }
    }
    bytes.to_string()
}

impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cpu={} memory={}",
            format_cpu(self.milli_cpu),
            format_bytes(self.memory)
        )?;
        if self.gpus > 0 {
            write!(f, " nvidia.com/gpu={}", self.gpus)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_like_kubernetes() {
        assert_eq!(parse_cpu("500m"), Ok(500));
        assert_eq!(parse_cpu("2"), Ok(2000));
        assert_eq!(parse_cpu("1.5"), Ok(1500));
        assert_eq!(parse_bytes("4Gi"), Ok(4 * GIB));
        assert_eq!(parse_bytes("6G"), Ok(6_000_000_000));
        assert_eq!(parse_bytes("100"), Ok(100));
        assert!(parse_cpu("two").is_err());
        assert!(parse_bytes("4Gb").is_err());
        assert!(parse_bytes("-1").is_err());
        assert_eq!(format_bytes(4 * GIB), "4Gi");
        assert_eq!(format_cpu(1500), "1500m");
    }

    #[test]
    fn insufficient_lists_every_failing_resource_in_upstream_order() {
        let free = Resources {
            milli_cpu: 100,
            memory: 10,
            pods: 5,
            gpus: 0,
            ephemeral_storage: 0,
        };
        let req = Resources {
            milli_cpu: 200,
            memory: 20,
            pods: 1,
            gpus: 1,
            ephemeral_storage: 0,
        };
        assert_eq!(
            req.insufficient(&free),
            [
                "Insufficient cpu",
                "Insufficient memory",
                "Insufficient nvidia.com/gpu"
            ]
        );
        assert!(!req.fits_in(&free));
    }
}
