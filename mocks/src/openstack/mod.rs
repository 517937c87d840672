//! Live-mode OpenStack: Keystone v3, Magnum v1 and Heat v1 on loopback, answering from the
//! shared [`Live`] engine, so a nodegroup PATCH is what the next GET (and the simulated
//! autoscaler) reads.
//!
//! Each service is a [`crate::http::Server`] (our own HTTP/1 server: nothing kept per request,
//! a `400` in the service's shape for an unreadable body or `CONNECT`), by default on
//! `127.0.0.1` with an ephemeral port ([`start_on`] takes a [`Listen`]: bind address, fixed
//! ports, advertised host). A request meets the faults a test injected
//! ([`OpenStackMock::inject`]) first, then the scenario's, then the engine's answer.
//!
//! Wire details (headers, bodies, error texts) follow `reference/openstack-api.md`: Keystone's
//! `201` + `X-Subject-Token` and catalog in region `IU`; Magnum's microversion headers, request
//! ids and `{"errors": [...]}` bodies; Heat's stack documents and fault body.

pub mod fault;
pub mod heat;
pub mod keystone;
pub mod magnum;
pub mod nova;

pub use fault::{Fault, FaultError, FaultKind};

use crate::ca::ClusterCa;
use crate::journal::{Journal, JournalEntry};
use crate::listen::Listen;
use crate::live::Live;
use crate::Service;
use magsim_sim::time::{SimDuration, SimTime};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub use crate::http::Server;

/// Largest request body the services accept (oslo.middleware's `max_request_body_size`
/// default, 114688 bytes); larger ones get `413`.
pub const MAX_BODY_BYTES: usize = 114_688;

/// The region every catalog endpoint is in (Jetstream2's).
pub const REGION: &str = "IU";

/// Who may authenticate against the mock Keystone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub user_id: String,
    pub user_name: String,
    pub user_domain_name: String,
    pub password: String,
    pub project_id: String,
    pub project_name: String,
    pub project_domain_id: String,
    /// Application credential (unrestricted), by id or by name plus the user.
    pub application_credential_id: String,
    pub application_credential_name: String,
    pub application_credential_secret: String,
}

impl Credentials {
    /// The defaults: user `demo` in domain `Default`, project `TRA160003`, an application
    /// credential `k8s-cred`. The project id is the engine's cluster project when it has one.
    pub fn for_project(project_id: &str) -> Credentials {
        Credentials {
            user_id: "5a6b7c8d9e0f41a2b3c4d5e6f7a8b9c0".into(),
            user_name: "demo".into(),
            user_domain_name: "Default".into(),
            password: "secret".into(),
            project_id: project_id.into(),
            project_name: "TRA160003".into(),
            project_domain_id: "default".into(),
            application_credential_id: "423f19a4ac1e4f48bbb4180756e6eb6c".into(),
            application_credential_name: "k8s-cred".into(),
            application_credential_secret: "rEaqvJka48mpv".into(),
        }
    }
}

/// Knobs of the live servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Highest Magnum microversion served, `(1, 11)` by default (Magnum 2023.2 – 2025.1).
    pub magnum_max_version: (u32, u32),
    /// Token lifetime on the engine's virtual clock (Keystone's default, 1 h). Magnum, Heat
    /// and Nova answer `401` to a token past it.
    pub token_lifetime: SimDuration,
    /// Show that virtual expiry as the token's `expires_at`. Off by default: scenario time
    /// (2025-11-10 for the incident) is in the past for a real client's wall clock, and
    /// keystoneauth fetches a new token before every request when `expires_at` has passed;
    /// the token document then says [`keystone::CLIENT_EXPIRES_AT`] instead, and a client
    /// whose token expires on the virtual clock gets the `401` and re-authenticates once.
    pub virtual_expires_at: bool,
    /// Largest `node_count` a resize or cluster PATCH may ask for (default
    /// [`magsim_sim::limits::MAX_NODES`], the bound the engine and the scenario loader use).
    /// Real Magnum accepts any count and the cloud's quota fails it later; the engine would
    /// instead create every node, so the mock refuses larger counts up front (wsme's "lower or
    /// equal" text).
    pub max_node_count: u32,
    /// The cluster's API server as Magnum shows it (`api_address`): the Kubernetes mock's
    /// URL when [`crate::MockCloud`] runs both; else the engine's placeholder address.
    pub api_address: Option<String>,
    /// The CA Magnum's certificates API answers with and signs with; shared with the
    /// Kubernetes mock by [`crate::MockCloud`]. Default: a CA of Magnum's own, named after
    /// the cluster.
    pub cluster_ca: Option<ClusterCa>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            magnum_max_version: (1, 11),
            token_lifetime: SimDuration::from_secs(3600),
            virtual_expires_at: false,
            max_node_count: magsim_sim::limits::MAX_NODES,
            api_address: None,
            cluster_ca: None,
        }
    }
}

