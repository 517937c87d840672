//! kube-scheduler, reduced to what decides where pods land: its filter plugins, a
//! deterministic score, and its `FailedScheduling` message.
//!
//! [`Snapshot`] is shared with the autoscaler, which runs the same filters on upcoming and
//! template nodes (upstream does the same through its scheduler-framework predicate checker).

pub mod filter;
mod message;
mod snapshot;

pub use filter::{fits_resources, fits_static, Rejection, StaticMemo};
pub use message::fit_error_message;
pub use snapshot::{FitError, SnapNode, Snapshot};
