//! The mock Keystone, Magnum, Heat and Nova over HTTP (reqwest), in live and replay mode:
//! every endpoint and every error path, asserting bodies, headers and statuses.

use magsim_mocks::openstack::{self, OpenStackMock};
use magsim_mocks::recording::{self, Recording};
use magsim_mocks::replay::incident::{FILE, LABELS_REQUEST_ID};
use magsim_mocks::Live;
use magsim_mocks::{replay, Service};
use magsim_sim::time::SimDuration;
use reqwest::{Client, Response};
use serde_json::{json, Value};

fn scenario(name: &str) -> magsim_scenario::Scenario {
    let (file, text) = magsim_scenario::builtin()
        .into_iter()
        .find(|(f, _)| f.contains(name))
        .expect("builtin scenario");
    magsim_scenario::parse(file, text).expect("scenario parses")
}

async fn live(name: &str) -> OpenStackMock {
    openstack::start(Live::new(&scenario(name), None)).await
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn header(r: &Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

fn is_request_id(id: &str) -> bool {
    let Some(u) = id.strip_prefix("req-") else {
        return false;
    };
    let parts: Vec<&str> = u.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts[2].starts_with('4')
        && u.chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c))
}

async fn token(mock: &OpenStackMock) -> String {
    let c = &mock.credentials;
    let r = client()
        .post(format!("{}/v3/auth/tokens", mock.urls.keystone))
        .json(&json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": c.application_credential_id, "secret": c.application_credential_secret}}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    header(&r, "X-Subject-Token")
}

/// A Magnum request with magnumclient's headers.
async fn magnum(
    mock: &OpenStackMock,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Response {
    let mut rb = client()
        .request(
            method.parse().unwrap(),
            format!("{}{path}", mock.urls.magnum),
        )
        .header("OpenStack-API-Version", "container-infra latest")
        .header("X-Auth-Token", token)
        .header("Content-Type", "application/json");
    if let Some(b) = body {
        rb = rb.body(b.to_string());
    }
    rb.send().await.unwrap()
}

// ---------------------------------------------------------------- Keystone (live)

#[tokio::test]
async fn keystone_version_discovery() {
    let mock = live("01-as-it-happened").await;
    let base = &mock.urls.keystone;
    let r = client().get(format!("{base}/")).send().await.unwrap();
    assert_eq!(r.status(), 300);
    assert_eq!(header(&r, "Location"), format!("{base}/v3/"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["versions"]["values"][0]["id"], "v3.14");
    assert_eq!(
        body["versions"]["values"][0]["links"][0]["href"],
        format!("{base}/v3/")
    );
    for path in ["/v3", "/v3/"] {
        let r = client().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["version"]["status"], "stable");
        assert_eq!(
            body["version"]["media-types"][0]["type"],
            "application/vnd.openstack.identity-v3+json"
        );
    }
}

#[tokio::test]
async fn keystone_application_credential_token_and_catalog() {
    let mock = live("01-as-it-happened").await;
    let c = &mock.credentials;
    let r = client()
        .post(format!("{}/v3/auth/tokens", mock.urls.keystone))
        .json(&json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"secret": c.application_credential_secret, "id": c.application_credential_id}}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = header(&r, "X-Subject-Token");
    // Fernet-shaped and unguessable: drawn from the OS, outside the engine's seeded stream.
    assert_eq!(token.len(), 183, "{token}");
    assert!(token.starts_with("gAAAAAB"), "{token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{token}"
    );
    assert!(is_request_id(&header(&r, "x-openstack-request-id")));
    let text = r.text().await.unwrap();
    assert!(
        text.starts_with(r#"{"token": {"methods": ["application_credential"], "user": "#),
        "{text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    let t = &body["token"];
    assert_eq!(t["project"]["id"], "83bd0e70b4ba4cd092c2fb82b1ce06fb");
    assert_eq!(t["expires_at"], "9999-12-31T23:59:59.000000Z");
    assert_eq!(t["issued_at"], "2025-11-10T14:00:00.000000Z");
    assert_eq!(t["application_credential"]["restricted"], false);
    let catalog = t["catalog"].as_array().unwrap();
    let find = |kind: &str| {
        catalog
            .iter()
            .find(|s| s["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    for (kind, name, url) in [
        ("identity", "keystone", mock.auth_url()),
        ("container-infra", "magnum", mock.magnum_url()),
        ("orchestration", "heat", mock.heat_url()),
        ("compute", "nova", format!("{}/v2.1", mock.urls.nova)),
    ] {
        let s = find(kind);
        assert_eq!(s["name"], name);
        let eps = s["endpoints"].as_array().unwrap();
        assert_eq!(eps.len(), 3);
        for (ep, iface) in eps.iter().zip(["public", "internal", "admin"]) {
            assert_eq!(ep["interface"], iface);
            assert_eq!(ep["region"], "IU");
            assert_eq!(ep["region_id"], "IU");
            assert_eq!(ep["url"], url.as_str());
        }
    }
    assert!(mock.magnum_url().ends_with("/v1"));
    assert!(mock
        .heat_url()
        .ends_with("/v1/83bd0e70b4ba4cd092c2fb82b1ce06fb"));
}

#[tokio::test]
async fn keystone_password_token_and_app_credential_by_name() {
    let mock = live("01-as-it-happened").await;
    let c = mock.credentials.clone();
    let url = format!("{}/v3/auth/tokens", mock.urls.keystone);
    let bodies = [
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": c.password, "name": c.user_name,
            "domain": {"name": c.user_domain_name}}}}, "scope": {"project": {"name": c.project_name, "domain": {"id": "default"}}}}}),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": c.user_id, "password": c.password}}},
            "scope": {"project": {"id": c.project_id}}}}),
        json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"secret": c.application_credential_secret,
            "name": c.application_credential_name, "user": {"id": c.user_id}}}}}),
    ];
    for b in &bodies {
        let r = client().post(&url).json(b).send().await.unwrap();
        assert_eq!(r.status(), 201, "{b}");
        let body: Value = r.json().await.unwrap();
        assert!(body["token"]["catalog"].is_array(), "{b}");
    }
    // Unscoped password token: no catalog.
    let r = client()
        .post(&url)
        .json(&json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": c.user_id, "password": c.password}}}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert!(body["token"].get("catalog").is_none());
    assert_eq!(body["token"]["methods"], json!(["password"]));

    // Token method, re-scoping an existing token.
    let old = token(&mock).await;
    let r = client()
        .post(&url)
        .header("X-Auth-Token", &old)
        .json(
            &json!({"auth": {"identity": {"methods": ["token"], "token": {"id": old}},
            "scope": {"project": {"id": c.project_id}}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_ne!(header(&r, "X-Subject-Token"), old);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token"]["methods"], json!(["token"]));
}

/// A trust scope (the magnum provider's legacy `[Global] trust-id`) works only for a trust a
/// scenario cloud-config holds and only for its trustee, as Keystone checks it.
#[tokio::test]
async fn keystone_trust_scope_is_checked() {
    let mock = live("05-in-cluster-trust-config").await;
    let url = format!("{}/v3/auth/tokens", mock.urls.keystone);
    let trustee = "6f1e0d2c3b4a59687766a5b4c3d2e1f0";
    let trust = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let body = |user: &str, password: &str, trust: &str| {
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": user, "password": password}}},
            "scope": {"OS-TRUST:trust": {"id": trust}}}})
    };
    let r = client()
        .post(&url)
        .json(&body(trustee, "trustee-password", trust))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token: Value = r.json().await.unwrap();
    assert_eq!(token["token"]["OS-TRUST:trust"]["id"], trust);
    assert_eq!(
        token["token"]["OS-TRUST:trust"]["trustee_user"]["id"],
        trustee
    );
    assert_eq!(token["token"]["OS-TRUST:trust"]["impersonation"], true);
    assert!(
        token["token"]["catalog"].is_array(),
        "a trust-scoped token has the catalog"
    );

    let r = client()
        .post(&url)
        .json(&body(trustee, "trustee-password", "ffff"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["message"], "Could not find trust: ffff.");
    assert_eq!(e["error"]["title"], "Not Found");

    // The project's own user, right password, is no trustee of this trust.
    let c = mock.credentials.clone();
    let r = client()
        .post(&url)
        .json(&body(&c.user_id, &c.password, trust))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["message"], "User is not a trustee.");

    let r = client()
        .post(&url)
        .json(&body(trustee, "wrong", trust))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the password is checked before the trust");
}

#[tokio::test]
async fn keystone_errors() {
    let mock = live("01-as-it-happened").await;
    let url = format!("{}/v3/auth/tokens", mock.urls.keystone);
    let c = &mock.credentials;
    let unauthorized = json!({"error": {"code": 401, "title": "Unauthorized",
        "message": "The request you have made requires authentication.",
        "identity": {"methods": ["password", "token", "application_credential"]}}});
    for bad in [
        json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": c.application_credential_id, "secret": "wrong"}}}}),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": c.user_id, "password": "nope"}}}}}),
        json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "gAAAAABforged"}}}}),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": c.user_id, "password": c.password}}},
            "scope": {"project": {"id": "someoneelse"}}}}),
        json!({"auth": {"identity": {"methods": ["kerberos"]}}}),
    ] {
        let r = client().post(&url).json(&bad).send().await.unwrap();
        assert_eq!(r.status(), 401, "{bad}");
        assert!(header(&r, "WWW-Authenticate").starts_with("Keystone uri="));
        assert_eq!(r.json::<Value>().await.unwrap(), unauthorized, "{bad}");
    }
    let expect_400 =
        |msg: &str| json!({"error": {"code": 400, "title": "Bad Request", "message": msg}});
    let r = client()
        .post(&url)
        .header("Content-Type", "application/json")
        .body("{\"auth\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        expect_400("Expecting to find valid JSON in request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
    );
    let r = client()
        .post(&url)
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        expect_400("Expecting to find application/json in Content-Type header. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
    );
    let r = client()
        .post(&url)
        .json(&json!({"auth": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        expect_400("Invalid input for field 'identity': 'identity' is a required property")
    );
    let r = client()
        .post(&url)
        .header("Content-Type", "application/json")
        .body(vec![b' '; 200_000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": {"code": 413, "title": "Request Entity Too Large", "message": "Request is too large."}})
    );
    let r = client()
        .get(format!("{}/v3/nothing", mock.urls.keystone))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["title"],
        "Not Found"
    );
    // Revoking needs a token of the caller's own: Keystone's 401 without one.
    let r = client().delete(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = client().put(&url).send().await.unwrap();
    assert_eq!(r.status(), 405);
}

// ---------------------------------------------------------------- Magnum (live)

#[tokio::test]
async fn magnum_version_documents_need_no_token() {
    let mock = live("01-as-it-happened").await;
    let base = &mock.urls.magnum;
    let r = client().get(format!("{base}/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["name"], "OpenStack Magnum API");
    assert_eq!(body["versions"][0]["max_version"], "1.11");
    assert_eq!(body["versions"][0]["min_version"], "1.1");
    assert_eq!(
        body["versions"][0]["links"][0]["href"],
        format!("{base}/v1/")
    );
    let r = client().get(format!("{base}/v1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "OpenStack-API-Maximum-Version"),
        "container-infra 1.11"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["id"], "v1");
    assert_eq!(body["clusters"][1]["href"], format!("{base}/clusters/"));
    assert_eq!(body["clusters"][1]["rel"], "bookmark");
}

#[tokio::test]
async fn magnum_cluster_show_by_name_and_uuid() {
    let mock = live("01-as-it-happened").await;
    let t = token(&mock).await;
    for ident in ["k8s", "c8fd0bc7-cf71-40fb-b901-c309d405d627"] {
        let r = magnum(&mock, &t, "GET", &format!("/v1/clusters/{ident}"), None).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "OpenStack-API-Version"), "container-infra 1.11");
        assert_eq!(
            header(&r, "OpenStack-API-Minimum-Version"),
            "container-infra 1.1"
        );
        assert_eq!(header(&r, "Vary"), "OpenStack-API-Version");
        assert_eq!(header(&r, "Content-Type"), "application/json");
        assert!(is_request_id(&header(&r, "x-openstack-request-id")));
        let text = r.text().await.unwrap();
        assert!(
            text.contains(r#""labels": {"auto_scaling_enabled": "true", "min_node_count": "1", "max_node_count": "5"}"#),
            "{text}"
        );
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["uuid"], "c8fd0bc7-cf71-40fb-b901-c309d405d627");
        assert_eq!(body["stack_id"], "k8s-wamiv264xiet");
        assert_eq!(body["node_count"], 5);
        assert_eq!(
            body["links"][0]["href"],
            format!(
                "{}/v1/clusters/c8fd0bc7-cf71-40fb-b901-c309d405d627",
                mock.urls.magnum
            )
        );
        assert_eq!(body["created_at"], "2025-11-10T14:00:00+00:00");
    }
    // Unversioned paths reach v1 too (Magnum's root controller prepends the default version).
    let r = magnum(&mock, &t, "GET", "/clusters/k8s", None).await;
    assert_eq!(r.status(), 200);
    // No microversion header: 1.1.
    let r = client()
        .get(format!("{}/v1/clusters/k8s", mock.urls.magnum))
        .header("X-Auth-Token", &t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "OpenStack-API-Version"), "container-infra 1.1");
}

#[tokio::test]
async fn magnum_lists() {
    let mock = live("01-as-it-happened").await;
    let t = token(&mock).await;
    let r = magnum(&mock, &t, "GET", "/v1/clusters", None).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let item = &body["clusters"][0];
    assert_eq!(item["name"], "k8s");
    assert!(item.get("api_address").is_none(), "reduced list item");
    assert_eq!(item["merge_labels"], false);
    let r = magnum(&mock, &t, "GET", "/v1/clusters/detail", None).await;
    let body: Value = r.json().await.unwrap();
    assert!(body["clusters"][0].get("api_address").is_some());
    let r = magnum(&mock, &t, "GET", "/v1/clusters/k8s/nodegroups/", None).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let ng = &body["nodegroups"][0];
    assert_eq!(ng["name"], "default-worker");
    // wsme's declared defaults come back in list items whatever the truth.
    assert_eq!(ng["min_node_count"], 0);
    assert_eq!(ng["max_node_count"], Value::Null);
    let r = magnum(&mock, &t, "GET", "/v1/clusters/nope/nodegroups", None).await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["detail"],
        "Cluster nope could not be found."
    );
}

#[tokio::test]
async fn magnum_nodegroup_patch_is_visible_in_the_next_get_and_to_the_autoscaler() {
    // Driver 1.0.0: the nodegroup's max_node_count is what the driver renders for the autoscaler.
    let mock = live("06-driver-1.0.0").await;
    let t = token(&mock).await;
    let r = magnum(
        &mock,
        &t,
        "GET",
        "/v1/clusters/k8s/nodegroups/default-worker",
        None,
    )
    .await;
    let before: Value = r.json().await.unwrap();
    assert_eq!(before["max_node_count"], Value::Null);
    let uuid = before["uuid"].as_str().unwrap().to_string();
    let r = magnum(
        &mock,
        &t,
        "PATCH",
        "/v1/clusters/k8s/nodegroups/default-worker",
        Some(r#"[{"op": "replace", "path": "/max_node_count", "value": 7}]"#),
    )
    .await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["max_node_count"], 7);
    // By uuid and by integer id, the next GET sees it.
    let id = before["id"].to_string();
    for ident in [uuid.as_str(), id.as_str()] {
        let r = magnum(
            &mock,
            &t,
            "GET",
            &format!("/v1/clusters/k8s/nodegroups/{ident}"),
            None,
        )
        .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["max_node_count"], 7);
    }
    let bounds: Vec<_> = mock
        .live()
        .engine()
        .world
        .machine_deployments
        .iter()
        .map(|md| md.bounds())
        .collect();
    assert_eq!(bounds, vec![Ok(Some((1, 7)))]);
    // 409 count checks.
    let r = magnum(
        &mock,
        &t,
        "PATCH",
        "/v1/clusters/k8s/nodegroups/default-worker",
        Some(r#"[{"op": "replace", "path": "/max_node_count", "value": 2}]"#),
    )
    .await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["detail"],
        "max_node_count for default-worker is invalid (node_count (5) should be less or equal to max_node_count (2))."
    );
}

