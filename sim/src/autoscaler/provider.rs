//! The cloud-provider side of the autoscaler: which node groups exist, their bounds, target
//! sizes and templates, and how a group grows. One implementation per deployment model.

use super::options::NodeGroupSpec;
use super::outside::{MagnumCall, Outside};
use crate::deploy::{Discovery, MagnumManager, ProviderKind};
use crate::resources::Resources;
use crate::scheduler::SnapNode;
use crate::time::{SimDuration, SimTime};
use crate::world::World;
use std::collections::BTreeMap;

/// How to grow a node group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handle {
    /// clusterapi: bump `spec.replicas` of this MachineDeployment.
    MachineDeployment(usize),
    /// magnum >= 1.19: `POST actions/resize` for this Magnum nodegroup.
    MagnumNodegroup(String),
    /// magnum <= 1.18: `PATCH /node_count` on the cluster.
    HeatCluster,
    /// Upstream's test provider: only the target moves.
    TestGroup(String),
}

/// A node group as the autoscaler sees it in one loop.
#[derive(Clone, Debug)]
pub struct NodeGroup {
    pub id: String,
    pub min: u32,
    pub max: u32,
    pub target: u32,
    /// Magnum nodegroups whose nodes belong to this group.
    pub nodegroups: Vec<String>,
    pub handle: Handle,
    pub template: Option<Template>,
}

/// The node the autoscaler imagines adding to a group.
#[derive(Clone, Debug)]
pub struct Template {
    pub node: SnapNode,
    pub capacity: Resources,
}

impl Template {
    /// A template of this size with no labels or taints (benchmarks and tests).
    pub fn of_size(allocatable: Resources) -> Template {
        Template {
            node: SnapNode::empty(
                "template",
                allocatable,
                crate::kube::Labels::new(),
                Vec::new(),
            ),
            capacity: allocatable,
        }
    }

    /// Whole cores and bytes of capacity, as the resource limits count them.
    pub fn cores(&self) -> u64 {
        self.capacity.milli_cpu.div_ceil(1000)
    }
}

/// Per-group facts the magnum provider caches between loops.
#[derive(Clone, Debug)]
struct MagnumGroupCache {
    min: u32,
    max: u32,
    target: u32,
}

/// Provider state that lives as long as the autoscaler process.
#[derive(Clone, Debug)]
pub struct Provider {
    kind: ProviderKind,
    magnum_groups: BTreeMap<String, MagnumGroupCache>,
    last_discovery: Option<SimTime>,
    templates: BTreeMap<String, Template>,
    /// When the provider last authenticated with Keystone (`None`: not yet).
    token: Option<SimTime>,
    /// [`crate::autoscaler::options::AutoscalerOptions::timer_scale`].
    timer_scale: u32,
}

/// Magnum auto-discovery re-reads nodegroups at most this often (`discoveryRefreshInterval`).
const DISCOVERY_REFRESH: SimDuration = SimDuration::from_secs(60);

impl Provider {
    pub fn new(kind: ProviderKind) -> Provider {
        Provider {
            kind,
            magnum_groups: BTreeMap::new(),
            last_discovery: None,
            templates: BTreeMap::new(),
            token: None,
            timer_scale: 1,
        }
    }

    pub fn with_timer_scale(mut self, scale: u32) -> Provider {
        self.timer_scale = scale.max(1);
        self
    }

    fn discovery_refresh(&self) -> SimDuration {
        DISCOVERY_REFRESH.saturating_mul(u64::from(self.timer_scale))
    }

    pub fn kind(&self) -> &ProviderKind {
        &self.kind
    }

    /// `Refresh()` then `NodeGroups()`: the groups for this loop, with templates.
    pub fn node_groups(&mut self, world: &World, now: SimTime) -> Result<Vec<NodeGroup>, String> {
        let mut groups = self.groups_without_templates(world, now)?;
        for g in &mut groups {
            g.template = self.template(world, g);
        }
        Ok(groups)
    }

    /// The groups as [`Provider::node_groups`] gives them, but with no templates: for
    /// book-keeping that needs only ids, sizes and nodegroups (finding a template walks every
    /// node).
    pub fn groups_without_templates(
        &mut self,
        world: &World,
        now: SimTime,
    ) -> Result<Vec<NodeGroup>, String> {
        match self.kind.clone() {
            ProviderKind::ClusterApi => cluster_api_groups(world),
            ProviderKind::Magnum(MagnumManager::Heat { spec }) => heat_group(world, &spec),
            ProviderKind::Magnum(MagnumManager::Nodegroups { discovery }) => {
                self.magnum_groups(world, now, &discovery)
            }
            ProviderKind::Test => Ok(test_groups(world)),
        }
    }

