//! The API server's view of the world: every object rendered from the engine, each with the
//! resourceVersion at which it last changed, and a history of changes for watches.
//!
//! The store re-renders lazily: on each request and each watch wake-up it compares the live
//! engine's change counter with the one it last rendered at, and if it moved, brings itself up
//! to date. ResourceVersions are that counter plus one, so they are a pure function of the
//! sequence of changes made through [`crate::Live::mutate`] and of the requests in between
//! (all objects changed between two reads share one resourceVersion).
//!
//! Pods and events, the kinds that run to tens of thousands, are re-rendered only when their
//! revision in the engine moved ([`magsim_sim::world::World::pod_rev`], [`Event::rev`]); the
//! few objects of every other kind are rendered afresh and compared. So a write costs the
//! objects it changed plus the small kinds, not the size of the world, and a list walks only
//! its own resource (the objects are ordered by resource, namespace, name).

use super::discovery::Resource;
use super::objects::{
    event_json, event_name, event_namespace, pod_json, render_cluster, render_written, ObjKey, Uids,
};
use crate::Live;
use magsim_sim::engine::Engine;
use magsim_sim::kube::{Event, PodId};
use magsim_sim::time::{Epoch, SimTime};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound;
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

/// One change: the object as it is after it (the last state for a deletion), with its
/// resourceVersion in its metadata.
#[derive(Clone, Debug)]
pub struct Change {
    pub rv: u64,
    pub change: ChangeType,
    pub key: ObjKey,
    pub object: Arc<Value>,
    /// The object before a modification (watches with selectors turn a modification that
    /// leaves or enters the selection into DELETED / ADDED; paged lists read the past).
    pub previous: Option<Arc<Value>>,
}

/// An object with `metadata.resourceVersion` set to the rv it last changed at.
#[derive(Clone, Debug)]
struct Stored {
    rv: u64,
    object: Arc<Value>,
}

/// What the store last rendered of one engine object that renders incrementally.
#[derive(Clone, Debug)]
struct Rendered {
    rev: u64,
    key: ObjKey,
}

struct State {
    /// How many changes `history` keeps.
    limit: usize,
    /// The live counter last rendered at.
    synced: Option<u64>,
    /// [`Live::broad_change`] when everything was last rendered.
    broad: Option<u64>,
    objects: BTreeMap<ObjKey, Stored>,
    /// Per `PodId`, the pod's revision and key as last rendered (`None`: not stored).
    pods: Vec<Option<Rendered>>,
    /// Per event id, its revision and key as last rendered.
    events: BTreeMap<u64, Rendered>,
    /// The event log's write count at the last sync ([`magsim_sim::kube::EventLog::changed_since`] from here).
    events_rev: u64,
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
    set_rv(&mut v, rv);
    v
}

fn set_rv(v: &mut Value, rv: u64) {
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("resourceVersion".into(), rv.to_string().into());
    }
}

/// The changes of one sync, all at resourceVersion `rv`.
struct Sync<'s> {
    st: &'s mut State,
    rv: u64,
    changes: Vec<Change>,
}

