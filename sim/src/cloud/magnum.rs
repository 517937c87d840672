//! Magnum's cluster and nodegroup records and the API rules that guard them: which PATCHes
//! are refused (the incident's `cannot change cluster property(ies) labels`), which resizes are
//! out of range, and the error texts users see.

use super::patch::{py_repr_list, PatchOp, PatchOperation};
use indexmap::IndexMap;
use serde_json::Value;

/// Which Magnum driver runs the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// magnum-capi-helm at this version: Cluster API MachineDeployments, Helm-rendered.
    CapiHelm { major: u32, minor: u32, patch: u32 },
    /// The legacy Heat driver: one Heat stack per nodegroup.
    Heat,
}

impl Driver {
    /// Parses `magnum-capi-helm` with a version such as `1.1.0`, or `heat`.
    pub fn parse(name: &str, version: Option<&str>) -> Option<Driver> {
        match name {
            "heat" => Some(Driver::Heat),
            "magnum-capi-helm" | "capi-helm" => {
                let v = version.unwrap_or("1.4.0");
                let mut parts = v
                    .trim_start_matches('v')
                    .split('.')
                    .map(|p| p.parse::<u32>());
                let major = parts.next()?.ok()?;
                let minor = parts.next().unwrap_or(Ok(0)).ok()?;
                let patch = parts.next().unwrap_or(Ok(0)).ok()?;
                Some(Driver::CapiHelm {
                    major,
                    minor,
                    patch,
                })
            }
            _ => None,
        }
    }

    pub fn is_capi(self) -> bool {
        matches!(self, Driver::CapiHelm { .. })
    }
}

impl std::fmt::Display for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Driver::CapiHelm {
                major,
                minor,
                patch,
            } => write!(f, "magnum-capi-helm {major}.{minor}.{patch}"),
            Driver::Heat => f.write_str("heat"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Nodegroup {
    pub id: u32,
    pub uuid: String,
    pub name: String,
    pub role: String,
    pub flavor_id: String,
    pub image_id: String,
    pub node_count: u32,
    pub min_node_count: u32,
    pub max_node_count: Option<u32>,
    pub labels: IndexMap<String, String>,
    pub is_default: bool,
    pub status: String,
    /// Why the conductor failed the last operation (`CREATE_FAILED` and the like).
    pub status_reason: Option<String>,
    /// Magnum's `stack_id`: under the Heat driver the nodegroup's Heat stack uuid (the
    /// cluster's for the default nodegroups); under magnum-capi-helm the release name for the
    /// default nodegroups (the conductor copies the cluster's, `cluster_conductor.py:79-81`)
    /// and `None` for nodegroups created later.
    pub stack_id: Option<String>,
}

impl Nodegroup {
    pub fn is_master(&self) -> bool {
        self.role == "master"
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub uuid: String,
    pub name: String,
    pub project_id: String,
    /// Heat: the stack uuid; magnum-capi-helm: the Helm release name (`k8s-wamiv264xiet`).
    pub stack_id: String,
    /// Heat: the cluster stack's name (`<name[:30]>-<short id>`), set by the engine from the
    /// short id its node names carry; `None` under magnum-capi-helm (no stack).
    pub stack_name: Option<String>,
    pub cluster_template_id: String,
    /// The template's name (`openstack coe cluster template list`).
    pub cluster_template_name: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub labels: IndexMap<String, String>,
    pub keypair: Option<String>,
    pub docker_volume_size: Option<u32>,
    pub create_timeout: u32,
    pub coe_version: String,
    pub health_status: Option<String>,
    pub driver: Driver,
    pub nodegroups: Vec<Nodegroup>,
}

/// An error as Magnum's API renders it: the exception text becomes `detail`, the text up to
/// its first `.` becomes `title`.
/// Magnum's endpoint in the catalog magsim serves (and in the URLs its clients print).
pub const MAGNUM_ENDPOINT: &str = "http://127.0.0.1:9511/v1";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn title(&self) -> &str {
        self.message.split('.').next().unwrap_or(&self.message)
    }

    /// `client` for 4xx, `server` otherwise (wsme's faultcode, lower-cased).
    pub fn code(&self) -> &'static str {
        if (400..500).contains(&self.status) {
            "client"
        } else {
            "server"
        }
    }

    /// Magnum's `{"errors": [...]}` body.
    pub fn body(&self) -> Value {
        serde_json::json!({"errors": [{
            "request_id": "",
            "code": self.code(),
            "status": self.status,
            "title": self.title(),
            "detail": self.message,
            "links": [],
        }]})
    }
}

