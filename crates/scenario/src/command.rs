//! Operator command lines: the `openstack coe ...` (python-magnumclient 4.x syntax) and
//! `kubectl ...` commands a scenario step can run, parsed into what they ask for.

use magsim_sim::cloud::{PatchOp, PatchOperation};

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Openstack {
        debug: bool,
        call: OsCall,
    },
    Kubectl {
        namespace: Option<String>,
        call: KubectlCall,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum OsCall {
    ClusterShow {
        cluster: String,
    },
    ClusterList,
    /// `coe cluster template show <template>`.
    TemplateShow {
        template: String,
    },
    /// `coe cluster template list`.
    TemplateList,
    NodegroupShow {
        cluster: String,
        nodegroup: String,
    },
    NodegroupList {
        cluster: String,
    },
    /// `coe nodegroup create <cluster> <name> [...]`, with the request body magnumclient
    /// builds from its arguments.
    NodegroupCreate {
        cluster: String,
        body: serde_json::Value,
    },
    /// `coe nodegroup delete <cluster> <nodegroup> [<nodegroup> ...]`.
    NodegroupDelete {
        cluster: String,
        nodegroups: Vec<String>,
    },
    ClusterUpdate {
        cluster: String,
        patch: Vec<PatchOperation>,
    },
    NodegroupUpdate {
        cluster: String,
        nodegroup: String,
        patch: Vec<PatchOperation>,
    },
    ClusterResize {
        cluster: String,
        node_count: i64,
        nodegroup: Option<String>,
        nodes_to_remove: Vec<String>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum KubectlCall {
    Scale {
        name: String,
        replicas: u32,
    },
    /// `apply -f -` / `apply -f FILE`: the step's `manifest`.
    Apply,
    /// `delete -f -`: the step's `manifest`.
    DeleteManifest,
    Delete {
        kind: String,
        name: String,
    },
    Cordon {
        node: String,
        unschedulable: bool,
    },
    GetPods {
        all_namespaces: bool,
        wide: bool,
        name: Option<String>,
    },
    GetNodes {
        wide: bool,
    },
    GetEvents {
        field_selector: Option<String>,
    },
    GetDeployment {
        name: Option<String>,
    },
    DescribePod {
        name: String,
    },
    /// `get configmap NAME -o jsonpath='{.data.KEY}'` (or `-o yaml`).
    GetConfigMap {
        name: String,
        data_key: Option<String>,
    },
    /// `logs deploy/NAME|pod/NAME|NAME [-c C] [-p] [--tail=N] [--timestamps]`.
    Logs {
        target: LogsTarget,
        container: Option<String>,
        previous: bool,
        tail: Option<u64>,
        timestamps: bool,
    },
}

/// What `kubectl logs` reads: a pod, or the first pod of a Deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogsTarget {
    Deployment(String),
    Pod(String),
}

/// Parses one command line; the error says what is supported.
pub fn parse(line: &str) -> Result<Command, String> {
    let words =
        shell_words::split(line.trim()).map_err(|e| format!("cannot split command line: {e}"))?;
    match words.first().map(String::as_str) {
        Some("openstack") => parse_openstack(&words[1..]),
        Some("kubectl") => parse_kubectl(&words[1..]),
        Some(other) => Err(format!("unsupported command {other:?}: expected an `openstack coe ...` or `kubectl ...` command line")),
        None => Err("empty command line".into()),
    }
}

fn parse_openstack(args: &[String]) -> Result<Command, String> {
    let mut debug = false;
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--debug" => debug = true,
            "-v" | "--verbose" | "-q" | "--quiet" => {}
            "--os-cloud" | "--os-region-name" | "-f" | "--format" | "-c" | "--column" => i += 1,
            a if a.starts_with("--os-") && a.contains('=') => {}
            a => rest.push(a.to_string()),
        }
        i += 1;
    }
    let r: Vec<&str> = rest.iter().map(String::as_str).collect();
    let call = match r.as_slice() {
        ["coe", "cluster", "show", c] => OsCall::ClusterShow { cluster: c.to_string() },
        ["coe", "cluster", "list"] => OsCall::ClusterList,
        ["coe", "cluster", "template", "show", t] => OsCall::TemplateShow { template: t.to_string() },
        ["coe", "cluster", "template", "list"] => OsCall::TemplateList,
        ["coe", "nodegroup", "show", c, ng] => OsCall::NodegroupShow { cluster: c.to_string(), nodegroup: ng.to_string() },
        ["coe", "nodegroup", "list", c] => OsCall::NodegroupList { cluster: c.to_string() },
        ["coe", "cluster", "update", tail @ ..] => {
            let tail: Vec<&str> = tail.iter().copied().filter(|a| *a != "--rollback").collect();
            let [c, op, attrs @ ..] = tail.as_slice() else {
                return Err(usage("coe cluster update [--rollback] <cluster> <op> <attribute=value> [...]"));
            };
            OsCall::ClusterUpdate { cluster: c.to_string(), patch: patch(op, attrs)? }
        }
        ["coe", "nodegroup", "update", c, ng, op, attrs @ ..] => {
            OsCall::NodegroupUpdate { cluster: c.to_string(), nodegroup: ng.to_string(), patch: patch(op, attrs)? }
        }
        ["coe", "cluster", "resize", tail @ ..] => parse_resize(tail)?,
        ["coe", "nodegroup", "create", tail @ ..] => parse_nodegroup_create(tail)?,
        ["coe", "nodegroup", "delete", c, ngs @ ..] if !ngs.is_empty() => OsCall::NodegroupDelete {
            cluster: c.to_string(),
            nodegroups: ngs.iter().map(|s| s.to_string()).collect(),
        },
        _ => {
            return Err(format!(
                "unsupported openstack command `openstack {}`: magsim runs `coe cluster show|list|update|resize`, `coe cluster template show|list` and `coe nodegroup show|list|create|update|delete`",
                rest.join(" ")
            ))
        }
    };
    Ok(Command::Openstack { debug, call })
}

