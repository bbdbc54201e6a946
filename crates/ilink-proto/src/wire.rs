//! Pure helpers for what goes on the wire: header values, `bot_agent`, sizes
//! and URLs. No I/O and no randomness: callers bring those.

use crate::consts::DEFAULT_BOT_AGENT;

/// Encodes a `major.minor.patch` version as the `iLink-App-ClientVersion`
/// number: `(major & 0xff) << 16 | (minor & 0xff) << 8 | (patch & 0xff)`.
///
/// A pre-release or build suffix (`-beta.1`, `+abc`) is ignored; missing parts
/// count as 0. Returns `None` when a part is not a number.
///
/// ```
/// assert_eq!(ilink_proto::client_version_code("2.4.9"), Some(132105));
/// assert_eq!(ilink_proto::client_version_code("1.0.11"), Some(65547));
/// assert_eq!(ilink_proto::client_version_code("x.1"), None);
/// ```
pub fn client_version_code(version: &str) -> Option<u32> {
    let core = version.trim().split(['-', '+']).next().unwrap_or_default();
    let mut parts = [0u32; 3];
    for (index, part) in core.split('.').enumerate() {
        if index == 3 || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Overlong numbers are masked below just like large ones.
        parts[index] = part.bytes().fold(0u32, |acc, b| {
            acc.wrapping_mul(10).wrapping_add(u32::from(b - b'0'))
        });
    }
    Some(((parts[0] & 0xff) << 16) | ((parts[1] & 0xff) << 8) | (parts[2] & 0xff))
}

/// Cleans a `bot_agent` string to the grammar the server expects.
///
/// Space-separated products `Name/Version`, each optionally followed by
/// ` (comment)`; name 1–32 of `[A-Za-z0-9_.-]`, version 1–32 of
/// `[A-Za-z0-9_.+-]`, comment 1–64 printable ASCII without parentheses. Invalid
/// tokens are dropped, trailing products are dropped to fit 256 bytes, and an
/// empty result falls back to [`DEFAULT_BOT_AGENT`].
///
/// ```
/// use ilink_proto::sanitize_bot_agent;
///
/// assert_eq!(sanitize_bot_agent("MyBot/1.2 (prod) bad token x/ü"), "MyBot/1.2 (prod)");
/// assert_eq!(sanitize_bot_agent("  "), ilink_proto::consts::DEFAULT_BOT_AGENT);
/// ```
pub fn sanitize_bot_agent(input: &str) -> String {
    const MAX_TOTAL: usize = 256;
    let mut out = String::new();
    let mut rest = input.trim_start();
    while !rest.is_empty() {
        // A comment directly after a product belongs to it; a stray comment is
        // skipped on its own.
        let (token, after) = split_token(rest);
        rest = after.trim_start();
        if token.starts_with('(') {
            continue;
        }
        let mut product = match valid_product(token) {
            Some(p) => p.to_owned(),
            None => continue,
        };
        if rest.starts_with('(')
            && let Some(end) = rest.find(')')
        {
            let comment = &rest[1..end];
            if valid_comment(comment) {
                product.push_str(" (");
                product.push_str(comment);
                product.push(')');
            }
            rest = rest[end + 1..].trim_start();
        }
        let needed = product.len() + usize::from(!out.is_empty());
        if out.len() + needed > MAX_TOTAL {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&product);
    }
    if out.is_empty() {
        DEFAULT_BOT_AGENT.to_owned()
    } else {
        out
    }
}

fn split_token(s: &str) -> (&str, &str) {
    if s.starts_with('(') {
        // Skip a whole parenthesised comment, or the rest if unterminated.
        return match s.find(')') {
            Some(end) => (&s[..=end], &s[end + 1..]),
            None => (s, ""),
        };
    }
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

fn valid_product(token: &str) -> Option<&str> {
    let (name, version) = token.split_once('/')?;
    let name_ok = (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    let version_ok = (1..=32).contains(&version.len())
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'-'));
    (name_ok && version_ok).then_some(token)
}

fn valid_comment(comment: &str) -> bool {
    (1..=64).contains(&comment.len())
        && comment
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'(' && b != b')')
}

/// The `X-WECHAT-UIN` header value for a random `u32`: base64 of its decimal
/// digits. The caller supplies a fresh random number per request.
///
/// ```
/// assert_eq!(ilink_proto::wechat_uin(1234567890), "MTIzNDU2Nzg5MA==");
/// ```
pub fn wechat_uin(random: u32) -> String {
    base64_encode(random.to_string().as_bytes())
}

/// The AES-128-ECB/PKCS7 ciphertext size of a plaintext size: padding always
/// adds 1 to 16 bytes, so 16 bytes become 32. This is `filesize` in
/// `getuploadurl`, `mid_size` of an image and `video_size` of a video.
///
/// ```
/// assert_eq!(ilink_proto::ciphertext_size(0), 16);
/// assert_eq!(ilink_proto::ciphertext_size(15), 16);
/// assert_eq!(ilink_proto::ciphertext_size(16), 32);
/// assert_eq!(ilink_proto::ciphertext_size(17), 32);
/// // Saturates rather than overflows.
/// assert_eq!(ilink_proto::ciphertext_size(u64::MAX), u64::MAX);
/// ```
///
/// The one definition: `ilink_crypto::ciphertext_size` is this function.
#[must_use]
pub const fn ciphertext_size(plaintext_size: u64) -> u64 {
    (plaintext_size | 15).saturating_add(1)
}

