//! Header rewriting for pass-through: removal of hop-by-hop headers and the
//! `X-Forwarded-*` headers the app sees.

use crate::config::Cidr;
use http::HeaderMap;
use http::header::{CONNECTION, HeaderName, HeaderValue, TE, TRANSFER_ENCODING, UPGRADE};
use std::net::IpAddr;

const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
const PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
/// `X-Forwarded-For`.
pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
/// `X-Forwarded-Proto`.
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
/// `X-Forwarded-Host`.
pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Removes hop-by-hop headers (RFC 9110 §7.6.1): "Intermediaries MUST parse
/// a received Connection header field before a message is forwarded and,
/// for each connection-option in this field, remove any header or trailer
/// field(s) from the message with the same name as the connection-option,
/// and then remove the Connection header field itself". Also removes the
/// fields the RFC names as connection-specific (`Proxy-Connection`,
/// `Keep-Alive`, `TE`, `Transfer-Encoding`, `Upgrade`) and the proxy
/// authentication fields meant for us. `TE: trailers` is kept: it is the
/// one TE value that is end-to-end in meaning (gRPC and trailer-carrying
/// responses need it).
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry none of them: one pass over the names (compared
    // in place, no hashing) decides, and nothing is removed.
    if !headers.keys().any(is_hop_by_hop) {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    let te_trailers = headers.get_all(TE).iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("trailers"))
        })
    });
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    if te_trailers {
        headers.insert(TE, HeaderValue::from_static("trailers"));
    }
}

/// The names [`strip_hop_by_hop`] removes whatever `Connection` says.
const HOP_BY_HOP: [HeaderName; 8] = [
    CONNECTION,
    KEEP_ALIVE,
    PROXY_CONNECTION,
    TE,
    TRANSFER_ENCODING,
    UPGRADE,
    http::header::PROXY_AUTHENTICATE,
    http::header::PROXY_AUTHORIZATION,
];

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.iter().any(|h| h == name)
}

/// What the sidecar knows about the client connection.
#[derive(Debug, Clone, Copy)]
pub struct ClientInfo {
    /// The peer's IP address.
    pub peer: IpAddr,
    /// Whether the sidecar terminated TLS for this connection.
    pub tls: bool,
}

/// Other client-address and URL-override headers apps and frameworks
/// honour: dropped when the peer is not a trusted proxy, since only a
/// proxy may vouch for them. Compared with `_` read as `-`: CGI-style
/// stacks (PHP, WSGI, Rack) map both spellings to the same variable, so
/// `X_Forwarded_For` would pass for the real one.
const OTHER_FORWARDING: &[&str] = &[
    // RFC 7239, and the informal names it replaced.
    "forwarded",
    "forwarded-for",
    "x-forwarded",
    "x-original-forwarded-for",
    // Client addresses set by proxies, CDNs and load balancers: nginx,
    // Akamai, Cloudflare, Fastly, Envoy, Azure Front Door, App Engine,
    // WebLogic, and the names request-IP libraries look for.
    "x-real-ip",
    "client-ip",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "cf-connecting-ipv6",
    "cf-pseudo-ipv4",
    "fastly-client-ip",
    "x-cluster-client-ip",
    "x-envoy-external-address",
    "x-envoy-original-remote-address",
    "x-azure-clientip",
    "x-azure-socketip",
    "x-appengine-user-ip",
    "proxy-client-ip",
    "wl-proxy-client-ip",
    "x-originating-ip",
    "x-remote-ip",
    "x-remote-addr",
    // Scheme, host, port and URL overrides (Rack, IIS, Traefik, …).
    "x-forwarded-port",
    "x-forwarded-prefix",
    "x-forwarded-server",
    "x-forwarded-scheme",
    "x-forwarded-ssl",
    "x-url-scheme",
    "front-end-https",
    "x-original-host",
    "x-original-url",
    "x-original-uri",
    "x-forwarded-uri",
    "x-rewrite-url",
];

/// The headers the sidecar sets itself; their underscore spellings are
/// removed from every peer, trusted or not, so that no second value hides
/// behind them.
const MANAGED: [&str; 3] = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"];

/// `name` equals `canonical` with `_` read as `-` (names are lowercase).
fn same_name(name: &str, canonical: &str) -> bool {
    name.len() == canonical.len()
        && name
            .bytes()
            .zip(canonical.bytes())
            .all(|(a, b)| a == b || (a == b'_' && b == b'-'))
}

