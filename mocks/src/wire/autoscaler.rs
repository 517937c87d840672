//! The simulated autoscaler over the wire: [`Outside`] as HTTP requests to the running mocks.
//! The magnum provider authenticates with Keystone using its cloud-config (password, trust
//! scope when it names one), reads nodegroups from Magnum and resizes through
//! `actions/resize`; the clusterapi provider scales MachineDeployments through the
//! Kubernetes API; events and the status ConfigMap are written to the Kubernetes mock.
//!
//! The loop's view of the world is a copy taken when the loop starts and refreshed after each
//! write it makes, as an informer follows the server. Request ids are pinned from a counter,
//! so the engine draws nothing for the autoscaler's calls, as in memory. The gophercloud
//! behaviour (first authentication, one retry after a 401, error texts naming the scenario's
//! endpoints, not the ephemeral ports) is the one memory uses: [`gophercloud_request`] over
//! this module's [`Transport`]. Server deletion of a never-registered machine has no API in
//! the mocks and goes straight to the engine, as does upstream's in-process test provider.

use crate::openstack::pseudo_uuid4;
use crate::{Live, MockCloud};
use magsim_sim::autoscaler::outside::{gophercloud_request, MagnumCall, Outside, Reply, Transport};
use magsim_sim::autoscaler::Autoscaler;
use magsim_sim::cloud::python_json;
use magsim_sim::deploy::ProviderKind;
use magsim_sim::engine::LoopTask;
use magsim_sim::kube::{EventType, ObjectRef};
use magsim_sim::time::SimTime;
use magsim_sim::world::{ConfigMapData, World};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const JSON: &str = "application/json";

/// The autoscalers' HTTP client for one [`MockCloud`]: tokens and request numbering last
/// the whole run.
pub struct AutoscalerClient {
    http: reqwest::Client,
    live: Live,
    keystone: String,
    magnum: String,
    kube: String,
    /// Real tokens by the virtual time they were issued.
    tokens: BTreeMap<SimTime, String>,
    requests: u64,
}

impl AutoscalerClient {
    pub fn new(cloud: &MockCloud) -> AutoscalerClient {
        AutoscalerClient {
            http: reqwest::Client::new(),
            live: cloud.live.clone(),
            keystone: cloud.openstack.urls.keystone.clone(),
            magnum: cloud.openstack.urls.magnum.clone(),
            kube: cloud.kube.url.clone(),
            tokens: BTreeMap::new(),
            requests: 0,
        }
    }

    /// Runs the engine to `t`, each autoscaler loop on the way against the mocks.
    pub fn run_until(&mut self, rt: &tokio::runtime::Runtime, t: SimTime) {
        while let Some(mut task) = self.live.mutate(|e| e.run_until_loop(t)) {
            self.run_loop(rt, &mut task);
            self.live.mutate(|e| e.finish_loop(task));
        }
    }

    fn run_loop(&mut self, rt: &tokio::runtime::Runtime, task: &mut LoopTask) {
        let auth = auth_body(&task.autoscaler, &self.live.engine().world);
        let view = self.live.engine().world.clone();
        let clusterapi = task
            .autoscaler
            .running()
            .is_some_and(|r| matches!(r.started.provider, ProviderKind::ClusterApi));
        let mut out = WireOutside {
            client: self,
            rt,
            view,
            auth,
        };
        if clusterapi {
            out.list_machine_deployments();
        }
        task.run(&mut out);
    }
}

/// One loop's outside world over HTTP.
struct WireOutside<'a> {
    client: &'a mut AutoscalerClient,
    rt: &'a tokio::runtime::Runtime,
    view: World,
    /// Keystone's `auth` body from the autoscaler's cloud-config.
    auth: Value,
}