#[tokio::test]
async fn magnum_label_update_is_refused_with_the_incident_bytes() {
    let mock = live("01-as-it-happened").await;
    let t = token(&mock).await;
    let r = magnum(
        &mock,
        &t,
        "PATCH",
        "/v1/clusters/k8s",
        Some(r#"[{"op": "replace", "path": "/labels/max_node_count", "value": 6}]"#),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(header(&r, "OpenStack-API-Version"), "container-infra 1.11");
    assert!(is_request_id(&header(&r, "x-openstack-request-id")));
    let text = r.text().await.unwrap();
    assert_eq!(
        text,
        r#"{"errors": [{"request_id": "", "code": "client", "status": 400, "title": "cannot change cluster property(ies) labels", "detail": "cannot change cluster property(ies) labels.", "links": []}]}"#
    );
    assert_eq!(text.len(), 190);
    // node_count may change through the cluster PATCH.
    let r = magnum(
        &mock,
        &t,
        "PATCH",
        "/v1/clusters/k8s/?rollback=True",
        Some(r#"[{"op": "replace", "path": "/node_count", "value": 6}]"#),
    )
    .await;
    assert_eq!(r.status(), 202);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"uuid": "c8fd0bc7-cf71-40fb-b901-c309d405d627"})
    );
}