/// Joins a base URL and a path, with or without a slash between them.
///
/// ```
/// use ilink_proto::join_url;
///
/// assert_eq!(join_url("https://h/", "/ilink/bot/getupdates"), "https://h/ilink/bot/getupdates");
/// assert_eq!(join_url("https://h", "ilink/bot/getupdates"), "https://h/ilink/bot/getupdates");
/// ```
pub fn join_url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let path = path.trim_start_matches('/');
    let mut url = String::with_capacity(base.len() + 1 + path.len());
    url.push_str(base);
    url.push('/');
    url.push_str(path);
    url
}

/// Appends `key=value` pairs to a URL as a query string, percent-encoding
/// each value.
///
/// ```
/// let url = ilink_proto::with_query("https://h/p".into(), &[("qrcode", "a b&c")]);
/// assert_eq!(url, "https://h/p?qrcode=a%20b%26c");
/// ```
pub fn with_query(mut url: String, pairs: &[(&str, &str)]) -> String {
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (key, value) in pairs {
        url.push(sep);
        url.push_str(key);
        url.push('=');
        percent_encode_into(value, &mut url);
        sep = '&';
    }
    url
}

/// Percent-encodes everything but the unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`), as `encodeURIComponent` would for query values.
///
/// ```
/// assert_eq!(ilink_proto::percent_encode("a+b/c=="), "a%2Bb%2Fc%3D%3D");
/// ```
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    percent_encode_into(value, &mut out);
    out
}

fn percent_encode_into(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// The CDN upload URL for an upload slot:
/// `<cdn>/upload?encrypted_query_param=<upload_param>&filekey=<filekey>`.
/// Prefer `upload_full_url` from getuploadurl when the server gives one.
///
/// ```
/// let url = ilink_proto::cdn_upload_url("https://cdn/c2c/", "p/q=", "00ff");
/// assert_eq!(url, "https://cdn/c2c/upload?encrypted_query_param=p%2Fq%3D&filekey=00ff");
/// ```
pub fn cdn_upload_url(cdn_base: &str, upload_param: &str, filekey: &str) -> String {
    with_query(
        join_url(cdn_base, "upload"),
        &[
            ("encrypted_query_param", upload_param),
            ("filekey", filekey),
        ],
    )
}

/// The CDN download URL for a media reference:
/// `<cdn>/download?encrypted_query_param=<param>`. Prefer
/// [`CdnMedia::full_url`](crate::CdnMedia::full_url) when present.
///
/// ```
/// let url = ilink_proto::cdn_download_url("https://cdn/c2c", "a b");
/// assert_eq!(url, "https://cdn/c2c/download?encrypted_query_param=a%20b");
/// ```
pub fn cdn_download_url(cdn_base: &str, encrypt_query_param: &str) -> String {
    with_query(
        join_url(cdn_base, "download"),
        &[("encrypted_query_param", encrypt_query_param)],
    )
}

/// Standard base64 with padding. Small inputs only (header values, keys).
pub(crate) fn base64_encode(input: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextets = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for (i, s) in sextets.iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(TABLE[*s as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
        }
        assert_eq!(
            base64_encode(b"00112233445566778899aabbccddeeff"),
            "MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmY="
        );
    }

    #[test]
    fn versions() {
        assert_eq!(client_version_code("2.4.9"), Some(132105));
        assert_eq!(client_version_code("1.0.11"), Some(65547));
        assert_eq!(client_version_code("0.1.0-beta.2"), Some(256));
        assert_eq!(client_version_code("2"), Some(2 << 16));
        assert_eq!(client_version_code("256.1.1"), Some(257));
        assert_eq!(client_version_code(""), None);
        assert_eq!(client_version_code("1.2.3.4"), None);
        assert_eq!(client_version_code("1..3"), None);
    }

    #[test]
    fn bot_agent_grammar() {
        assert_eq!(sanitize_bot_agent("A/1 B/2"), "A/1 B/2");
        assert_eq!(
            sanitize_bot_agent("A/1 (linux; x64) B/2"),
            "A/1 (linux; x64) B/2"
        );
        // Bad comment dropped, product kept.
        assert_eq!(sanitize_bot_agent("A/1 (bad\u{7f}) B/2"), "A/1 B/2");
        // Empty comment and bad names dropped.
        assert_eq!(sanitize_bot_agent("A/1 () /2 C/ D/3"), "A/1 D/3");
        // Stray comment skipped, unterminated comment skipped.
        assert_eq!(sanitize_bot_agent("(x) A/1 (open"), "A/1");
        let long_name = "n".repeat(33);
        assert_eq!(sanitize_bot_agent(&format!("{long_name}/1 ok/1")), "ok/1");
        let long_comment = "c".repeat(65);
        assert_eq!(sanitize_bot_agent(&format!("A/1 ({long_comment})")), "A/1");
        // Fit to 256 bytes by dropping trailing products.
        let many: Vec<String> = (0..40).map(|i| format!("product{i}/1.0")).collect();
        let out = sanitize_bot_agent(&many.join(" "));
        assert!(out.len() <= 256, "{}", out.len());
        assert!(out.starts_with("product0/1.0 product1/1.0"));
        assert!(many.join(" ").starts_with(&out));
        assert_eq!(sanitize_bot_agent("€/1"), DEFAULT_BOT_AGENT);
    }

    #[test]
    fn urls() {
        assert_eq!(join_url("http://h//", "//p"), "http://h/p");
        assert_eq!(
            with_query("http://h/p?a=1".into(), &[("b", "é")]),
            "http://h/p?a=1&b=%C3%A9"
        );
    }
}
