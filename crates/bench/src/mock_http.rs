//! The `mock-http` workload: Magnum nodegroup GETs against the live mock on loopback, over
//! keep-alive connections, as fast as the server answers.

use magsim_mocks::openstack::{self, OpenStackMock};
use magsim_mocks::Live;
use serde_json::{json, Value};
use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct MockHttp {
    rt: tokio::runtime::Runtime,
    /// Keeps the servers running (dropping it stops them).
    _mock: OpenStackMock,
    addr: SocketAddr,
    request: String,
    requests: u64,
    connections: u64,
}

impl MockHttp {
    /// The incident's cloud, `requests` GETs spread over `connections` connections.
    pub fn prepare(requests: u64, connections: u64) -> Result<MockHttp, String> {
        if requests == 0 || connections == 0 {
            return Err("mock-http takes requests,connections, both above 0".into());
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let (file, text) = magsim_scenario::builtin()[0];
        let scenario = magsim_scenario::parse(file, text).map_err(|e| e.to_string())?;
        let mock = rt.block_on(openstack::start(Live::new(&scenario, None)));
        // A benchmark sends thousands of requests: keep no journal of them.
        mock.journal.set_enabled(false);
        let token = mock.issue_token().id;
        let addr: SocketAddr = mock
            .urls
            .magnum
            .trim_start_matches("http://")
            .parse()
            .map_err(|e| format!("magnum URL {}: {e}", mock.urls.magnum))?;
        let request = format!(
            "GET /v1/clusters/k8s/nodegroups/default-worker HTTP/1.1\r\nHost: {addr}\r\nX-Auth-Token: {token}\r\nOpenStack-API-Version: container-infra latest\r\nAccept: application/json\r\n\r\n"
        );
        Ok(MockHttp {
            rt,
            _mock: mock,
            addr,
            request,
            requests,
            connections,
        })
    }

    pub fn params(&self) -> Value {
        json!({"requests": self.requests, "connections": self.connections})
    }

    /// One timed batch (the servers keep nothing per request, so memory measures one batch).
    pub fn measure(&self) -> (std::time::Duration, Value) {
        let t = std::time::Instant::now();
        let answer = self.run();
        (t.elapsed(), answer)
    }

    /// Sends every request; the answer counts the 200s.
    pub fn run(&self) -> Value {
        let per = self.requests.div_ceil(self.connections);
        let ok: u64 = self.rt.block_on(async {
            let tasks: Vec<_> = (0..self.connections)
                .map(|i| {
                    let n = per.min(self.requests.saturating_sub(i * per));
                    let (addr, req) = (self.addr, self.request.clone());
                    tokio::spawn(async move { connection(addr, &req, n).await.unwrap_or(0) })
                })
                .collect();
            let mut ok = 0;
            for t in tasks {
                ok += t.await.unwrap_or(0);
            }
            ok
        });
        json!({"requests": self.requests, "ok": ok})
    }

    pub fn expected(&self) -> Value {
        json!({"ok": self.requests})
    }
}

/// `n` requests on one keep-alive connection; how many answered 200.
async fn connection(addr: SocketAddr, request: &str, n: u64) -> std::io::Result<u64> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut conn = BufReader::new(stream);
    let mut ok = 0;
    let mut line = String::new();
    let mut body = Vec::new();
    for _ in 0..n {
        conn.get_mut().write_all(request.as_bytes()).await?;
        line.clear();
        conn.read_line(&mut line).await?;
        let status_ok = line.split(' ').nth(1) == Some("200");
        let mut length = 0usize;
        loop {
            line.clear();
            if conn.read_line(&mut line).await? == 0 {
                return Ok(ok);
            }
            let h = line.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        body.resize(length, 0);
        conn.read_exact(&mut body).await?;
        ok += u64::from(status_ok);
    }
    Ok(ok)
}