    /// A template from a Ready, schedulable node of the group (cached, as upstream caches it),
    /// else the provider's own: clusterapi builds one from the deployment's scale-from-zero
    /// annotations, or (a group with servers but none usable) from the flavor; the magnum
    /// provider has none before 1.33.
    fn template(&mut self, world: &World, g: &NodeGroup) -> Option<Template> {
        if let Some(n) = first_member(world, g, |n| n.ready && !n.unschedulable) {
            let mut labels = (*n.labels).clone();
            labels.remove("kubernetes.io/hostname");
            let name = format!("template-node-for-{}", g.id);
            let t = Template {
                node: SnapNode::empty(name, n.allocatable, labels, n.taints.clone()),
                capacity: n.capacity,
            };
            self.templates.insert(g.id.clone(), t.clone());
            return Some(t);
        }
        if let Some(t) = self.templates.get(&g.id) {
            return Some(t.clone());
        }
        if let Handle::TestGroup(name) = &g.handle {
            let shape = world.test_groups.iter().find(|t| &t.name == name)?;
            let shape = shape.template.clone()?;
            return Some(Template {
                node: SnapNode::empty(
                    format!("template-node-for-{}", g.id),
                    shape.allocatable,
                    shape.labels,
                    shape.taints,
                ),
                capacity: shape.capacity,
            });
        }
        if !matches!(self.kind, ProviderKind::ClusterApi) {
            return None;
        }
        if let Handle::MachineDeployment(i) = g.handle {
            let md = world.machine_deployments.get(i)?;
            if let Some(z) = md.zero_capacity() {
                return Some(zero_template(world, g, z));
            }
            // `TemplateNodeInfo` is `ErrNotImplemented` without the annotations. With servers
            // in the group, upstream falls back to one of its unready or cordoned nodes
            // (`mixed_nodeinfos_processor.go`, "last resort"); magsim stands in with the
            // flavor until it models that fallback.
            if md.replicas == 0 {
                return None;
            }
        }
        let shape = world.node_shape(g.nodegroups.first()?)?;
        let name = format!("template-node-for-{}", g.id);
        Some(Template {
            node: SnapNode::empty(name, shape.allocatable, shape.labels, shape.taints),
            capacity: shape.capacity,
        })
    }

    fn magnum_groups(
        &mut self,
        world: &World,
        now: SimTime,
        discovery: &Discovery,
    ) -> Result<Vec<NodeGroup>, String> {
        let cluster = world.cluster.as_ref().ok_or("no Magnum cluster")?;
        match discovery {
            Discovery::Static(specs) => {
                for spec in specs {
                    if !self.magnum_groups.contains_key(&spec.name) {
                        let ng = cluster.nodegroup(&spec.name).map_err(|e| e.message)?;
                        self.magnum_groups.insert(
                            spec.name.clone(),
                            MagnumGroupCache {
                                min: spec.min,
                                max: spec.max,
                                target: ng.node_count,
                            },
                        );
                    }
                }
            }
            Discovery::Roles(roles) => {
                if self
                    .last_discovery
                    .is_none_or(|t| now.since(t) >= self.discovery_refresh())
                {
                    self.last_discovery = Some(now);
                    let eligible: Vec<_> = cluster
                        .nodegroups
                        .iter()
                        .filter(|n| !n.is_master() && roles.contains(&n.role))
                        .filter_map(|n| n.max_node_count.map(|max| (n, max)))
                        .collect();
                    self.magnum_groups
                        .retain(|name, _| eligible.iter().any(|(n, _)| &n.name == name));
                    for (ng, max) in eligible {
                        let entry =
                            self.magnum_groups
                                .entry(ng.name.clone())
                                .or_insert(MagnumGroupCache {
                                    min: ng.min_node_count,
                                    max,
                                    target: ng.node_count,
                                });
                        entry.min = ng.min_node_count;
                        entry.max = max;
                    }
                }
            }
        }
        let groups: Vec<NodeGroup> = self
            .magnum_groups
            .iter()
            .filter_map(|(name, c)| {
                let ng = cluster.nodegroup(name).ok()?;
                Some(NodeGroup {
                    id: format!("{}-{}", ng.name, ng.uuid.split('-').next().unwrap_or("")),
                    min: c.min,
                    max: c.max,
                    target: c.target,
                    nodegroups: vec![name.clone()],
                    handle: Handle::MagnumNodegroup(name.clone()),
                    template: None,
                })
            })
            .collect();
        // The cluster state reads each group's instances (`NodeGroup.Nodes()`,
        // `magnum_nodegroup.go:181-183`), which walks the group's Heat stacks.
        if let Some(first) = groups.first() {
            let ng = cluster
                .nodegroup(&first.nodegroups[0])
                .map_err(|e| e.message)?;
            if let Some(e) = stack_walk_error(cluster, ng) {
                return Err(format!("could not get nodes: {e}"));
            }
        }
        Ok(groups)
    }

