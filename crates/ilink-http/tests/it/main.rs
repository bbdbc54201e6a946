//! Integration tests of the transport against a scripted loopback server.

mod api;
mod cdn;
mod faults;
mod logs;
mod server;
mod sim;

use std::time::Duration;

use ilink_http::{Retry, Transport, TransportBuilder};

/// A token distinctive enough to search for in error texts.
pub(crate) const TOKEN: &str = "tok-SECRET-7f3a";

/// A builder pointed at `url` for both API and CDN, with short timeouts.
pub(crate) fn builder(url: &str) -> TransportBuilder {
    Transport::builder()
        .api_base_url(url)
        .cdn_base_url(format!("{url}/c2c"))
        .long_poll_timeout(Duration::from_secs(5))
        .api_timeout(Duration::from_secs(5))
        .config_timeout(Duration::from_secs(5))
        .login_timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(2))
        .upload_retry(
            Retry::new(Duration::from_millis(10), Duration::from_secs(5))
                .with_attempts(3)
                .with_jitter(0.0),
        )
        .download_retry(
            Retry::new(Duration::from_millis(10), Duration::from_secs(5))
                .with_attempts(3)
                .with_jitter(0.0),
        )
}

pub(crate) fn transport(url: &str) -> Transport {
    builder(url).build().unwrap()
}

/// Asserts that neither the error's Display nor its Debug shows the token.
pub(crate) fn assert_no_token(err: &ilink_http::Error) {
    let shown = format!("{err} | {err:?}");
    assert!(!shown.contains(TOKEN), "token leaked: {shown}");
    assert!(!shown.contains("SECRET"), "token leaked: {shown}");
}

/// Every public future can be spawned onto a multi-threaded runtime.
#[test]
fn futures_are_send() {
    use ilink_crypto::MediaKey;
    use ilink_http::{DownloadSource, UploadTarget};
    use ilink_proto::{BotToken, GetQrcodeStatusRequest, NotifyStartRequest};

    fn send<T: Send>(_: T) {}
    let transport = transport("http://127.0.0.1:9");
    let account = transport.account(BotToken::new(TOKEN));
    let key = MediaKey::from_bytes([0; 16]);
    let target = UploadTarget::slot("p", "k");
    let source = DownloadSource::param("p");
    let mut sink = Vec::new();
    send(account.get_updates("", None));
    send(account.call(NotifyStartRequest::new()));
    send(transport.get_qrcode_status(GetQrcodeStatusRequest::new("q"), None));
    send(transport.upload(
        &target,
        &key,
        1,
        || async { Ok(std::io::Cursor::new(vec![0u8])) },
        None,
    ));
    send(transport.upload_file(&target, &key, "/nonexistent", None));
    send(transport.download_to(&source, Some(&key), &mut sink, None));
}