impl Sync<'_> {
    /// Stores `obj` under `key` unless it equals what is stored; records the change.
    fn put(&mut self, key: ObjKey, mut obj: Value) {
        let old = self.st.objects.get(&key);
        if let Some(old) = old {
            set_rv(&mut obj, old.rv);
            if *old.object == obj {
                return;
            }
        }
        set_rv(&mut obj, self.rv);
        let object = Arc::new(obj);
        let previous = old.map(|o| o.object.clone());
        self.changes.push(Change {
            rv: self.rv,
            change: if previous.is_some() {
                ChangeType::Modified
            } else {
                ChangeType::Added
            },
            key: key.clone(),
            object: object.clone(),
            previous,
        });
        self.st.objects.insert(
            key,
            Stored {
                rv: self.rv,
                object,
            },
        );
    }

    fn delete(&mut self, key: &ObjKey) {
        if let Some(old) = self.st.objects.remove(key) {
            self.changes.push(Change {
                rv: self.rv,
                change: ChangeType::Deleted,
                key: key.clone(),
                object: old.object,
                previous: None,
            });
        }
    }

    /// Every kind but pods and events: rendered whole (they are few) and compared.
    fn cluster(&mut self, engine: &Engine) {
        self.replace(render_cluster(engine), |r| {
            !matches!(r, Resource::Pods | Resource::Events)
        });
    }

    /// After a narrow write: only the kinds clients write as they are kept.
    fn written(&mut self, engine: &Engine) {
        self.replace(render_written(engine), |r| {
            r == Resource::ConfigMaps || r.is_stored()
        });
    }

    /// Stores `rendered` as the whole of the resources `covers` names.
    fn replace(&mut self, rendered: Vec<(ObjKey, Value)>, covers: impl Fn(Resource) -> bool) {
        let mut present: BTreeSet<ObjKey> = BTreeSet::new();
        for (key, obj) in rendered {
            present.insert(key.clone());
            self.put(key, obj);
        }
        // Only the covered resources' ranges are walked: 30,000 pods cost nothing here.
        let gone: Vec<ObjKey> = Resource::ALL
            .into_iter()
            .filter(|&r| covers(r))
            .flat_map(|r| {
                let first = ObjKey {
                    resource: r,
                    namespace: String::new(),
                    name: String::new(),
                };
                self.st
                    .objects
                    .range(first..)
                    .map(|(k, _)| k)
                    .take_while(move |k| k.resource == r)
            })
            .filter(|k| !present.contains(*k))
            .cloned()
            .collect();
        for key in &gone {
            self.delete(key);
        }
    }

    fn pods(&mut self, engine: &Engine) {
        let w = &engine.world;
        if self.st.pods.len() < w.pods().len() {
            self.st.pods.resize(w.pods().len(), None);
        }
        for (i, p) in w.pods().iter().enumerate() {
            let id = PodId(i as u32);
            let rev = w.pod_rev(id);
            if self.st.pods[i].as_ref().is_some_and(|r| r.rev == rev) {
                continue;
            }
            let key = ObjKey {
                resource: Resource::Pods,
                namespace: p.namespace.to_string(),
                name: p.name.to_string(),
            };
            if p.deleted {
                if let Some(r) = self.st.pods[i].take() {
                    self.delete(&r.key);
                }
                continue;
            }
            self.put(key.clone(), pod_json(engine, id));
            self.st.pods[i] = Some(Rendered { rev, key });
        }
    }

    /// The events written since the last sync (O(changed)), and the expired ones dropped.
    fn events(&mut self, engine: &Engine) {
        let events = &engine.world.events;
        let log = events.all();
        let mut uids: Option<Uids> = None;
        for e in events.changed_since(self.st.events_rev) {
            let known = self.st.events.get(&e.id).cloned();
            if known.as_ref().is_some_and(|r| r.rev == e.rev) {
                continue;
            }
            let key = known
                .map(|r| r.key)
                .unwrap_or_else(|| self.event_key(engine, e));
            let uids = uids.get_or_insert_with(|| Uids::new(engine));
            let obj = event_json(engine, e, uids, &key.namespace, &key.name);
            self.put(key.clone(), obj);
            self.st.events.insert(e.id, Rendered { rev: e.rev, key });
        }
        self.st.events_rev = events.writes();
        if self.st.events.len() > log.len() {
            let kept: BTreeSet<u64> = log.iter().map(|e| e.id).collect();
            let expired: Vec<u64> = self
                .st
                .events
                .keys()
                .filter(|id| !kept.contains(id))
                .copied()
                .collect();
            for id in expired {
                if let Some(r) = self.st.events.remove(&id) {
                    self.delete(&r.key);
                }
            }
        }
    }

    /// A name for a new event that no stored event has.
    fn event_key(&self, engine: &Engine, e: &Event) -> ObjKey {
        let namespace = event_namespace(e).to_string();
        let objects = &self.st.objects;
        let name = event_name(engine, e, |name| {
            objects.contains_key(&ObjKey {
                resource: Resource::Events,
                namespace: namespace.clone(),
                name: name.to_string(),
            })
        });
        ObjKey {
            resource: Resource::Events,
            namespace,
            name,
        }
    }
}