#[tokio::test]
async fn magnum_resize() {
    let mock = live("01-as-it-happened").await;
    let t = token(&mock).await;
    let r = magnum(
        &mock,
        &t,
        "POST",
        "/v1/clusters/c8fd0bc7-cf71-40fb-b901-c309d405d627/actions/resize",
        Some(r#"{"node_count": 6, "nodegroup": "default-worker"}"#),
    )
    .await;
    assert_eq!(r.status(), 202);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"uuid": "c8fd0bc7-cf71-40fb-b901-c309d405d627"})
    );
    let r = magnum(
        &mock,
        &t,
        "GET",
        "/v1/clusters/k8s/nodegroups/default-worker",
        None,
    )
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["node_count"], 6);
    let r = magnum(
        &mock,
        &t,
        "POST",
        "/v1/clusters/k8s/actions/resize",
        Some(r#"{"node_count": 9, "nodegroup": "default-worker"}"#),
    )
    .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["title"],
        "Resizing default-worker outside the allowed range: min_node_count = 1, max_node_count = 6"
    );
    // Counts no cloud would grant are refused up front (the engine would build every node).
    let r = magnum(
        &mock,
        &t,
        "POST",
        "/v1/clusters/k8s/actions/resize",
        Some(r#"{"node_count": 10000000000}"#),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["detail"],
        "Invalid input for field/attribute node_count. Value: '10000000000'. Value should be lower or equal to 10000"
    );
    let r = magnum(
        &mock,
        &t,
        "PATCH",
        "/v1/clusters/k8s",
        Some(r#"[{"op": "replace", "path": "/node_count", "value": 100000}]"#),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = magnum(
        &mock,
        &t,
        "POST",
        "/v1/clusters/k8s/actions/resize",
        Some(r#"{"node_count": -1}"#),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["detail"],
        "Invalid input for field/attribute node_count. Value: '-1'. Value should be greater or equal to 0"
    );
    let r = magnum(
        &mock,
        &t,
        "POST",
        "/v1/clusters/k8s/actions/resize",
        Some(r#"{"nodegroup": "default-worker"}"#),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["detail"],
        "Invalid input for field/attribute node_count. Value: 'None'. Mandatory field missing."
    );
}

#[tokio::test]
async fn magnum_bad_input_gets_magnums_errors() {
    let mock = live("01-as-it-happened").await;
    let t = token(&mock).await;
    let detail = |v: &Value| {
        v["errors"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let cases: Vec<(&str, &str, Option<&str>, u16, &str)> = vec![
        ("PATCH", "/v1/clusters/k8s", Some("[{\"op\": "), 400, "Request is not in valid JSON format"),
        ("PATCH", "/v1/clusters/k8s", Some(r#"[{"op": "move", "path": "/x", "value": 1}]"#), 400,
         "Invalid input for field/attribute op. Value: 'move'. Value should be one of: add, remove, replace"),
        ("PATCH", "/v1/clusters/k8s", Some(r#"{"op": "replace"}"#), 400,
         "Invalid input for field/attribute patch. Value: '{'op': 'replace'}'. Value should be a list"),
        ("PATCH", "/v1/clusters/k8s", Some(r#"[{"op": "replace", "path": "labels", "value": 1}]"#), 400,
         "Invalid input for field/attribute path. Value: 'labels'. Invalid path"),
        ("PATCH", "/v1/clusters/k8s", Some(r#"[{"op": "replace", "path": "/stack_id", "value": "x"}]"#), 400,
         "'/stack_id' is an internal attribute and can not be updated"),
        ("PATCH", "/v1/clusters/k8s", Some(r#"[{"op": "replace", "path": "/labels/nope", "value": "x"}]"#), 400,
         "Couldn't apply patch '[{'path': '/labels/nope', 'op': 'replace', 'value': 'x'}]'. Reason: can't replace a non-existent object 'nope'"),
        ("PATCH", "/v1/clusters/k8s/nodegroups/default-worker", Some(r#"[{"op": "replace", "path": "/node_count", "value": 7}]"#), 400,
         "'/node_count' is an internal attribute and can not be updated"),
        ("GET", "/v1/clusters/nope", None, 404, "Cluster nope could not be found."),
        ("GET", "/v1/clusters/k8s/nodegroups/nope", None, 404, "Nodegroup nope could not be found."),
        ("PATCH", "/v1/clusters/nope", Some(r#"[{"op": "replace", "path": "/node_count", "value": 6}]"#), 404,
         "Cluster nope could not be found."),
        ("GET", "/v1/bays", None, 404, "The resource could not be found."),
        ("DELETE", "/v1/clusters/k8s", None, 405, "The method specified is not allowed for this resource."),
    ];
    for (method, path, body, status, text) in cases {
        let r = magnum(&mock, &t, method, path, body).await;
        assert_eq!(r.status(), status, "{method} {path} {body:?}");
        assert_eq!(header(&r, "Content-Type"), "application/json");
        assert!(is_request_id(&header(&r, "x-openstack-request-id")));
        assert_eq!(
            header(&r, "OpenStack-API-Version"),
            "container-infra 1.11",
            "{method} {path}"
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(detail(&v), text, "{method} {path} {body:?}");
        assert_eq!(v["errors"][0]["request_id"], "");
        assert_eq!(v["errors"][0]["status"], status);
    }
    // Wrong Content-Type.
    let r = client()
        .patch(format!("{}/v1/clusters/k8s", mock.urls.magnum))
        .header("X-Auth-Token", &t)
        .header("Content-Type", "text/plain")
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["detail"],
        "Unknown mimetype: text/plain"
    );
    // Oversized body.
    let r = magnum(
        &mock,
        &t,
        "PATCH",
        "/v1/clusters/k8s",
        Some(&" ".repeat(200_000)),
    )
    .await;
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["detail"],
        "Request is too large."
    );
}

#[tokio::test]
async fn magnum_microversions() {
    let mock = live("01-as-it-happened").await;
    let t = token(&mock).await;
    let get = |v: &'static str, path: &'static str| {
        client()
            .get(format!("{}{path}", mock.urls.magnum))
            .header("X-Auth-Token", &t)
            .header("OpenStack-API-Version", v)
            .send()
    };
    let r = get("container-infra 1.9", "/v1/clusters/k8s")
        .await
        .unwrap();
    assert_eq!(header(&r, "OpenStack-API-Version"), "container-infra 1.9");
    let r = get("container-infra 1.12", "/v1/clusters/k8s")
        .await
        .unwrap();
    assert_eq!(r.status(), 406);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "magnum.microversion-unsupported");
    assert_eq!(body["errors"][0]["max_version"], "1.11");
    let r = get("compute 2.1", "/v1/clusters/k8s").await.unwrap();
    assert_eq!(r.status(), 406);
    let r = get("container-infra 1.8", "/v1/clusters/k8s/nodegroups")
        .await
        .unwrap();
    assert_eq!(r.status(), 406);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["detail"],
        "Version 1.8 was requested but the requested API nodegroups is not supported for this version."
    );
    // A server configured for 1.12 (Magnum 2025.2) accepts it.
    let live = Live::new(&scenario("01-as-it-happened"), None);
    let mock12 = openstack::start_with(
        live,
        openstack::Options {
            magnum_max_version: (1, 12),
            ..Default::default()
        },
    )
    .await;
    let t12 = token(&mock12).await;
    let r = client()
        .get(format!("{}/v1/clusters/k8s", mock12.urls.magnum))
        .header("X-Auth-Token", &t12)
        .header("OpenStack-API-Version", "container-infra latest")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "OpenStack-API-Version"), "container-infra 1.12");
}

#[tokio::test]
async fn magnum_tokens_missing_unknown_or_expired() {
    let mock = live("01-as-it-happened").await;
    let expected = json!({"error": {"code": 401, "title": "Unauthorized",
        "message": "The request you have made requires authentication."}});
    let r = client()
        .get(format!("{}/v1/clusters/k8s", mock.urls.magnum))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        header(&r, "WWW-Authenticate"),
        format!("Keystone uri=\"{}\"", mock.urls.keystone)
    );
    assert_eq!(r.json::<Value>().await.unwrap(), expected);
    let r = magnum(&mock, "gAAAAABforged", "GET", "/v1/clusters/k8s", None).await;
    assert_eq!(r.status(), 401);
    let t = token(&mock).await;
    assert_eq!(
        magnum(&mock, &t, "GET", "/v1/clusters/k8s", None)
            .await
            .status(),
        200
    );
    // An hour later on the virtual clock the token has expired (whatever `expires_at` said).
    mock.live().advance(SimDuration::from_secs(3600));
    let r = magnum(&mock, &t, "GET", "/v1/clusters/k8s", None).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap(), expected);
    let fresh = token(&mock).await;
    assert_eq!(
        magnum(&mock, &fresh, "GET", "/v1/clusters/k8s", None)
            .await
            .status(),
        200
    );
    // The journal saw all of it, in order.
    let calls = mock.journal.calls(Service::ContainerInfra);
    assert_eq!(calls.len(), 5);
    assert!(calls.iter().all(|c| c == "GET /v1/clusters/k8s"));
    let statuses: Vec<u16> = mock
        .journal
        .entries()
        .iter()
        .filter(|e| e.service == Service::ContainerInfra)
        .map(|e| e.status)
        .collect();
    assert_eq!(statuses, [401, 401, 200, 401, 200]);
}

#[tokio::test]
async fn injected_faults_win_and_everything_else_reaches_the_engine() {
    use magsim_mocks::openstack::{Fault, FaultKind};
    let mock = live("01-as-it-happened").await;
    let t = token(&mock).await;
    mock.inject(
        Fault::new(Service::ContainerInfra, FaultKind::Error(503)).on("GET", "/v1/clusters/k8s"),
    )
    .await
    .unwrap();
    let r = magnum(&mock, &t, "GET", "/v1/clusters/k8s", None).await;
    assert_eq!(r.status(), 503);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["status"], 503);
    // Once only, on every Keystone request.
    mock.inject(Fault::new(Service::Identity, FaultKind::Error(500)).times(1))
        .await
        .unwrap();
    let c = &mock.credentials;
    let auth = json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"id": c.application_credential_id, "secret": c.application_credential_secret}}}});
    let url = format!("{}/v3/auth/tokens", mock.urls.keystone);
    let statuses = [
        client()
            .post(&url)
            .json(&auth)
            .send()
            .await
            .unwrap()
            .status(),
        client()
            .post(&url)
            .json(&auth)
            .send()
            .await
            .unwrap()
            .status(),
    ];
    assert_eq!(statuses, [500, 201]);
    let r = magnum(
        &mock,
        &t,
        "GET",
        "/v1/clusters/k8s/nodegroups/default-worker",
        None,
    )
    .await;
    assert_eq!(r.status(), 200, "everything else still reaches the engine");
    mock.revoke_tokens();
    let r = magnum(&mock, &t, "GET", "/v1/clusters/k8s/nodegroups", None).await;
    assert_eq!(r.status(), 401);
}