/// A token handed out by the mock Keystone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub id: String,
    pub methods: Vec<String>,
    pub issued: SimTime,
    pub expires: SimTime,
    /// Set for application-credential tokens.
    pub application_credential: bool,
    /// Project-scoped (the token carries the catalog).
    pub scoped: bool,
    /// Trust-scoped: the trust's id and its trustee's user id.
    pub trust: Option<(String, String)>,
    /// Revoked (`DELETE /v3/auth/tokens`): refused everywhere from then on.
    pub revoked: bool,
}

/// What a successful authentication grants: the token [`State::issue_token`] makes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grant {
    pub methods: Vec<String>,
    pub application_credential: bool,
    pub scoped: bool,
    pub trust: Option<(String, String)>,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("no X-Auth-Token header")]
    Missing,
    #[error("unknown token")]
    Unknown,
    #[error("token expired")]
    Expired,
    #[error("token revoked")]
    Revoked,
}

/// Base URLs of the running servers (no trailing slash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Urls {
    pub keystone: String,
    pub magnum: String,
    pub heat: String,
    pub nova: String,
}

/// What every responder shares.
pub(crate) struct State {
    pub live: Live,
    pub credentials: Credentials,
    pub options: Options,
    pub urls: Urls,
    pub journal: Journal,
    /// Magnum's CA for the cluster ([`Options::cluster_ca`] or its own).
    pub ca: ClusterCa,
    tokens: Mutex<BTreeMap<String, Token>>,
    /// Faults a test injected, in injection order, each with the answers it has left.
    injected: Mutex<Vec<fault::Injected>>,
    token_counter: AtomicU64,
    request_counter: AtomicU64,
}

/// Every this many tokens issued, those expired for a whole lifetime are dropped.
const PURGE_EVERY: u64 = 1024;

impl State {
    fn tokens(&self) -> MutexGuard<'_, BTreeMap<String, Token>> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh token. Its id is drawn from the operating system, not the engine's seeded
    /// stream: a bearer credential must not be guessable, and no timeline shows it.
    pub fn issue_token(&self, grant: Grant) -> Token {
        let n = self.token_counter.fetch_add(1, Ordering::Relaxed) + 1;
        let now = self.live.engine().now();
        let token = Token {
            id: fernet_like_id(),
            methods: grant.methods,
            issued: now,
            expires: now + self.options.token_lifetime,
            application_credential: grant.application_credential,
            scoped: grant.scoped,
            trust: grant.trust,
            revoked: false,
        };
        let mut tokens = self.tokens();
        if n.is_multiple_of(PURGE_EVERY) {
            // Long past expiry, a token is only ever refused: forget it, so a client that
            // logs in per request (many do) cannot grow the map without bound.
            let stale = now.0.saturating_sub(self.options.token_lifetime.0);
            tokens.retain(|_, t| t.expires.0 > stale);
        }
        tokens.insert(token.id.clone(), token.clone());
        token
    }

    /// Revokes a valid token; the refusal when it is not one.
    pub fn revoke_token(&self, id: &str) -> Result<(), TokenError> {
        self.check_token(Some(id))?;
        if let Some(t) = self.tokens().get_mut(id) {
            t.revoked = true;
        }
        Ok(())
    }

    /// Checks a token against the engine's virtual clock.
    pub fn check_token(&self, id: Option<&str>) -> Result<Token, TokenError> {
        let id = id.ok_or(TokenError::Missing)?;
        let token = self.tokens().get(id).cloned().ok_or(TokenError::Unknown)?;
        if token.revoked {
            return Err(TokenError::Revoked);
        }
        let engine = self.live.engine();
        let now = engine.now();
        // A scenario's `expire_tokens` revokes every token issued before that instant.
        if now >= token.expires || engine.world.faults.token_revoked(token.issued, now) {
            return Err(TokenError::Expired);
        }
        Ok(token)
    }

    /// `req-<uuid4>` for answers the engine does not number itself (deterministic).
    pub fn request_id(&self) -> String {
        let n = self.request_counter.fetch_add(1, Ordering::Relaxed) + 1;
        format!("req-{}", pseudo_uuid4(n))
    }

