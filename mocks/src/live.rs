//! Live mode: the servers answer from one engine, shared behind a lock, so a PATCH seen by one
//! server is what the next GET on any server (and the simulated autoscaler) reads.

use magsim_scenario::Scenario;
use magsim_sim::engine::{Engine, Operation};
use magsim_sim::time::{SimDuration, SimTime};
use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard};

thread_local! {
    /// Operations a request staged to go with its write ([`Live::stage`]). A request's
    /// handler runs from staging to its write without yielding, so on one thread.
    static STAGED: RefCell<Vec<Operation>> = const { RefCell::new(Vec::new()) };
}

/// The engine behind the live servers. Cheap to clone (an `Arc`).
#[derive(Clone)]
pub struct Live {
    inner: Arc<LiveInner>,
}

struct LiveInner {
    engine: Mutex<Engine>,
    /// Bumped on every change a watch could see (resourceVersion source for the Kubernetes mock).
    changed: tokio::sync::watch::Sender<u64>,
    /// The change counter at the last change that was not [`Live::mutate_narrow`].
    broad: std::sync::atomic::AtomicU64,
    /// Events expire this long after their last write; with the virtual time of the last
    /// expiry pass.
    event_ttl: Mutex<Option<(SimDuration, SimTime)>>,
    /// The request id Magnum answers with while it is set ([`Live::pin_request_id`]).
    pinned_request_id: Mutex<Option<String>>,
}

/// kube-apiserver's `--event-ttl` default.
pub const EVENT_TTL: SimDuration = SimDuration(3600 * 1000);

/// How often, in virtual time, expired events are looked for.
const EXPIRY_EVERY: SimDuration = SimDuration(60 * 1000);

impl Live {
    /// The engine for `scenario` at time zero (the scenario's steps are not performed: the
    /// clients connected to the servers are the steps).
    pub fn new(scenario: &Scenario, seed: Option<u64>) -> Live {
        let mut engine = scenario.engine(seed);
        engine.run_until(SimTime::ZERO);
        Live::from_engine(engine)
    }

    pub fn from_engine(engine: Engine) -> Live {
        let (changed, _) = tokio::sync::watch::channel(0);
        Live {
            inner: Arc::new(LiveInner {
                engine: Mutex::new(engine),
                changed,
                broad: std::sync::atomic::AtomicU64::new(0),
                event_ttl: Mutex::new(None),
                pinned_request_id: Mutex::new(None),
            }),
        }
    }

    /// Locks the engine. A poisoned lock (a panicking handler) still yields the engine: the
    /// world is only ever changed through whole operations.
    pub fn engine(&self) -> MutexGuard<'_, Engine> {
        self.inner
            .engine
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes Magnum answer every request that pins no id of its own with `id` (none drawn
    /// from the engine) until it is unpinned: a real client's command, however many requests
    /// it makes, then draws what the runner's model of it draws (`magsim run --real-clients`).
    pub fn pin_request_id(&self, id: Option<String>) {
        *self
            .inner
            .pinned_request_id
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = id;
    }

    /// The id [`Live::pin_request_id`] set, if any.
    pub fn pinned_request_id(&self) -> Option<String> {
        self.inner
            .pinned_request_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Runs `f` on the engine and tells watchers something may have changed.
    pub fn mutate<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> T {
        let out = f(&mut self.staged_applied());
        self.changed_broadly();
        out
    }

    /// [`Live::mutate`] for a write that changes only events, ConfigMaps or the kinds kept as
    /// written (`World::stored`): readers may then skip re-rendering everything else (a Lease
    /// renewal at 1,000 nodes must not re-render every node).
    pub fn mutate_narrow<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> T {
        let out = f(&mut self.staged_applied());
        self.inner.changed.send_modify(|v| *v += 1);
        out
    }

    /// Stages `op` to be applied by this thread's next [`Live::mutate`], under the same lock:
    /// what the API server records beside a write (who owns which fields) lands with the
    /// write, never before it (a lease renewal's resourceVersion check must not see it).
    pub fn stage(&self, op: Operation) {
        STAGED.with(|s| s.borrow_mut().push(op));
    }

    /// Takes back what this thread staged and no mutation applied.
    pub fn unstage(&self) -> Vec<Operation> {
        STAGED.with(|s| std::mem::take(&mut *s.borrow_mut()))
    }

    /// The locked engine, with what this thread staged applied.
    fn staged_applied(&self) -> MutexGuard<'_, Engine> {
        let mut e = self.engine();
        for op in self.unstage() {
            e.apply(op, None);
        }
        e
    }

    /// The change counter at the last change that may have touched any object.
    pub fn broad_change(&self) -> u64 {
        self.inner.broad.load(std::sync::atomic::Ordering::Acquire)
    }

    fn changed_broadly(&self) {
        self.inner.changed.send_modify(|v| {
            *v += 1;
            self.inner
                .broad
                .store(*v, std::sync::atomic::Ordering::Release);
        });
    }

    /// Advances virtual time by `d` (what `magsim serve --speed/--step` drives). Watchers are
    /// told only when an engine event came due: rendered objects do not depend on the clock
    /// alone, so a tick with nothing due re-renders nothing (at 30,000 pods a re-render per
    /// 100 ms tick starved every request).
    pub fn advance(&self, d: SimDuration) -> SimTime {
        let (now, due) = {
            let mut e = self.engine();
            let to = e.now() + d;
            let due = e.next_event_time().is_some_and(|t| t <= to);
            e.run_until(to);
            (e.now(), due)
        };
        let expired = self.expire_events(now);
        if due {
            self.changed_broadly();
        } else if expired {
            self.inner.changed.send_modify(|v| *v += 1);
        }
        now
    }

    /// Lets events expire `ttl` after their last write, as kube-apiserver's `--event-ttl`
    /// ([`EVENT_TTL`] there): a long `magsim serve` then holds the last hour's events, not
    /// every event ever posted. Off by default, so a wire run equals the in-memory one.
    pub fn set_event_ttl(&self, ttl: Option<SimDuration>) {
        let mut t = self
            .inner
            .event_ttl
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *t = ttl.map(|ttl| (ttl, SimTime::ZERO));
    }

    /// Drops expired events at most once per [`EXPIRY_EVERY`] of virtual time; true when any
    /// went.
    fn expire_events(&self, now: SimTime) -> bool {
        let mut t = self
            .inner
            .event_ttl
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let Some((ttl, last)) = t.as_mut() else {
            return false;
        };
        if now.0 < last.0.saturating_add(EXPIRY_EVERY.0) {
            return false;
        }
        *last = now;
        let before = SimTime(now.0.saturating_sub(ttl.0));
        self.engine().world.events.expire(before) > 0
    }

    /// A receiver that wakes on every `mutate` (for streaming watches).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }
}
