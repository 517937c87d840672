//! The crate's copies of what `magsim serve` writes (kubeconfig, clouds.yaml, credentials) are
//! the mocks' own, so a change on one side fails here rather than in a user's CI.

use magsim_testcontainers as tc;

#[test]
fn kubeconfig_is_the_one_serve_writes() {
    // The same file but for the CA, which stays in the container.
    let url = "https://127.0.0.1:39504";
    let serve = magsim_mocks::kube::secure_kubeconfig(url, "CA", "t0ken");
    let ca_line = serve
        .lines()
        .find(|l| l.contains("certificate-authority-data: "))
        .expect("serve writes its CA");
    assert_eq!(
        tc::kubeconfig(url, "t0ken"),
        serve.replace(ca_line, "    insecure-skip-tls-verify: true")
    );
}

#[tokio::test]
async fn clouds_yaml_and_credentials_are_the_mock_keystones() {
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).unwrap();
    let cloud = magsim_mocks::MockCloud::start(&scenario, None)
        .await
        .unwrap();
    let os = &cloud.openstack;
    assert_eq!(tc::CLOUD_NAME, magsim_mocks::cloud::CLOUD_NAME);
    assert_eq!(
        tc::APPLICATION_CREDENTIAL_ID,
        os.credentials.application_credential_id
    );
    assert_eq!(
        tc::APPLICATION_CREDENTIAL_SECRET,
        os.credentials.application_credential_secret
    );
    assert_eq!(
        tc::clouds_yaml(&os.auth_url()),
        os.clouds_yaml(tc::CLOUD_NAME)
    );
    // The token request the crate documents is accepted.
    let r = reqwest::Client::new()
        .post(format!("{}/v3/auth/tokens", os.urls.keystone))
        .header("Content-Type", "application/json")
        .body(tc::token_request())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}