fn usage(u: &str) -> String {
    format!("expected `openstack {u}` (python-magnumclient 4.x syntax)")
}

fn patch(op: &str, attrs: &[&str]) -> Result<Vec<PatchOperation>, String> {
    let op = PatchOp::parse(op).ok_or_else(|| {
        format!("argument <op>: invalid choice: '{op}' (choose from 'add', 'replace', 'remove')")
    })?;
    if attrs.is_empty() {
        return Err("the following arguments are required: <attribute>".into());
    }
    Ok(attrs
        .iter()
        .map(|a| PatchOperation::from_cli(op, a))
        .collect())
}

fn parse_resize(args: &[&str]) -> Result<OsCall, String> {
    let (mut nodegroup, mut remove, mut pos) = (None, Vec::new(), Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--nodegroup" => nodegroup = it.next().map(|s| s.to_string()),
            "--nodes-to-remove" => remove.extend(it.next().map(|s| s.to_string())),
            s if s.starts_with("--nodegroup=") => {
                nodegroup = Some(s["--nodegroup=".len()..].to_string())
            }
            s => pos.push(s),
        }
    }
    let [cluster, count] = pos.as_slice() else {
        return Err(usage("coe cluster resize [--nodegroup <nodegroup>] [--nodes-to-remove <uuid>] <cluster> <node_count>"));
    };
    let node_count = count
        .parse::<i64>()
        .map_err(|_| format!("argument <node_count>: invalid int value: '{count}'"))?;
    Ok(OsCall::ClusterResize {
        cluster: cluster.to_string(),
        node_count,
        nodegroup,
        nodes_to_remove: remove,
    })
}

