//! The engine as a running autoscaler's outside world, in memory: the provider's Magnum
//! requests go through the scenario's faults to the same operations the mock servers apply,
//! events and ConfigMaps land in the world, log lines on the timeline.

use super::{Engine, Operation};
use crate::autoscaler::outside::{answer_error, through_faults, MagnumCall, Outside};
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
        // The call's effect never touches the faults, so they step aside while it runs.
        let mut faults = std::mem::take(&mut self.world.faults);
        let answer = through_faults(&mut faults, now, token, call, notes, |c| {
            self.magnum_effect(c)
        });
        self.world.faults = faults;
        answer
    }

    fn scale_machine_deployment(&mut self, index: usize, replicas: u32) -> Result<(), String> {
        let md = self
            .world
            .machine_deployments
            .get_mut(index)
            .ok_or("MachineDeployment gone")?;
        md.replicas = replicas;
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

impl Engine {
    /// What Magnum does with an accepted provider call (reads change nothing).
    fn magnum_effect(&mut self, call: &MagnumCall) -> Result<(), String> {
        let Some(op) = call.op.clone() else {
            return Ok(());
        };
        debug_assert!(matches!(
            op,
            Operation::Resize { .. } | Operation::UpdateCluster { .. }
        ));
        let r = self.apply_inner(op);
        answer_error(call, &r)
    }
}
