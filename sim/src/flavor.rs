//! Jetstream2's Nova flavors and the node each one becomes.

use crate::resources::{Resources, GIB, MIB};

/// A Nova flavor: what a Magnum nodegroup's `flavor_id` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flavor {
    pub name: String,
    pub vcpus: u64,
    pub ram_gib: u64,
    pub disk_gb: u64,
    /// vGPU devices exposed to Kubernetes as `nvidia.com/gpu`.
    pub gpus: u64,
    /// The share of an A100 behind that device (documentation only).
    pub gpu_fraction: &'static str,
}

/// Jetstream2's public flavor list (docs.jetstream-cloud.org, "Instance Flavors").
const JETSTREAM2: &[(&str, u64, u64, u64, u64, &str)] = &[
    ("m3.tiny", 1, 3, 20, 0, ""),
    ("m3.small", 2, 6, 20, 0, ""),
    ("m3.quad", 4, 15, 20, 0, ""),
    ("m3.medium", 8, 30, 60, 0, ""),
    ("m3.large", 16, 60, 60, 0, ""),
    ("m3.xl", 32, 125, 60, 0, ""),
    ("m3.2xl", 64, 250, 60, 0, ""),
    ("r3.large", 64, 500, 60, 0, ""),
    ("r3.xl", 128, 1000, 60, 0, ""),
    ("g3.small", 4, 15, 60, 1, "1/8 A100 (5 GB)"),
    ("g3.medium", 8, 30, 60, 1, "1/4 A100 (10 GB)"),
    ("g3.large", 16, 60, 60, 1, "1/2 A100 (20 GB)"),
    ("g3.xl", 32, 125, 60, 1, "A100 (40 GB)"),
];

/// Memory the kubelet keeps back by default (`--eviction-hard=memory.available<100Mi`), so a
/// node's allocatable memory is its capacity minus this.
pub const KUBELET_EVICTION_RESERVE: u64 = 100 * MIB;

/// Default pod slots per node (`--max-pods`).
pub const MAX_PODS: u64 = 110;

impl Flavor {
    /// Looks up one of Jetstream2's flavors by name.
    pub fn jetstream2(name: &str) -> Option<Flavor> {
        JETSTREAM2.iter().find(|f| f.0 == name).map(
            |&(name, vcpus, ram_gib, disk_gb, gpus, gpu_fraction)| Flavor {
                name: name.to_string(),
                vcpus,
                ram_gib,
                disk_gb,
                gpus,
                gpu_fraction,
            },
        )
    }

    /// Every Jetstream2 flavor name, for error messages.
    pub fn jetstream2_names() -> Vec<&'static str> {
        JETSTREAM2.iter().map(|f| f.0).collect()
    }

    /// The node capacity a VM of this flavor reports.
    pub fn capacity(&self) -> Resources {
        Resources {
            milli_cpu: self.vcpus * 1000,
            memory: self.ram_gib * GIB,
            pods: MAX_PODS,
            gpus: self.gpus,
            ephemeral_storage: self.disk_gb * 1_000_000_000,
        }
    }

    /// What the kubelet offers to pods: capacity minus the eviction reserve.
    pub fn allocatable(&self) -> Resources {
        let mut a = self.capacity();
        a.memory = a.memory.saturating_sub(KUBELET_EVICTION_RESERVE);
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jetstream2_flavors_have_documented_sizes() {
        let small = Flavor::jetstream2("m3.small").unwrap();
        assert_eq!((small.vcpus, small.ram_gib, small.gpus), (2, 6, 0));
        assert_eq!(small.allocatable().memory, 6 * GIB - 100 * MIB);
        let g = Flavor::jetstream2("g3.xl").unwrap();
        assert_eq!((g.vcpus, g.ram_gib, g.gpus), (32, 125, 1));
        assert_eq!(Flavor::jetstream2("r3.xl").unwrap().ram_gib, 1000);
        assert!(Flavor::jetstream2("m1.small").is_none());
        assert_eq!(Flavor::jetstream2_names().len(), 13);
    }
}