// ---------------------------------------------------------------- Heat and Nova (live)

#[tokio::test]
async fn heat_serves_a_heat_driver_clusters_stack() {
    let mock = live("05-in-cluster-trust-config").await;
    let t = token(&mock).await;
    let (stack_id, name) = {
        let e = mock.live().engine();
        let c = e.world.cluster.as_ref().unwrap();
        (
            c.stack_id.clone(),
            magsim_mocks::openstack::heat::stack_name(c).unwrap(),
        )
    };
    let base = mock.heat_url();
    let r = client()
        .get(format!("{base}/stacks"))
        .header("X-Auth-Token", &t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["stacks"][0]["id"], stack_id.as_str());
    let r = client()
        .get(format!("{base}/stacks/{stack_id}"))
        .header("X-Auth-Token", &t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = header(&r, "Location");
    assert_eq!(location, format!("{base}/stacks/{name}/{stack_id}"));
    let r = client()
        .get(&location)
        .header("X-Auth-Token", &t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let stack: Value = r.json().await.unwrap();
    assert_eq!(stack["stack"]["stack_name"], name.as_str());
    assert!(stack["stack"]["parameters"]["number_of_minions"].is_string());
    let r = client()
        .get(format!("{base}/stacks/nope"))
        .header("X-Auth-Token", &t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "The Stack (nope) could not be found."
    );
    assert_eq!(body["error"]["type"], "EntityNotFound");
    let r = client().get(format!("{base}/stacks")).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

async fn heat_get(mock: &OpenStackMock, t: &str, url: &str) -> (u16, String, Value) {
    let r = client()
        .get(url)
        .header("X-Auth-Token", t)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = header(&r, "Location");
    let _ = mock;
    (status, location, r.json().await.unwrap_or(Value::Null))
}

/// The walk `fetchNodeGroupStackIDs`, `nodeGroupForNode` and `getNodes` make
/// (`magnum_manager_impl.go:97-142,224-369,409-510`), and how it follows the engine.
#[tokio::test]
async fn heat_walk_maps_members_to_the_nodes_provider_ids() {
    use magsim_sim::engine::Operation;
    let mock = live("05-in-cluster-trust-config").await;
    let t = token(&mock).await;
    let base = mock.heat_url();
    let (stack_id, ng_uuid) = {
        let e = mock.live().engine();
        let c = e.world.cluster.as_ref().unwrap();
        let ng = c.default_worker().unwrap();
        assert_eq!(ng.stack_id.as_deref(), Some(c.stack_id.as_str()));
        (c.stack_id.clone(), ng.uuid.clone())
    };
    assert_eq!(
        stack_id.len(),
        36,
        "the Heat driver's stack_id is a uuid: {stack_id}"
    );
    let (status, location, _) = heat_get(&mock, &t, &format!("{base}/stacks/{stack_id}")).await;
    assert_eq!(status, 302);
    let (status, _, stack) = heat_get(&mock, &t, &location).await;
    assert_eq!(status, 200);
    let name = stack["stack"]["stack_name"].as_str().unwrap().to_string();
    assert!(stack["stack"]["creation_time"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert!(stack["stack"]["outputs"].is_array());
    let (status, _, res) = heat_get(
        &mock,
        &t,
        &format!("{base}/stacks/{name}/{stack_id}/resources/kube_minions"),
    )
    .await;
    assert_eq!(status, 200);
    let minions_id = res["resource"]["physical_resource_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Find by id, with a query: the redirect keeps it.
    let (status, location, _) = heat_get(
        &mock,
        &t,
        &format!("{base}/stacks/{minions_id}?resolve_outputs=true"),
    )
    .await;
    assert_eq!(status, 302);
    assert!(
        location.ends_with(&format!("/{minions_id}?resolve_outputs=true")),
        "{location}"
    );
    let minions_name = location
        .trim_start_matches(&format!("{base}/stacks/"))
        .split('/')
        .next()
        .unwrap()
        .to_string();
    assert!(
        minions_name.starts_with(&format!("{name}-kube_minions-")),
        "{minions_name}"
    );
    let minions_url = format!("{base}/stacks/{minions_name}/{minions_id}");
    let refs = |stack: &Value| -> serde_json::Map<String, Value> {
        stack["stack"]["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["output_key"] == "refs_map")
            .unwrap()["output_value"]
            .as_object()
            .unwrap()
            .clone()
    };
    let (_, _, stack) = heat_get(&mock, &t, &minions_url).await;
    let refs_map = refs(&stack);
    assert_eq!(refs_map.len(), 5);
    // Every member's server id is a node's providerID, as the Kubernetes mock renders it.
    let provider_ids: Vec<String> = {
        let e = mock.live().engine();
        e.world
            .live_nodes()
            .map(|(id, _)| {
                magsim_mocks::kube::objects::node_json(&e, id)["spec"]["providerID"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    for (i, server) in &refs_map {
        assert!(i.parse::<u32>().is_ok());
        let pid = format!("openstack:///{}", server.as_str().unwrap());
        assert!(provider_ids.contains(&pid), "{pid} not in {provider_ids:?}");
    }
    let (_, _, list) = heat_get(&mock, &t, &format!("{minions_url}/resources")).await;
    let members = list["resources"].as_array().unwrap().clone();
    assert_eq!(members.len(), 5);
    assert!(members
        .iter()
        .all(|m| m["resource_status"] == "CREATE_COMPLETE"));
    assert_eq!(members[0]["resource_name"], "0");
    // A member stack by id: lookup with path=resources, then its two resources.
    let member = members[0]["physical_resource_id"].as_str().unwrap();
    let (status, location, _) =
        heat_get(&mock, &t, &format!("{base}/stacks/{member}/resources")).await;
    assert_eq!(status, 302);
    assert!(
        location.ends_with(&format!("/{member}/resources")),
        "{location}"
    );
    let (_, _, inner) = heat_get(&mock, &t, &location).await;
    let names: Vec<&str> = inner["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource_name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"kube-minion") && names.contains(&"node_config_deployment"));

    // The Heat driver removes exactly the named server, then grows by a fresh index.
    let victim = refs_map["2"].as_str().unwrap().to_string();
    let op = Operation::Resize {
        cluster: "k8s".into(),
        node_count: 5,
        nodegroup: Some(ng_uuid.clone()),
        nodes_to_remove: vec![victim.clone()],
    };
    let reply = mock.live().mutate(|e| e.apply(op, None));
    assert_eq!(reply.status, 202, "{reply:?}");
    let (_, _, stack) = heat_get(&mock, &t, &minions_url).await;
    let after = refs(&stack);
    assert!(
        !after.contains_key("2"),
        "index 2 is removed for good: {after:?}"
    );
    assert_eq!(
        after.get("5").and_then(Value::as_str),
        Some("kube-minion"),
        "booting"
    );
    assert!(!after.values().any(|v| v.as_str() == Some(victim.as_str())));
    let (_, _, list) = heat_get(&mock, &t, &format!("{minions_url}/resources")).await;
    let five = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["resource_name"] == "5")
        .cloned()
        .unwrap();
    assert_eq!(five["resource_status"], "CREATE_IN_PROGRESS");
}

#[tokio::test]
async fn heat_answers_no_route_and_unknown_names_as_heat_does() {
    let mock = live("01-as-it-happened").await;
    let t = token(&mock).await;
    let base = mock.heat_url();
    // An empty identity (a null stack_id): no route, webob's 404 (not a stack list).
    let (status, _, body) = heat_get(&mock, &t, &format!("{base}/stacks/")).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "404 Not Found");
    assert!(body.get("stacks").is_none());
    // The capi-helm release name is no stack.
    let (status, _, body) = heat_get(&mock, &t, &format!("{base}/stacks/k8s-wamiv264xiet")).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"]["message"],
        "The Stack (k8s-wamiv264xiet) could not be found."
    );
    // Magnum: default nodegroups carry the release name (the conductor copies it).
    let r = client()
        .get(format!(
            "{}/v1/clusters/k8s/nodegroups/default-worker",
            mock.urls.magnum
        ))
        .header("X-Auth-Token", &t)
        .header("OpenStack-API-Version", "container-infra latest")
        .send()
        .await
        .unwrap();
    let ng: Value = r.json().await.unwrap();
    assert_eq!(ng["stack_id"], "k8s-wamiv264xiet");
}

#[tokio::test]
async fn heat_has_no_stack_for_a_capi_cluster_and_nova_serves_flavors() {
    let mock = live("01-as-it-happened").await;
    let t = token(&mock).await;
    let r = client()
        .get(format!("{}/stacks/k8s-wamiv264xiet", mock.heat_url()))
        .header("X-Auth-Token", &t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client()
        .get(format!("{}/stacks", mock.heat_url()))
        .header("X-Auth-Token", &t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"stacks": []}));
    let r = client()
        .get(format!("{}/v2.1/flavors/m3.small", mock.urls.nova))
        .header("X-Auth-Token", &t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let f: Value = r.json().await.unwrap();
    assert_eq!(f["flavor"]["vcpus"], 2);
    assert_eq!(f["flavor"]["ram"], 6144);
    let r = client()
        .get(format!("{}/v2.1/flavors/m9.huge", mock.urls.nova))
        .header("X-Auth-Token", &t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"itemNotFound": {"code": 404, "message": "Flavor m9.huge could not be found."}})
    );
}

// ---------------------------------------------------------------- Replay

async fn incident_replay() -> replay::Replay {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FILE);
    replay::serve(Recording::load(&path).expect("recording")).await
}

#[tokio::test]
async fn replay_serves_the_incident_in_recorded_order() {
    let rp = incident_replay().await;
    let identity = rp.url(Service::Identity).unwrap();
    let magnum = rp.url(Service::ContainerInfra).unwrap();
    let r = client()
        .post(format!("{identity}/v3/auth/tokens"))
        .json(
            &json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": "x", "secret": "y"}}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(header(&r, "X-Subject-Token"), "REDACTED");
    let body: Value = r.json().await.unwrap();
    let cinfra = body["token"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "container-infra")
        .unwrap()
        .clone();
    assert_eq!(cinfra["endpoints"][0]["url"], format!("{magnum}/v1"));

    let get = |path: &str| client().get(format!("{magnum}{path}")).send();
    let r = get("/v1/clusters/k8s").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "OpenStack-API-Version"), "container-infra 1.11");
    let text = r.text().await.unwrap();
    assert!(text.contains(r#""max_node_count": "5""#), "{text}");
    assert!(text.contains(&format!("\"href\": \"{magnum}/v1/clusters/")));

    let first = get("/v1/clusters/k8s/nodegroups/default-worker/")
        .await
        .unwrap();
    let first_id = header(&first, "x-openstack-request-id");
    let r = client()
        .patch(format!("{magnum}/v1/clusters/k8s"))
        .header("Content-Type", "application/json")
        .body(r#"[{"op": "replace", "path": "/labels/max_node_count", "value": 6}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(header(&r, "x-openstack-request-id"), LABELS_REQUEST_ID);
    assert_eq!(r.text().await.unwrap().len(), 190);
    let r = client()
        .patch(format!(
            "{magnum}/v1/clusters/k8s/nodegroups/default-worker"
        ))
        .header("Content-Type", "application/json")
        .body(r#"[{"op": "replace", "path": "/max_node_count", "value": 6}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let second = get("/v1/clusters/k8s/nodegroups/default-worker")
        .await
        .unwrap();
    let second_id = header(&second, "x-openstack-request-id");
    let third = get("/v1/clusters/k8s/nodegroups/default-worker")
        .await
        .unwrap();
    assert_ne!(first_id, second_id, "before and after are two recordings");
    assert_eq!(
        header(&third, "x-openstack-request-id"),
        second_id,
        "the last one repeats"
    );

    let entries = rp.journal.entries();
    let indices: Vec<Option<usize>> = entries.iter().map(|e| e.exchange).collect();
    assert_eq!(
        indices,
        [
            Some(0),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
            Some(5)
        ]
    );
    assert_eq!(
        rp.journal
            .count("GET", "/v1/clusters/k8s/nodegroups/default-worker"),
        3
    );
    assert_eq!(rp.uses()[5], 2);
}

#[tokio::test]
async fn replay_names_the_nearest_recorded_request() {
    let rp = incident_replay().await;
    let magnum = rp.url(Service::ContainerInfra).unwrap();
    let r = client()
        .get(format!("{magnum}/v1/clusters/k9s"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["detail"],
        "no recorded container-infra exchange matches GET /v1/clusters/k9s; nearest is exchange 1 (GET /v1/clusters/k8s): path differs (recorded /v1/clusters/k8s, got /v1/clusters/k9s)"
    );
    assert_eq!(body["errors"][0]["title"], body["errors"][0]["detail"]);
    let r = client()
        .patch(format!("{magnum}/v1/clusters/k8s"))
        .body(r#"[{"op": "replace", "path": "/labels/max_node_count", "value": 7}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let detail = r.json::<Value>().await.unwrap()["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("nearest is exchange 3 (PATCH /v1/clusters/k8s): body differs (recorded [{\"op\":\"replace\",\"path\":\"/labels/max_node_count\",\"value\":6}], got [{\"op\":\"replace\",\"path\":\"/labels/max_node_count\",\"value\":7}])"),
        "{detail}"
    );
    let r = client()
        .delete(format!("{magnum}/v1/clusters/k8s"))
        .send()
        .await
        .unwrap();
    let detail = r.json::<Value>().await.unwrap()["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.ends_with("nearest is exchange 1 (GET /v1/clusters/k8s): method differs (recorded GET, got DELETE)"),
        "{detail}"
    );
    let identity = rp.url(Service::Identity).unwrap();
    let r = client()
        .get(format!("{identity}/v3/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], 404);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nearest is exchange 0 (POST /v3/auth/tokens)"));
    assert_eq!(
        rp.journal
            .entries()
            .iter()
            .filter(|e| e.exchange.is_none())
            .count(),
        4
    );
}

#[tokio::test]
async fn replay_serves_the_kubernetes_side() {
    let rp = incident_replay().await;
    let kube = rp.url(Service::Kubernetes).unwrap();
    let r = client()
        .get(format!(
            "{kube}/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cm: Value = r.json().await.unwrap();
    assert!(cm["data"]["status"]
        .as_str()
        .unwrap()
        .contains("maxSize: 5"));
    let pod: Value = client()
        .get(format!(
            "{kube}/api/v1/namespaces/default/pods/high-memory-deployment-844964899f-4md88"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let uid = pod["metadata"]["uid"].as_str().unwrap().to_string();
    let r = client()
        .get(format!("{kube}/api/v1/namespaces/default/events"))
        .query(&[
            ("fieldSelector", format!("involvedObject.uid={uid},involvedObject.name=high-memory-deployment-844964899f-4md88,involvedObject.namespace=default")),
            ("limit", "500".to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let events: Value = r.json().await.unwrap();
    assert!(events["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["reason"] == "NotTriggerScaleUp"));
    // Same path, other query: a Status naming the difference.
    let r = client()
        .get(format!("{kube}/api/v1/namespaces/default/events?limit=500"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let status: Value = r.json().await.unwrap();
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "NotFound");
    assert!(status["message"]
        .as_str()
        .unwrap()
        .contains("query differs"));
}

#[tokio::test]
async fn virtual_expiry_can_be_shown() {
    let live = Live::new(&scenario("01-as-it-happened"), None);
    let mock = openstack::start_with(
        live,
        openstack::Options {
            virtual_expires_at: true,
            ..Default::default()
        },
    )
    .await;
    let c = &mock.credentials;
    let r = client()
        .post(format!("{}/v3/auth/tokens", mock.urls.keystone))
        .json(&json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": c.application_credential_id, "secret": c.application_credential_secret}}}}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token"]["expires_at"], "2025-11-10T15:00:00.000000Z");
    assert_eq!(body["token"]["issued_at"], "2025-11-10T14:00:00.000000Z");
}

#[tokio::test]
async fn replay_format_features_and_every_services_error_shape() {
    let text = r#"{
      "exchanges": [
        {"service": "orchestration", "request": {"method": "GET", "path": "/v1/p/stacks", "query": {"limit": "1"}},
         "response": {"status": 200, "headers": {"Content-Type": "application/json", "Location": "{{orchestration}}/v1/p/stacks/s/1"},
                      "body": {"stacks": [], "links": "{{compute}}/v2.1 {{identity}}/v3"}}},
        {"service": "compute", "request": {"method": "POST", "path": "/v2.1/servers", "body": {"server": {"name": "a"}}},
         "response": {"status": 202, "headers": {"Content-Type": "text/plain"}, "body_text": "accepted {{compute}}"}}
      ]
    }"#;
    let rec = Recording::from_json("inline.json", text).expect("parses");
    assert_eq!(rec.services(), [Service::Orchestration, Service::Compute]);
    let rp = replay::serve(rec).await;
    assert!(rp.url(Service::Identity).is_none());
    let heat = rp.url(Service::Orchestration).unwrap();
    let nova = rp.url(Service::Compute).unwrap();

    let r = client()
        .get(format!("{heat}/v1/p/stacks/?limit=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "Location"), format!("{heat}/v1/p/stacks/s/1"));
    // Python's json.dumps separators; a service without a server keeps its placeholder.
    assert_eq!(
        r.text().await.unwrap(),
        format!(r#"{{"stacks": [], "links": "{nova}/v2.1 {{{{identity}}}}/v3"}}"#)
    );
    let r = client()
        .get(format!("{heat}/v1/p/stacks?limit=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 404);
    assert_eq!(body["title"], "Not Found");
    assert_eq!(
        body["error"]["message"],
        "no recorded orchestration exchange matches GET /v1/p/stacks; nearest is exchange 0 (GET /v1/p/stacks): query differs (recorded limit=1, got limit=2)"
    );

    let r = client()
        .post(format!("{nova}/v2.1/servers"))
        .body(r#"{"server": {"name": "a"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(header(&r, "Content-Type"), "text/plain");
    assert_eq!(r.text().await.unwrap(), format!("accepted {nova}"));
    let r = client()
        .post(format!("{nova}/v2.1/servers"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["itemNotFound"]["message"],
        r#"no recorded compute exchange matches POST /v2.1/servers; nearest is exchange 1 (POST /v2.1/servers): body differs (recorded {"server":{"name":"a"}}, got no JSON body)"#
    );
    let statuses: Vec<(Service, Option<usize>, u16)> = rp
        .journal
        .entries()
        .iter()
        .map(|e| (e.service, e.exchange, e.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (Service::Orchestration, Some(0), 200),
            (Service::Orchestration, None, 404),
            (Service::Compute, Some(1), 202),
            (Service::Compute, None, 404),
        ]
    );
    assert_eq!(rp.uses(), [1, 1]);
}

#[test]
fn bad_recordings_are_reported_with_the_file() {
    let err = Recording::from_json("bad.json", r#"{"exchanges": [{"service": "dns"}]}"#)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("bad.json: unknown variant `dns`"), "{err}");
    // The cause is the error's source, printed once by a chain (`{:#}`), not in its text.
    let err = Recording::load(std::path::Path::new("/nonexistent/rec.json")).unwrap_err();
    assert_eq!(err.to_string(), "cannot read /nonexistent/rec.json");
    let cause = std::error::Error::source(&err).expect("the io error is the source");
    assert!(cause.to_string().contains("No such file"), "{cause}");
    let err = Recording::from_json(
        "bad.json",
        r#"{"exchanges": [{"service": "identity", "request": {"method": "GET", "path": "/"},
            "response": {"status": 200, "headers": {"Bad Header": "x"}}}]}"#,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        r#"bad.json: exchange 0: header "Bad Header": "x" is not valid HTTP"#
    );
    let err = Recording::from_json(
        "bad.json",
        r#"{"exchanges": [{"service": "identity", "request": {"method": "GET", "path": "/"},
            "response": {"status": 42}}]}"#,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(err, "bad.json: exchange 0: status 42 is not an HTTP status");
}

#[tokio::test]
async fn a_recording_built_in_code_with_a_bad_response_gets_500_not_a_panic() {
    let rec = Recording {
        description: None,
        exchanges: vec![recording::Exchange {
            service: Service::Identity,
            note: None,
            request: recording::RequestMatcher {
                method: "GET".into(),
                path: "/".into(),
                query: None,
                body: None,
            },
            response: recording::RecordedResponse {
                status: 7,
                headers: Default::default(),
                body: None,
                body_text: None,
            },
        }],
    };
    let rp = replay::serve(rec).await;
    let r = client()
        .get(rp.url(Service::Identity).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.text().await.unwrap(), "status 7 is not an HTTP status");
}

#[tokio::test]
async fn odd_requests_get_4xx_never_5xx() {
    let mock = live("01-as-it-happened").await;
    let t = token(&mock).await;
    let bases = [
        mock.urls.keystone.clone(),
        mock.urls.magnum.clone(),
        mock.heat_url(),
        mock.urls.nova.clone(),
    ];
    let paths = [
        "/v1/clusters/%00",
        "/v1/clusters/k8s/nodegroups/default-worker/extra/segments",
        "/v3/auth/tokens/%ff%fe",
        "//////",
        "/v1/clusters/k8s?limit=-1&sort_dir=sideways",
    ];
    let long = format!("/v1/clusters/{}", "a".repeat(4000));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for base in &bases {
        for path in paths.iter().copied().chain([long.as_str()]) {
            for method in ["GET", "PATCH", "POST", "PUT", "OPTIONS"] {
                let r = client()
                    .request(method.parse().unwrap(), format!("{base}{path}"))
                    .header("X-Auth-Token", &t)
                    .header(
                        "OpenStack-API-Version",
                        reqwest::header::HeaderValue::from_bytes(b"container-infra \xff").unwrap(),
                    )
                    .header("Content-Type", "application/json")
                    .body(deep.clone())
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                assert!(
                    (200..500).contains(&status),
                    "{method} {base}{path}: {status}"
                );
                let text = r.text().await.unwrap();
                assert!(
                    text.is_empty() || serde_json::from_str::<Value>(&text).is_ok(),
                    "{method} {base}{path}: {text}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_live_session_becomes_a_redacted_recording_that_replays() {
    let mock = live("01-as-it-happened").await;
    let c = mock.credentials.clone();
    let r = client()
        .post(format!("{}/v3/auth/tokens", mock.urls.keystone))
        .json(&json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": c.user_id, "password": c.password}}},
            "scope": {"project": {"id": c.project_id}}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let t = header(&r, "X-Subject-Token");
    let calls: [(&str, &str, Option<&str>); 4] = [
        ("GET", "/v1/clusters/k8s", None),
        (
            "PATCH",
            "/v1/clusters/k8s",
            Some(r#"[{"op": "replace", "path": "/labels/max_node_count", "value": 6}]"#),
        ),
        (
            "PATCH",
            "/v1/clusters/k8s/nodegroups/default-worker",
            Some(r#"[{"op": "replace", "path": "/max_node_count", "value": 7}]"#),
        ),
        ("GET", "/v1/clusters/k8s/nodegroups/default-worker", None),
    ];
    let mut live_answers = Vec::new();
    for (m, p, b) in calls {
        let r = magnum(&mock, &t, m, p, b).await;
        let id = header(&r, "x-openstack-request-id");
        live_answers.push((r.status().as_u16(), id, r.text().await.unwrap()));
    }

    let rec = mock.recording();
    let text = rec.to_json();
    assert!(!text.contains(&c.password), "password redacted");
    assert!(!text.contains(&t), "token redacted");
    assert!(!text.contains(&mock.urls.magnum), "URLs are placeholders");
    assert!(text.contains("{{container-infra}}/v1/clusters/c8fd0bc7"));
    assert_eq!(
        rec.exchanges[0].response.headers["X-Subject-Token"],
        "REDACTED"
    );
    assert_eq!(rec.exchanges[0].request.body, None);
    assert_eq!(rec.exchanges.len(), 5);

    // Saved and loaded, it answers the same requests with the same bytes.
    let loaded = Recording::from_json("session.json", &text).expect("valid recording");
    let rp = replay::serve(loaded).await;
    let magnum_url = rp.url(Service::ContainerInfra).unwrap();
    for ((m, p, b), (status, id, body)) in calls.iter().zip(&live_answers) {
        let mut rb = client().request(m.parse().unwrap(), format!("{magnum_url}{p}"));
        if let Some(b) = b {
            rb = rb.body(b.to_string());
        }
        let r = rb.send().await.unwrap();
        assert_eq!(r.status().as_u16(), *status, "{m} {p}");
        assert_eq!(&header(&r, "x-openstack-request-id"), id);
        assert_eq!(
            r.text().await.unwrap(),
            body.replace(&mock.urls.magnum, &magnum_url),
            "{m} {p}"
        );
    }
}

#[tokio::test]
async fn clearing_faults_keeps_serving_and_drops_injected_faults() {
    use magsim_mocks::openstack::{Fault, FaultKind};
    let mock = live("01-as-it-happened").await;
    let t = token(&mock).await;
    mock.inject(
        Fault::new(Service::ContainerInfra, FaultKind::Error(503)).on("GET", "/v1/clusters/k8s"),
    )
    .await
    .unwrap();
    assert_eq!(
        magnum(&mock, &t, "GET", "/v1/clusters/k8s", None)
            .await
            .status(),
        503
    );
    mock.clear_faults();
    // Tokens live apart from the faults: the same token still works.
    let r = magnum(&mock, &t, "GET", "/v1/clusters/k8s", None).await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["name"], "k8s");
}

#[tokio::test]
async fn injected_faults_answer_in_each_apis_own_shape() {
    use magsim_mocks::openstack::{Fault, FaultError, FaultKind};
    let mock = live("01-as-it-happened").await;
    let t = token(&mock).await;
    let resize = "/v1/clusters/k8s/actions/resize";
    mock.inject(
        Fault::new(Service::ContainerInfra, FaultKind::Error(503))
            .on("POST", resize)
            .times(1),
    )
    .await
    .unwrap();
    let body = r#"{"node_count": 6, "nodegroup": "default-worker"}"#;
    let first = magnum(&mock, &t, "POST", resize, Some(body)).await;
    assert_eq!(first.status(), 503);
    assert!(first
        .headers()
        .get("x-openstack-request-id")
        .is_some_and(|v| v.to_str().unwrap().starts_with("req-")));
    let e: serde_json::Value = first.json().await.unwrap();
    assert_eq!(e["errors"][0]["status"], 503);
    assert_eq!(e["errors"][0]["code"], "server");
    assert_eq!(e["errors"][0]["title"], "Service Unavailable");
    // Only once; then a dropped connection, then Magnum.
    mock.inject(
        Fault::new(Service::ContainerInfra, FaultKind::Drop)
            .on("POST", resize)
            .times(1),
    )
    .await
    .unwrap();
    let dropped = client()
        .post(format!("{}{resize}", mock.urls.magnum))
        .header("X-Auth-Token", &t)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await;
    let e = dropped.expect_err("the connection closes unanswered");
    assert!(!e.is_status() && !e.is_timeout(), "{e:?}");
    let second = magnum(&mock, &t, "POST", resize, Some(body)).await;
    assert_eq!(second.status(), 202);
    assert_eq!(
        mock.live()
            .engine()
            .world
            .cluster
            .as_ref()
            .unwrap()
            .nodegroups[0]
            .node_count,
        6
    );

    mock.inject(Fault::new(Service::Identity, FaultKind::Error(500)))
        .await
        .unwrap();
    let r = client()
        .post(format!("{}/v3/auth/tokens", mock.urls.keystone))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], 500);
    assert_eq!(e["error"]["title"], "Internal Server Error");

    // A slow answer is still the real one.
    mock.inject(Fault::new(
        Service::ContainerInfra,
        FaultKind::Latency(std::time::Duration::from_millis(50)),
    ))
    .await
    .unwrap();
    let r = magnum(&mock, &t, "GET", "/v1/clusters/k8s", None).await;
    assert_eq!(r.status(), 200);
    let c: serde_json::Value = r.json().await.unwrap();
    assert_eq!(c["name"], "k8s");

    assert_eq!(
        mock.inject(Fault::new(Service::Kubernetes, FaultKind::Error(500)))
            .await,
        Err(FaultError::NoServer("kubernetes"))
    );
    assert_eq!(
        mock.inject(Fault::new(Service::Compute, FaultKind::Error(200)))
            .await,
        Err(FaultError::NotAnError(200))
    );
}

// ---------------------------------------------------------------- faults a scenario declares

fn fault_scenario(name: &str) -> magsim_scenario::Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/faults")
        .join(name);
    magsim_scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn declared_token_expiry_and_keystone_outage_reach_the_live_servers() {
    let mock = openstack::start(Live::new(&fault_scenario("token-expiry.yaml"), None)).await;
    let t = token(&mock).await;
    let list = "/v1/clusters/k8s/nodegroups";
    assert_eq!(magnum(&mock, &t, "GET", list, None).await.status(), 200);
    mock.live().advance(SimDuration::from_secs(60));
    let r = magnum(&mock, &t, "GET", list, None).await;
    assert_eq!(
        r.status(),
        401,
        "every token issued before 1m is revoked at 1m"
    );
    let fresh = token(&mock).await;
    assert_eq!(magnum(&mock, &fresh, "GET", list, None).await.status(), 200);
    mock.live().advance(SimDuration::from_secs(300));
    let c = &mock.credentials;
    let auth = json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"id": c.application_credential_id, "secret": c.application_credential_secret}}}});
    let r = client()
        .post(format!("{}/v3/auth/tokens", mock.urls.keystone))
        .json(&auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "Keystone is down from 6m to 7m");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], 503);
    assert_eq!(body["error"]["title"], "Service Unavailable");
    let r = magnum(&mock, &fresh, "GET", list, None).await;
    assert_eq!(r.status(), 401, "the 6m revocation");
    mock.live().advance(SimDuration::from_secs(60));
    token(&mock).await;
}

#[tokio::test]
async fn declared_magnum_errors_count_their_requests_and_keep_their_window() {
    let mock = openstack::start(Live::new(&fault_scenario("operator-resize-503.yaml"), None)).await;
    let t = token(&mock).await;
    let show = "/v1/clusters/k8s/nodegroups/default-worker";
    assert_eq!(
        magnum(&mock, &t, "GET", show, None).await.status(),
        200,
        "before 1m"
    );
    mock.live().advance(SimDuration::from_secs(60));
    let r = magnum(&mock, &t, "GET", show, None).await;
    assert_eq!(r.status(), 500);
    assert!(is_request_id(&header(&r, "x-openstack-request-id")));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["title"], "Internal Server Error");
    let resize = r#"{"node_count": 6, "nodegroup": "default-worker"}"#;
    let path = "/v1/clusters/c8fd0bc7-cf71-40fb-b901-c309d405d627/actions/resize";
    let r = magnum(&mock, &t, "POST", path, Some(resize)).await;
    assert_eq!(
        r.status(),
        503,
        "the first resize, by uuid as the CLI sends it"
    );
    let r = magnum(&mock, &t, "POST", path, Some(resize)).await;
    assert_eq!(r.status(), 202, "times: 1");
    mock.live().advance(SimDuration::from_secs(60));
    assert_eq!(
        magnum(&mock, &t, "GET", show, None).await.status(),
        200,
        "after 2m"
    );
}