/// magnumclient's `CreateNodeGroup`: its argparse defaults (`--node-count 1`, `--min-nodes
/// 0`, `--role worker`) and the body it sends (`name`, `node_count`, `max_node_count`,
/// `min_node_count`, `role`, then the optional ones).
fn parse_nodegroup_create(args: &[&str]) -> Result<OsCall, String> {
    let usage_line = || {
        usage("coe nodegroup create [--node-count N] [--min-nodes N] [--max-nodes N] [--role R] [--flavor F] [--image I] [--labels K=V,...] [--docker-volume-size N] [--merge-labels] <cluster> <name>")
    };
    let mut flags: Vec<(&str, String)> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let (mut pos, mut merge) = (Vec::new(), false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (*a, None),
        };
        match flag {
            "--merge-labels" => merge = true,
            "--node-count"
            | "--min-nodes"
            | "--max-nodes"
            | "--role"
            | "--flavor"
            | "--image"
            | "--labels"
            | "--docker-volume-size" => {
                let v = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .map(|s| s.to_string())
                        .ok_or_else(|| format!("argument {flag}: expected one argument"))?,
                };
                match flag {
                    "--labels" => labels.push(v),
                    _ => flags.push((flag, v)),
                }
            }
            f if f.starts_with('-') => return Err(format!("unrecognized arguments: {f}")),
            p => pos.push(p),
        }
    }
    let [cluster, name] = pos.as_slice() else {
        return Err(usage_line());
    };
    let get = |f: &str| {
        flags
            .iter()
            .rev()
            .find(|(k, _)| *k == f)
            .map(|(_, v)| v.clone())
    };
    let int = |f: &str, meta: &str| -> Result<Option<i64>, String> {
        get(f)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| format!("argument {f}: invalid int value: '{v}' ({meta})"))
            })
            .transpose()
    };
    let mut body = serde_json::Map::new();
    body.insert("name".into(), name.to_string().into());
    body.insert(
        "node_count".into(),
        int("--node-count", "<node-count>")?.unwrap_or(1).into(),
    );
    body.insert(
        "max_node_count".into(),
        int("--max-nodes", "<max-nodes>")?.into(),
    );
    body.insert(
        "min_node_count".into(),
        int("--min-nodes", "<min-nodes>")?.unwrap_or(0).into(),
    );
    body.insert(
        "role".into(),
        get("--role").unwrap_or_else(|| "worker".into()).into(),
    );
    if !labels.is_empty() {
        body.insert("labels".into(), cli_labels(&labels)?.into());
    }
    if let Some(n) = int("--docker-volume-size", "<docker-volume-size>")? {
        body.insert("docker_volume_size".into(), n.into());
    }
    if let Some(f) = get("--flavor") {
        body.insert("flavor_id".into(), f.into());
    }
    if let Some(i) = get("--image") {
        body.insert("image_id".into(), i.into());
    }
    if merge {
        body.insert("merge_labels".into(), true.into());
    }
    Ok(OsCall::NodegroupCreate {
        cluster: cluster.to_string(),
        body: body.into(),
    })
}

/// magnumclient's `format_labels`: `--labels` given once may hold several `K=V` split on
/// `,` or `;`; a key given twice joins its values with `,`.
fn cli_labels(given: &[String]) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let items: Vec<String> = if given.len() == 1 && given[0].matches('=').count() > 1 {
        given[0]
            .replace(';', ",")
            .split(',')
            .map(str::to_string)
            .collect()
    } else {
        given.to_vec()
    };
    let mut labels = serde_json::Map::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("labels must be a list of KEY=VALUE not {item}"))?;
        match labels.get_mut(k) {
            Some(serde_json::Value::String(old)) => {
                old.push(',');
                old.push_str(v);
            }
            _ => {
                labels.insert(k.to_string(), v.to_string().into());
            }
        }
    }
    Ok(labels)
}

