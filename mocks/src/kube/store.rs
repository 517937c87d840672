//! The API server's view of the world: every object rendered from the engine, each with the
//! resourceVersion at which it last changed, and a history of changes for watches.
//!
//! The store re-renders lazily: on each request and each watch wake-up it compares the live
//! engine's change counter with the one it last rendered at, and if it moved, diffs the new
//! rendering against the old. ResourceVersions are that counter plus one, so they are a pure
//! function of the sequence of changes made through [`crate::Live::mutate`] and of the requests
//! in between (all objects changed between two reads share one resourceVersion).

use super::discovery::Resource;
use super::objects::{render_all, ObjKey};
use crate::Live;
use magsim_sim::time::{Epoch, SimTime};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// How many changes a watch can replay from, by default.
pub const HISTORY: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

/// One change: the object as it is after it (the last state for a deletion).
#[derive(Clone, Debug)]
pub struct Change {
    pub rv: u64,
    pub change: ChangeType,
    pub key: ObjKey,
    pub object: Arc<Value>,
    /// The object before a modification (watches with selectors turn a modification that
    /// leaves or enters the selection into DELETED / ADDED).
    pub previous: Option<Arc<Value>>,
}

#[derive(Clone, Debug)]
struct Stored {
    rv: u64,
    object: Arc<Value>,
}

struct State {
    /// How many changes `history` keeps.
    limit: usize,
    /// The live counter last rendered at.
    synced: Option<u64>,
    objects: BTreeMap<ObjKey, Stored>,
    history: VecDeque<Change>,
    /// Changes at or below this resourceVersion are no longer in `history`.
    compacted: u64,
    now: SimTime,
    epoch: Epoch,
}

/// A consistent read of the store.
pub struct View<'a> {
    state: MutexGuard<'a, State>,
}

/// Objects with their resourceVersions, shared by the HTTP handlers and the watches.
#[derive(Clone)]
pub struct Store {
    state: Arc<Mutex<State>>,
}

impl Default for Store {
    fn default() -> Store {
        Store::with_history(HISTORY)
    }
}

/// `obj` with `metadata.resourceVersion` set.
pub fn with_rv(obj: &Value, rv: u64) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("resourceVersion".into(), rv.to_string().into());
    }
    v
}