/// Cluster attributes a PATCH may change (`magnum/api/validation.py`).
const CLUSTER_UPDATE_ALLOWED: [&str; 3] = ["node_count", "health_status", "health_status_reason"];

/// Cluster attributes the API refuses to touch at all (`ClusterPatchType.internal_attrs`).
const CLUSTER_INTERNAL: [&str; 19] = [
    "/created_at",
    "/id",
    "/links",
    "/updated_at",
    "/uuid",
    "/project_id",
    "/user_id",
    "/api_address",
    "/node_addresses",
    "/master_addresses",
    "/stack_id",
    "/ca_cert_ref",
    "/magnum_cert_ref",
    "/trust_id",
    "/trustee_user_name",
    "/trustee_password",
    "/trustee_user_id",
    "/etcd_ca_cert_ref",
    "/front_proxy_ca_cert_ref",
];

/// Nodegroup attributes that are internal on top of the base list (`NodeGroupPatchType`).
const NODEGROUP_INTERNAL: [&str; 20] = [
    "/created_at",
    "/id",
    "/links",
    "/updated_at",
    "/uuid",
    "/project_id",
    "/name",
    "/cluster_id",
    "/docker_volume_size",
    "/labels",
    "/flavor_id",
    "/image_id",
    "/node_addresses",
    "/node_count",
    "/role",
    "/is_default",
    "/stack_id",
    "/status",
    "/status_reason",
    "/version",
];

impl Cluster {
    pub fn matches(&self, ident: &str) -> bool {
        self.uuid == ident || self.name == ident
    }

    /// Sum of the non-master groups' counts, as Magnum computes `node_count`.
    pub fn node_count(&self) -> u32 {
        self.nodegroups
            .iter()
            .filter(|n| !n.is_master())
            .map(|n| n.node_count)
            .sum()
    }

    pub fn master_count(&self) -> u32 {
        self.nodegroups
            .iter()
            .filter(|n| n.is_master())
            .map(|n| n.node_count)
            .sum()
    }

    pub fn default_worker(&self) -> Option<&Nodegroup> {
        self.nodegroups
            .iter()
            .find(|n| n.is_default && !n.is_master())
    }

    pub fn nodegroup(&self, ident: &str) -> Result<&Nodegroup, ApiError> {
        self.nodegroups
            .iter()
            .find(|n| n.uuid == ident || n.name == ident || n.id.to_string() == ident)
            .ok_or_else(|| ApiError::new(404, format!("Nodegroup {ident} could not be found.")))
    }

    fn nodegroup_mut(&mut self, ident: &str) -> Result<&mut Nodegroup, ApiError> {
        let i = self
            .nodegroups
            .iter()
            .position(|n| n.uuid == ident || n.name == ident || n.id.to_string() == ident)
            .ok_or_else(|| ApiError::new(404, format!("Nodegroup {ident} could not be found.")))?;
        Ok(&mut self.nodegroups[i])
    }

