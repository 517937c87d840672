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
//!
//! Each object is kept as its JSON bytes ([`Doc`]), not as a `Value` tree (about ten times
//! the size): a list is the stored bytes concatenated, a put compares bytes, selectors read a
//! small projection taken when the object is stored, and only writes and Tables parse.

use super::discovery::Resource;
use super::objects::{
    event_json, event_name, event_namespace, pod_json, render_cluster, render_written, ObjKey, Uids,
};
use super::select::{Filter, Selectable};
use super::status::KubeError;
use crate::Live;
use magsim_sim::engine::Engine;
use magsim_sim::kube::{Event, PodId};
use magsim_sim::time::{Epoch, SimTime};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::{Bound, Range};
use std::sync::{Arc, Mutex, MutexGuard};

/// How many changes a watch can replay from, by default.
pub const HISTORY: usize = 10_000;

/// How many paged lists' remaining counts are kept for their next page ([`Tally`]).
const TALLIES: usize = 32;

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

/// A stored object that does not parse back into a `Value` (only an object nested deeper
/// than serde_json's recursion limit could: what is stored was serialized from a `Value`).
#[derive(Debug, thiserror::Error)]
#[error("a stored object does not parse: {0}")]
pub struct StoreError(#[from] serde_json::Error);

impl From<StoreError> for KubeError {
    fn from(e: StoreError) -> KubeError {
        KubeError::internal(&e.to_string())
    }
}

/// One object as the store keeps it: its JSON as served, `metadata.resourceVersion`
/// included, and what selectors read of it. A pod costs about its JSON's size (a `Value`
/// tree of it is about ten times that), lists are the stored bytes concatenated, and clones
/// share the bytes.
#[derive(Clone, Debug)]
pub struct Doc(Arc<DocInner>);

#[derive(Debug)]
struct DocInner {
    /// `{"kind":…,"apiVersion":…,` then the other members in the object's order.
    json: Box<[u8]>,
    /// Where the members after `kind` and `apiVersion` start: a list item is `{` and the
    /// bytes from here (`0` for a JSON value that is not an object: the item is all of it).
    body: u32,
    /// The resourceVersion in the bytes, and where its digits are (`None`: no metadata).
    rv: u64,
    rv_at: Option<Range<u32>>,
    select: Selectable,
}

/// Writes `v` as JSON. Serializing a `Value` into memory cannot fail (its keys are strings,
/// a `Vec` takes every write), so there is no error to return.
fn write_json(out: &mut Vec<u8>, v: &(impl Serialize + ?Sized)) {
    if let Err(e) = serde_json::to_writer(out, v) {
        unreachable!("a JSON value serializes into memory: {e}")
    }
}

/// `"key":value`.
fn write_member(out: &mut Vec<u8>, key: &str, v: &Value) {
    write_json(out, key);
    out.push(b':');
    write_json(out, v);
}

impl Doc {
    /// The one rendering of an object to its stored form, at resourceVersion `rv`: `kind`
    /// and `apiVersion` first (as kube-apiserver writes them), then the other members in
    /// order, with `metadata.resourceVersion` set (added last if missing).
    pub fn new(resource: Resource, obj: &Value, rv: u64) -> Doc {
        let mut out = Vec::with_capacity(1024);
        let select = Selectable::of(resource, obj);
        let Value::Object(m) = obj else {
            write_json(&mut out, obj);
            return Doc::from_parts(out, 0, rv, None, select);
        };
        out.push(b'{');
        let head = ["kind", "apiVersion"];
        let mut first = true;
        for k in head {
            if let Some(v) = m.get(k) {
                if !first {
                    out.push(b',');
                }
                first = false;
                write_member(&mut out, k, v);
            }
        }
        let mut rest = m.iter().filter(|(k, _)| !head.contains(&k.as_str()));
        let mut body = out.len();
        let mut rv_at = None;
        if let Some(member) = rest.next() {
            if !first {
                out.push(b',');
                body = out.len();
            }
            for (i, (k, v)) in std::iter::once(member).chain(rest).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match v {
                    Value::Object(meta) if k == "metadata" => {
                        write_json(&mut out, k);
                        out.push(b':');
                        rv_at = Some(write_metadata(&mut out, meta, rv));
                    }
                    _ => write_member(&mut out, k, v),
                }
            }
        }
        out.push(b'}');
        Doc::from_parts(out, body, rv, rv_at, select)
    }

    fn from_parts(
        json: Vec<u8>,
        body: usize,
        rv: u64,
        rv_at: Option<Range<usize>>,
        select: Selectable,
    ) -> Doc {
        // Objects are bounded by the request size limit and the engine's caps, far below 4 GiB.
        let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Doc(Arc::new(DocInner {
            json: json.into_boxed_slice(),
            body: at(body),
            rv,
            rv_at: rv_at.map(|r| at(r.start)..at(r.end)),
            select,
        }))
    }

    /// The object's JSON, with its resourceVersion.
    pub fn json(&self) -> &[u8] {
        &self.0.json
    }

    /// The resourceVersion the object last changed at.
    pub fn rv(&self) -> u64 {
        self.0.rv
    }

    /// What selectors read of it.
    pub fn select(&self) -> &Selectable {
        &self.0.select
    }

    /// The object parsed, for the few readers that need its fields (writes, Tables).
    pub fn value(&self) -> Result<Value, StoreError> {
        Ok(serde_json::from_slice(self.json())?)
    }

    /// The bytes before and after the resourceVersion's digits.
    fn around_rv(&self) -> (&[u8], &[u8]) {
        let json = self.json();
        match &self.0.rv_at {
            Some(r) => (
                json.get(..r.start as usize).unwrap_or_default(),
                json.get(r.end as usize..).unwrap_or_default(),
            ),
            None => (json, &[]),
        }
    }

    /// The same object, whatever the resourceVersions: the bytes equal but for its digits.
    fn same_as(&self, other: &Doc) -> bool {
        self.0.rv_at.is_some() == other.0.rv_at.is_some() && self.around_rv() == other.around_rv()
    }

    /// Writes the object with resourceVersion `rv` (a deletion's, for its last state).
    pub fn write_at(&self, out: &mut Vec<u8>, rv: u64) {
        if rv == self.rv() || self.0.rv_at.is_none() {
            out.extend_from_slice(self.json());
        } else {
            let (before, after) = self.around_rv();
            out.extend_from_slice(before);
            out.extend_from_slice(rv.to_string().as_bytes());
            out.extend_from_slice(after);
        }
    }

    /// Writes the object as a list item: without `kind` and `apiVersion`, as a real server's.
    fn write_item(&self, out: &mut Vec<u8>) {
        match self.json().get(self.0.body as usize..) {
            Some(body) if self.0.body > 0 => {
                out.push(b'{');
                out.extend_from_slice(body);
            }
            _ => out.extend_from_slice(self.json()),
        }
    }

    fn item_len(&self) -> usize {
        self.json().len() + 1 - self.0.body as usize
    }
}

