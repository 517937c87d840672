//! The protobuf bodies of apps/v1 `Deployment` and the core/v1 pod template inside it, as
//! client-go's typed clients send them (`kubectl create deployment`): the fields magsim's
//! engine reads (replicas, selector, the pod template's labels, containers with their image,
//! command, resources, ports and mounts, volumes, node selector, tolerations), in the JSON
//! form the rest of the server takes. Field numbers are `k8s.io/api`'s `generated.proto`.

use super::protobuf::{each, map_entry, object_meta, push_message, push_text, text, Result, Wire};
use serde_json::{json, Map, Value};

/// A string field, omitted when empty (proto3 writes every unset string as "", JSON omits it).
fn put(m: &mut Map<String, Value>, key: &str, b: &[u8]) -> Result<()> {
    if !b.is_empty() {
        m.insert(key.into(), text(b)?);
    }
    Ok(())
}

/// `Deployment`: metadata 1, spec 2 (status 3 is the controller's).
pub(super) fn deployment(raw: &[u8]) -> Result<Value> {
    let mut o = Map::new();
    each(raw, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => {
                o.insert("metadata".into(), object_meta(b)?);
            }
            (2, Wire::Bytes(b)) => {
                o.insert("spec".into(), deployment_spec(b)?);
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(Value::Object(o))
}

/// `DeploymentSpec`: replicas 1, selector 2, template 3, minReadySeconds 5,
/// revisionHistoryLimit 6, paused 7, progressDeadlineSeconds 9.
fn deployment_spec(b: &[u8]) -> Result<Value> {
    let mut s = Map::new();
    each(b, |n, w| {
        match (n, w) {
            (1, Wire::Varint(v)) => {
                s.insert("replicas".into(), v.into());
            }
            (2, Wire::Bytes(b)) => {
                s.insert("selector".into(), label_selector(b)?);
            }
            (3, Wire::Bytes(b)) => {
                s.insert("template".into(), pod_template(b)?);
            }
            (5, Wire::Varint(v)) if v != 0 => {
                s.insert("minReadySeconds".into(), v.into());
            }
            (6, Wire::Varint(v)) => {
                s.insert("revisionHistoryLimit".into(), v.into());
            }
            (7, Wire::Varint(v)) if v != 0 => {
                s.insert("paused".into(), true.into());
            }
            (9, Wire::Varint(v)) => {
                s.insert("progressDeadlineSeconds".into(), v.into());
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(Value::Object(s))
}

/// `LabelSelector`: matchLabels 1, matchExpressions 2 (key 1, operator 2, values 3).
fn label_selector(b: &[u8]) -> Result<Value> {
    let (mut labels, mut exprs) = (Map::new(), Map::new());
    each(b, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => map_entry(b, &mut labels, true)?,
            (2, Wire::Bytes(b)) => push_message(&mut exprs, "matchExpressions", b, |b| {
                let mut e = Map::new();
                each(b, |n, w| {
                    match (n, w) {
                        (1, Wire::Bytes(b)) => {
                            put(&mut e, "key", b)?;
                        }
                        (2, Wire::Bytes(b)) => {
                            put(&mut e, "operator", b)?;
                        }
                        (3, Wire::Bytes(b)) => push_text(&mut e, "values", b)?,
                        _ => {}
                    }
                    Ok(())
                })?;
                Ok(Value::Object(e))
            })?,
            _ => {}
        }
        Ok(())
    })?;
    let mut s = Map::new();
    if !labels.is_empty() {
        s.insert("matchLabels".into(), Value::Object(labels));
    }
    if let Some(e) = exprs.remove("matchExpressions") {
        s.insert("matchExpressions".into(), e);
    }
    Ok(Value::Object(s))
}

/// `PodTemplateSpec`: metadata 1, spec 2.
fn pod_template(b: &[u8]) -> Result<Value> {
    let mut t = Map::new();
    each(b, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => {
                t.insert("metadata".into(), object_meta(b)?);
            }
            (2, Wire::Bytes(b)) => {
                t.insert("spec".into(), pod_spec(b)?);
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(Value::Object(t))
}

/// `PodSpec`: volumes 1, containers 2, restartPolicy 3, nodeSelector 7,
/// serviceAccountName 8, nodeName 10, tolerations 22, priorityClassName 24.
fn pod_spec(b: &[u8]) -> Result<Value> {
    let (mut s, mut selector) = (Map::new(), Map::new());
    each(b, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => push_message(&mut s, "volumes", b, volume)?,
            (2, Wire::Bytes(b)) => push_message(&mut s, "containers", b, container)?,
            (7, Wire::Bytes(b)) => map_entry(b, &mut selector, true)?,
            (22, Wire::Bytes(b)) => push_message(&mut s, "tolerations", b, toleration)?,
            (n, Wire::Bytes(b)) => {
                let key = match n {
                    3 => "restartPolicy",
                    8 => "serviceAccountName",
                    10 => "nodeName",
                    24 => "priorityClassName",
                    _ => return Ok(()),
                };
                put(&mut s, key, b)?;
            }
            _ => {}
        }
        Ok(())
    })?;
    if !selector.is_empty() {
        s.insert("nodeSelector".into(), Value::Object(selector));
    }
    Ok(Value::Object(s))
}

/// `Container`: name 1, image 2, command 3, args 4, workingDir 5, ports 6, env 7,
/// resources 8, volumeMounts 9, imagePullPolicy 14.
fn container(b: &[u8]) -> Result<Value> {
    let mut c = Map::new();
    each(b, |n, w| {
        let Wire::Bytes(b) = w else { return Ok(()) };
        match n {
            1 => {
                put(&mut c, "name", b)?;
            }
            2 => {
                put(&mut c, "image", b)?;
            }
            3 => push_text(&mut c, "command", b)?,
            4 => push_text(&mut c, "args", b)?,
            5 => {
                put(&mut c, "workingDir", b)?;
            }
            6 => push_message(&mut c, "ports", b, port)?,
            7 => push_message(&mut c, "env", b, |b| {
                super::protobuf::strings(b, &["name", "value"])
            })?,
            8 => {
                c.insert("resources".into(), resources(b)?);
            }
            9 => push_message(&mut c, "volumeMounts", b, volume_mount)?,
            14 => {
                put(&mut c, "imagePullPolicy", b)?;
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(Value::Object(c))
}

/// `ContainerPort`: name 1, hostPort 2, containerPort 3, protocol 4.
fn port(b: &[u8]) -> Result<Value> {
    let mut p = Map::new();
    each(b, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => {
                put(&mut p, "name", b)?;
            }
            (2, Wire::Varint(v)) => {
                p.insert("hostPort".into(), v.into());
            }
            (3, Wire::Varint(v)) => {
                p.insert("containerPort".into(), v.into());
            }
            (4, Wire::Bytes(b)) => {
                put(&mut p, "protocol", b)?;
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(Value::Object(p))
}

/// `ResourceRequirements`: limits 1 and requests 2, maps of `Quantity` (string 1).
fn resources(b: &[u8]) -> Result<Value> {
    let (mut limits, mut requests) = (Map::new(), Map::new());
    each(b, |n, w| {
        let (Wire::Bytes(b), Some(into)) = (
            w,
            match n {
                1 => Some(&mut limits),
                2 => Some(&mut requests),
                _ => None,
            },
        ) else {
            return Ok(());
        };
        let (mut key, mut value) = (String::new(), Value::Null);
        each(b, |n, w| {
            match (n, w) {
                (1, Wire::Bytes(b)) => {
                    key = text(b)?.as_str().unwrap_or_default().to_string();
                }
                (2, Wire::Bytes(q)) => {
                    each(q, |n, w| {
                        if let (1, Wire::Bytes(s)) = (n, w) {
                            value = text(s)?;
                        }
                        Ok(())
                    })?;
                }
                _ => {}
            }
            Ok(())
        })?;
        into.insert(key, value);
        Ok(())
    })?;
    let mut r = Map::new();
    for (k, m) in [("limits", limits), ("requests", requests)] {
        if !m.is_empty() {
            r.insert(k.into(), Value::Object(m));
        }
    }
    Ok(Value::Object(r))
}

/// `VolumeMount`: name 1, readOnly 2, mountPath 3, subPath 4.
fn volume_mount(b: &[u8]) -> Result<Value> {
    let mut m = Map::new();
    each(b, |n, w| {
        match (n, w) {
            (2, Wire::Varint(v)) => {
                m.insert("readOnly".into(), (v != 0).into());
            }
            (n @ (1 | 3 | 4), Wire::Bytes(b)) => {
                let key = ["name", "", "mountPath", "subPath"][n as usize - 1];
                put(&mut m, key, b)?;
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(Value::Object(m))
}

/// `Volume`: name 1, volumeSource 2 (secret 6: secretName 1; configMap 19: name 1 of its
/// LocalObjectReference 1; emptyDir 2).
fn volume(b: &[u8]) -> Result<Value> {
    let mut v = Map::new();
    each(b, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => {
                put(&mut v, "name", b)?;
            }
            (2, Wire::Bytes(src)) => each(src, |n, w| {
                match (n, w) {
                    (6, Wire::Bytes(s)) => {
                        v.insert(
                            "secret".into(),
                            super::protobuf::strings(s, &["secretName"])?,
                        );
                    }
                    (19, Wire::Bytes(c)) => {
                        let mut name = Value::Null;
                        each(c, |n, w| {
                            if let (1, Wire::Bytes(r)) = (n, w) {
                                name = super::protobuf::strings(r, &["name"])?["name"].clone();
                            }
                            Ok(())
                        })?;
                        v.insert("configMap".into(), json!({"name": name}));
                    }
                    (2, Wire::Bytes(_)) => {
                        v.insert("emptyDir".into(), json!({}));
                    }
                    _ => {}
                }
                Ok(())
            })?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(Value::Object(v))
}

/// `Toleration`: key 1, operator 2, value 3, effect 4, tolerationSeconds 5.
fn toleration(b: &[u8]) -> Result<Value> {
    let mut t = Map::new();
    each(b, |n, w| {
        match (n, w) {
            (5, Wire::Varint(v)) => {
                t.insert("tolerationSeconds".into(), v.into());
            }
            (n @ 1..=4, Wire::Bytes(b)) => {
                let key = ["key", "operator", "value", "effect"][n as usize - 1];
                put(&mut t, key, b)?;
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(Value::Object(t))
}
