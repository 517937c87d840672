//! magsim's deterministic engine.
//!
//! Everything that decides *what happens* in a magsim run lives here: the Kubernetes objects
//! ([`kube`]), kube-scheduler's filters ([`scheduler`]), cluster-autoscaler's scale-up
//! ([`autoscaler`]), the Magnum cloud and its drivers ([`cloud`]), how the autoscaler is
//! deployed and where it reads its limits ([`deploy`]), all driven by a discrete-event loop on a
//! virtual clock ([`engine`]).
//!
//! The engine is pure: no I/O, no async, no wall clock, and one seeded RNG ([`rng::SimRng`]).
//! The same inputs and seed give the same [`trace::Trace`], byte for byte.

pub mod autoscaler;
pub mod cloud;
pub mod deploy;
pub mod engine;
pub mod flavor;
pub mod fxhash;
pub mod gostd;
pub mod ids;
pub mod kube;
pub mod limits;
pub mod resources;
pub mod rng;
pub mod scheduler;
pub mod time;
pub mod trace;
pub mod world;
