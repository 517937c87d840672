//! `openstack coe nodegroup create|delete` against a magnum-capi-helm cluster: Magnum's API
//! refusals, the driver's `CREATE_FAILED` for the CLI's default `--min-nodes 0`, and a
//! nodegroup that becomes a MachineDeployment, boots its node and goes away again.

use super::{cloud_dir, json_of, openstack_cli, run};
use magsim_mocks::Live;
use magsim_sim::time::SimDuration;

fn shown(live: &Live, name: &str) -> Option<(String, Option<String>)> {
    let e = live.engine();
    let ng = e.world.cluster.as_ref()?.nodegroup(name).ok()?;
    Some((ng.status.clone(), ng.status_reason.clone()))
}

fn ready_nodes(live: &Live, nodegroup: &str) -> usize {
    let e = live.engine();
    e.world
        .nodegroup_nodes(nodegroup)
        .filter(|(_, n)| n.ready)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodegroups_are_created_and_deleted_as_magnum_and_the_driver_decide() {
    let Some(cli) = openstack_cli() else { return };
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).expect("scenario");
    let live = Live::new(&scenario, None);
    let mock = magsim_mocks::openstack::start(live.clone()).await;
    let dir = cloud_dir("nodegroups", &mock.clouds_yaml("mock"));
    fn create<'a>(args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["coe", "nodegroup", "create"];
        all.extend_from_slice(args);
        all
    }

    // Magnum's controller refuses before anything is stored.
    let dup = run(&cli, &dir, &create(&["k8s", "default-worker"])).await;
    assert_eq!(dup.code, 1);
    assert!(
        dup.stderr.starts_with(
            "A node group with name default-worker already exists in the cluster k8s (HTTP 409)"
        ),
        "{}",
        dup.stderr
    );
    let master = run(&cli, &dir, &create(&["k8s", "cp", "--role", "master"])).await;
    assert!(
        master
            .stderr
            .starts_with("Creating master nodegroups is currently not supported (HTTP 400)"),
        "{}",
        master.stderr
    );
    let counts = ["k8s", "x", "--node-count", "1", "--min-nodes", "2"];
    let counts = run(&cli, &dir, &create(&counts)).await;
    assert!(
        counts.stderr.starts_with("min_node_count for x is invalid (min_node_count (2) should be less or equal to node_count (1)) (HTTP 409)"),
        "{}",
        counts.stderr
    );
    let flavor = run(&cli, &dir, &create(&["k8s", "x", "--flavor", "m9.huge"])).await;
    assert!(
        flavor
            .stderr
            .starts_with("Unable to find flavor m9 (HTTP 400)"),
        "{}",
        flavor.stderr
    );
    assert!(shown(&live, "x").is_none() && shown(&live, "cp").is_none());

    // The CLI's default --min-nodes 0 passes Magnum and fails in magnum-capi-helm.
    let out = run(&cli, &dir, &create(&["k8s", "zero"])).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let uuid = out
        .stdout
        .strip_prefix("Request to create nodegroup ")
        .and_then(|s| s.strip_suffix(" accepted\n"))
        .unwrap_or_else(|| panic!("{}", out.stdout))
        .to_string();
    let show = ["coe", "nodegroup", "show", "k8s", "zero", "-f", "json"];
    let ng = json_of(&run(&cli, &dir, &show).await);
    assert_eq!(ng["uuid"], uuid.as_str());
    assert_eq!(ng["status"], "CREATE_FAILED", "{ng}");
    assert_eq!(
        ng["status_reason"],
        "Min node count must be greater than or equal to 1 for all node groups."
    );
    assert_eq!(
        (&ng["min_node_count"], &ng["node_count"]),
        (&0.into(), &1.into())
    );
    assert_eq!(ng["flavor_id"], "m3.small", "the cluster's flavor");
    let cluster = [
        "coe", "cluster", "show", "k8s", "-c", "status", "-f", "value",
    ];
    assert_eq!(
        run(&cli, &dir, &cluster).await.stdout.trim(),
        "UPDATE_FAILED"
    );

    // Deleting it heals the release; a default nodegroup cannot be deleted.
    let del = ["coe", "nodegroup", "delete", "k8s", "zero"];
    let out = run(&cli, &dir, &del).await;
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "Request to delete nodegroup zero has been accepted.\n"),
        "{}",
        out.stderr
    );
    assert!(shown(&live, "zero").is_none());
    assert_eq!(
        run(&cli, &dir, &cluster).await.stdout.trim(),
        "UPDATE_COMPLETE"
    );
    let out = run(
        &cli,
        &dir,
        &["coe", "nodegroup", "delete", "k8s", "default-worker"],
    )
    .await;
    assert!(
        out.stderr
            .starts_with("Deleting a default nodegroup is not supported (HTTP 400)"),
        "{}",
        out.stderr
    );
    let out = run(&cli, &dir, &["coe", "nodegroup", "delete", "k8s", "nope"]).await;
    assert!(
        out.stderr
            .starts_with("Nodegroup nope could not be found (HTTP 404)"),
        "{}",
        out.stderr
    );

    // With a minimum of 1 the driver renders a MachineDeployment and its node boots.
    let args = [
        "k8s",
        "highmem",
        "--flavor",
        "m3.large",
        "--min-nodes",
        "1",
        "--max-nodes",
        "3",
        "--labels",
        "team=hpc",
    ];
    let out = run(&cli, &dir, &create(&args)).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        shown(&live, "highmem"),
        Some(("CREATE_IN_PROGRESS".into(), None))
    );
    {
        let e = live.engine();
        let md = e
            .world
            .machine_deployments
            .iter()
            .find(|m| m.nodegroup == "highmem")
            .expect("a MachineDeployment");
        assert_eq!(md.name, "k8s-wamiv264xiet-highmem");
        assert_eq!(md.bounds(), Ok(Some((1, 3))));
        let labels = &e
            .world
            .cluster
            .as_ref()
            .unwrap()
            .nodegroup("highmem")
            .unwrap()
            .labels;
        assert_eq!(
            labels.len(),
            1,
            "--labels replaces the cluster's: {labels:?}"
        );
    }
    live.advance(SimDuration::from_mins(10));
    assert_eq!(ready_nodes(&live, "highmem"), 1);
    let list = ["coe", "nodegroup", "list", "k8s", "-f", "json"];
    let list = json_of(&run(&cli, &dir, &list).await);
    let row = list
        .as_array()
        .and_then(|l| l.iter().find(|r| r["name"] == "highmem"))
        .unwrap_or_else(|| panic!("{list}"))
        .clone();
    assert_eq!(
        (&row["status"], &row["flavor_id"], &row["node_count"]),
        (&"CREATE_COMPLETE".into(), &"m3.large".into(), &1.into()),
        "{row}"
    );

    // Deleted, it takes its server and node along.
    let out = run(
        &cli,
        &dir,
        &["coe", "nodegroup", "delete", "k8s", "highmem"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(ready_nodes(&live, "highmem"), 0);
    let e = live.engine();
    assert!(!e.world.machines.iter().any(|m| m.nodegroup == "highmem"));
    assert!(!e
        .world
        .machine_deployments
        .iter()
        .any(|m| m.nodegroup == "highmem"));
    drop(e);
    let _ = std::fs::remove_dir_all(&dir);
}
