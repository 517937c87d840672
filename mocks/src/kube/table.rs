//! `meta.k8s.io/v1` Tables: what `kubectl get` asks for (`Accept:
//! application/json;as=Table;v=v1;g=meta.k8s.io`). The server computes every column,
//! including the `-o wide` ones (priority 1) and ages against the engine's virtual clock.

use super::discovery::Resource;
use magsim_sim::time::Epoch;
use serde_json::{json, Value};

/// What each row carries in `object` (`includeObject` query parameter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IncludeObject {
    #[default]
    Metadata,
    Object,
    None,
}

impl IncludeObject {
    pub fn parse(s: Option<&str>) -> Result<IncludeObject, String> {
        match s {
            None | Some("") | Some("Metadata") => Ok(IncludeObject::Metadata),
            Some("Object") => Ok(IncludeObject::Object),
            Some("None") => Ok(IncludeObject::None),
            Some(other) => Err(format!(
                "includeObject: Unsupported value: \"{other}\": supported values: \"Metadata\", \"None\", \"Object\""
            )),
        }
    }
}

/// True when the Accept header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let params: Vec<&str> = part.split(';').map(str::trim).collect();
        params.contains(&"as=Table") && params.contains(&"g=meta.k8s.io")
    })
}

/// apimachinery's `HumanDuration` for a span in seconds.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{days}d")
        } else {
            format!("{days}d{h}h")
        };
    }
    if days < 365 * 2 {
        return format!("{days}d");
    }
    let (years, d) = (days / 365, days % 365);
    if days < 365 * 8 && d != 0 {
        return format!("{years}y{d}d");
    }
    format!("{years}y")
}

/// Ages of timestamps relative to the virtual clock.
pub struct Clock {
    /// Seconds since the Unix epoch.
    pub now: i64,
}

impl Clock {
    pub fn new(epoch: Epoch, now: magsim_sim::time::SimTime) -> Clock {
        Clock {
            now: epoch.at(now).unix_millis.div_euclid(1000),
        }
    }

    fn age(&self, ts: &Value) -> String {
        match ts.as_str().and_then(Epoch::parse_rfc3339) {
            Some(t) => human_duration(self.now - t.0),
            None => "<unknown>".into(),
        }
    }
}

fn col(name: &str, ty: &str, format: &str, priority: u8) -> Value {
    json!({"name": name, "type": ty, "format": format, "description": "", "priority": priority})
}

fn columns(resource: Resource) -> Vec<Value> {
    let name = || col("Name", "string", "name", 0);
    match resource {
        Resource::Pods => vec![
            name(),
            col("Ready", "string", "", 0),
            col("Status", "string", "", 0),
            col("Restarts", "string", "", 0),
            col("Age", "string", "", 0),
            col("IP", "string", "", 1),
            col("Node", "string", "", 1),
            col("Nominated Node", "string", "", 1),
            col("Readiness Gates", "string", "", 1),
        ],
        Resource::Nodes => vec![
            name(),
            col("Status", "string", "", 0),
            col("Roles", "string", "", 0),
            col("Age", "string", "", 0),
            col("Version", "string", "", 0),
            col("Internal-IP", "string", "", 1),
            col("External-IP", "string", "", 1),
            col("OS-Image", "string", "", 1),
            col("Kernel-Version", "string", "", 1),
            col("Container-Runtime", "string", "", 1),
        ],
        Resource::Events => vec![
            col("Last Seen", "string", "", 0),
            col("Type", "string", "", 0),
            col("Reason", "string", "", 0),
            col("Object", "string", "", 0),
            col("Subobject", "string", "", 1),
            col("Source", "string", "", 1),
            col("Message", "string", "", 0),
            col("First Seen", "string", "", 1),
            col("Count", "integer", "", 1),
            col("Name", "string", "", 1),
        ],
        Resource::ConfigMaps => vec![
            name(),
            col("Data", "integer", "", 0),
            col("Age", "string", "", 0),
        ],
        Resource::Namespaces => vec![
            name(),
            col("Status", "string", "", 0),
            col("Age", "string", "", 0),
        ],
        Resource::Deployments => vec![
            name(),
            col("Ready", "string", "", 0),
            col("Up-to-date", "integer", "", 0),
            col("Available", "integer", "", 0),
            col("Age", "string", "", 0),
            col("Containers", "string", "", 1),
            col("Images", "string", "", 1),
            col("Selector", "string", "", 1),
        ],
        Resource::ReplicaSets => vec![
            name(),
            col("Desired", "integer", "", 0),
            col("Current", "integer", "", 0),
            col("Ready", "integer", "", 0),
            col("Age", "string", "", 0),
            col("Containers", "string", "", 1),
            col("Images", "string", "", 1),
            col("Selector", "string", "", 1),
        ],
        // The CRD's additionalPrinterColumns (Cluster API v1beta1).
        Resource::MachineDeployments => vec![
            name(),
            col("Cluster", "string", "", 0),
            col("Desired", "integer", "", 10),
            col("Replicas", "integer", "", 0),
            col("Ready", "integer", "", 0),
            col("Updated", "integer", "", 0),
            col("Unavailable", "integer", "", 0),
            col("Phase", "string", "", 0),
            col("Age", "date", "", 0),
            col("Version", "string", "", 0),
        ],
        Resource::Secrets => vec![
            name(),
            col("Type", "string", "", 0),
            col("Data", "string", "", 0),
            col("Age", "string", "", 0),
        ],
        Resource::ServiceAccounts => vec![
            name(),
            col("Secrets", "string", "", 0),
            col("Age", "string", "", 0),
        ],
        Resource::Roles | Resource::ClusterRoles => {
            vec![name(), col("Created At", "date", "", 0)]
        }
        Resource::RoleBindings | Resource::ClusterRoleBindings => vec![
            name(),
            col("Role", "string", "", 0),
            col("Age", "string", "", 0),
            col("Users", "string", "", 1),
            col("Groups", "string", "", 1),
            col("ServiceAccounts", "string", "", 1),
        ],
        _ => vec![name(), col("Age", "date", "", 0)],
    }
}