impl WireOutside<'_> {
    fn refresh_view(&mut self) {
        self.view = self.client.live.engine().world.clone();
    }

    /// The clusterapi provider's informer: MachineDeployments as the Kubernetes API lists
    /// them, their annotations and replicas replacing the view's.
    fn list_machine_deployments(&mut self) {
        let c = &mut *self.client;
        let url = format!(
            "{}/apis/cluster.x-k8s.io/v1beta1/machinedeployments",
            c.kube
        );
        let req = c.http.get(url).header("Accept", "application/json");
        let Some(list) = self
            .rt
            .block_on(req.send())
            .ok()
            .and_then(|r| json_of(self.rt, r))
        else {
            tracing::warn!("the Kubernetes mock did not list MachineDeployments");
            return;
        };
        for item in list["items"].as_array().into_iter().flatten() {
            let meta = &item["metadata"];
            let Some(md) = self.view.machine_deployments.iter_mut().find(|m| {
                meta["name"].as_str() == Some(&m.name)
                    && meta["namespace"].as_str() == Some(&m.namespace)
            }) else {
                continue;
            };
            md.annotations = meta["annotations"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect();
            if let Some(n) = item["spec"]["replicas"].as_u64() {
                md.replicas = n as u32;
            }
        }
    }

    /// `POST /v3/auth/tokens` with the cloud-config's credentials.
    fn post_token(&mut self, now: SimTime) -> Result<(), Reply> {
        let c = &mut *self.client;
        let url = format!("{}/v3/auth/tokens", c.keystone);
        let req = c
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .body(self.auth.to_string());
        let resp = match self.rt.block_on(req.send()) {
            Ok(r) => r,
            Err(_) => return Err(Reply::Dropped),
        };
        let status = resp.status().as_u16();
        let token = resp
            .headers()
            .get("X-Subject-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = json_of(self.rt, resp).unwrap_or(Value::Null);
        match token {
            Some(t) if status == 201 => {
                c.tokens.insert(now, t);
                Ok(())
            }
            _ => Err(Reply::Answer { status, body }),
        }
    }

    /// `call` as gophercloud sends it, with the token issued at `issued` and a pinned id.
    fn request(&mut self, call: &MagnumCall, issued: SimTime) -> Reply {
        let c = &mut *self.client;
        c.requests += 1;
        let token = c.tokens.get(&issued).cloned().unwrap_or_default();
        let url = format!("{}{}", c.magnum, call.path);
        let method: Method = call.method.parse().expect("an HTTP method");
        let mut req = c
            .http
            .request(method, url)
            .header("Accept", "application/json")
            .header("OpenStack-API-Version", "container-infra latest")
            .header("X-Auth-Token", token)
            .header(
                "X-OpenStack-Request-ID",
                format!("req-{}", pseudo_uuid4(u64::MAX - c.requests)),
            );
        if let Some(b) = &call.body {
            req = req
                .header("Content-Type", "application/json")
                .body(python_json(b));
        }
        let Ok(resp) = self.rt.block_on(req.send()) else {
            return Reply::Dropped;
        };
        let status = resp.status().as_u16();
        match json_of(self.rt, resp) {
            Some(body) => Reply::Answer { status, body },
            None => Reply::Dropped,
        }
    }

    /// What an accepted call leaves behind: detail reads update the view's nodegroup (the
    /// provider reads its bounds from them); writes refresh it from the server.
    fn accepted(&mut self, call: &MagnumCall, body: &Value) {
        if call.op.is_some() {
            self.refresh_view();
            return;
        }
        let Some(name) = body["name"].as_str() else {
            return;
        };
        let Some(c) = self.view.cluster.as_mut() else {
            return;
        };
        if let Some(ng) = c.nodegroups.iter_mut().find(|n| n.name == name) {
            if let Some(n) = body["node_count"].as_u64() {
                ng.node_count = n as u32;
            }
            if let Some(n) = body["min_node_count"].as_u64() {
                ng.min_node_count = n as u32;
            }
            ng.max_node_count = body["max_node_count"].as_u64().map(|n| n as u32);
        }
    }

    /// A Kubernetes write; `Err` has the status and the `Status` message.
    fn kube(
        &mut self,
        method: Method,
        path: &str,
        body: Value,
        content_type: &str,
    ) -> Result<(), (u16, String)> {
        let c = &mut *self.client;
        let req = c
            .http
            .request(method, format!("{}{path}", c.kube))
            .header("Accept", "application/json")
            .header("Content-Type", content_type)
            .body(body.to_string());
        let resp = self
            .rt
            .block_on(req.send())
            .map_err(|e| (0, e.to_string()))?;
        let code = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok(());
        }
        let status = json_of(self.rt, resp).unwrap_or(Value::Null);
        let message = status["message"].as_str().unwrap_or("error").to_string();
        Err((code, message))
    }
}

impl Transport for WireOutside<'_> {
    fn authenticate(&mut self, now: SimTime) -> Result<(), Reply> {
        self.post_token(now)
    }

    fn send(&mut self, _now: SimTime, issued: SimTime, call: &MagnumCall) -> Reply {
        let r = self.request(call, issued);
        if let Reply::Answer { status, body } = &r {
            if call.ok.contains(status) {
                self.accepted(call, body);
            }
        }
        r
    }
}

