//! `openstack stack list|show|resource list` (python-heatclient 4.3.0) against a Heat-driver
//! cluster: the cluster's stack, its `kube_minions` group and members down to the Nova
//! servers, and the stack of its own a nodegroup created later gets, gone with it.

use super::{cloud_dir, json_of, openstack_cli, run};
use magsim_mocks::Live;
use magsim_sim::time::SimDuration;
use serde_json::Value;

const SCENARIO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scenarios/limit-chain/magnum-autodiscovery.yaml"
);

fn rows(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("a list: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heat_stacks_as_an_operator_walks_them() {
    let Some(cli) = openstack_cli() else { return };
    let text = std::fs::read_to_string(SCENARIO).expect("scenario file");
    let scenario = magsim_scenario::parse(SCENARIO, &text).expect("scenario");
    let live = Live::new(&scenario, None);
    let mock = magsim_mocks::openstack::start(live.clone()).await;
    let dir = cloud_dir("heat", &mock.clouds_yaml("mock"));
    let (stack_id, stack_name) = {
        let e = live.engine();
        let c = e.world.cluster.as_ref().expect("a cluster");
        (
            c.stack_id.clone(),
            c.stack_name.clone().expect("a Heat stack"),
        )
    };

    let list = json_of(&run(&cli, &dir, &["stack", "list", "-f", "json"]).await);
    assert_eq!(rows(&list).len(), 1, "{list}");
    assert_eq!(
        (
            &list[0]["ID"],
            &list[0]["Stack Name"],
            &list[0]["Stack Status"]
        ),
        (
            &stack_id.as_str().into(),
            &stack_name.as_str().into(),
            &"CREATE_COMPLETE".into()
        )
    );
    let show = ["stack", "show", &stack_name, "-f", "json"];
    let shown = json_of(&run(&cli, &dir, &show).await);
    assert_eq!(shown["id"], stack_id.as_str());
    assert_eq!(
        shown["stack_status_reason"],
        "Stack CREATE completed successfully"
    );
    assert_eq!(shown["parameters"]["number_of_minions"], "5", "{shown}");
    let missing = run(&cli, &dir, &["stack", "show", "nope"]).await;
    assert_eq!(missing.code, 1);
    assert_eq!(missing.stderr.trim(), "Stack not found: nope");

    // One level: the ResourceGroup; three: its members and each member's server.
    let res = ["stack", "resource", "list", &stack_name, "-f", "json"];
    let res = json_of(&run(&cli, &dir, &res).await);
    assert_eq!(rows(&res).len(), 1, "{res}");
    assert_eq!(
        (&res[0]["resource_name"], &res[0]["resource_type"]),
        (&"kube_minions".into(), &"OS::Heat::ResourceGroup".into())
    );
    let deep = [
        "stack",
        "resource",
        "list",
        "-n",
        "2",
        &stack_name,
        "-f",
        "json",
    ];
    let deep = json_of(&run(&cli, &dir, &deep).await);
    assert_eq!(rows(&deep).len(), 1 + 5 + 2 * 5, "{deep}");
    let mut servers: Vec<&str> = rows(&deep)
        .iter()
        .filter(|r| r["resource_type"] == "OS::Nova::Server")
        .filter_map(|r| r["physical_resource_id"].as_str())
        .collect();
    let nova = json_of(&run(&cli, &dir, &["server", "list", "-f", "json"]).await);
    let mut ids: Vec<&str> = rows(&nova)
        .iter()
        .filter_map(|s| s["ID"].as_str())
        .collect();
    servers.sort_unstable();
    ids.sort_unstable();
    assert_eq!(servers, ids, "the members' servers are Nova's");

    // A nodegroup created on a Heat cluster gets a stack of its own.
    let create = [
        "coe",
        "nodegroup",
        "create",
        "k8s",
        "extra",
        "--flavor",
        "m3.quad",
    ];
    let out = run(&cli, &dir, &create).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let list = json_of(&run(&cli, &dir, &["stack", "list", "-f", "json"]).await);
    let extra = rows(&list)
        .iter()
        .find(|s| s["ID"] != stack_id.as_str())
        .unwrap_or_else(|| panic!("a second stack: {list}"))
        .clone();
    let name = extra["Stack Name"].as_str().unwrap_or_default().to_string();
    assert!(name.starts_with("k8s-extra-"), "{name}");
    assert_eq!(extra["Stack Status"], "CREATE_IN_PROGRESS");
    live.advance(SimDuration::from_mins(10));
    let ng = ["coe", "nodegroup", "show", "k8s", "extra", "-f", "json"];
    let ng = json_of(&run(&cli, &dir, &ng).await);
    assert_eq!(
        (&ng["status"], &ng["stack_id"]),
        (&"CREATE_COMPLETE".into(), &extra["ID"]),
        "{ng}"
    );
    let shown = json_of(&run(&cli, &dir, &["stack", "show", &name, "-f", "json"]).await);
    assert_eq!(shown["stack_status"], "CREATE_COMPLETE", "{shown}");

    let out = run(&cli, &dir, &["coe", "nodegroup", "delete", "k8s", "extra"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let list = json_of(&run(&cli, &dir, &["stack", "list", "-f", "json"]).await);
    assert_eq!(rows(&list).len(), 1, "{list}");
    let _ = std::fs::remove_dir_all(&dir);
}
