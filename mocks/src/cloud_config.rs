//! The `[Global]` cloud-config the cluster-autoscaler's magnum provider reads
//! (`--cloud-config`), pointing at a [`MockCloud`]: the mock Keystone's user and password
//! scoped to the cluster's project, in the gcfg keys upstream's `Config.Global` declares
//! (`cloudprovider/magnum/magnum_openstack_clients.go`, `auth-url`, `user-id`, `password`,
//! `tenant-id`, `region`; gcfg refuses any other key). `magsim serve` writes it into its
//! `--dir` next to the kubeconfig.
//!
//! An autoscaler of the scenario that mounts its own cloud-config (a trust, as Magnum's Heat
//! driver writes one) gets that file instead, with only its `auth-url` pointed at the mock
//! ([`of_autoscaler`]): the real binary then logs in as the scenario says, trust scope and
//! all, and fails where its file would make it fail.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let (file, text) = magsim_scenario::builtin()[0];
//! let scenario = magsim_scenario::parse(file, text).unwrap();
//! let cloud = magsim_mocks::MockCloud::start(&scenario, None).await.unwrap();
//! let text = magsim_mocks::cloud_config::cloud_config(&cloud);
//! assert!(text.starts_with("[Global]\n"));
//! assert!(text.contains(cloud.openstack.auth_url().trim_end_matches('/')));
//! # });
//! ```

use crate::cloud::MockCloud;
use crate::openstack::REGION;
use magsim_sim::deploy::AutoscalerSpec;
use magsim_sim::world::World;

/// The file's name in `magsim serve --dir`.
pub const FILE_NAME: &str = "cloud-config";

/// The `[Global]` cloud-config for `cloud` (password authentication, project scope).
pub fn cloud_config(cloud: &MockCloud) -> String {
    let c = &cloud.openstack.credentials;
    format!(
        "[Global]\nauth-url = {}\nuser-id = {}\npassword = {}\ntenant-id = {}\nregion = {REGION}\n",
        cloud.openstack.auth_url().trim_end_matches('/'),
        c.user_id,
        c.password,
        c.project_id
    )
}

/// The file `spec`'s `--cloud-config` names, as the scenario mounts it at start, with its
/// `auth-url` the mock's; `None` when the autoscaler reads none or the scenario gives none.
pub fn of_autoscaler(cloud: &MockCloud, spec: &AutoscalerSpec, world: &World) -> Option<String> {
    let path = cloud_config_flag(&spec.args)?;
    let text = spec.files(world).remove(path)?;
    Some(with_auth_url(
        &text,
        cloud.openstack.auth_url().trim_end_matches('/'),
    ))
}

/// The value of `--cloud-config=P` or `--cloud-config P`.
fn cloud_config_flag(args: &[String]) -> Option<&str> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("--cloud-config=") {
            return Some(v);
        }
        if a == "--cloud-config" {
            return it.next().map(String::as_str);
        }
    }
    None
}

/// `text` with every `auth-url` line (gcfg keys ignore case) set to `url`.
fn with_auth_url(text: &str, url: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let key = line.split('=').next().unwrap_or_default().trim();
        if line.contains('=') && key.eq_ignore_ascii_case("auth-url") {
            out.push_str(&format!("auth-url = {url}"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_engines_parser_accepts_it_as_upstream_would() {
        let (file, text) = magsim_scenario::builtin()[0];
        let scenario = magsim_scenario::parse(file, text).unwrap();
        let cloud = MockCloud::start(&scenario, None).await.unwrap();
        let text = cloud_config(&cloud);
        let parsed = magsim_sim::deploy::cloud_config::parse_cloud_config(&text)
            .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        let g = parsed.global;
        assert_eq!(
            g.user_id.as_deref(),
            Some(cloud.openstack.credentials.user_id.as_str())
        );
        assert_eq!(g.password.as_deref(), Some("secret"));
        assert!(text.contains(&format!(
            "tenant-id = {}\n",
            cloud.openstack.credentials.project_id
        )));
    }

    #[test]
    fn only_the_auth_url_changes() {
        let text = "[Global]\nAuth-URL=https://js2.jetstream-cloud.org:5000/v3\nuser-id = u\ntrust-id = t\n";
        assert_eq!(
            with_auth_url(text, "http://127.0.0.1:1/v3"),
            "[Global]\nauth-url = http://127.0.0.1:1/v3\nuser-id = u\ntrust-id = t\n"
        );
        let args = [
            "--cloud-provider=magnum".to_string(),
            "--cloud-config".into(),
            "/c".into(),
        ];
        assert_eq!(cloud_config_flag(&args), Some("/c"));
        assert_eq!(cloud_config_flag(&args[..1]), None);
    }

    #[tokio::test]
    async fn a_mounted_trust_config_is_kept_but_for_its_auth_url() {
        let file = "scenarios/incident/05-in-cluster-trust-config.yaml";
        let text = magsim_scenario::builtin()
            .iter()
            .find(|(f, _)| *f == file)
            .map(|(_, t)| *t)
            .unwrap();
        let scenario = magsim_scenario::parse(file, text).unwrap();
        let cloud = MockCloud::start(&scenario, None).await.unwrap();
        let spec = &scenario.autoscalers[0];
        let world = cloud.live.engine().world.clone();
        let text = of_autoscaler(&cloud, spec, &world).expect("the scenario mounts one");
        let g = magsim_sim::deploy::cloud_config::parse_cloud_config(&text)
            .unwrap()
            .global;
        assert_eq!(
            g.trust_id.as_deref(),
            Some("0a1b2c3d4e5f60718293a4b5c6d7e8f9")
        );
        assert_eq!(g.password.as_deref(), Some("trustee-password"));
        assert_eq!(
            g.auth_url.as_deref(),
            Some(cloud.openstack.auth_url().trim_end_matches('/'))
        );
    }
}