/// Removes spoofable forwarding headers: every spelling of the
/// [`OTHER_FORWARDING`] headers from untrusted peers, and underscore
/// spellings of the sidecar's own `X-Forwarded-*` from anyone.
fn remove_spoofable(headers: &mut HeaderMap, trusted: bool) {
    let spoofable = |k: &&HeaderName| {
        let n = k.as_str();
        (!trusted && is_other_forwarding(n))
            || (n.contains('_') && MANAGED.iter().any(|c| same_name(n, c)))
    };
    // Most requests carry none: one pass over the names decides, and
    // nothing is collected.
    if !headers.keys().any(|k| spoofable(&k)) {
        return;
    }
    let doomed: Vec<HeaderName> = headers.keys().filter(spoofable).cloned().collect();
    for name in doomed {
        headers.remove(name);
    }
}

/// Bit `n` is set when some [`OTHER_FORWARDING`] name is `n` bytes long,
/// and bit `b - b'a'` of the second word when one starts with the letter
/// `b` (every one starts with a letter, in both spellings): a name of any
/// other length or first letter is none of them, without comparing.
const OTHER_FORWARDING_SHAPES: (u64, u32) = {
    let (mut lengths, mut firsts) = (0u64, 0u32);
    let mut i = 0;
    while i < OTHER_FORWARDING.len() {
        let name = OTHER_FORWARDING[i].as_bytes();
        lengths |= 1 << name.len();
        firsts |= 1 << (name[0] - b'a');
        i += 1;
    }
    (lengths, firsts)
};

/// `name` is one of [`OTHER_FORWARDING`] in either spelling.
fn is_other_forwarding(name: &str) -> bool {
    let (lengths, firsts) = OTHER_FORWARDING_SHAPES;
    let first = name
        .as_bytes()
        .first()
        .map_or(u8::MAX, |b| b.wrapping_sub(b'a'));
    name.len() < 64
        && lengths & (1 << name.len()) != 0
        && first < 26
        && firsts & (1 << first) != 0
        && OTHER_FORWARDING.iter().any(|c| same_name(name, c))
}

/// Sets `X-Forwarded-For`, `-Proto` and `-Host`. From a trusted proxy the
/// incoming values are kept and the peer is appended to the `For` chain;
/// from anyone else the incoming values are replaced (and the other
/// forwarding headers removed), so a client cannot forge its address to
/// the app.
pub fn set_forwarded(
    headers: &mut HeaderMap,
    client: ClientInfo,
    host: Option<HeaderValue>,
    trusted: &[Cidr],
) {
    let is_trusted = trusted.iter().any(|c| c.contains(client.peer));
    remove_spoofable(headers, is_trusted);
    let peer = IpText::new(client.peer);
    let peer = peer.as_str();
    let chain = if is_trusted && headers.contains_key(X_FORWARDED_FOR) {
        let mut chain = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ");
        chain.push_str(", ");
        chain.push_str(peer);
        HeaderValue::try_from(chain)
    } else {
        // The usual case: the peer alone, copied once into the value.
        HeaderValue::from_str(peer)
    };
    if let Ok(v) = chain {
        headers.insert(X_FORWARDED_FOR, v);
    }
    if !(is_trusted && headers.contains_key(X_FORWARDED_PROTO)) {
        let proto = if client.tls { "https" } else { "http" };
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(proto));
    }
    if !(is_trusted && headers.contains_key(X_FORWARDED_HOST)) {
        match host {
            Some(h) => headers.insert(X_FORWARDED_HOST, h),
            None => headers.remove(X_FORWARDED_HOST),
        };
    }
}