/// A binding's `Kind/name` role and its subjects by kind, as kubectl's printer joins them.
fn binding_cells(o: &Value, age: Value) -> Vec<Value> {
    let role = &o["roleRef"];
    let subjects = |kind: &str| {
        let names: Vec<String> = o["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|subject| subject["kind"] == kind)
            .map(|subject| match (kind, subject["namespace"].as_str()) {
                ("ServiceAccount", Some(ns)) => format!("{ns}/{}", s(&subject["name"])),
                _ => s(&subject["name"]),
            })
            .collect();
        Value::from(names.join(", "))
    };
    vec![
        o["metadata"]["name"].clone(),
        format!("{}/{}", s(&role["kind"]), s(&role["name"])).into(),
        age,
        subjects("User"),
        subjects("Group"),
        subjects("ServiceAccount"),
    ]
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn or_none(v: &Value) -> String {
    match v.as_str() {
        Some(x) if !x.is_empty() => x.to_string(),
        _ => "<none>".into(),
    }
}

fn containers_images(spec: &Value) -> (String, String) {
    let cs = spec["template"]["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<String> = cs.iter().map(|c| s(&c["name"])).collect();
    let images: Vec<String> = cs.iter().map(|c| s(&c["image"])).collect();
    (names.join(","), images.join(","))
}

fn selector(spec: &Value) -> String {
    spec["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn pod_cells(o: &Value, clock: &Clock) -> Vec<Value> {
    let statuses = o["status"]["containerStatuses"].as_array();
    let total = o["spec"]["containers"].as_array().map_or(0, Vec::len);
    let ready = statuses.map_or(0, |v| {
        v.iter().filter(|c| c["ready"] == Value::Bool(true)).count()
    });
    let mut status = match o["status"]["reason"].as_str() {
        Some(r) if !r.is_empty() => r.to_string(),
        _ => s(&o["status"]["phase"]),
    };
    for c in statuses.into_iter().flatten() {
        for state in ["waiting", "terminated"] {
            if let Some(r) = c["state"][state]["reason"].as_str() {
                status = r.to_string();
            }
        }
    }
    if !o["metadata"]["deletionTimestamp"].is_null() {
        status = "Terminating".into();
    }
    let restarts: i64 = statuses.map_or(0, |v| v.iter().map(|c| int(&c["restartCount"])).sum());
    // The printer's `N (AGE ago)`: since the latest termination of any container.
    let last_restart = statuses
        .into_iter()
        .flatten()
        .filter_map(|c| c["lastState"]["terminated"]["finishedAt"].as_str())
        .max();
    let restarts = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", clock.age(&Value::from(t))),
        _ => restarts.to_string(),
    };
    let ip = o["status"]["podIPs"][0]["ip"]
        .as_str()
        .map_or("<none>".to_string(), str::to_string);
    vec![
        o["metadata"]["name"].clone(),
        format!("{ready}/{total}").into(),
        status.into(),
        restarts.into(),
        clock.age(&o["metadata"]["creationTimestamp"]).into(),
        ip.into(),
        or_none(&o["spec"]["nodeName"]).into(),
        or_none(&o["status"]["nominatedNodeName"]).into(),
        "<none>".into(),
    ]
}

fn node_cells(o: &Value, clock: &Clock) -> Vec<Value> {
    let ready = o["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .map(|c| match c["status"].as_str() {
            Some("True") => "Ready",
            Some("False") => "NotReady",
            _ => "Unknown",
        })
        .unwrap_or("Unknown");
    let mut status = ready.to_string();
    if o["spec"]["unschedulable"] == Value::Bool(true) {
        status.push_str(",SchedulingDisabled");
    }
    let mut roles: Vec<String> = Vec::new();
    if let Some(labels) = o["metadata"]["labels"].as_object() {
        for (k, v) in labels {
            if let Some(r) = k.strip_prefix("node-role.kubernetes.io/") {
                if !r.is_empty() {
                    roles.push(r.to_string());
                }
            } else if k == "kubernetes.io/role" {
                if let Some(v) = v.as_str().filter(|v| !v.is_empty()) {
                    roles.push(v.to_string());
                }
            }
        }
    }
    roles.sort();
    roles.dedup();
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    };
    let address = |ty: &str| {
        o["status"]["addresses"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["type"] == ty))
            .map_or("<none>".to_string(), |x| s(&x["address"]))
    };
    let info = &o["status"]["nodeInfo"];
    let unknown = |v: &Value| match v.as_str() {
        Some(x) if !x.is_empty() => x.to_string(),
        _ => "<unknown>".into(),
    };
    vec![
        o["metadata"]["name"].clone(),
        status.into(),
        roles.into(),
        clock.age(&o["metadata"]["creationTimestamp"]).into(),
        s(&info["kubeletVersion"]).into(),
        address("InternalIP").into(),
        address("ExternalIP").into(),
        unknown(&info["osImage"]).into(),
        unknown(&info["kernelVersion"]).into(),
        unknown(&info["containerRuntimeVersion"]).into(),
    ]
}