impl Outside for WireOutside<'_> {
    fn world(&self) -> &World {
        &self.view
    }

    fn log(&mut self, now: SimTime, actor: &str, text: String) {
        self.client.live.mutate(|e| e.trace.push(now, actor, text));
    }

    fn magnum(
        &mut self,
        now: SimTime,
        token: &mut Option<SimTime>,
        call: &MagnumCall,
        notes: &mut Vec<String>,
    ) -> Result<(), String> {
        gophercloud_request(self, now, token, call, notes)
    }

    fn scale_machine_deployment(&mut self, index: usize, replicas: u32) -> Result<(), String> {
        let md = self
            .view
            .machine_deployments
            .get(index)
            .ok_or("MachineDeployment gone")?;
        let path = format!(
            "/apis/cluster.x-k8s.io/v1beta1/namespaces/{}/machinedeployments/{}/scale",
            md.namespace, md.name
        );
        let patch = json!({"spec": {"replicas": replicas}});
        self.kube(Method::PATCH, &path, patch, "application/merge-patch+json")
            .map_err(|(_, message)| message)?;
        self.refresh_view();
        Ok(())
    }

    fn set_test_group_target(&mut self, name: &str, target: u32) -> Result<(), String> {
        let answer = self.client.live.mutate(|e| {
            let g = e.world.test_groups.iter_mut().find(|g| g.name == name);
            g.map(|g| g.target = target).ok_or("test node group gone")
        });
        self.refresh_view();
        answer.map_err(str::to_string)
    }

    fn remove_unregistered(&mut self, machine: &str) -> Option<u32> {
        let target = self.client.live.mutate(|e| e.world.shrink(machine));
        self.refresh_view();
        target
    }

    fn record_event(
        &mut self,
        now: SimTime,
        obj: ObjectRef,
        t: EventType,
        reason: &'static str,
        message: Arc<str>,
    ) {
        let ts = self.client.live.engine().epoch.at(now).rfc3339();
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": format!("{}.", obj.name), "namespace": obj.namespace},
            "involvedObject": {"kind": obj.kind, "namespace": obj.namespace, "name": obj.name},
            "reason": reason,
            "message": &*message,
            "type": t.as_str(),
            "source": {"component": "cluster-autoscaler"},
            "count": 1,
            "firstTimestamp": ts,
            "lastTimestamp": ts,
        });
        let path = format!("/api/v1/namespaces/{}/events", obj.namespace);
        if let Err((_, e)) = self.kube(Method::POST, &path, event, "application/json") {
            tracing::warn!("the Kubernetes mock refused an event: {e}");
        }
    }

    fn write_config_map(&mut self, namespace: &str, name: &str, data: ConfigMapData) {
        let body = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace},
            "data": data.data(),
        });
        // As upstream's WriteStatusConfigMap: update, or create when there is none.
        let list = format!("/api/v1/namespaces/{namespace}/configmaps");
        let answer = match self.kube(Method::PUT, &format!("{list}/{name}"), body.clone(), JSON) {
            Err((404, _)) => self.kube(Method::POST, &list, body, JSON),
            other => other,
        };
        if let Err((_, e)) = answer {
            tracing::warn!("the Kubernetes mock refused the status ConfigMap: {e}");
        }
    }
}

/// Keystone's `auth` body for the autoscaler's cloud-config: password of its user, scoped to
/// its trust when it names one; the mock's application credential when it has none (the
/// clusterapi provider never asks).
fn auth_body(a: &Autoscaler, world: &World) -> Value {
    let global = a.running().and_then(|r| {
        let path = r.started.options.cloud_config.as_ref()?;
        let text = a.spec.files(world).get(path)?.clone();
        magsim_sim::deploy::cloud_config::parse_cloud_config(&text)
            .ok()
            .map(|c| c.global)
    });
    let Some(g) = global else {
        return Value::Null;
    };
    let user = match (&g.user_id, &g.username) {
        (Some(id), _) => json!({"id": id, "password": g.password}),
        (None, name) => {
            json!({"name": name, "domain": {"name": g.domain_name.clone().unwrap_or_else(|| "Default".into())}, "password": g.password})
        }
    };
    let mut auth = json!({"identity": {"methods": ["password"], "password": {"user": user}}});
    if let Some(trust) = &g.trust_id {
        auth["scope"] = json!({"OS-TRUST:trust": {"id": trust}});
    } else if let Some(project) = &g.tenant_id {
        auth["scope"] = json!({"project": {"id": project}});
    }
    json!({ "auth": auth })
}

/// A response's JSON body; `None` when the body breaks off or is not JSON.
fn json_of(rt: &tokio::runtime::Runtime, resp: reqwest::Response) -> Option<Value> {
    let bytes = rt.block_on(resp.bytes()).ok()?;
    serde_json::from_slice(&bytes).ok()
}