    /// What `TemplateNodeInfoProvider.Process` fails with before anything else in a loop:
    /// the magnum provider (>= 1.19) maps each ready node to a group through Heat stacks
    /// (`magnum_manager_impl.go:431-462`), which a magnum-capi-helm cluster does not have.
    /// Upstream takes the first node in lister order that is a good template candidate, then
    /// the other ready ones (`mixed_nodeinfos_processor.go:87-91,120-128,178-187`); magsim
    /// takes them in creation order.
    pub fn node_infos_error(&self, world: &World) -> Option<String> {
        if !matches!(
            self.kind,
            ProviderKind::Magnum(MagnumManager::Nodegroups { .. })
        ) {
            return None;
        }
        let cluster = world.cluster.as_ref()?;
        // `nodeGroupForNode` tries the non-master groups largest first (a stable sort here).
        let mut workers: Vec<&crate::cloud::Nodegroup> = cluster
            .nodegroups
            .iter()
            .filter(|n| !n.is_master())
            .collect();
        workers.sort_by_key(|n| std::cmp::Reverse(n.node_count));
        let e = stack_walk_error(cluster, workers.first()?)?;
        // `NodeGroupForNode` skips master and control-plane nodes (`magnum_cloud_provider.go:123-130`).
        let candidates = || {
            world.live_nodes().filter(|(_, n)| {
                n.ready
                    && !n.labels.contains_key("node-role.kubernetes.io/master")
                    && !n
                        .labels
                        .contains_key("node-role.kubernetes.io/control-plane")
            })
        };
        let (_, node) = candidates()
            .find(|(_, n)| !n.unschedulable)
            .or_else(|| candidates().next())?;
        // `magnum_cloud_provider.go:134`
        Some(format!(
            "error finding node group UUID for node openstack:///{}: {e}",
            crate::cloud::heat::server_id(node)
        ))
    }

    /// Where this group's min and max come from: the limit chain, in words.
    pub fn limit_source(&self, world: &World, group: &NodeGroup) -> String {
        match (&self.kind, &group.handle) {
            (ProviderKind::ClusterApi, Handle::MachineDeployment(i)) => {
                let md = &world.machine_deployments[*i];
                let chain = world
                    .cluster
                    .as_ref()
                    .and_then(|c| {
                        c.nodegroup(&md.nodegroup)
                            .ok()
                            .map(|ng| crate::cloud::capi::bounds_source(c, ng))
                    })
                    .unwrap_or_default();
                format!(
                    "clusterapi reads the MachineDeployment annotations ({}..{}), {chain}",
                    group.min, group.max
                )
            }
            (
                ProviderKind::Magnum(crate::deploy::MagnumManager::Nodegroups {
                    discovery: Discovery::Roles(_),
                }),
                _,
            ) => {
                format!("auto-discovery reads Magnum's nodegroup min_node_count/max_node_count ({}..{}), refreshed every 60s", group.min, group.max)
            }
            (ProviderKind::Test, _) => format!(
                "{}..{} as the scenario's test provider declares",
                group.min, group.max
            ),
            _ => format!(
                "static --nodes={}:{}:{} (never re-read)",
                group.min,
                group.max,
                group.id.split('-').next().unwrap_or(&group.id)
            ),
        }
    }