/// The client's address as the trusted proxies report it: when the TCP
/// peer is in `trusted`, the `X-Forwarded-For` chain is walked from the
/// right (the entry the nearest proxy appended) past every trusted proxy,
/// and the first entry that is not one is the client; an entry that is
/// not an address ends the walk at the last good one. From any other peer
/// the header is the client's own word and the peer is the client, so
/// nobody can choose which address their requests are counted on.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(peer) {
        return client;
    }
    let values: Vec<&[u8]> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    // Split as bytes: a value with non-ASCII garbage on the left (written
    // by the client) still yields the entries proxies appended on the right.
    let entries = values.iter().rev().flat_map(|v| v.rsplit(|b| *b == b','));
    for entry in entries {
        let Some(ip) = forwarded_ip(entry) else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, optionally with a port
/// (`203.0.113.9:4711`, `[2001:db8::1]:4711`), as some proxies write it.
fn forwarded_ip(entry: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(entry).ok()?.trim();
    let ip = text
        .parse::<IpAddr>()
        .or_else(|_| text.parse::<std::net::SocketAddr>().map(|s| s.ip()))
        .or_else(|_| {
            text.strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .unwrap_or("")
                .parse::<IpAddr>()
        })
        .ok()?;
    Some(ip.to_canonical())
}

/// An IP address as text, on the stack; IPv4 (nearly every client)
/// without the formatting machinery.
pub struct IpText {
    buf: [u8; 45],
    len: usize,
}

impl IpText {
    /// `ip` as text.
    pub fn new(ip: IpAddr) -> Self {
        let mut t = Self {
            buf: [0; 45],
            len: 0,
        };
        match ip {
            IpAddr::V4(v4) => {
                for (i, octet) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        t.push(b'.');
                    }
                    if octet >= 100 {
                        t.push(b'0' + octet / 100);
                    }
                    if octet >= 10 {
                        t.push(b'0' + octet / 10 % 10);
                    }
                    t.push(b'0' + octet % 10);
                }
            }
            IpAddr::V6(v6) => {
                use std::io::Write;
                let mut rest = &mut t.buf[..];
                let _ = write!(rest, "{v6}");
                let left = rest.len();
                t.len = t.buf.len() - left;
            }
        }
        t
    }

    fn push(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn addresses_read_as_std_writes_them() {
        for ip in [
            "0.0.0.0",
            "10.1.20.255",
            "127.0.0.1",
            "203.0.113.9",
            "::1",
            "2001:db8::8a2e:370:7334",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "::ffff:255.255.255.255",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(IpText::new(ip).as_str(), ip.to_string());
        }
    }

    #[test]
    fn strips_hop_by_hop_and_connection_named_headers() {
        let mut h = map(&[
            ("connection", "keep-alive, X-Custom-Hop"),
            ("keep-alive", "timeout=5"),
            ("x-custom-hop", "1"),
            ("transfer-encoding", "chunked"),
            ("proxy-authorization", "Basic x"),
            ("te", "gzip"),
            ("x-end-to-end", "kept"),
            ("authorization", "Bearer app-session"),
        ]);
        strip_hop_by_hop(&mut h);
        let names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, vec!["x-end-to-end", "authorization"]);
    }

    #[test]
    fn end_to_end_headers_are_left_as_they_are() {
        let mut h = map(&[
            ("host", "app.example"),
            ("accept", "*/*"),
            ("x-custom", "1"),
            ("x-custom", "2"),
        ]);
        let before = h.clone();
        strip_hop_by_hop(&mut h);
        assert_eq!(h, before);
    }

    #[test]
    fn keeps_te_trailers() {
        let mut h = map(&[("te", "trailers, deflate")]);
        strip_hop_by_hop(&mut h);
        assert_eq!(h.get(TE).unwrap(), "trailers");
    }

    #[test]
    fn untrusted_forwarded_headers_are_replaced() {
        let mut h = map(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-proto", "https"),
            ("forwarded", "for=10.0.0.1;proto=https"),
            ("x-real-ip", "10.0.0.1"),
        ]);
        let client = ClientInfo {
            peer: "10.1.2.3".parse().unwrap(),
            tls: false,
        };
        set_forwarded(
            &mut h,
            client,
            Some(HeaderValue::from_static("app.example")),
            &[],
        );
        assert!(h.get("forwarded").is_none() && h.get("x-real-ip").is_none());
        assert_eq!(h.get(X_FORWARDED_FOR).unwrap(), "10.1.2.3");
        assert_eq!(h.get(X_FORWARDED_PROTO).unwrap(), "http");
        assert_eq!(h.get(X_FORWARDED_HOST).unwrap(), "app.example");
    }

    #[test]
    fn spoofable_headers_and_underscore_spellings_are_removed() {
        let spoofed = [
            ("x-client-ip", "1.1.1.1"),
            ("true-client-ip", "1.1.1.1"),
            ("cf-connecting-ip", "1.1.1.1"),
            ("x-original-url", "/admin"),
            ("x-rewrite-url", "/admin"),
            ("x_real_ip", "1.1.1.1"),
            ("x_forwarded_for", "1.1.1.1"),
            ("x_forwarded_proto", "https"),
            ("x-forwarded_host", "evil.example"),
            ("true_client_ip", "1.1.1.1"),
            ("x-app-header", "kept"),
        ];
        let client = ClientInfo {
            peer: "10.1.2.3".parse().unwrap(),
            tls: false,
        };
        let mut h = map(&spoofed);
        set_forwarded(&mut h, client, None, &[]);
        let mut names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            vec!["x-app-header", "x-forwarded-for", "x-forwarded-proto"]
        );
        // A trusted proxy may vouch for client-IP headers, but underscore
        // spellings of the sidecar's own headers still go.
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let mut h = map(&spoofed);
        set_forwarded(&mut h, client, None, &trusted);
        assert!(h.contains_key("true-client-ip") && h.contains_key("x_real_ip"));
        assert!(!h.contains_key("x_forwarded_for") && !h.contains_key("x-forwarded_host"));
    }

    #[test]
    fn every_client_address_header_is_removed_from_untrusted_peers() {
        let client = ClientInfo {
            peer: "10.1.2.3".parse().unwrap(),
            tls: false,
        };
        for name in OTHER_FORWARDING {
            let underscored = name.replace('-', "_");
            let mut h = map(&[(name, "1.1.1.1"), (&underscored, "1.1.1.1")]);
            set_forwarded(&mut h, client, None, &[]);
            assert!(!h.contains_key(*name), "{name} passed");
            assert!(
                !h.contains_key(underscored.as_str()),
                "{underscored} passed"
            );
        }
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let pairs: Vec<(&str, &str)> = values.iter().map(|v| ("x-forwarded-for", *v)).collect();
        map(&pairs)
    }

    #[test]
    fn the_client_is_the_rightmost_address_no_trusted_proxy_wrote() {
        let trusted = [
            Cidr::parse("10.0.0.0/8").unwrap(),
            Cidr::parse("2001:db8:ffff::/48").unwrap(),
        ];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = ip("10.0.0.5");
        for (values, want) in [
            (&["203.0.113.9"][..], "203.0.113.9"),
            // The client's own entries on the left are not believed.
            (&["6.6.6.6, 203.0.113.9"], "203.0.113.9"),
            (&["6.6.6.6", "203.0.113.9, 10.0.0.7"], "203.0.113.9"),
            (&["203.0.113.9 , 10.9.9.9,10.0.0.7"], "203.0.113.9"),
            (&["203.0.113.9:4711"], "203.0.113.9"),
            (&["[2001:db8::9]:4711, 2001:db8:ffff::1"], "2001:db8::9"),
            (&["::ffff:203.0.113.9"], "203.0.113.9"),
            // Garbage ends the walk at the last address a proxy wrote.
            (&["203.0.113.9, unknown, 10.0.0.7"], "10.0.0.7"),
            (&["unknown"], "10.0.0.5"),
            // Only trusted hops: the furthest one.
            (&["10.0.0.9, 10.0.0.7"], "10.0.0.9"),
            (&[], "10.0.0.5"),
        ] {
            assert_eq!(
                client_address(proxy, &xff(values), &trusted),
                ip(want),
                "{values:?}"
            );
        }
        // Non-ASCII bytes the client put on the left do not hide the rest.
        let mut h = HeaderMap::new();
        h.insert(
            X_FORWARDED_FOR,
            HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.9").unwrap(),
        );
        assert_eq!(client_address(proxy, &h, &trusted), ip("203.0.113.9"));
        // From an untrusted peer the header chooses nothing.
        let stranger = ip("198.51.100.4");
        assert_eq!(
            client_address(stranger, &xff(&["203.0.113.9"]), &trusted),
            stranger
        );
        assert_eq!(
            client_address(stranger, &xff(&["203.0.113.9"]), &[]),
            stranger
        );
    }

    #[test]
    fn trusted_forwarded_headers_are_extended() {
        let mut h = map(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
        ]);
        let client = ClientInfo {
            peer: "10.1.2.3".parse().unwrap(),
            tls: false,
        };
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        set_forwarded(
            &mut h,
            client,
            Some(HeaderValue::from_static("app.example")),
            &trusted,
        );
        assert_eq!(h.get(X_FORWARDED_FOR).unwrap(), "203.0.113.9, 10.1.2.3");
        assert_eq!(h.get(X_FORWARDED_PROTO).unwrap(), "https");
    }
}