/// Writes a metadata map with `resourceVersion` set to `rv`; returns where its digits are.
fn write_metadata(out: &mut Vec<u8>, meta: &Map<String, Value>, rv: u64) -> Range<usize> {
    let rv_member = |out: &mut Vec<u8>| {
        write_json(out, "resourceVersion");
        out.extend_from_slice(b":\"");
        let start = out.len();
        out.extend_from_slice(rv.to_string().as_bytes());
        let digits = start..out.len();
        out.push(b'"');
        digits
    };
    out.push(b'{');
    let mut at = None;
    for (i, (k, v)) in meta.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if k == "resourceVersion" {
            at = Some(rv_member(out));
        } else {
            write_member(out, k, v);
        }
    }
    let at = at.unwrap_or_else(|| {
        if !meta.is_empty() {
            out.push(b',');
        }
        rv_member(out)
    });
    out.push(b'}');
    at
}

/// A list body: `{"kind":"<Kind>List","apiVersion":…,"metadata":…,"items":[…]}`, the items
/// the stored bytes of `items` (no object is serialized again).
pub fn list_body(resource: Resource, metadata: &Map<String, Value>, items: &[Doc]) -> Vec<u8> {
    let size = items.iter().map(|d| d.item_len() + 1).sum::<usize>() + 256;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"{\"kind\":");
    write_json(&mut out, &format!("{}List", resource.kind()));
    out.extend_from_slice(b",\"apiVersion\":");
    write_json(&mut out, &resource.api_version());
    out.extend_from_slice(b",\"metadata\":");
    write_json(&mut out, metadata);
    out.extend_from_slice(b",\"items\":[");
    for (i, d) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        d.write_item(&mut out);
    }
    out.extend_from_slice(b"]}");
    out
}