fn parse_kubectl(args: &[String]) -> Result<Command, String> {
    let mut namespace = None;
    let mut all_namespaces = false;
    let mut output: Option<String> = None;
    let mut replicas: Option<String> = None;
    let mut field_selector = None;
    let mut file = false;
    let mut container = None;
    let mut previous = false;
    let mut tail: Option<String> = None;
    let mut timestamps = false;
    let mut pos: Vec<String> = Vec::new();
    let mut i = 0;
    let take = |i: &mut usize| -> Result<String, String> {
        *i += 1;
        args.get(*i)
            .cloned()
            .ok_or_else(|| format!("flag needs an argument: {}", args[*i - 1]))
    };
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-n" | "--namespace" => namespace = Some(take(&mut i)?),
            "-A" | "--all-namespaces" => all_namespaces = true,
            "-o" | "--output" => output = Some(take(&mut i)?),
            "-f" | "--filename" => {
                take(&mut i)?;
                file = true;
            }
            "--replicas" => replicas = Some(take(&mut i)?),
            "--field-selector" => field_selector = Some(take(&mut i)?),
            "-c" | "--container" => container = Some(take(&mut i)?),
            "-p" | "--previous" => previous = true,
            "--tail" => tail = Some(take(&mut i)?),
            "--timestamps" => timestamps = true,
            _ if a.starts_with("--container=") => container = Some(a[12..].to_string()),
            _ if a.starts_with("--tail=") => tail = Some(a[7..].to_string()),
            _ if a.starts_with("--namespace=") => namespace = Some(a[12..].to_string()),
            _ if a.starts_with("-o=") => output = Some(a[3..].to_string()),
            _ if a.starts_with("--output=") => output = Some(a[9..].to_string()),
            _ if a.starts_with("-o") && a.len() > 2 => output = Some(a[2..].to_string()),
            _ if a.starts_with("--replicas=") => replicas = Some(a[11..].to_string()),
            _ if a.starts_with("--field-selector=") => field_selector = Some(a[17..].to_string()),
            _ if a.starts_with("--filename=") => file = true,
            _ if a.starts_with('-') => return Err(format!("unsupported kubectl flag {a}")),
            _ => pos.push(a.to_string()),
        }
        i += 1;
    }
    let wide = output.as_deref() == Some("wide");
    let p: Vec<&str> = pos.iter().map(String::as_str).collect();
    let (kind, name) = match p.get(1) {
        Some(s) if s.contains('/') => {
            let (k, n) = s.split_once('/').unwrap_or((s, ""));
            (Some(k.to_string()), Some(n.to_string()))
        }
        Some(s) => (Some(s.to_string()), p.get(2).map(|n| n.to_string())),
        None => (None, None),
    };
    let kind = kind.map(|k| canonical_kind(&k));
    let call = match (p.first().copied(), kind.as_deref(), name) {
        (Some("scale"), Some("deployment"), Some(name)) => {
            let r = replicas.ok_or("kubectl scale needs --replicas")?;
            let replicas: u32 = r.parse().map_err(|_| format!("invalid argument \"{r}\" for \"--replicas\" flag"))?;
            let max = magsim_sim::limits::MAX_PODS;
            if replicas > max {
                return Err(format!("--replicas={replicas}: expected at most {max} (magsim's limit on pods per scenario)"));
            }
            KubectlCall::Scale { name, replicas }
        }
        (Some("apply"), None, None) if file => KubectlCall::Apply,
        (Some("delete"), None, None) if file => KubectlCall::DeleteManifest,
        (Some("delete"), Some(k), Some(name)) => KubectlCall::Delete { kind: k.to_string(), name },
        (Some("cordon"), Some(node), None) => KubectlCall::Cordon { node: node.to_string(), unschedulable: true },
        (Some("uncordon"), Some(node), None) => KubectlCall::Cordon { node: node.to_string(), unschedulable: false },
        (Some("get"), Some("pod"), name) => KubectlCall::GetPods { all_namespaces, wide, name },
        (Some("get"), Some("node"), None) => KubectlCall::GetNodes { wide },
        (Some("get"), Some("event"), None) => KubectlCall::GetEvents { field_selector },
        (Some("get"), Some("deployment"), name) => KubectlCall::GetDeployment { name },
        (Some("describe"), Some("pod"), Some(name)) => KubectlCall::DescribePod { name },
        (Some("logs"), Some(k), name) => {
            let target = match (k, name) {
                ("deployment", Some(name)) => LogsTarget::Deployment(name),
                ("pod", Some(name)) => LogsTarget::Pod(name),
                (pod, None) => LogsTarget::Pod(pod.to_string()),
                (k, Some(_)) => return Err(format!("kubectl logs of a {k}: magsim reads the logs of pods and deployments")),
            };
            let tail = match tail.as_deref() {
                None | Some("-1") => None,
                Some(t) => Some(t.parse().map_err(|_| format!("invalid argument \"{t}\" for \"--tail\" flag"))?),
            };
            KubectlCall::Logs { target, container, previous, tail, timestamps }
        }
        (Some("get"), Some("configmap"), Some(name)) => {
            let key = output.as_deref().and_then(|o| o.strip_prefix("jsonpath=")).map(|j| {
                j.trim_matches('\'').trim_start_matches("{.data.").trim_end_matches('}').to_string()
            });
            KubectlCall::GetConfigMap { name, data_key: key }
        }
        _ => {
            return Err(format!(
                "unsupported kubectl command `kubectl {}`: magsim runs scale, apply -f, delete, cordon, uncordon, get pods|nodes|events|deploy|configmap, describe pod and logs",
                args.join(" ")
            ))
        }
    };
    Ok(Command::Kubectl {
        namespace: namespace.filter(|_| !all_namespaces),
        call,
    })
}

