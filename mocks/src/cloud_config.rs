//! The `[Global]` cloud-config the cluster-autoscaler's magnum provider reads
//! (`--cloud-config`), pointing at a [`MockCloud`]: the mock Keystone's user and password
//! scoped to the cluster's project, in the gcfg keys upstream's `Config.Global` declares
//! (`cloudprovider/magnum/magnum_openstack_clients.go`, `auth-url`, `user-id`, `password`,
//! `tenant-id`, `region`; gcfg refuses any other key). `magsim serve` writes it into its
//! `--dir` next to the kubeconfig.
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
}