    /// The attributes a cluster PATCH is applied to, as Magnum's API object holds them.
    fn patchable(&self) -> serde_json::Map<String, Value> {
        let labels: serde_json::Map<String, Value> = self
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut m = serde_json::Map::new();
        m.insert("name".into(), self.name.clone().into());
        m.insert(
            "cluster_template_id".into(),
            self.cluster_template_id.clone().into(),
        );
        m.insert("keypair".into(), self.keypair.clone().into());
        m.insert("docker_volume_size".into(), self.docker_volume_size.into());
        m.insert("labels".into(), Value::Object(labels));
        m.insert("create_timeout".into(), self.create_timeout.into());
        m.insert("node_count".into(), self.node_count().into());
        m.insert("master_count".into(), self.master_count().into());
        m.insert("health_status".into(), self.health_status.clone().into());
        m.insert(
            "health_status_reason".into(),
            Value::Object(Default::default()),
        );
        let flavor = self.default_worker().map(|n| n.flavor_id.clone());
        m.insert("flavor_id".into(), flavor.into());
        m
    }

    /// `PATCH /v1/clusters/{ident}`: only `node_count`, `health_status` and
    /// `health_status_reason` may change. Returns the new default-worker count on success.
    pub fn patch(&mut self, ops: &[PatchOperation]) -> Result<u32, ApiError> {
        validate_ops(ops, &CLUSTER_INTERNAL, &["/cluster_template_id"])?;
        let before = self.patchable();
        let mut after = before.clone();
        for op in ops {
            apply(&mut after, op).map_err(|reason| {
                ApiError::new(
                    400,
                    format!(
                        "Couldn't apply patch '{}'. Reason: {reason}",
                        py_repr_list(ops)
                    ),
                )
            })?;
        }
        let mut delta: Vec<&str> = after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(v))
            .map(|(k, _)| k.as_str())
            .collect();
        delta.sort_unstable();
        let refused: Vec<&str> = delta
            .iter()
            .copied()
            .filter(|k| !CLUSTER_UPDATE_ALLOWED.contains(k))
            .collect();
        if !refused.is_empty() {
            return Err(ApiError::new(
                400,
                format!(
                    "cannot change cluster property(ies) {}.",
                    refused.join(", ")
                ),
            ));
        }
        if let Some(Value::String(h)) = after.get("health_status") {
            self.health_status = Some(h.clone());
        }
        let current = self.default_worker().map_or(0, |n| n.node_count);
        let new_count = match after.get("node_count") {
            Some(v) if delta.contains(&"node_count") => {
                count_attribute("node_count", v)?.unwrap_or(current)
            }
            _ => current,
        };
        Ok(new_count)
    }

    /// `PATCH /v1/clusters/{c}/nodegroups/{ng}`: only `min_node_count`/`max_node_count`.
    pub fn patch_nodegroup(
        &mut self,
        ident: &str,
        ops: &[PatchOperation],
    ) -> Result<&Nodegroup, ApiError> {
        validate_ops(ops, &NODEGROUP_INTERNAL, &[])?;
        let ng = self.nodegroup_mut(ident)?;
        let (mut min, mut max) = (ng.min_node_count, ng.max_node_count);
        for op in ops {
            let field = op.path.trim_start_matches('/');
            let value = match (&op.op, &op.value) {
                (PatchOp::Remove, _) | (_, None) => None,
                (_, Some(v)) => count_attribute(field, v)?,
            };
            match field {
                "min_node_count" => min = value.unwrap_or(0),
                "max_node_count" => max = value,
                _ => {
                    return Err(ApiError::new(
                        400,
                        format!(
                            "Couldn't apply patch '{}'. Reason: can't replace a non-existent object '{field}'",
                            py_repr_list(ops)
                        ),
                    ))
                }
            }
        }
        check_counts(&ng.name, min, max, ng.node_count)?;
        ng.min_node_count = min;
        ng.max_node_count = max;
        Ok(ng)
    }

    /// The API-side checks of `POST /v1/clusters/{c}/actions/resize`; returns the nodegroup's
    /// name. The count is applied by [`Cluster::set_node_count`] when the conductor runs.
    pub fn check_resize(
        &self,
        node_count: i64,
        nodegroup: Option<&str>,
    ) -> Result<String, ApiError> {
        let ng = match nodegroup {
            Some(ident) => self.nodegroup(ident)?,
            None => self.default_worker().ok_or_else(|| {
                ApiError::new(404, "Nodegroup default-worker could not be found.")
            })?,
        };
        if node_count < 0 {
            return Err(ApiError::new(400, format!("Invalid input for field/attribute node_count. Value: '{node_count}'. Value should be greater or equal to 0")));
        }
        let n = node_count as u64;
        let cap = crate::limits::MAX_NODES;
        if n > u64::from(cap) {
            return Err(ApiError::new(400, format!("Invalid input for field/attribute node_count. Value: '{node_count}'. Value should be lower or equal to {cap}")));
        }
        if ng.is_master() {
            return Err(ApiError::new(
                400,
                "Resizing the master nodegroup is not supported by this driver.",
            ));
        }
        if (ng.min_node_count as u64) > n || ng.max_node_count.is_some_and(|m| (m as u64) < n) {
            return Err(ApiError::new(
                400,
                format!(
                    "Resizing {} outside the allowed range: min_node_count = {}, max_node_count = {}",
                    ng.name,
                    ng.min_node_count,
                    ng.max_node_count.map_or("None".to_string(), |m| m.to_string())
                ),
            ));
        }
        Ok(ng.name.clone())
    }

    pub fn set_node_count(&mut self, nodegroup: &str, count: u32) {
        if let Ok(ng) = self.nodegroup_mut(nodegroup) {
            ng.node_count = count;
        }
    }

    /// `labels`, for tables: the Python dict repr python-openstackclient prints.
    pub fn labels_repr(labels: &IndexMap<String, String>) -> String {
        let v: serde_json::Map<String, Value> = labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        super::patch::py_repr(&Value::Object(v))
    }
}

