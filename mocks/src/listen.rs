//! Where the mock servers listen and which URLs they hand to clients.
//!
//! By default every server binds `127.0.0.1` on an ephemeral port and advertises that address.
//! In a container the servers bind `0.0.0.0` on a fixed layout of five consecutive ports
//! (Keystone, Magnum, Heat, Nova, Kubernetes from [`Listen::port`]) and clients reach them
//! through mapped host ports, so Keystone's catalog, `clouds.yaml` and the kubeconfig must
//! name what the client sees ([`Listen::advertise`]), not what the server bound.
//!
//! ```
//! use magsim_mocks::listen::{Advertise, Listen};
//! use magsim_mocks::Service;
//! let listen = Listen {
//!     bind: "0.0.0.0".parse().unwrap(),
//!     port: 9500,
//!     advertise: Some("localhost:19500".parse::<Advertise>().unwrap()),
//! };
//! listen.check().unwrap();
//! assert_eq!(listen.addr(Service::ContainerInfra).port(), 9501);
//! assert_eq!(
//!     listen.url(Service::ContainerInfra, listen.addr(Service::ContainerInfra)),
//!     "http://localhost:19501"
//! );
//! ```

use crate::Service;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

/// The servers' ports in the fixed layout, as offsets from [`Listen::port`].
pub fn port_offset(service: Service) -> u16 {
    match service {
        Service::Identity => 0,
        Service::ContainerInfra => 1,
        Service::Orchestration => 2,
        Service::Compute => 3,
        Service::Kubernetes => 4,
    }
}

/// The last offset of the layout: a base port must leave room for it.
const LAST_OFFSET: u16 = 4;

/// Bind address, port layout and advertised address of the servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listen {
    /// The address every server binds (`127.0.0.1` by default; `0.0.0.0` in a container).
    pub bind: IpAddr,
    /// First port of the fixed layout (Keystone `port`, Magnum `port+1`, Heat `port+2`, Nova
    /// `port+3`, Kubernetes `port+4`); `0` gives every server its own ephemeral port.
    pub port: u16,
    /// What clients use to reach the servers; `None` advertises the bound address (loopback
    /// when binding every interface).
    pub advertise: Option<Advertise>,
}

impl Default for Listen {
    fn default() -> Listen {
        Listen {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            advertise: None,
        }
    }
}

/// `HOST` or `HOST:PORT` clients reach the servers at. With a port, it is where Keystone is
/// reached and the other servers follow at the layout's offsets (a mapping such as
/// `docker run -p 19500-19504:9500-9504`); without one, each server's own port is advertised
/// (mapped 1:1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advertise {
    /// A host name or IP address (IPv6 without brackets).
    pub host: String,
    pub port: Option<u16>,
}

/// A [`Listen`] or [`Advertise`] that cannot work.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ListenError {
    #[error("port {0}: the five servers need ports {0} to {0}+4, which pass 65535")]
    PortRange(u16),
    #[error("advertised port {0}: the five servers need ports {0} to {0}+4, which pass 65535")]
    AdvertisedPortRange(u16),
    #[error("advertised port {0} needs a fixed port layout (a non-zero base port): ephemeral ports cannot be mapped at fixed offsets")]
    AdvertisedPortWithoutLayout(u16),
    #[error("advertise {0:?}: expected HOST or HOST:PORT, optionally after http://")]
    BadAdvertise(String),
}

/// For the servers' `std::io::Result`s: an impossible layout is `InvalidInput`.
impl From<ListenError> for std::io::Error {
    fn from(e: ListenError) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

impl FromStr for Advertise {
    type Err = ListenError;

    /// Accepts `HOST`, `HOST:PORT`, `[V6]`, `[V6]:PORT`, each optionally after `http://` and
    /// before a `/`.
    fn from_str(s: &str) -> Result<Advertise, ListenError> {
        let bad = || ListenError::BadAdvertise(s.to_string());
        let rest = s.strip_prefix("http://").unwrap_or(s);
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(bad)?;
            match after {
                "" => (host, None),
                p => (host, Some(p.strip_prefix(':').ok_or_else(bad)?)),
            }
        } else {
            match rest.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            }
        };
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
        // A colon only belongs to an IPv6 literal, which was bracketed.
        if !host_ok || (host.contains(':') && !rest.starts_with('[')) {
            return Err(bad());
        }
        let port = match port {
            None => None,
            Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad)?),
        };
        Ok(Advertise {
            host: host.to_string(),
            port,
        })
    }
}

impl Listen {
    /// Checks that every server's port exists.
    pub fn check(&self) -> Result<(), ListenError> {
        if self.port.checked_add(LAST_OFFSET).is_none() {
            return Err(ListenError::PortRange(self.port));
        }
        if let Some(p) = self.advertise.as_ref().and_then(|a| a.port) {
            if self.port == 0 {
                return Err(ListenError::AdvertisedPortWithoutLayout(p));
            }
            if p.checked_add(LAST_OFFSET).is_none() {
                return Err(ListenError::AdvertisedPortRange(p));
            }
        }
        Ok(())
    }

