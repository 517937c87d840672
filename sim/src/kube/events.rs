//! Kubernetes Events, aggregated as the API server's event correlator does.

use crate::fxhash::FxBuild;
use crate::time::SimTime;
use std::hash::BuildHasher;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The object an event is about: `Pod default/high-memory-deployment-...`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    /// `Pod`, `ConfigMap`: always one of a few literals, so not copied per event.
    pub kind: &'static str,
    /// Shared with the object where it is one (a pod), so an event per pod copies no text.
    pub namespace: Arc<str>,
    pub name: Arc<str>,
}

impl ObjectRef {
    pub fn new(kind: &'static str, namespace: &str, name: &str) -> ObjectRef {
        ObjectRef {
            kind,
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    pub fn pod(pod: &super::Pod) -> ObjectRef {
        ObjectRef {
            kind: "Pod",
            namespace: pod.namespace.clone(),
            name: pod.name.clone(),
        }
    }

    /// Appends kubectl's `pod/name` form (what `Display` writes) without the formatting
    /// machinery, for per-pod event lines. Kinds are ASCII literals.
    pub fn push_to(&self, out: &mut String) {
        out.extend(self.kind.chars().map(|c| c.to_ascii_lowercase()));
        out.push('/');
        out.push_str(&self.name);
    }
}

impl std::fmt::Display for ObjectRef {
    /// kubectl's `pod/name` form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::with_capacity(self.kind.len() + 1 + self.name.len());
        self.push_to(&mut s);
        f.write_str(&s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub object: ObjectRef,
    pub event_type: EventType,
    pub reason: &'static str,
    /// Shared: the autoscaler gives every pod of a scale-up the same message.
    pub message: Arc<str>,
    /// `default-scheduler`, `cluster-autoscaler`, `kubelet`, ...
    pub source: &'static str,
    pub first_seen: SimTime,
    pub last_seen: SimTime,
    pub count: u32,
    /// Unique in its log and never reused, so it names the event across expiry.
    pub id: u64,
    /// The log's change counter at this event's last write (creation or repeat).
    pub rev: u64,
}

/// Every event recorded in a run; repeats of the same object, reason, message and source
/// bump `count` and `last_seen` instead of adding a row (what kubectl shows as `(x20 over 9m)`).
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    events: Vec<Event>,
    /// The latest event by a hash of (object, reason, message, source), for aggregation
    /// without copying the strings; only looked up, never iterated.
    index: std::collections::HashMap<u64, usize, FxBuild>,
    /// Per event, the previous event with the same hash (a chain through `events`, so a new
    /// event costs no allocation of its own).
    same_hash: Vec<Option<usize>>,
    /// Counts writes: the next event's `id` and every write's `rev`.
    writes: u64,
    /// Each event's position by its `rev`, so readers that keep up with the log (the mock
    /// API's store) visit only what changed.
    by_rev: std::collections::BTreeMap<u64, usize>,
    /// The namespaces of the objects events were ever recorded about.
    namespaces: std::collections::BTreeSet<Arc<str>>,
}

/// FNV-1a over the fields that identify a repeated event (each field ends with 0xff).
pub fn key_hash(object: &ObjectRef, reason: &str, message: &str, source: &str) -> u64 {
    let parts = [
        object.kind,
        &object.namespace,
        &object.name,
        reason,
        message,
        source,
    ];
    parts
        .iter()
        .fold(crate::ids::Fnv::new(), |h, p| {
            h.bytes(p.as_bytes()).byte(0xff)
        })
        .finish()
}

/// The aggregation index's hash (the value never leaves the index, so it need not be FNV).
fn index_hash(object: &ObjectRef, reason: &str, message: &str, source: &str) -> u64 {
    FxBuild::default().hash_one((object, reason, message, source))
}

impl EventLog {
    /// Records an event; returns true when it is new rather than a repeat.
    pub fn record(
        &mut self,
        now: SimTime,
        object: ObjectRef,
        event_type: EventType,
        reason: &'static str,
        message: impl Into<Arc<str>>,
        source: &'static str,
    ) -> bool {
        let message = message.into();
        let h = index_hash(&object, reason, &message, source);
        let latest = self.index.get(&h).copied();
        if let Some(i) = self.same_in_chain(latest, &object, reason, &message, source) {
            self.writes += 1;
            let e = &mut self.events[i];
            e.count += 1;
            e.last_seen = now;
            self.by_rev.remove(&e.rev);
            e.rev = self.writes;
            self.by_rev.insert(e.rev, i);
            return false;
        }
        self.writes += 1;
        if !self.namespaces.contains(&object.namespace) {
            self.namespaces.insert(object.namespace.clone());
        }
        self.by_rev.insert(self.writes, self.events.len());
        self.index.insert(h, self.events.len());
        self.same_hash.push(latest);
        self.events.push(Event {
            object,
            event_type,
            reason,
            message,
            source,
            first_seen: now,
            last_seen: now,
            count: 1,
            id: self.writes,
            rev: self.writes,
        });
        true
    }

    /// The position in [`EventLog::all`] of the event a `record` of these fields would bump.
    pub fn find(
        &self,
        object: &ObjectRef,
        reason: &str,
        message: &str,
        source: &str,
    ) -> Option<usize> {
        let latest = self
            .index
            .get(&index_hash(object, reason, message, source))
            .copied();
        self.same_in_chain(latest, object, reason, message, source)
    }

    fn same_in_chain(
        &self,
        latest: Option<usize>,
        object: &ObjectRef,
        reason: &str,
        message: &str,
        source: &str,
    ) -> Option<usize> {
        std::iter::successors(latest, |&i| self.same_hash[i]).find(|&i| {
            let e = &self.events[i];
            e.object == *object
                && e.reason == reason
                && &*e.message == message
                && e.source == source
        })
    }

    /// Drops every event last seen before `before` (kube-apiserver's `--event-ttl`: an event
    /// lives that long after its last write); returns how many went. A later repeat of one
    /// starts a new event, as a client's patch of an expired event gets 404 and creates.
    pub fn expire(&mut self, before: SimTime) -> usize {
        let n = self.events.len();
        if self.events.iter().all(|e| e.last_seen >= before) {
            return 0;
        }
        self.events.retain(|e| e.last_seen >= before);
        self.index.clear();
        self.same_hash.clear();
        self.by_rev.clear();
        for i in 0..self.events.len() {
            let e = &self.events[i];
            let h = index_hash(&e.object, e.reason, &e.message, e.source);
            self.same_hash.push(self.index.insert(h, i));
            self.by_rev.insert(e.rev, i);
        }
        n - self.events.len()
    }

    pub fn all(&self) -> &[Event] {
        &self.events
    }

    /// The events written (recorded or bumped) after write `rev`, oldest write first:
    /// O(changed), whatever the log holds.
    pub fn changed_since(&self, rev: u64) -> impl Iterator<Item = &Event> + '_ {
        self.by_rev
            .range(rev + 1..)
            .map(move |(_, &i)| &self.events[i])
    }

    /// The number of writes so far (the `rev` of the latest).
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// The namespaces events were ever recorded in (an empty one for cluster-scoped objects).
    pub fn namespaces(&self) -> impl Iterator<Item = &str> + '_ {
        self.namespaces.iter().map(|n| &**n)
    }