/// `GET /v1/clusters/{ident}` as Magnum serializes it (keys in declaration order).
pub fn cluster_json(c: &Cluster) -> Value {
    let labels: serde_json::Map<String, Value> = c
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let flavor = c.default_worker().map(|n| n.flavor_id.clone());
    let master_flavor = c
        .nodegroups
        .iter()
        .find(|n| n.is_master())
        .map(|n| n.flavor_id.clone())
        .or_else(|| flavor.clone());
    serde_json::json!({
        "uuid": c.uuid,
        "name": c.name,
        "cluster_template_id": c.cluster_template_id,
        "keypair": c.keypair,
        "node_count": c.node_count(),
        "master_count": c.master_count(),
        "docker_volume_size": c.docker_volume_size,
        "labels": labels,
        "labels_overridden": {},
        "labels_skipped": {},
        "labels_added": labels,
        "master_flavor_id": master_flavor,
        "flavor_id": flavor,
        "create_timeout": c.create_timeout,
        "stack_id": c.stack_id,
        "status": c.status,
        "status_reason": c.status_reason,
        "health_status": c.health_status,
        "health_status_reason": {},
        "discovery_url": null,
        "api_address": "https://192.0.2.10:6443",
        "coe_version": c.coe_version,
        "container_version": null,
        "project_id": c.project_id,
        "node_addresses": [],
        "master_addresses": [],
        "fixed_network": null,
        "fixed_subnet": null,
        "floating_ip_enabled": true,
        "master_lb_enabled": true,
        "merge_labels": false,
    })
}

/// Jetstream2's name for the template of a Kubernetes version: `v1.30.4` is
/// `kubernetes-1-30-jammy` (the names users pick from, `reference/openstack-api.md` 4.4).
pub fn jetstream2_template_name(coe_version: &str) -> String {
    let mut parts = coe_version.trim_start_matches('v').split('.');
    let major = parts.next().unwrap_or("1");
    let minor = parts.next().unwrap_or("30");
    format!("kubernetes-{major}-{minor}-jammy")
}