fn event_cells(o: &Value, clock: &Clock) -> Vec<Value> {
    let first = if o["firstTimestamp"].is_null() {
        &o["eventTime"]
    } else {
        &o["firstTimestamp"]
    };
    let last = if o["lastTimestamp"].is_null() {
        first
    } else {
        &o["lastTimestamp"]
    };
    // MicroTime (eventTime) has a fraction; ages are whole seconds.
    let age = |v: &Value| {
        let t = v.as_str().map(|t| match t.split_once('.') {
            Some((whole, _)) => format!("{whole}Z"),
            None => t.to_string(),
        });
        clock.age(&t.map_or(Value::Null, Value::String))
    };
    let mut source = match o["source"]["component"].as_str() {
        Some(c) if !c.is_empty() => c.to_string(),
        _ => s(&o["reportingComponent"]),
    };
    if let Some(h) = o["source"]["host"].as_str().filter(|h| !h.is_empty()) {
        source = format!("{source}, {h}");
    }
    let io = &o["involvedObject"];
    let count = match o["count"].as_i64() {
        Some(c) if c > 0 => c,
        _ => 1,
    };
    vec![
        age(last).into(),
        o["type"].clone(),
        o["reason"].clone(),
        format!("{}/{}", s(&io["kind"]).to_lowercase(), s(&io["name"])).into(),
        s(&io["fieldPath"]).into(),
        source.into(),
        o["message"].clone(),
        age(first).into(),
        count.into(),
        o["metadata"]["name"].clone(),
    ]
}

