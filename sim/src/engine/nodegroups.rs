//! The conductor's and the driver's half of nodegroup create and delete
//! (`magnum/conductor/handlers/nodegroup_conductor.py`; magnum-capi-helm's
//! `create_nodegroup` / `delete_nodegroup`, which re-render the Helm release).
//!
//! A created nodegroup is `CREATE_IN_PROGRESS` until all its machines have Ready nodes, then
//! `CREATE_COMPLETE`. Under magnum-capi-helm every render validates every nodegroup's counts
//! (`_get_autoscale_values` → `_validate_allowed_node_counts`), so a nodegroup the driver
//! refuses (the CLI's default `--min-nodes 0`, for one) is `CREATE_FAILED` with the driver's
//! reason, the cluster `UPDATE_FAILED`, and later updates fail the same way until it is
//! deleted. A delete removes the nodegroup's MachineDeployment (or Heat stack) with its
//! servers at once; their pods go back to their ReplicaSets.

use super::ops::ApiResponse;
use super::Engine;
use crate::cloud::magnum::nodegroup_json;
use crate::cloud::NewNodegroup;
use serde_json::Value;

impl Engine {
    pub(super) fn create_nodegroup(&mut self, cluster: &str, body: &Value) -> ApiResponse {
        let new = match NewNodegroup::from_json(body) {
            Ok(n) => n,
            Err(e) => return ApiResponse::err(e),
        };
        let flavors = &self.world.flavors;
        let admitted = self.cluster_for(cluster).and_then(|c| {
            c.admit_nodegroup(&new, String::new(), |f| flavors.contains_key(f))
                .map(|ng| (ng, c.driver.is_capi()))
        });
        let (mut ng, capi) = match admitted {
            Ok(x) => x,
            Err(e) => return ApiResponse::err(e),
        };
        // Derived, not drawn: the seeded stream stays as it was, and a client that draws its
        // request id before the call (the wire runner) sees the same uuid.
        let at = self.now.as_millis().to_string();
        let cluster_uuid = self.world.cluster.as_ref().map_or("", |c| c.uuid.as_str());
        ng.uuid = crate::ids::derived_uid(&["nodegroup", cluster_uuid, &ng.name, &at]);
        if !capi {
            // The Heat driver creates a stack of the nodegroup's own.
            ng.stack_id = Some(crate::ids::derived_uid(&["stack", &ng.uuid]));
        }
        let name = ng.name.clone();
        let c = self.world.cluster.as_mut().expect("found above");
        let body = nodegroup_json(c, &ng);
        c.nodegroups.push(ng);
        self.trace.push(
            self.now,
            "magnum",
            format!("nodegroup {name} CREATE_IN_PROGRESS"),
        );
        if let Err(e) = self.world.rerender(None) {
            self.trace.push(
                self.now,
                "magnum",
                format!("nodegroup {name} CREATE_FAILED: {e}"),
            );
            if let Some(ng) = self.nodegroup_record(&name) {
                ng.status = "CREATE_FAILED".into();
                ng.status_reason = Some(e);
            }
        } else {
            self.log_bounds();
        }
        ApiResponse::ok(202, body)
    }

    pub(super) fn delete_nodegroup(&mut self, cluster: &str, ident: &str) -> ApiResponse {
        let name = match self
            .cluster_for(cluster)
            .and_then(|c| c.check_delete_nodegroup(ident))
        {
            Ok(n) => n,
            Err(e) => return ApiResponse::err(e),
        };
        let c = self.world.cluster.as_mut().expect("found above");
        let i = c
            .nodegroups
            .iter()
            .position(|n| n.name == name)
            .expect("checked above");
        let removed = c.nodegroups.remove(i);
        self.trace.push(
            self.now,
            "magnum",
            format!("nodegroup {name} DELETE_IN_PROGRESS"),
        );
        if let Err(e) = self.world.rerender(None) {
            // The release still fails without it: the conductor keeps it, DELETE_FAILED.
            let c = self.world.cluster.as_mut().expect("found above");
            c.nodegroups.insert(i, removed);
            if let Some(ng) = self.nodegroup_record(&name) {
                ng.status = "DELETE_FAILED".into();
                ng.status_reason = Some(e.clone());
            }
            self.trace.push(
                self.now,
                "magnum",
                format!("nodegroup {name} DELETE_FAILED: {e}"),
            );
            return ApiResponse::ok(204, Value::Null);
        }
        self.world
            .machine_deployments
            .retain(|m| m.nodegroup != name);
        while let Some(i) = self.world.machines.iter().position(|m| m.nodegroup == name) {
            let m = self.world.remove_machine(i);
            self.server_deleted(&m);
        }
        self.trace
            .push(self.now, "magnum", format!("nodegroup {name} deleted"));
        ApiResponse::ok(204, Value::Null)
    }

    /// The driver's status poll: a `CREATE_IN_PROGRESS` nodegroup whose machines all have
    /// Ready nodes is `CREATE_COMPLETE`.
    pub(super) fn complete_nodegroups(&mut self) {
        let Some(c) = self.world.cluster.as_ref() else {
            return;
        };
        let done: Vec<String> = c
            .nodegroups
            .iter()
            .filter(|n| n.status == "CREATE_IN_PROGRESS")
            .filter(|n| {
                let ready = self
                    .world
                    .machines
                    .iter()
                    .filter(|m| m.nodegroup == n.name)
                    .filter(|m| m.node.is_some_and(|id| self.world.node(id).ready))
                    .count();
                ready as u32 == self.world.desired_machines(&n.name)
            })
            .map(|n| n.name.clone())
            .collect();
        for name in done {
            if let Some(ng) = self.nodegroup_record(&name) {
                ng.status = "CREATE_COMPLETE".into();
            }
            self.trace.push(
                self.now,
                "magnum",
                format!("nodegroup {name} CREATE_COMPLETE"),
            );
        }
    }

    fn nodegroup_record(&mut self, name: &str) -> Option<&mut crate::cloud::Nodegroup> {
        let c = self.world.cluster.as_mut()?;
        c.nodegroups.iter_mut().find(|n| n.name == name)
    }
}