/// `GET /v1/clustertemplates/{ident}` as Magnum serializes it (the API class's declaration
/// order). The template is the one the cluster was made from: its image and flavors are the
/// default nodegroups'; fields the references do not give for Jetstream2's templates
/// (networks, proxies, DNS, volume sizes) are `null`, as for a template created without them.
pub fn cluster_template_json(c: &Cluster) -> Value {
    let worker = c.default_worker();
    let master_flavor = c
        .nodegroups
        .iter()
        .find(|n| n.is_master())
        .map(|n| n.flavor_id.clone())
        .or_else(|| worker.map(|n| n.flavor_id.clone()));
    serde_json::json!({
        "uuid": c.cluster_template_id,
        "name": c.cluster_template_name,
        "coe": "kubernetes",
        "image_id": worker.map(|n| n.image_id.clone()),
        "flavor_id": worker.map(|n| n.flavor_id.clone()),
        "master_flavor_id": master_flavor,
        "dns_nameserver": null,
        "keypair_id": null,
        "external_network_id": null,
        "fixed_network": null,
        "fixed_subnet": null,
        "network_driver": null,
        "apiserver_port": null,
        "docker_volume_size": null,
        "cluster_distro": "ubuntu",
        "http_proxy": null,
        "https_proxy": null,
        "no_proxy": null,
        "volume_driver": null,
        "registry_enabled": false,
        "labels": {},
        "tls_disabled": false,
        "public": true,
        "server_type": "vm",
        "insecure_registry": null,
        "docker_storage_driver": null,
        "master_lb_enabled": true,
        "floating_ip_enabled": true,
        "project_id": c.project_id,
        "hidden": false,
        "tags": null,
    })
}

impl Cluster {
    /// Whether `ident` names the cluster's template (by uuid or name, as Magnum resolves it).
    pub fn template_matches(&self, ident: &str) -> bool {
        ident == self.cluster_template_id || ident == self.cluster_template_name
    }
}

/// `GET /v1/clusters/{c}/nodegroups/{ng}` as Magnum serializes it.
pub fn nodegroup_json(c: &Cluster, n: &Nodegroup) -> Value {
    let labels: serde_json::Map<String, Value> = n
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    serde_json::json!({
        "id": n.id,
        "uuid": n.uuid,
        "name": n.name,
        "cluster_id": c.uuid,
        "project_id": c.project_id,
        "docker_volume_size": c.docker_volume_size,
        "labels": labels,
        "labels_overridden": {},
        "labels_skipped": {},
        "labels_added": {},
        "flavor_id": n.flavor_id,
        "image_id": n.image_id,
        "node_addresses": [],
        "node_count": n.node_count,
        "role": n.role,
        "max_node_count": n.max_node_count,
        "min_node_count": n.min_node_count,
        "is_default": n.is_default,
        "stack_id": n.stack_id,
        "status": n.status,
        "status_reason": n.status_reason,
        "version": null,
        "merge_labels": false,
    })
}

/// A count attribute (`wtypes.IntegerType(minimum=0)`) set from a PATCH value, checked as
/// wsme's `validate_value` does: Python compares the value with the minimum, so a string,
/// list or dict fails with that comparison's `TypeError`, a negative number with the range
/// text; a float or bool passes and is stored as its integer. `None` leaves the count unset.
/// Past [`crate::limits::MAX_NODES`] is refused before anything is allocated.
pub(super) fn count_attribute(field: &str, v: &Value) -> Result<Option<u32>, ApiError> {
    let invalid = |why: String| {
        let shown = match v {
            Value::String(s) => s.clone(),
            other => super::patch::py_repr(other),
        };
        ApiError::new(
            400,
            format!("Invalid input for field/attribute {field}. Value: '{shown}'. {why}"),
        )
    };
    let n = match v {
        Value::Null => return Ok(None),
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(f64::MAX),
        Value::String(_) | Value::Array(_) | Value::Object(_) => {
            return Err(invalid(format!(
                "'<' not supported between instances of '{}' and 'int'",
                super::patch::py_type(v)
            )));
        }
    };
    if n < 0.0 {
        return Err(invalid("Value should be greater or equal to 0".into()));
    }
    let cap = crate::limits::MAX_NODES;
    if n.trunc() > f64::from(cap) {
        return Err(invalid(format!("Value should be lower or equal to {cap}")));
    }
    Ok(Some(n.trunc() as u32))
}