fn cells(resource: Resource, o: &Value, clock: &Clock) -> Vec<Value> {
    let age = || Value::from(clock.age(&o["metadata"]["creationTimestamp"]));
    match resource {
        Resource::Pods => pod_cells(o, clock),
        Resource::Nodes => node_cells(o, clock),
        Resource::Events => event_cells(o, clock),
        Resource::ConfigMaps => {
            let n = o["data"].as_object().map_or(0, |m| m.len())
                + o["binaryData"].as_object().map_or(0, |m| m.len());
            vec![o["metadata"]["name"].clone(), n.into(), age()]
        }
        Resource::Namespaces => vec![
            o["metadata"]["name"].clone(),
            o["status"]["phase"].clone(),
            age(),
        ],
        Resource::Deployments => {
            let (c, i) = containers_images(&o["spec"]);
            vec![
                o["metadata"]["name"].clone(),
                format!(
                    "{}/{}",
                    int(&o["status"]["readyReplicas"]),
                    int(&o["spec"]["replicas"])
                )
                .into(),
                int(&o["status"]["updatedReplicas"]).into(),
                int(&o["status"]["availableReplicas"]).into(),
                age(),
                c.into(),
                i.into(),
                selector(&o["spec"]).into(),
            ]
        }
        Resource::ReplicaSets => {
            let (c, i) = containers_images(&o["spec"]);
            vec![
                o["metadata"]["name"].clone(),
                int(&o["spec"]["replicas"]).into(),
                int(&o["status"]["replicas"]).into(),
                int(&o["status"]["readyReplicas"]).into(),
                age(),
                c.into(),
                i.into(),
                selector(&o["spec"]).into(),
            ]
        }
        Resource::MachineDeployments => {
            let st = &o["status"];
            vec![
                o["metadata"]["name"].clone(),
                o["spec"]["clusterName"].clone(),
                o["spec"]["replicas"].clone(),
                st["replicas"].clone(),
                st["readyReplicas"].clone(),
                st["updatedReplicas"].clone(),
                st["unavailableReplicas"].clone(),
                st["phase"].clone(),
                age(),
                o["spec"]["template"]["spec"]["version"].clone(),
            ]
        }
        Resource::Secrets => {
            let n = o["data"].as_object().map_or(0, |m| m.len());
            vec![
                o["metadata"]["name"].clone(),
                o["type"].clone(),
                n.into(),
                age(),
            ]
        }
        Resource::ServiceAccounts => {
            let n = o["secrets"].as_array().map_or(0, Vec::len);
            vec![o["metadata"]["name"].clone(), n.into(), age()]
        }
        Resource::Roles | Resource::ClusterRoles => vec![
            o["metadata"]["name"].clone(),
            o["metadata"]["creationTimestamp"].clone(),
        ],
        Resource::RoleBindings | Resource::ClusterRoleBindings => binding_cells(o, age()),
        _ => vec![o["metadata"]["name"].clone(), age()],
    }
}

/// One row of `o`.
fn row(resource: Resource, o: &Value, clock: &Clock, include: IncludeObject) -> Value {
    let mut r = json!({"cells": cells(resource, o, clock)});
    match include {
        IncludeObject::Metadata => {
            r["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": o["metadata"],
            });
        }
        IncludeObject::Object => r["object"] = o.clone(),
        IncludeObject::None => {}
    }
    r
}

/// A Table of `objects` at resourceVersion `rv`.
pub fn table(
    resource: Resource,
    objects: &[Value],
    rv: &str,
    clock: &Clock,
    include: IncludeObject,
) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": columns(resource),
        "rows": objects.iter().map(|o| row(resource, o, clock, include)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_match_apimachinery() {
        for (secs, want) in [
            (-5, "<invalid>"),
            (-1, "0s"),
            (59, "59s"),
            (119, "119s"),
            (120, "2m"),
            (582, "9m42s"),
            (600, "10m"),
            (7200, "120m"),
            (3 * 3600 + 60, "3h1m"),
            (10 * 3600, "10h"),
            (3 * 86400, "3d"),
            (3 * 86400 + 3600, "3d1h"),
            (20 * 86400, "20d"),
            (800 * 86400, "2y70d"),
            (3000 * 86400, "8y"),
        ] {
            assert_eq!(human_duration(secs), want, "{secs}");
        }
    }

    #[test]
    fn table_accept_is_recognised() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
        assert!(!wants_table(
            "application/vnd.kubernetes.protobuf,application/json"
        ));
    }

    #[test]
    fn event_rows_use_count_and_source() {
        let clock = Clock { now: 1_762_783_800 };
        let ev = json!({
            "metadata": {"name": "p.1"},
            "involvedObject": {"kind": "Pod", "name": "p"},
            "reason": "NotTriggerScaleUp", "message": "m", "type": "Normal",
            "source": {"component": "cluster-autoscaler"},
            "firstTimestamp": "2025-11-10T14:00:18Z", "lastTimestamp": "2025-11-10T14:09:28Z",
            "count": 20,
        });
        let c = event_cells(&ev, &clock);
        assert_eq!(c[0], "32s");
        assert_eq!(c[3], "pod/p");
        assert_eq!(c[5], "cluster-autoscaler");
        assert_eq!(c[7], "9m42s");
        assert_eq!(c[8], 20);
    }
}