    /// `IncreaseSize(delta)`'s checks: the size it asks the cloud for. The caller asks the
    /// cloud ([`Provider::increase`]), then records the target ([`Provider::set_target`]).
    pub fn check_increase(&self, group: &NodeGroup, delta: u32) -> Result<u32, String> {
        if delta == 0 {
            return Err("size increase must be positive".into());
        }
        let desired = group.target + delta;
        if desired > group.max {
            return Err(match group.handle {
                Handle::MachineDeployment(_) => format!(
                    "size increase too large - desired:{desired} max:{}",
                    group.max
                ),
                _ => format!(
                    "size increase too large, desired:{desired} max:{}",
                    group.max
                ),
            });
        }
        Ok(desired)
    }
}

impl Provider {
    /// `Refresh()`: auto-discovery re-reads Magnum's nodegroups when due (a list, then a
    /// GET per worker nodegroup), through `out`; the groups themselves are read by
    /// [`Provider::node_groups`]. Upstream stamps the refresh before trying it, so a failed
    /// one waits for the next interval.
    pub fn refresh(
        &mut self,
        out: &mut dyn Outside,
        now: SimTime,
        cluster: &str,
        notes: &mut Vec<String>,
    ) -> Result<(), String> {
        let ProviderKind::Magnum(MagnumManager::Nodegroups {
            discovery: Discovery::Roles(_),
        }) = &self.kind
        else {
            return Ok(());
        };
        if self
            .last_discovery
            .is_some_and(|t| now.since(t) < self.discovery_refresh())
        {
            return Ok(());
        }
        let Some(c) = out.world().cluster.as_ref() else {
            return Ok(());
        };
        let workers: Vec<(String, String)> = c
            .nodegroups
            .iter()
            .filter(|n| !n.is_master())
            .map(|n| (n.name.clone(), n.uuid.clone()))
            .collect();
        let fail = |e: String| {
            format!("error refreshing node groups: could not discover node groups: {e}")
        };
        let list = format!("/v1/clusters/{cluster}/nodegroups");
        let token = &mut self.token;
        let answer = out
            .magnum(now, token, &MagnumCall::get(list.clone()), notes)
            .map_err(|e| fail(format!("could not fetch node group pages: {e}")))
            .and_then(|()| {
                workers.iter().try_for_each(|(name, uuid)| {
                    let get = MagnumCall::get(format!("{list}/{uuid}"));
                    out.magnum(now, token, &get, notes).map_err(|e| {
                        fail(format!("could not get detail for node group {name}: {e}"))
                    })
                })
            });
        if answer.is_err() {
            self.last_discovery = Some(now);
        }
        answer
    }

    /// The cloud side of `IncreaseSize`: the provider's request for `new` nodes in `group`.
    pub fn increase(
        &mut self,
        out: &mut dyn Outside,
        now: SimTime,
        group: &NodeGroup,
        new: u32,
        cluster: &str,
        notes: &mut Vec<String>,
    ) -> Result<(), String> {
        let wrap = |what: &str, e: String| format!("could not increase cluster size: {what}: {e}");
        match &group.handle {
            Handle::MachineDeployment(i) => out.scale_machine_deployment(*i, new),
            Handle::MagnumNodegroup(ng) => {
                let call = MagnumCall::resize(cluster, ng, new);
                out.magnum(now, &mut self.token, &call, notes)
                    .map_err(|e| wrap("could not resize cluster", e))
            }
            Handle::HeatCluster => {
                let call = MagnumCall::update_node_count(cluster, new);
                out.magnum(now, &mut self.token, &call, notes)
                    .map_err(|e| wrap("could not update cluster", e))
            }
            Handle::TestGroup(name) => out.set_test_group_target(name, new),
        }
    }

    /// Records a target the provider caches (the magnum nodegroups manager never re-reads it).
    pub fn set_target(&mut self, group: &NodeGroup, target: u32) {
        if let Handle::MagnumNodegroup(name) = &group.handle {
            if let Some(c) = self.magnum_groups.get_mut(name) {
                c.target = target;
            }
        }
    }
}

/// The group's live node that `keep` accepts, first by name (the one a template copies).
fn first_member<'w>(
    world: &'w World,
    g: &NodeGroup,
    keep: impl Fn(&crate::kube::Node) -> bool,
) -> Option<&'w crate::kube::Node> {
    world
        .live_nodes()
        .map(|(_, n)| n)
        .filter(|n| keep(n))
        .filter(|n| {
            n.nodegroup
                .as_ref()
                .is_some_and(|ng| g.nodegroups.contains(ng))
        })
        .min_by(|a, b| a.name.cmp(&b.name))
}