/// Magnum's nodegroup count checks (`_validate_node_count`), all 409.
pub(super) fn check_counts(
    name: &str,
    min: u32,
    max: Option<u32>,
    count: u32,
) -> Result<(), ApiError> {
    if let Some(max) = max {
        if max < min {
            return Err(ApiError::new(409, format!("max_node_count for {name} is invalid (min_node_count ({min}) should be less or equal to max_node_count ({max})).")));
        }
        if count > max {
            return Err(ApiError::new(409, format!("max_node_count for {name} is invalid (node_count ({count}) should be less or equal to max_node_count ({max})).")));
        }
    }
    if min > count {
        return Err(ApiError::new(409, format!("min_node_count for {name} is invalid (min_node_count ({min}) should be less or equal to node_count ({count})).")));
    }
    Ok(())
}

/// The per-op checks wsme runs before anything is applied.
fn validate_ops(
    ops: &[PatchOperation],
    internal: &[&str],
    mandatory: &[&str],
) -> Result<(), ApiError> {
    for op in ops {
        let valid_path = op.path.len() > 1
            && op.path.starts_with('/')
            && op.path[1..].split('/').all(|seg| {
                !seg.is_empty()
                    && seg
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            });
        if !valid_path {
            return Err(ApiError::new(
                400,
                format!(
                    "Invalid input for field/attribute path. Value: '{}'. Invalid path",
                    op.path
                ),
            ));
        }
        if internal.contains(&op.path.as_str()) {
            return Err(ApiError::new(
                400,
                format!(
                    "'{}' is an internal attribute and can not be updated",
                    op.path
                ),
            ));
        }
        if op.op == PatchOp::Remove && mandatory.contains(&op.path.as_str()) {
            return Err(ApiError::new(
                400,
                format!(
                    "'{}' is a mandatory attribute and can not be removed",
                    op.path
                ),
            ));
        }
        if op.op != PatchOp::Remove && op.value.is_none() {
            return Err(ApiError::new(
                400,
                "'add' and 'replace' operations needs value",
            ));
        }
    }
    Ok(())
}

/// Applies one op as python `jsonpatch` plus Magnum's root-attribute rules do.
fn apply(doc: &mut serde_json::Map<String, Value>, op: &PatchOperation) -> Result<(), String> {
    let segs: Vec<&str> = op.path[1..].split('/').collect();
    let (root, rest) = (segs[0], &segs[1..]);
    if rest.is_empty() {
        return match op.op {
            PatchOp::Add if !doc.contains_key(root) => Err(format!(
                "Adding a new attribute /{root} to the root of the resource is not allowed."
            )),
            PatchOp::Add if !doc[root].is_null() => Err(format!(
                "The attribute /{root} has existed, please use 'replace' operation instead."
            )),
            PatchOp::Remove | PatchOp::Replace if !doc.contains_key(root) => Err(format!(
                "can't {} a non-existent object '{root}'",
                op.op.as_str()
            )),
            PatchOp::Remove => {
                doc.insert(root.to_string(), Value::Null);
                Ok(())
            }
            _ => {
                doc.insert(root.to_string(), op.value.clone().unwrap_or(Value::Null));
                Ok(())
            }
        };
    }
    let mut target = doc
        .get_mut(root)
        .ok_or_else(|| format!("can't {} a non-existent object '{root}'", op.op.as_str()))?;
    for seg in &rest[..rest.len() - 1] {
        target = target
            .get_mut(*seg)
            .ok_or_else(|| format!("can't {} a non-existent object '{seg}'", op.op.as_str()))?;
    }
    let last = rest[rest.len() - 1];
    let obj = target
        .as_object_mut()
        .ok_or_else(|| format!("can't {} a non-existent object '{last}'", op.op.as_str()))?;
    match op.op {
        PatchOp::Replace | PatchOp::Remove if !obj.contains_key(last) => Err(format!(
            "can't {} a non-existent object '{last}'",
            op.op.as_str()
        )),
        PatchOp::Remove => {
            obj.remove(last);
            Ok(())
        }
        _ => {
            obj.insert(last.to_string(), op.value.clone().unwrap_or(Value::Null));
            Ok(())
        }
    }
}