/// One change: the object as it is after it (the last state for a deletion), with its
/// resourceVersion in its metadata.
#[derive(Clone, Debug)]
pub struct Change {
    pub rv: u64,
    pub change: ChangeType,
    pub key: ObjKey,
    pub object: Doc,
    /// The object before a modification (watches with selectors turn a modification that
    /// leaves or enters the selection into DELETED / ADDED; paged lists read the past).
    pub previous: Option<Doc>,
}

/// What the store last rendered of one engine object that renders incrementally.
#[derive(Clone, Debug)]
struct Rendered {
    rev: u64,
    key: ObjKey,
}

/// How many objects a paged list without selectors has after a page, kept for the page that
/// continues from it: each continuation subtracts what it returns instead of counting the
/// rest of the list again (which made paging a whole list O(n²/limit)).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Tally {
    resource: Resource,
    namespace: Option<String>,
    rv: u64,
    after: ObjKey,
    remaining: usize,
}

struct State {
    /// How many changes `history` keeps.
    limit: usize,
    /// The live counter last rendered at.
    synced: Option<u64>,
    /// [`Live::broad_change`] when everything was last rendered.
    broad: Option<u64>,
    objects: BTreeMap<ObjKey, Doc>,
    /// Per `PodId`, the pod's revision and key as last rendered (`None`: not stored).
    pods: Vec<Option<Rendered>>,
    /// Per event id, its revision and key as last rendered.
    events: BTreeMap<u64, Rendered>,
    /// The in-cluster autoscalers' pods as last rendered (not in the world's pod table).
    autoscaler_pods: BTreeSet<ObjKey>,
    /// The event log's write count at the last sync ([`magsim_sim::kube::EventLog::changed_since`] from here).
    events_rev: u64,
    history: VecDeque<Change>,
    /// Changes at or below this resourceVersion are no longer in `history`.
    compacted: u64,
    /// The latest paged lists' remaining counts, newest last.
    tallies: VecDeque<Tally>,
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

/// The changes of one sync, all at resourceVersion `rv`.
struct Sync<'s> {
    st: &'s mut State,
    rv: u64,
    changes: Vec<Change>,
}