/// The clusterapi provider's template for a deployment with no node to copy
/// (`clusterapi_nodegroup.go::TemplateNodeInfo`): capacity = allocatable = the annotations,
/// the generic `kubernetes.io/arch` and `os` labels, the annotation's labels and those of a
/// node of the group if it has one, the annotation's taints, and the synthetic kube-proxy pod
/// of 100m CPU (`cloudprovider/utils.go::BuildKubeProxy`).
fn zero_template(world: &World, g: &NodeGroup, z: crate::cloud::capi::ZeroCapacity) -> Template {
    let mut labels = crate::kube::Labels::new();
    labels.insert("kubernetes.io/arch".into(), "amd64".into());
    labels.insert("kubernetes.io/os".into(), "linux".into());
    labels.extend(z.labels);
    if let Some(n) = first_member(world, g, |_| true) {
        labels.extend(n.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        labels.remove("kubernetes.io/hostname");
    }
    let mut node = SnapNode::empty(
        format!("template-node-for-{}", g.id),
        z.capacity,
        labels,
        z.taints,
    );
    node.requested.milli_cpu = 100;
    node.requested.pods = 1;
    Template {
        node,
        capacity: z.capacity,
    }
}

fn cluster_api_groups(world: &World) -> Result<Vec<NodeGroup>, String> {
    let mut groups = Vec::new();
    for (i, md) in world.machine_deployments.iter().enumerate() {
        let Some((min, max)) = md
            .bounds()
            .map_err(|e| format!("error getting node groups: {e}"))?
        else {
            continue;
        };
        // `newNodeGroupFromScalableResource`: at zero replicas only a deployment that can
        // scale from zero is a node group.
        if md.replicas == 0 && md.zero_capacity().is_none() {
            continue;
        }
        groups.push(NodeGroup {
            id: md.group_id(),
            min,
            max,
            target: md.replicas,
            nodegroups: vec![md.nodegroup.clone()],
            handle: Handle::MachineDeployment(i),
            template: None,
        });
    }
    Ok(groups)
}

/// `fetchNodeGroupStackIDs`'s failure for a nodegroup whose `stack_id` names no Heat stack:
/// magnum-capi-helm's release name (or a later nodegroup's null, `GET .../stacks/`) is a 404,
/// which gophercloud reports as "Resource not found" (`magnum_manager_impl.go:111-114`),
/// wrapped by `nodeGroupForNode`/`getNodes` (`magnum_manager_impl.go:229,461`).
fn stack_walk_error(
    cluster: &crate::cloud::Cluster,
    ng: &crate::cloud::Nodegroup,
) -> Option<String> {
    if crate::cloud::heat::nodegroup_stack(cluster, ng).is_some() {
        return None;
    }
    Some(format!(
        "could not fetch stack IDs for node group {}: could not find node group stack: Resource not found",
        ng.uuid
    ))
}

/// The <= 1.18 Heat manager reads the cluster's Heat stack; magsim models it on Heat-driver
/// clusters only (upstream fails its start-up on magnum-capi-helm: no stack of that name).
fn heat_cluster(world: &World) -> Result<&crate::cloud::Cluster, String> {
    let cluster = world.cluster.as_ref().ok_or("no Magnum cluster")?;
    if cluster.driver.is_capi() {
        return Err(format!(
            "magsim: the magnum provider maps nodes to groups through Heat stacks; cluster {} runs {} and has none",
            cluster.name, cluster.driver
        ));
    }
    Ok(cluster)
}

fn heat_group(world: &World, spec: &NodeGroupSpec) -> Result<Vec<NodeGroup>, String> {
    let cluster = heat_cluster(world)?;
    Ok(vec![NodeGroup {
        id: spec.name.clone(),
        min: spec.min,
        max: spec.max,
        target: cluster.node_count(),
        nodegroups: cluster
            .nodegroups
            .iter()
            .filter(|n| !n.is_master())
            .map(|n| n.name.clone())
            .collect(),
        handle: Handle::HeatCluster,
        template: None,
    }])
}

/// Upstream's test provider: each declared group as it stands.
fn test_groups(world: &World) -> Vec<NodeGroup> {
    world
        .test_groups
        .iter()
        .map(|t| NodeGroup {
            id: t.name.clone(),
            min: t.min,
            max: t.max,
            target: t.target,
            nodegroups: vec![t.name.clone()],
            handle: Handle::TestGroup(t.name.clone()),
            template: None,
        })
        .collect()
}
