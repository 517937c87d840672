//! The OpenStack side: Magnum's records and API rules, the driver that turns them into
//! machines, and the machines themselves.

pub mod capi;
pub mod faults;
pub mod heat;
pub mod magnum;
pub mod nodegroups;
pub mod patch;

pub use capi::MachineDeployment;
pub use magnum::{python_json, ApiError, Cluster, Driver, Nodegroup};
pub use nodegroups::NewNodegroup;
pub use patch::{PatchOp, PatchOperation};