impl Store {
    /// A store whose watch history keeps about `limit` changes (at least the latest sync's).
    pub fn with_history(limit: usize) -> Store {
        Store {
            state: Arc::new(Mutex::new(State {
                limit,
                synced: None,
                broad: None,
                objects: BTreeMap::new(),
                pods: Vec::new(),
                events: BTreeMap::new(),
                events_rev: 0,
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
        let broad = live.broad_change();
        let mut st = self.lock();
        let engine = live.engine();
        // The clock moves without a change ([`Live::advance`]): Tables' ages read it.
        st.now = engine.now();
        st.epoch = engine.epoch;
        if st.synced != Some(counter) {
            let rv = counter + 1;
            let mut sync = Sync {
                st: &mut st,
                rv,
                changes: Vec::new(),
            };
            if sync.st.broad == Some(broad) {
                sync.written(&engine);
            } else {
                sync.cluster(&engine);
                sync.pods(&engine);
            }
            sync.events(&engine);
            sync.st.broad = Some(broad);
            let changes = sync.changes;
            st.history.extend(changes);
            st.compact(rv);
            st.synced = Some(counter);
        }
        drop(engine);
        View { state: st }
    }
}

impl State {
    /// Drops the oldest changes past `limit`, whole resourceVersions at a time, never the
    /// latest one's (`rv`).
    fn compact(&mut self, rv: u64) {
        while self.history.len() > self.limit && self.history.front().is_some_and(|c| c.rv < rv) {
            let Some(dropped) = self.history.pop_front() else {
                break;
            };
            self.compacted = dropped.rv;
            while self.history.front().is_some_and(|c| c.rv == dropped.rv) {
                self.history.pop_front();
            }
        }
    }

    /// Changes after `rv`, in order.
    fn since(&self, rv: u64) -> impl Iterator<Item = &Change> {
        let start = self.history.partition_point(|c| c.rv <= rv);
        self.history.range(start..)
    }
}

/// One page of a list: the items, and where the next page starts.
pub struct Page {
    pub items: Vec<Arc<Value>>,
    /// The resourceVersion the page was read at (a continuation keeps it).
    pub rv: u64,
    /// The key after which the next page starts, when there are more items.
    pub next: Option<ObjKey>,
    /// Matching items after this page, when there is a next one.
    pub remaining: usize,
}

/// Why a page could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum PageError {
    /// The list's resourceVersion is older than the history kept (kube-apiserver's `410`).
    Expired { oldest: u64 },
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
        self.get_shared(resource, namespace, name)
            .map(|o| (*o).clone())
    }

    /// One object, shared with the store.
    pub fn get_shared(
        &self,
        resource: Resource,
        namespace: &str,
        name: &str,
    ) -> Option<Arc<Value>> {
        let key = ObjKey {
            resource,
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        self.state.objects.get(&key).map(|s| s.object.clone())
    }

    /// The key the event with this id is stored under.
    pub fn event(&self, id: u64) -> Option<ObjKey> {
        self.state.events.get(&id).map(|r| r.key.clone())
    }

    /// Objects of `resource` (in `namespace` when given), each with its resourceVersion, in
    /// the order `kubectl` shows them (by namespace, then name).
    pub fn list(&self, resource: Resource, namespace: Option<&str>) -> Vec<Arc<Value>> {
        self.current(resource, namespace, None)
            .map(|(_, o)| o.clone())
            .collect()
    }

    /// The stored objects of `resource` (in `namespace`) after `after`, in key order.
    fn current<'s>(
        &'s self,
        resource: Resource,
        namespace: Option<&'s str>,
        after: Option<&ObjKey>,
    ) -> impl Iterator<Item = (&'s ObjKey, &'s Arc<Value>)> + 's {
        let start = ObjKey {
            resource,
            namespace: namespace.unwrap_or_default().to_string(),
            name: String::new(),
        };
        let lower = match after {
            Some(k) if *k >= start => Bound::Excluded(k.clone()),
            _ => Bound::Included(start),
        };
        self.state
            .objects
            .range((lower, Bound::Unbounded))
            .take_while(move |(k, _)| {
                k.resource == resource && namespace.is_none_or(|ns| k.namespace == ns)
            })
            .map(|(k, s)| (k, &s.object))
    }

    /// Up to `limit` objects of `resource` (in `namespace`) that `keep` selects, after `after`,
    /// as the store was at resourceVersion `rv` (a continued list reads the snapshot its first
    /// page did, as kube-apiserver's etcd-backed pages do): today's objects with the changes
    /// made since `rv` undone from the history.
    pub fn page(
        &self,
        resource: Resource,
        namespace: Option<&str>,
        rv: u64,
        after: Option<&ObjKey>,
        limit: usize,
        keep: impl Fn(&Value) -> bool,
    ) -> Result<Page, PageError> {
        if rv < self.state.compacted {
            return Err(PageError::Expired {
                oldest: self.state.compacted + 1,
            });
        }
        // The state at `rv` of every key changed since: the first change after `rv` says it.
        let mut past: BTreeMap<&ObjKey, Option<&Arc<Value>>> = BTreeMap::new();
        for c in self.state.since(rv) {
            let relevant = c.key.resource == resource
                && namespace.is_none_or(|ns| c.key.namespace == ns)
                && after.is_none_or(|a| c.key > *a);
            if relevant && !past.contains_key(&c.key) {
                let then = match c.change {
                    ChangeType::Added => None,
                    ChangeType::Modified => c.previous.as_ref(),
                    ChangeType::Deleted => Some(&c.object),
                };
                past.insert(&c.key, then);
            }
        }
        let now = self.current(resource, namespace, after);
        let mut merged = merge(now, past).filter(|(_, o)| keep(o));
        let mut items = Vec::new();
        let mut last = None;
        for (k, o) in merged.by_ref() {
            if items.len() == limit {
                let remaining = 1 + merged.count();
                return Ok(Page {
                    items,
                    rv,
                    next: last,
                    remaining,
                });
            }
            last = Some(k.clone());
            items.push(o.clone());
        }
        Ok(Page {
            items,
            rv,
            next: None,
            remaining: 0,
        })
    }

    /// Changes after `rv`, or `Err(oldest kept)` when `rv` is older than the history.
    pub fn changes_since(&self, rv: u64) -> Result<Vec<Change>, u64> {
        if rv < self.state.compacted {
            return Err(self.state.compacted + 1);
        }
        Ok(self.state.since(rv).cloned().collect())
    }
}

/// Today's objects with `past` (key → state then, `None` for absent) laid over them, in key
/// order.
fn merge<'a>(
    now: impl Iterator<Item = (&'a ObjKey, &'a Arc<Value>)>,
    past: BTreeMap<&'a ObjKey, Option<&'a Arc<Value>>>,
) -> impl Iterator<Item = (&'a ObjKey, &'a Arc<Value>)> {
    let mut now = now.peekable();
    let mut past = past.into_iter().peekable();
    std::iter::from_fn(move || loop {
        let take_past = match (now.peek(), past.peek()) {
            (None, None) => return None,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (Some((a, _)), Some((b, _))) => b <= a,
        };
        if take_past {
            let (k, then) = past.next()?;
            if now.peek().is_some_and(|(a, _)| *a == k) {
                now.next();
            }
            if let Some(o) = then {
                return Some((k, o));
            }
        } else {
            return now.next();
        }
    })
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

    fn record(live: &Live, reason: &'static str) {
        live.mutate(|e| {
            e.apply(
                Operation::RecordEvent {
                    object: magsim_sim::kube::ObjectRef::new("Node", "", "n"),
                    event_type: magsim_sim::kube::EventType::Normal,
                    reason,
                    message: "m".into(),
                    source: "test",
                },
                None,
            )
        });
    }

    /// Objects without their resourceVersions, for comparing two stores.
    fn bare(view: &View<'_>) -> BTreeMap<ObjKey, Value> {
        view.state
            .objects
            .iter()
            .map(|(k, s)| (k.clone(), with_rv(&s.object, 0)))
            .collect()
    }

    #[test]
    fn incremental_syncs_hold_what_one_full_rendering_holds() {
        let live = live();
        let store = Store::default();
        store.sync(&live);
        for (i, replicas) in [9, 3, 12, 6].into_iter().enumerate() {
            scale(&live, replicas);
            store.sync(&live);
            record(&live, if i % 2 == 0 { "Even" } else { "Odd" });
            live.advance(SimDuration::from_mins(4));
            store.sync(&live);
        }
        let fresh = Store::default();
        let (a, b) = (store.sync(&live), fresh.sync(&live));
        let (a, b) = (bare(&a), bare(&b));
        assert_eq!(a.len(), b.len());
        assert_eq!(a, b);
        assert!(a.keys().any(|k| k.resource == Resource::Events));
    }

    #[test]
    fn an_event_write_re_renders_the_event_alone() {
        let live = live();
        let store = Store::default();
        let before = store.sync(&live).rv();
        drop(store.sync(&live));
        record(&live, "Once");
        let view = store.sync(&live);
        let changes = view.changes_since(before).unwrap();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].key.resource, Resource::Events);
        drop(view);
        record(&live, "Once");
        let view = store.sync(&live);
        let repeat = view.changes_since(view.rv() - 1).unwrap();
        assert_eq!(repeat.len(), 1);
        assert_eq!(repeat[0].change, ChangeType::Modified);
        assert_eq!(repeat[0].object["count"], 2);
        assert_eq!(repeat[0].key, changes[0].key, "a repeat keeps its name");
    }

    #[test]
    fn events_expire_after_their_ttl_as_deletions() {
        let live = live();
        live.set_event_ttl(Some(SimDuration::from_mins(60)));
        let store = Store::default();
        record(&live, "Early");
        let reasons = |v: &View<'_>| -> Vec<String> {
            v.list(Resource::Events, None)
                .iter()
                .map(|e| e["reason"].as_str().unwrap_or_default().to_string())
                .collect()
        };
        live.advance(SimDuration::from_mins(30));
        record(&live, "Late");
        let both = reasons(&store.sync(&live));
        assert!(both.contains(&"Early".to_string()) && both.contains(&"Late".to_string()));
        live.advance(SimDuration::from_mins(45));
        let view = store.sync(&live);
        // "Early" is past the hour; "Late" is not.
        let left = reasons(&view);
        assert!(left.contains(&"Late".to_string()), "{left:?}");
        assert!(!left.contains(&"Early".to_string()), "{left:?}");
        let deleted = view
            .changes_since(view.rv() - 1)
            .unwrap()
            .into_iter()
            .filter(|c| c.change == ChangeType::Deleted && c.key.resource == Resource::Events)
            .count();
        assert!(deleted >= 1);
    }

    #[test]
    fn pages_read_the_snapshot_of_their_first_page() {
        let live = live();
        let store = Store::default();
        scale(&live, 8);
        let view = store.sync(&live);
        let all: Vec<String> = view
            .list(Resource::Pods, Some("default"))
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        assert!(all.len() >= 8, "{all:?}");
        let first = view
            .page(Resource::Pods, Some("default"), view.rv(), None, 3, |_| {
                true
            })
            .unwrap();
        assert_eq!(first.items.len(), 3);
        assert_eq!(first.remaining, all.len() - 3);
        let next = first.next.clone().unwrap();
        let rv = first.rv;
        drop(view);
        // Between the pages the deployment shrinks: the continuation still reads the old list.
        scale(&live, 2);
        let view = store.sync(&live);
        assert!(view.list(Resource::Pods, Some("default")).len() < all.len());
        let mut names: Vec<String> = first
            .items
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        let mut after = Some(next);
        while let Some(a) = after {
            let page = view
                .page(Resource::Pods, Some("default"), rv, Some(&a), 3, |_| true)
                .unwrap();
            names.extend(
                page.items
                    .iter()
                    .map(|p| p["metadata"]["name"].as_str().unwrap().to_string()),
            );
            after = page.next;
        }
        assert_eq!(names, all);
        // Past the history, a continuation is refused.
        drop(view);
        let small = Store::with_history(1);
        small.sync(&live);
        let old = small.sync(&live).rv();
        scale(&live, 5);
        small.sync(&live);
        scale(&live, 3);
        let view = small.sync(&live);
        assert!(matches!(
            view.page(Resource::Pods, None, old, None, 1, |_| true),
            Err(PageError::Expired { .. })
        ));
    }
}