impl Sync<'_> {
    /// Stores `obj` under `key` unless it equals what is stored (but for the
    /// resourceVersion); records the change.
    fn put(&mut self, key: ObjKey, obj: Value) {
        let object = Doc::new(key.resource, &obj, self.rv);
        drop(obj);
        let old = self.st.objects.get(&key);
        if old.is_some_and(|o| o.same_as(&object)) {
            return;
        }
        let previous = old.cloned();
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
        self.st.objects.insert(key, object);
    }

    fn delete(&mut self, key: &ObjKey) {
        if let Some(old) = self.st.objects.remove(key) {
            self.changes.push(Change {
                rv: self.rv,
                change: ChangeType::Deleted,
                key: key.clone(),
                object: old,
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
            matches!(r, Resource::ConfigMaps | Resource::Secrets) || r.is_stored()
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

    /// The in-cluster autoscalers' pods: few, rendered whole; a pod whose autoscaler went
    /// (or whose template changed) is deleted.
    fn autoscaler_pods(&mut self, engine: &Engine) {
        let mut present = BTreeSet::new();
        for (key, obj) in super::kubelet::pods(engine) {
            present.insert(key.clone());
            self.put(key, obj);
        }
        let gone: Vec<ObjKey> = self
            .st
            .autoscaler_pods
            .difference(&present)
            .cloned()
            .collect();
        for key in &gone {
            self.delete(key);
        }
        self.st.autoscaler_pods = present;
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
                autoscaler_pods: BTreeSet::new(),
                events_rev: 0,
                history: VecDeque::new(),
                compacted: 0,
                tallies: VecDeque::new(),
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
                sync.autoscaler_pods(&engine);
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
    pub items: Vec<Doc>,
    /// The resourceVersion the page was read at (a continuation keeps it).
    pub rv: u64,
    /// The key after which the next page starts, when there are more items.
    pub next: Option<ObjKey>,
    /// How many items follow this page, when there is a next one and the list has no
    /// selectors (kube-apiserver's `remainingItemCount` is given only then).
    pub remaining: Option<usize>,
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

    /// One object, shared with the store ([`Doc::value`] parses it).
    pub fn get(&self, resource: Resource, namespace: &str, name: &str) -> Option<Doc> {
        let key = ObjKey {
            resource,
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        self.state.objects.get(&key).cloned()
    }

    /// The key the event with this id is stored under.
    pub fn event(&self, id: u64) -> Option<ObjKey> {
        self.state.events.get(&id).map(|r| r.key.clone())
    }

    /// Objects of `resource` (in `namespace` when given), each with its resourceVersion, in
    /// the order `kubectl` shows them (by namespace, then name).
    pub fn list(&self, resource: Resource, namespace: Option<&str>) -> Vec<Doc> {
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
    ) -> impl Iterator<Item = (&'s ObjKey, &'s Doc)> + 's {
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
    }

    /// Up to `limit` objects `filter` selects, after `after`, as the store was at
    /// resourceVersion `rv` (a continued list reads the snapshot its first page did, as
    /// kube-apiserver's etcd-backed pages do): today's objects with the changes made since
    /// `rv` undone from the history. Without selectors the objects left after the page are
    /// counted: by walking the rest on a first page, from the previous page's count on a
    /// continuation ([`Tally`]).
    pub fn page(
        &mut self,
        filter: &Filter,
        rv: u64,
        after: Option<&ObjKey>,
        limit: usize,
    ) -> Result<Page, PageError> {
        if rv < self.state.compacted {
            return Err(PageError::Expired {
                oldest: self.state.compacted + 1,
            });
        }
        let everything = filter.is_everything();
        let known = match after {
            Some(a) if everything => self.take_tally(filter, rv, a),
            _ => None,
        };
        let (resource, namespace) = (filter.resource, filter.namespace.as_deref());
        // The state at `rv` of every key changed since: the first change after `rv` says it.
        let mut past: BTreeMap<&ObjKey, Option<&Doc>> = BTreeMap::new();
        for c in self.state.since(rv) {
            let relevant = filter.covers(&c.key) && after.is_none_or(|a| c.key > *a);
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
        let mut merged = merge(now, past).filter(|(_, o)| filter.matches(o.select()));
        let mut items = Vec::new();
        let mut last = None;
        let mut more = false;
        for (k, o) in merged.by_ref() {
            if items.len() == limit {
                more = true;
                break;
            }
            last = Some(k.clone());
            items.push(o.clone());
        }
        let Some(next) = last.filter(|_| more) else {
            return Ok(Page {
                items,
                rv,
                next: None,
                remaining: None,
            });
        };
        // What follows `after`, less this page; else the rest walked (the item that showed
        // there is more was taken from `merged`).
        let remaining = everything.then(|| {
            known
                .and_then(|before| before.checked_sub(items.len()))
                .unwrap_or_else(|| 1 + merged.count())
        });
        if let Some(remaining) = remaining {
            self.keep_tally(Tally {
                resource,
                namespace: filter.namespace.clone(),
                rv,
                after: next.clone(),
                remaining,
            });
        }
        Ok(Page {
            items,
            rv,
            next: Some(next),
            remaining,
        })
    }

    /// The count kept for the list continuing after `after` at `rv`, taken out.
    fn take_tally(&mut self, filter: &Filter, rv: u64, after: &ObjKey) -> Option<usize> {
        let tallies = &mut self.state.tallies;
        let i = tallies.iter().position(|t| {
            t.resource == filter.resource
                && t.namespace == filter.namespace
                && t.rv == rv
                && t.after == *after
        })?;
        tallies.remove(i).map(|t| t.remaining)
    }

    fn keep_tally(&mut self, tally: Tally) {
        let tallies = &mut self.state.tallies;
        if tallies.len() == TALLIES {
            tallies.pop_front();
        }
        tallies.push_back(tally);
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
    now: impl Iterator<Item = (&'a ObjKey, &'a Doc)>,
    past: BTreeMap<&'a ObjKey, Option<&'a Doc>>,
) -> impl Iterator<Item = (&'a ObjKey, &'a Doc)> {
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
                    .is_some_and(|p| p.value().unwrap()["spec"]["replicas"] == 6)));
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
        let last = deleted[0].object.value().unwrap();
        assert_eq!(last["metadata"]["name"], deleted[0].key.name.as_str());
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
    fn bare(view: &View<'_>) -> BTreeMap<ObjKey, String> {
        view.state
            .objects
            .iter()
            .map(|(k, d)| {
                let mut out = Vec::new();
                d.write_at(&mut out, 0);
                (k.clone(), String::from_utf8(out).unwrap())
            })
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
        assert_eq!(repeat[0].object.value().unwrap()["count"], 2);
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
                .map(|e| e.value().unwrap()["reason"].as_str().unwrap().to_string())
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

    fn name(d: &Doc) -> String {
        d.value().unwrap()["metadata"]["name"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn pages_read_the_snapshot_of_their_first_page() {
        let live = live();
        let store = Store::default();
        scale(&live, 8);
        let mut view = store.sync(&live);
        let all: Vec<String> = view
            .list(Resource::Pods, Some("default"))
            .iter()
            .map(name)
            .collect();
        assert!(all.len() >= 8, "{all:?}");
        let pods = Filter::all(Resource::Pods, Some("default"));
        let first = view.page(&pods, view.rv(), None, 3).unwrap();
        assert_eq!(first.items.len(), 3);
        assert_eq!(first.remaining, Some(all.len() - 3));
        let next = first.next.clone().unwrap();
        let rv = first.rv;
        drop(view);
        // Between the pages the deployment shrinks: the continuation still reads the old list,
        // and counts what is left of it.
        scale(&live, 2);
        let mut view = store.sync(&live);
        assert!(view.list(Resource::Pods, Some("default")).len() < all.len());
        let mut names: Vec<String> = first.items.iter().map(name).collect();
        let mut after = Some(next);
        while let Some(a) = after {
            let page = view.page(&pods, rv, Some(&a), 3).unwrap();
            names.extend(page.items.iter().map(name));
            let left = all.len() - names.len();
            assert_eq!(page.remaining, page.next.as_ref().map(|_| left));
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
        let mut view = small.sync(&live);
        assert!(matches!(
            view.page(&Filter::all(Resource::Pods, None), old, None, 1),
            Err(PageError::Expired { .. })
        ));
    }

    #[test]
    fn remaining_counts_agree_with_the_rest_walked_and_need_no_selector() {
        let live = live();
        let store = Store::default();
        scale(&live, 9);
        let mut view = store.sync(&live);
        let pods = Filter::all(Resource::Pods, None);
        let total = view.list(Resource::Pods, None).len();
        let first = view.page(&pods, view.rv(), None, 2).unwrap();
        let after = first.next.unwrap();
        let counted = view.page(&pods, first.rv, Some(&after), 2).unwrap();
        assert_eq!(counted.remaining, Some(total - 4));
        // Without the first page's count (another server, or one forgotten) the rest is walked.
        view.state.tallies.clear();
        let walked = view.page(&pods, first.rv, Some(&after), 2).unwrap();
        assert_eq!(walked.remaining, counted.remaining);
        assert_eq!(walked.next, counted.next);
        // With a selector nothing is counted, as kube-apiserver does.
        let mut selected = Filter::all(Resource::Pods, None);
        selected.labels = crate::kube::select::LabelSelector::parse("app").unwrap();
        let page = view.page(&selected, first.rv, None, 1).unwrap();
        assert!(page.next.is_some());
        assert_eq!(page.remaining, None);
    }

    #[test]
    fn a_list_body_is_the_stored_objects_without_kind_and_api_version() {
        let live = live();
        let store = Store::default();
        let mut view = store.sync(&live);
        let rv = view.rv();
        let page = view.page(&Filter::all(Resource::Pods, None), rv, None, usize::MAX);
        let items = page.unwrap().items;
        assert!(items.len() > 1);
        let mut metadata = Map::new();
        metadata.insert("resourceVersion".into(), rv.to_string().into());
        let body = list_body(Resource::Pods, &metadata, &items);
        let list: Value = serde_json::from_slice(&body).unwrap();
        let want: Vec<Value> = items
            .iter()
            .map(|d| {
                let mut v = d.value().unwrap();
                let m = v.as_object_mut().unwrap();
                assert_eq!(m.shift_remove("kind"), Some("Pod".into()));
                assert_eq!(m.shift_remove("apiVersion"), Some("v1".into()));
                v
            })
            .collect();
        assert_eq!(list["kind"], "PodList");
        assert_eq!(list["apiVersion"], "v1");
        assert_eq!(list["metadata"]["resourceVersion"], rv.to_string());
        assert_eq!(list["items"], Value::Array(want));
        let empty = list_body(Resource::Nodes, &Map::new(), &[]);
        assert_eq!(
            std::str::from_utf8(&empty).unwrap(),
            r#"{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[]}"#
        );
    }

    #[test]
    fn a_doc_embeds_its_resource_version_and_puts_kind_first() {
        let obj = serde_json::json!({
            "apiVersion": "v1", "data": {"a": "b"}, "kind": "ConfigMap",
            "metadata": {"name": "c", "resourceVersion": "3", "uid": "u"},
        });
        let doc = Doc::new(Resource::ConfigMaps, &obj, 42);
        let text = std::str::from_utf8(doc.json()).unwrap();
        assert_eq!(
            text,
            r#"{"kind":"ConfigMap","apiVersion":"v1","data":{"a":"b"},"metadata":{"name":"c","resourceVersion":"42","uid":"u"}}"#
        );
        assert_eq!(doc.rv(), 42);
        let mut item = Vec::new();
        doc.write_item(&mut item);
        assert_eq!(
            std::str::from_utf8(&item).unwrap(),
            r#"{"data":{"a":"b"},"metadata":{"name":"c","resourceVersion":"42","uid":"u"}}"#
        );
        let mut at = Vec::new();
        doc.write_at(&mut at, 1234);
        assert_eq!(
            serde_json::from_slice::<Value>(&at).unwrap()["metadata"]["resourceVersion"],
            "1234"
        );
        assert!(doc.same_as(&Doc::new(Resource::ConfigMaps, &obj, 7)));
        let mut other = obj.clone();
        other["data"]["a"] = "c".into();
        assert!(!doc.same_as(&Doc::new(Resource::ConfigMaps, &other, 42)));
        // Metadata without a resourceVersion gets one, last; no metadata, none.
        let bare = serde_json::json!({"kind": "Lease", "metadata": {}});
        let d = Doc::new(Resource::Leases, &bare, 5);
        assert_eq!(
            std::str::from_utf8(d.json()).unwrap(),
            r#"{"kind":"Lease","metadata":{"resourceVersion":"5"}}"#
        );
        let none = Doc::new(Resource::Leases, &serde_json::json!({"kind": "Lease"}), 5);
        assert_eq!(
            std::str::from_utf8(none.json()).unwrap(),
            r#"{"kind":"Lease"}"#
        );
        let mut item = Vec::new();
        none.write_item(&mut item);
        assert_eq!(item, b"{}");
    }

    #[test]
    fn a_put_of_an_equal_object_records_no_change() {
        let live = live();
        let store = Store::default();
        let rv = store.sync(&live).rv();
        let mut st = store.lock();
        let (key, doc) = st
            .objects
            .iter()
            .find(|(k, _)| k.resource == Resource::Deployments)
            .map(|(k, d)| (k.clone(), d.clone()))
            .unwrap();
        let mut sync = Sync {
            st: &mut st,
            rv: rv + 1,
            changes: Vec::new(),
        };
        // The stored object as a renderer gives it: an empty resourceVersion.
        let mut fresh = doc.value().unwrap();
        fresh["metadata"]["resourceVersion"] = "".into();
        sync.put(key.clone(), fresh.clone());
        assert!(sync.changes.is_empty());
        fresh["spec"]["replicas"] = 99.into();
        sync.put(key.clone(), fresh);
        assert_eq!(sync.changes.len(), 1);
        let change = &sync.changes[0];
        assert_eq!(change.change, ChangeType::Modified);
        assert_eq!(change.object.rv(), rv + 1);
        assert_eq!(change.previous.as_ref().map(Doc::rv), Some(doc.rv()));
        assert_eq!(
            sync.st.objects[&key].value().unwrap()["spec"]["replicas"],
            99
        );
    }
}
