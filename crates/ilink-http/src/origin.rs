//! Which base URLs may carry a bot token, and what "the same origin" is.
//!
//! The rule: `https://` anywhere, or plain `http://` only to a loopback
//! address (`127.0.0.0/8`, `::1`, `localhost`), where nothing between the
//! client and the server can read the token. A base URL that came from the
//! network (a login's `baseurl`, a redirect) and fails the rule is refused,
//! never saved or used.

use std::net::IpAddr;

use hyper::Uri;

/// Whether `url` may carry a bot token: an absolute `https` URL, or `http`
/// to a loopback host.
///
/// ```
/// use ilink_http::is_trusted_base_url;
///
/// assert!(is_trusted_base_url("https://ilinkai.weixin.qq.com"));
/// assert!(is_trusted_base_url("http://127.0.0.1:8080/"));
/// assert!(is_trusted_base_url("http://[::1]:9"));
/// assert!(!is_trusted_base_url("http://10.0.0.7"));
/// assert!(!is_trusted_base_url("ftp://example.com"));
/// ```
pub fn is_trusted_base_url(url: &str) -> bool {
    let Ok(uri) = url.trim().parse::<Uri>() else {
        return false;
    };
    let Some(host) = uri.host() else {
        return false;
    };
    match uri.scheme_str() {
        Some("https") => true,
        Some("http") => is_loopback_host(host),
        _ => false,
    }
}

/// `scheme://host:port` of an absolute http(s) URL (host lowercased, the
/// scheme's default port filled in), for comparing where two URLs lead.
///
/// ```
/// use ilink_http::origin_of;
///
/// assert_eq!(origin_of("https://Example.com/a").as_deref(), Some("https://example.com:443"));
/// assert_eq!(origin_of("https://example.com:443"), origin_of("https://example.com/"));
/// assert_eq!(origin_of("not a url"), None);
/// ```
pub fn origin_of(url: &str) -> Option<String> {
    uri_origin(&url.trim().parse::<Uri>().ok()?)
}

/// [`origin_of`] for a parsed URI; also the key the pool keeps connections
/// under.
pub(crate) fn uri_origin(uri: &Uri) -> Option<String> {
    let scheme = uri.scheme_str()?;
    let default = match scheme {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let host = uri.host()?.to_ascii_lowercase();
    Some(format!(
        "{scheme}://{host}:{}",
        uri.port_u16().unwrap_or(default)
    ))
}

/// Whether `host` (as a URI gives it, IPv6 in brackets) is a loopback name
/// or address.
fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        for ok in [
            "https://h",
            "https://h:8443/p",
            "http://127.0.0.1",
            "http://127.9.9.9:1/",
            "http://localhost:3000",
            "http://LOCALHOST",
            "http://[::1]:80",
        ] {
            assert!(is_trusted_base_url(ok), "{ok}");
        }
        for bad in [
            "http://h",
            "http://10.1.2.3",
            "http://192.168.0.1:80",
            "http://[::2]",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "ftp://h",
            "/relative",
            "",
            "https://",
        ] {
            assert!(!is_trusted_base_url(bad), "{bad}");
        }
    }

    #[test]
    fn origins_compare_where_urls_lead() {
        assert_eq!(origin_of("http://h"), origin_of("http://H:80/x?y"));
        assert_ne!(origin_of("http://h"), origin_of("https://h"));
        assert_ne!(origin_of("https://h:1"), origin_of("https://h:2"));
    }
}