impl Store {
    /// A store whose watch history keeps about `limit` changes (at least the latest sync's).
    pub fn with_history(limit: usize) -> Store {
        Store {
            state: Arc::new(Mutex::new(State {
                limit,
                synced: None,
                objects: BTreeMap::new(),
                history: VecDeque::new(),
                compacted: 0,
                now: SimTime::ZERO,
                epoch: Epoch::default(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Brings the store up to date with the engine and returns a read view.
    pub fn sync(&self, live: &Live) -> View<'_> {
        let counter = *live.subscribe().borrow();
        let mut st = self.lock();
        // The clock moves without a change ([`Live::advance`]): Tables' ages read it.
        let (now, epoch) = {
            let e = live.engine();
            (e.now(), e.epoch)
        };
        st.now = now;
        st.epoch = epoch;
        if st.synced != Some(counter) {
            let (rendered, now, epoch) = {
                let engine = live.engine();
                (render_all(&engine), engine.now(), engine.epoch)
            };
            st.now = now;
            st.epoch = epoch;
            let rv = counter + 1;
            let mut next: BTreeMap<ObjKey, Stored> = BTreeMap::new();
            let mut changes = Vec::new();
            for (key, obj) in rendered {
                match st.objects.get(&key) {
                    Some(old) if *old.object == obj => {
                        next.insert(key, old.clone());
                    }
                    old => {
                        let object = Arc::new(obj);
                        let change = if old.is_some() {
                            ChangeType::Modified
                        } else {
                            ChangeType::Added
                        };
                        changes.push(Change {
                            rv,
                            change,
                            key: key.clone(),
                            object: object.clone(),
                            previous: old.map(|o| o.object.clone()),
                        });
                        next.insert(key, Stored { rv, object });
                    }
                }
            }
            for (key, old) in &st.objects {
                if !next.contains_key(key) {
                    changes.push(Change {
                        rv,
                        change: ChangeType::Deleted,
                        key: key.clone(),
                        object: old.object.clone(),
                        previous: None,
                    });
                }
            }
            st.objects = next;
            st.history.extend(changes);
            while st.history.len() > st.limit && st.history.front().is_some_and(|c| c.rv < rv) {
                let Some(dropped) = st.history.pop_front() else {
                    break;
                };
                st.compacted = dropped.rv;
                while st.history.front().is_some_and(|c| c.rv == dropped.rv) {
                    st.history.pop_front();
                }
            }
            st.synced = Some(counter);
        }
        View { state: st }
    }
}

impl View<'_> {
    /// The resourceVersion of the whole store (what lists carry).
    pub fn rv(&self) -> u64 {
        self.state.synced.map_or(1, |c| c + 1)
    }

    pub fn now(&self) -> SimTime {
        self.state.now
    }

    pub fn epoch(&self) -> Epoch {
        self.state.epoch
    }

    /// One object with its resourceVersion filled in.
    pub fn get(&self, resource: Resource, namespace: &str, name: &str) -> Option<Value> {
        let key = ObjKey {
            resource,
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        self.state
            .objects
            .get(&key)
            .map(|s| with_rv(&s.object, s.rv))
    }

    /// Objects of `resource` (in `namespace` when given), each with its resourceVersion, in
    /// the order `kubectl` shows them (by namespace, then name).
    pub fn list(&self, resource: Resource, namespace: Option<&str>) -> Vec<Value> {
        self.state
            .objects
            .iter()
            .filter(|(k, _)| k.resource == resource && namespace.is_none_or(|ns| k.namespace == ns))
            .map(|(_, s)| with_rv(&s.object, s.rv))
            .collect()
    }

    /// Changes after `rv`, or `Err(oldest kept)` when `rv` is older than the history.
    pub fn changes_since(&self, rv: u64) -> Result<Vec<Change>, u64> {
        if rv < self.state.compacted {
            return Err(self.state.compacted + 1);
        }
        Ok(self
            .state
            .history
            .iter()
            .filter(|c| c.rv > rv)
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use magsim_sim::engine::Operation;
    use magsim_sim::time::SimDuration;

    fn live() -> Live {
        let (file, text) = magsim_scenario::builtin()[0];
        Live::new(&magsim_scenario::parse(file, text).unwrap(), None)
    }

    fn scale(live: &Live, replicas: u32) {
        live.mutate(|e| {
            e.apply(
                Operation::ScaleDeployment {
                    namespace: "default".into(),
                    name: "high-memory-deployment".into(),
                    replicas,
                },
                None,
            )
        });
    }

    #[test]
    fn changes_carry_their_resource_version_and_old_ones_expire() {
        let live = live();
        let store = Store::with_history(4);
        let first = store.sync(&live).rv();
        assert_eq!(first, 1);
        scale(&live, 7);
        let view = store.sync(&live);
        assert_eq!(view.rv(), 2);
        let changes = view.changes_since(first).unwrap();
        let added: Vec<&Change> = changes
            .iter()
            .filter(|c| c.key.resource == Resource::Pods && c.change == ChangeType::Added)
            .collect();
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].rv, 2);
        assert!(changes
            .iter()
            .any(|c| c.key.resource == Resource::Deployments
                && c.change == ChangeType::Modified
                && c.previous
                    .as_ref()
                    .is_some_and(|p| p["spec"]["replicas"] == 6)));
        drop(view);
        scale(&live, 6);
        live.advance(SimDuration::from_secs(1));
        let view = store.sync(&live);
        // The first sync's changes were dropped: replaying from before them is 410 Expired.
        assert!(view.changes_since(0).is_err());
        assert!(view.changes_since(first).is_err());
        let latest = view.changes_since(view.rv() - 1).unwrap();
        assert!(latest.iter().all(|c| c.rv == view.rv()));
        // Scaling back down deleted one pod; the DELETED change carries its last state.
        let deleted: Vec<&Change> = latest
            .iter()
            .filter(|c| c.change == ChangeType::Deleted && c.key.resource == Resource::Pods)
            .collect();
        assert_eq!(deleted.len(), 1);
        assert_eq!(
            deleted[0].object["metadata"]["name"],
            deleted[0].key.name.as_str()
        );
    }
}