    /// Journals the request and the response, and hands back the response to send.
    pub fn record(&self, service: Service, req: &wiremock::Request, wire: Wire) -> Wire {
        if !self.journal.is_enabled() {
            return wire;
        }
        self.journal.push(JournalEntry {
            service,
            method: req.method.to_string(),
            path: req.url.path().to_string(),
            query: req.url.query().map(str::to_string),
            body: serde_json::from_slice(&req.body).ok(),
            exchange: None,
            status: wire.status,
            response: Some(wire.recorded()),
        });
        wire
    }

    fn injected(&self) -> MutexGuard<'_, Vec<fault::Injected>> {
        self.injected.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A version-4-shaped UUID from a counter (FNV-1a), for ids that must not consume the
/// engine's random stream.
pub fn pseudo_uuid4(n: u64) -> String {
    let h = |salt: u64| {
        magsim_sim::ids::Fnv::new()
            .bytes(&n.to_le_bytes())
            .bytes(&salt.to_le_bytes())
            .finish()
    };
    let hex = format!("{:016x}{:016x}", h(1), h(2));
    format!(
        "{}-{}-4{}-{}{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        ["8", "9", "a", "b"][(n % 4) as usize],
        &hex[17..20],
        &hex[20..32]
    )
}

/// The running mock cloud.
pub struct OpenStackMock {
    pub keystone: Server,
    pub magnum: Server,
    pub heat: Server,
    /// Nova, only `GET /v2.1/flavors/{id}` (the autoscaler's node template).
    pub nova: Server,
    pub credentials: Credentials,
    pub region: &'static str,
    pub urls: Urls,
    /// Every request the four servers answered, in order.
    pub journal: Journal,
    state: Arc<State>,
}

impl OpenStackMock {
    /// `http://127.0.0.1:<port>/v3/`, what `OS_AUTH_URL` should be.
    pub fn auth_url(&self) -> String {
        format!("{}/v3/", self.urls.keystone)
    }

    /// The `container-infra` catalog URL (ends in `/v1`).
    pub fn magnum_url(&self) -> String {
        format!("{}/v1", self.urls.magnum)
    }

    /// The `orchestration` catalog URL (ends in `/v1/<project_id>`).
    pub fn heat_url(&self) -> String {
        format!("{}/v1/{}", self.urls.heat, self.credentials.project_id)
    }

    /// A `clouds.yaml` with one cloud, `name`, using the application credential.
    pub fn clouds_yaml(&self, name: &str) -> String {
        let c = &self.credentials;
        clouds_yaml(
            name,
            &self.auth_url(),
            &c.application_credential_id,
            &c.application_credential_secret,
        )
    }

    /// Issues a token directly (as if `POST /v3/auth/tokens` succeeded), for tests.
    pub fn issue_token(&self) -> Token {
        self.state.issue_token(Grant {
            methods: vec!["application_credential".into()],
            application_credential: true,
            scoped: true,
            trust: None,
        })
    }

    /// The engine behind the servers.
    pub fn live(&self) -> &Live {
        &self.state.live
    }

    /// The server of `service`; `None` for Kubernetes, which is not served here.
    pub fn server(&self, service: Service) -> Option<&Server> {
        match service {
            Service::Identity => Some(&self.keystone),
            Service::ContainerInfra => Some(&self.magnum),
            Service::Orchestration => Some(&self.heat),
            Service::Compute => Some(&self.nova),
            Service::Kubernetes => None,
        }
    }

    /// Everything the servers answered so far as a [`Recording`](crate::recording::Recording):
    /// base URLs become placeholders and credentials are redacted
    /// ([`crate::recording::redact()`]), so it can be saved and served by [`crate::replay::serve`].
    pub fn recording(&self) -> crate::recording::Recording {
        self.journal.to_recording(&[
            (Service::Identity, self.urls.keystone.clone()),
            (Service::ContainerInfra, self.urls.magnum.clone()),
            (Service::Orchestration, self.urls.heat.clone()),
            (Service::Compute, self.urls.nova.clone()),
        ])
    }

    /// Removes every fault [`OpenStackMock::inject`] added (the scenario's stay).
    pub fn clear_faults(&self) {
        self.state.injected().clear();
    }