/// Python's `json.dumps` with default separators (`", "`, `": "`), keys in insertion order:
/// how Magnum, Keystone and Heat write their JSON.
pub fn python_json(v: &Value) -> String {
    match v {
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(python_json).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), python_json(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cloud::patch::PatchOp;

    pub(crate) fn incident_cluster() -> Cluster {
        Cluster {
            uuid: "c8fd0bc7-cf71-40fb-b901-c309d405d627".into(),
            name: "k8s".into(),
            project_id: "0123456789abcdef0123456789abcdef".into(),
            stack_id: "k8s-wamiv264xiet".into(),
            stack_name: None,
            cluster_template_id: "t".into(),
            cluster_template_name: "kubernetes-1-30-jammy".into(),
            status: "CREATE_COMPLETE".into(),
            status_reason: None,
            labels: [
                ("auto_scaling_enabled", "true"),
                ("min_node_count", "1"),
                ("max_node_count", "5"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            keypair: None,
            docker_volume_size: Some(10),
            create_timeout: 60,
            coe_version: "v1.30.4".into(),
            health_status: None,
            driver: Driver::CapiHelm {
                major: 1,
                minor: 1,
                patch: 0,
            },
            nodegroups: vec![Nodegroup {
                id: 2,
                uuid: "5f1c2a7e-0000-4000-8000-000000000002".into(),
                name: "default-worker".into(),
                role: "worker".into(),
                flavor_id: "m3.small".into(),
                image_id: "img".into(),
                node_count: 5,
                min_node_count: 1,
                max_node_count: Some(6),
                labels: Default::default(),
                is_default: true,
                status: "CREATE_COMPLETE".into(),
                status_reason: None,
                stack_id: Some("k8s-wamiv264xiet".into()),
            }],
        }
    }

    fn op(o: PatchOp, attr: &str) -> Vec<PatchOperation> {
        vec![PatchOperation::from_cli(o, attr)]
    }

    #[test]
    fn label_patch_is_refused_with_magnums_text() {
        let mut c = incident_cluster();
        let err = c
            .patch(&op(PatchOp::Replace, "labels/max_node_count=6"))
            .unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(err.message, "cannot change cluster property(ies) labels.");
        assert_eq!(err.title(), "cannot change cluster property(ies) labels");
        assert_eq!(
            serde_json::to_string(&err.body()).unwrap(),
            r#"{"errors":[{"request_id":"","code":"client","status":400,"title":"cannot change cluster property(ies) labels","detail":"cannot change cluster property(ies) labels.","links":[]}]}"#
        );
        assert_eq!(c.labels["max_node_count"], "5");
    }

    #[test]
    fn label_patch_on_missing_key_fails_to_apply() {
        let mut c = incident_cluster();
        c.labels.shift_remove("max_node_count");
        let err = c
            .patch(&op(PatchOp::Replace, "labels/max_node_count=6"))
            .unwrap_err();
        assert_eq!(
            err.message,
            "Couldn't apply patch '[{'path': '/labels/max_node_count', 'op': 'replace', 'value': 6}]'. Reason: can't replace a non-existent object 'max_node_count'"
        );
        let err = c
            .patch(&op(PatchOp::Add, "labels/max_node_count=6"))
            .unwrap_err();
        assert_eq!(err.message, "cannot change cluster property(ies) labels.");
    }

    #[test]
    fn cluster_patch_allows_node_count_only() {
        let mut c = incident_cluster();
        assert_eq!(c.patch(&op(PatchOp::Replace, "node_count=6")), Ok(6));
        let err = c.patch(&op(PatchOp::Replace, "name=other")).unwrap_err();
        assert_eq!(err.message, "cannot change cluster property(ies) name.");
        // wsme's IntegerType compares before it converts: Python's TypeError is the text.
        let err = c
            .patch(&op(PatchOp::Replace, "node_count=abc"))
            .unwrap_err();
        assert_eq!(
            (err.status, err.message.as_str()),
            (400, "Invalid input for field/attribute node_count. Value: 'abc'. '<' not supported between instances of 'str' and 'int'")
        );
        let err = c.patch(&op(PatchOp::Replace, "node_count=-1")).unwrap_err();
        assert_eq!(
            err.message,
            "Invalid input for field/attribute node_count. Value: '-1'. Value should be greater or equal to 0"
        );
        let err = c
            .patch(&op(PatchOp::Replace, "node_count=2147483647"))
            .unwrap_err();
        assert!(
            err.message.ends_with(&format!(
                "Value should be lower or equal to {}",
                crate::limits::MAX_NODES
            )),
            "{}",
            err.message
        );
        assert_eq!(
            c.default_worker().map(|n| n.node_count),
            Some(5),
            "unchanged"
        );
        let err = c.patch(&op(PatchOp::Replace, "stack_id=x")).unwrap_err();
        assert_eq!(
            err.message,
            "'/stack_id' is an internal attribute and can not be updated"
        );
    }

    #[test]
    fn nodegroup_patch_rules() {
        let mut c = incident_cluster();
        let ng = c
            .patch_nodegroup("default-worker", &op(PatchOp::Replace, "max_node_count=7"))
            .unwrap();
        assert_eq!(ng.max_node_count, Some(7));
        let err = c
            .patch_nodegroup("default-worker", &op(PatchOp::Replace, "node_count=7"))
            .unwrap_err();
        assert_eq!(
            err.message,
            "'/node_count' is an internal attribute and can not be updated"
        );
        let err = c
            .patch_nodegroup(
                "default-worker",
                &op(PatchOp::Replace, "max_node_count=[8]"),
            )
            .unwrap_err();
        assert_eq!(
            (err.status, err.message.as_str()),
            (400, "Invalid input for field/attribute max_node_count. Value: '[8]'. '<' not supported between instances of 'list' and 'int'")
        );
        let ng = c.nodegroup("default-worker").unwrap();
        assert_eq!(ng.max_node_count, Some(7), "unchanged");
        let err = c
            .patch_nodegroup("default-worker", &op(PatchOp::Replace, "max_node_count=4"))
            .unwrap_err();
        assert_eq!(err.status, 409);
        assert_eq!(
            err.message,
            "max_node_count for default-worker is invalid (node_count (5) should be less or equal to max_node_count (4))."
        );
        let err = c
            .patch_nodegroup("nope", &op(PatchOp::Replace, "max_node_count=4"))
            .unwrap_err();
        assert_eq!(
            (err.status, err.message.as_str()),
            (404, "Nodegroup nope could not be found.")
        );
    }

    #[test]
    fn resize_range_is_checked_by_the_api() {
        let c = incident_cluster();
        assert_eq!(
            c.check_resize(6, Some("default-worker")),
            Ok("default-worker".into())
        );
        let err = c.check_resize(7, None).unwrap_err();
        assert_eq!(
            err.message,
            "Resizing default-worker outside the allowed range: min_node_count = 1, max_node_count = 6"
        );
        assert_eq!(err.title(), err.message);
    }
}
