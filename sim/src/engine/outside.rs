//! The engine as a running autoscaler's outside world, in memory: the provider's Magnum
//! requests go through the scenario's faults to the same operations the mock servers apply,
//! events and ConfigMaps land in the world, log lines on the timeline.

use super::Engine;
use crate::autoscaler::outside::{
    faulted_authenticate, faulted_send, gophercloud_request, reply, MagnumCall, Outside, Reply,
    Transport,
};
use crate::kube::{EventType, ObjectRef};
use crate::time::SimTime;
use crate::world::{ConfigMapData, World};
use std::sync::Arc;

impl Outside for Engine {
    fn world(&self) -> &World {
        &self.world
    }

    fn log(&mut self, now: SimTime, actor: &str, text: String) {
        self.trace.push(now, actor, text);
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
            .world
            .machine_deployments
            .get_mut(index)
            .ok_or("MachineDeployment gone")?;
        md.replicas = replicas;
        md.autoscaled_at = Some(self.now);
        Ok(())
    }

    fn set_test_group_target(&mut self, name: &str, target: u32) -> Result<(), String> {
        let g = self
            .world
            .test_groups
            .iter_mut()
            .find(|g| g.name == name)
            .ok_or("test node group gone")?;
        g.target = target;
        Ok(())
    }

    fn remove_unregistered(&mut self, machine: &str) -> Option<u32> {
        self.world.shrink(machine)
    }

    fn record_event(
        &mut self,
        now: SimTime,
        obj: ObjectRef,
        t: EventType,
        reason: &'static str,
        message: Arc<str>,
    ) {
        self.world
            .events
            .record(now, obj, t, reason, message, "cluster-autoscaler");
    }

    fn write_config_map(&mut self, namespace: &str, name: &str, data: ConfigMapData) {
        self.world
            .configmaps
            .insert((namespace.to_string(), name.to_string()), data);
    }
}

impl Transport for Engine {
    fn authenticate(&mut self, now: SimTime) -> Result<(), Reply> {
        faulted_authenticate(&mut self.world.faults, now)
    }

    fn send(&mut self, now: SimTime, issued: SimTime, call: &MagnumCall) -> Reply {
        // The call's effect never touches the faults, so they step aside while it runs.
        let mut faults = std::mem::take(&mut self.world.faults);
        let r = faulted_send(&mut faults, now, issued, call, |c| match c.op.clone() {
            Some(op) => reply(&self.apply_inner(op)),
            // Reads change nothing; the provider reads the world itself.
            None => Reply::Answer {
                status: 200,
                body: serde_json::Value::Null,
            },
        });
        self.world.faults = faults;
        r
    }
}