fn canonical_kind(k: &str) -> String {
    match k {
        "po" | "pod" | "pods" => "pod",
        "no" | "node" | "nodes" => "node",
        "ev" | "event" | "events" => "event",
        "deploy" | "deployment" | "deployments" | "deployment.apps" => "deployment",
        "cm" | "configmap" | "configmaps" => "configmap",
        "secret" | "secrets" => "secret",
        other => other,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn incident_commands_parse() {
        let Command::Openstack {
            debug,
            call: OsCall::ClusterUpdate { cluster, patch },
        } = parse("openstack --debug coe cluster update k8s replace labels/max_node_count=6")
            .unwrap()
        else {
            panic!("wrong shape")
        };
        assert!(debug);
        assert_eq!(cluster, "k8s");
        assert_eq!(patch[0].path, "/labels/max_node_count");
        assert_eq!(patch[0].value, Some(json!(6)));
        assert!(matches!(
            parse("openstack coe nodegroup update k8s default-worker replace max_node_count=6")
                .unwrap(),
            Command::Openstack {
                call: OsCall::NodegroupUpdate { .. },
                ..
            }
        ));
        assert_eq!(
            parse("openstack coe cluster resize --nodegroup default-worker k8s 6").unwrap(),
            Command::Openstack {
                debug: false,
                call: OsCall::ClusterResize {
                    cluster: "k8s".into(),
                    node_count: 6,
                    nodegroup: Some("default-worker".into()),
                    nodes_to_remove: vec![]
                }
            }
        );
        assert_eq!(
            parse("kubectl -n kube-system get configmap cluster-autoscaler-status -o jsonpath='{.data.status}'").unwrap(),
            Command::Kubectl { namespace: Some("kube-system".into()), call: KubectlCall::GetConfigMap { name: "cluster-autoscaler-status".into(), data_key: Some("status".into()) } }
        );
        assert_eq!(
            parse("kubectl scale deploy/high-memory-deployment --replicas=7").unwrap(),
            Command::Kubectl {
                namespace: None,
                call: KubectlCall::Scale {
                    name: "high-memory-deployment".into(),
                    replicas: 7
                }
            }
        );
        assert!(matches!(
            parse("kubectl describe pod x").unwrap(),
            Command::Kubectl {
                call: KubectlCall::DescribePod { .. },
                ..
            }
        ));
    }

    #[test]
    fn bad_commands_say_what_is_supported() {
        assert!(parse("openstack coe cluster update k8s set labels/x=1")
            .unwrap_err()
            .contains("invalid choice: 'set'"));
        assert!(parse("helm upgrade x")
            .unwrap_err()
            .contains("unsupported command"));
        assert!(parse("openstack server list")
            .unwrap_err()
            .contains("coe cluster show"));
        assert!(parse("kubectl scale deploy/x")
            .unwrap_err()
            .contains("--replicas"));
    }

    #[test]
    fn scale_past_the_pod_limit_is_refused() {
        let e = parse("kubectl scale deploy/web --replicas=1000000").unwrap_err();
        assert!(
            e.contains("--replicas=1000000: expected at most 200000"),
            "{e}"
        );
        assert!(parse("kubectl scale deploy/web --replicas=200000").is_ok());
    }
}