    /// Forgets every token handed out: the next call with one gets `401`.
    pub fn revoke_tokens(&self) {
        self.state.tokens().clear();
    }
}

/// A `clouds.yaml` with one cloud, `name`, authenticating with an application credential in
/// region IU (what Jetstream2's docs hand out).
pub fn clouds_yaml(name: &str, auth_url: &str, credential_id: &str, secret: &str) -> String {
    format!(
        "clouds:\n  {name}:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: \"{auth_url}\"\n      application_credential_id: \"{credential_id}\"\n      application_credential_secret: \"{secret}\"\n    region_name: {REGION}\n    interface: public\n    identity_api_version: 3\n"
    )
}

/// An `openrc.sh` like the one Jetstream2's Horizon hands out for an application credential
/// (the [`clouds_yaml`] cloud as environment variables).
pub fn openrc(auth_url: &str, credential_id: &str, secret: &str) -> String {
    format!(
        "export OS_AUTH_TYPE=v3applicationcredential\nexport OS_AUTH_URL={auth_url}\nexport OS_IDENTITY_API_VERSION=3\nexport OS_REGION_NAME=\"{REGION}\"\nexport OS_INTERFACE=public\nexport OS_APPLICATION_CREDENTIAL_ID={credential_id}\nexport OS_APPLICATION_CREDENTIAL_SECRET={secret}\n"
    )
}

/// Starts Keystone, Magnum and Heat on loopback, backed by `live`, with default [`Options`].
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let scenario = magsim_scenario::parse(
///     "scenarios/incident/01-as-it-happened.yaml",
///     magsim_scenario::builtin()[0].1,
/// ).unwrap();
/// let mock = magsim_mocks::openstack::start(magsim_mocks::Live::new(&scenario, None)).await;
/// assert!(mock.magnum_url().starts_with("http://127.0.0.1:"));
/// assert!(mock.magnum_url().ends_with("/v1"));
/// assert_eq!(mock.region, "IU");
/// # });
/// ```
pub async fn start(live: Live) -> OpenStackMock {
    start_with(live, Options::default()).await
}

/// [`start`] with explicit [`Options`].
///
/// # Panics
///
/// When no loopback port can be bound.
pub async fn start_with(live: Live, options: Options) -> OpenStackMock {
    match start_on(live, options, &Listen::default()).await {
        Ok(mock) => mock,
        Err(e) => panic!("mock OpenStack servers: {e}"),
    }
}

/// [`start_with`] on the addresses of `listen`, advertising (in Keystone's catalog and every
/// URL in a body) what `listen` says clients reach.
pub async fn start_on(
    live: Live,
    options: Options,
    listen: &Listen,
) -> std::io::Result<OpenStackMock> {
    const SERVICES: [Service; 4] = [
        Service::Identity,
        Service::ContainerInfra,
        Service::Orchestration,
        Service::Compute,
    ];
    let [keystone, magnum, heat, nova] = [
        listen.bind(SERVICES[0])?,
        listen.bind(SERVICES[1])?,
        listen.bind(SERVICES[2])?,
        listen.bind(SERVICES[3])?,
    ];
    let project = live
        .engine()
        .world
        .cluster
        .as_ref()
        .map(|c| c.project_id.clone())
        .unwrap_or_else(|| "83bd0e70b4ba4cd092c2fb82b1ce06fb".into());
    let urls = Urls {
        keystone: listen.url(Service::Identity, keystone.local_addr()?),
        magnum: listen.url(Service::ContainerInfra, magnum.local_addr()?),
        heat: listen.url(Service::Orchestration, heat.local_addr()?),
        nova: listen.url(Service::Compute, nova.local_addr()?),
    };
    let journal = Journal::default();
    let ca = match &options.cluster_ca {
        Some(ca) => ca.clone(),
        None => {
            let name = live.engine().world.cluster.as_ref().map(|c| c.name.clone());
            ClusterCa::generate(name.as_deref().unwrap_or("kubernetes"))
                .map_err(std::io::Error::other)?
        }
    };
    let state = Arc::new(State {
        live,
        credentials: Credentials::for_project(&project),
        options,
        urls: urls.clone(),
        journal: journal.clone(),
        ca,
        tokens: Mutex::new(BTreeMap::new()),
        injected: Mutex::new(Vec::new()),
        token_counter: AtomicU64::new(0),
        request_counter: AtomicU64::new(0),
    });
    let any = !state.live.engine().world.faults.requests.is_empty();
    let serve = |service: Service, listener: std::net::TcpListener| {
        let handler = fault::Declared {
            service,
            state: state.clone(),
            any,
        };
        Server::start(listener, Arc::new(handler))
    };
    let mock = OpenStackMock {
        keystone: serve(SERVICES[0], keystone)?,
        magnum: serve(SERVICES[1], magnum)?,
        heat: serve(SERVICES[2], heat)?,
        nova: serve(SERVICES[3], nova)?,
        credentials: state.credentials.clone(),
        region: REGION,
        urls,
        journal,
        state,
    };
    Ok(mock)
}

/// A response as data (so the journal can keep it), sent by [`crate::http::Server`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Wire {
    pub status: u16,
    /// Content-Type first, then the rest in insertion order.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Wire {
    /// A response without a body.
    pub fn empty(status: u16) -> Wire {
        Wire {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// Sets (replaces) a header. Names and values are built by the mock, never copied from a
    /// request, so they are valid HTTP.
    pub fn insert_header(mut self, name: &str, value: &str) -> Wire {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The response as a recording holds it.
    pub fn recorded(&self) -> crate::recording::RecordedResponse {
        let (body, body_text) = match serde_json::from_str::<Value>(&self.body) {
            Ok(v) if crate::python_json(&v) == self.body => (Some(v), None),
            _ if self.body.is_empty() => (None, None),
            _ => (None, Some(self.body.clone())),
        };
        crate::recording::RecordedResponse {
            status: self.status,
            headers: self.headers.iter().cloned().collect(),
            body,
            body_text,
        }
    }
}

/// A JSON response whose body is serialized as Python's `json.dumps` does.
pub(crate) fn json_response(status: u16, body: &Value) -> Wire {
    Wire {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: crate::python_json(body),
    }
}

/// A token id shaped like a Fernet token (`gAAAAAB` and 176 URL-safe base64 characters),
/// from the operating system's random source.
fn fernet_like_id() -> String {
    format!("gAAAAAB{}", crate::secret::random_text::<132>())
}

/// The `X-Subject-Token` request header (the token a Keystone call is about).
pub(crate) fn subject_token(req: &wiremock::Request) -> Option<&str> {
    req.headers
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
}

/// The `X-Auth-Token` request header, if present and text.
pub(crate) fn auth_token(req: &wiremock::Request) -> Option<&str> {
    req.headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
}

/// The media type of the request's `Content-Type` (parameters dropped, lower-cased).
pub(crate) fn content_type(req: &wiremock::Request) -> Option<String> {
    req.headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
}

/// keystonemiddleware's `401` body (what Magnum and Heat answer to a missing, unknown or
/// expired token), with `WWW-Authenticate` naming Keystone.
pub(crate) fn unauthorized(state: &State) -> Wire {
    json_response(401, &magsim_sim::cloud::faults::unauthorized_body()).insert_header(
        "WWW-Authenticate",
        &format!("Keystone uri=\"{}\"", state.urls.keystone),
    )
}

/// Splits a path into its non-empty segments (so trailing slashes do not matter).
pub(crate) fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_uuids_are_v4_shaped_and_distinct() {
        let a = pseudo_uuid4(1);
        let b = pseudo_uuid4(2);
        assert_ne!(a, b);
        for u in [a, b] {
            let parts: Vec<&str> = u.split('-').collect();
            assert_eq!(
                parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12]
            );
            assert!(parts[2].starts_with('4'));
            assert!("89ab".contains(&parts[3][..1]));
            assert!(u.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        }
    }

    #[tokio::test]
    async fn tokens_long_expired_are_forgotten() {
        let (file, text) = magsim_scenario::builtin()[0];
        let live = Live::new(&magsim_scenario::parse(file, text).unwrap(), None);
        let mock = start(live.clone()).await;
        let old = mock.issue_token();
        for _ in 0..PURGE_EVERY {
            mock.issue_token();
        }
        assert!(mock.state.tokens().len() as u64 > PURGE_EVERY);
        assert_eq!(mock.state.check_token(Some(&old.id)), Ok(old.clone()));
        live.advance(SimDuration::from_secs(3 * 3600));
        for _ in 0..PURGE_EVERY {
            mock.issue_token();
        }
        let kept = mock.state.tokens().len() as u64;
        assert!(kept <= PURGE_EVERY, "{kept} tokens kept");
        assert_eq!(
            mock.state.check_token(Some(&old.id)),
            Err(TokenError::Unknown)
        );
    }

    #[test]
    fn segments_ignore_trailing_slashes() {
        assert_eq!(segments("/v1/clusters/"), ["v1", "clusters"]);
        assert_eq!(segments("/"), Vec::<&str>::new());
    }
}