    /// Events about one object, oldest first.
    pub fn for_object<'a>(
        &'a self,
        kind: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Event> + 'a {
        self.events
            .iter()
            .filter(move |e| e.object.kind == kind && &*e.object.name == name)
    }

    /// The most recent time `reason` was recorded for `object`.
    pub fn last_time(&self, object: &ObjectRef, reason: &str) -> Option<SimTime> {
        self.events
            .iter()
            .filter(|e| &e.object == object && e.reason == reason)
            .map(|e| e.last_seen)
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_aggregate() {
        let mut log = EventLog::default();
        let pod = ObjectRef::new("Pod", "default", "p");
        assert!(log.record(SimTime(0), pod.clone(), EventType::Normal, "R", "m", "s"));
        assert!(!log.record(SimTime(5), pod.clone(), EventType::Normal, "R", "m", "s"));
        assert!(log.record(
            SimTime(6),
            pod.clone(),
            EventType::Normal,
            "R",
            "other",
            "s"
        ));
        let e = &log.all()[0];
        assert_eq!(
            (e.count, e.first_seen, e.last_seen),
            (2, SimTime(0), SimTime(5))
        );
        assert_eq!(log.for_object("Pod", "p").count(), 2);
        let revs: Vec<u64> = log.changed_since(1).map(|e| e.rev).collect();
        assert_eq!(
            revs,
            vec![2, 3],
            "the bump moved the first event past write 1"
        );
        assert_eq!(log.changed_since(log.writes()).count(), 0);
        assert_eq!(log.last_time(&pod, "R"), Some(SimTime(6)));
        assert_eq!(log.find(&pod, "R", "other", "s"), Some(1));
        assert_eq!(log.find(&pod, "R", "m", "s"), Some(0));
        assert_eq!(log.find(&pod, "R", "m", "kubelet"), None);
        assert_eq!((log.all()[0].id, log.all()[1].id), (1, 3));
        assert_eq!(log.all()[0].rev, 2, "the repeat was the log's second write");
    }

    #[test]
    fn expiry_drops_events_by_last_write_and_keeps_aggregating_the_rest() {
        let mut log = EventLog::default();
        let pod = ObjectRef::new("Pod", "default", "p");
        log.record(SimTime(0), pod.clone(), EventType::Normal, "Old", "m", "s");
        log.record(SimTime(1), pod.clone(), EventType::Normal, "Kept", "m", "s");
        log.record(SimTime(9), pod.clone(), EventType::Normal, "Kept", "m", "s");
        assert_eq!(log.expire(SimTime(5)), 1);
        assert_eq!(log.expire(SimTime(5)), 0);
        let kept: Vec<&str> = log.all().iter().map(|e| e.reason).collect();
        assert_eq!(kept, ["Kept"]);
        assert_eq!(log.find(&pod, "Kept", "m", "s"), Some(0));
        assert!(!log.record(
            SimTime(10),
            pod.clone(),
            EventType::Normal,
            "Kept",
            "m",
            "s"
        ));
        assert_eq!(log.all()[0].count, 3);
        // The expired one comes back as a new event with a new id.
        assert!(log.record(SimTime(11), pod.clone(), EventType::Normal, "Old", "m", "s"));
        assert_eq!(log.all()[1].id, 5);
    }
}