    /// Whether this is the default: loopback, ephemeral ports, nothing advertised.
    pub fn is_default(&self) -> bool {
        *self == Listen::default()
    }

    /// The address `service` binds.
    pub fn addr(&self, service: Service) -> SocketAddr {
        let port = match self.port {
            0 => 0,
            p => p.saturating_add(port_offset(service)),
        };
        SocketAddr::new(self.bind, port)
    }

    /// Binds `service`'s listener (live and replay servers alike); the error names the address.
    pub fn bind(&self, service: Service) -> std::io::Result<std::net::TcpListener> {
        let addr = self.addr(service);
        std::net::TcpListener::bind(addr).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("binding {} on {addr}: {e}", service.as_str()),
            )
        })
    }

    /// The base URL (no trailing slash) clients use for `service`, which is bound at `bound`.
    pub fn url(&self, service: Service, bound: SocketAddr) -> String {
        let (host, port) = match &self.advertise {
            Some(a) => (
                a.host.clone(),
                a.port
                    .map(|p| p.saturating_add(port_offset(service)))
                    .unwrap_or(bound.port()),
            ),
            None => {
                let ip = match bound.ip() {
                    IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                    IpAddr::V6(v6) if v6.is_unspecified() => {
                        IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
                    }
                    ip => ip,
                };
                (ip.to_string(), bound.port())
            }
        };
        if host.contains(':') {
            format!("http://[{host}]:{port}")
        } else {
            format!("http://{host}:{port}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adv(s: &str) -> Result<Advertise, ListenError> {
        s.parse()
    }

    #[test]
    fn advertise_parses_hosts_ports_and_v6() {
        assert_eq!(
            adv("localhost").unwrap(),
            Advertise {
                host: "localhost".into(),
                port: None
            }
        );
        assert_eq!(adv("http://10.0.0.5:19500/").unwrap().port, Some(19500));
        let v6 = adv("[::1]:9500").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", Some(9500)));
        assert_eq!(adv("[fd00::2]").unwrap().port, None);
        for bad in [
            "",
            ":9500",
            "host:",
            "host:0",
            "host:65536",
            "host:x",
            "::1",
            "[::1",
            "[::1]x",
            "a b",
            "https://x",
            "host/path",
        ] {
            assert!(
                matches!(adv(bad), Err(ListenError::BadAdvertise(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn fixed_layout_and_advertised_urls() {
        let l = Listen {
            bind: "0.0.0.0".parse().unwrap(),
            port: 9500,
            advertise: None,
        };
        assert_eq!(l.check(), Ok(()));
        assert_eq!(
            Service::ALL.map(|s| l.addr(s).port()),
            [9500, 9501, 9502, 9503, 9504]
        );
        // Binding every interface advertises loopback, never 0.0.0.0.
        assert_eq!(
            l.url(Service::Kubernetes, l.addr(Service::Kubernetes)),
            "http://127.0.0.1:9504"
        );
        let mapped = Listen {
            advertise: Some(adv("localhost:19500").unwrap()),
            ..l.clone()
        };
        assert_eq!(
            mapped.url(Service::Compute, mapped.addr(Service::Compute)),
            "http://localhost:19503"
        );
        let host_only = Listen {
            advertise: Some(adv("[fd00::2]").unwrap()),
            ..l
        };
        assert_eq!(
            host_only.url(Service::Identity, host_only.addr(Service::Identity)),
            "http://[fd00::2]:9500"
        );
    }

    #[test]
    fn impossible_layouts_are_refused() {
        let l = |port, advertise: Option<&str>| Listen {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port,
            advertise: advertise.map(|a| adv(a).unwrap()),
        };
        assert_eq!(l(65532, None).check(), Err(ListenError::PortRange(65532)));
        assert_eq!(l(65531, None).check(), Ok(()));
        assert_eq!(
            l(0, Some("localhost:9500")).check(),
            Err(ListenError::AdvertisedPortWithoutLayout(9500))
        );
        assert_eq!(
            l(9500, Some("localhost:65535")).check(),
            Err(ListenError::AdvertisedPortRange(65535))
        );
        assert_eq!(l(0, Some("localhost")).check(), Ok(()));
        assert!(Listen::default().is_default());
    }

    #[test]
    fn ephemeral_ports_advertise_what_was_bound() {
        let l = Listen::default();
        let a = l.bind(Service::Identity).unwrap();
        let b = l.bind(Service::Identity).unwrap();
        let (a, b) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        assert_ne!(a.port(), b.port());
        assert_eq!(
            l.url(Service::Identity, a),
            format!("http://127.0.0.1:{}", a.port())
        );
    }

    #[test]
    fn a_taken_port_is_an_error_naming_the_address() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let l = Listen {
            port: taken.local_addr().unwrap().port(),
            ..Listen::default()
        };
        let e = l.bind(Service::Identity).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("binding identity on 127.0.0.1:{}", l.port)),
            "{e}"
        );
    }
}
