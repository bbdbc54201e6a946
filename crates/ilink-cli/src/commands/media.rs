//! Media commands: send, download, decrypt, encrypt; and media handling for
//! `listen --download` and `echo`.

use std::path::Path;

use ilink::crypto::{KeyFormat, MediaKey};
use ilink::http::DownloadSource;
use serde_json::json;

use crate::app::{self, CliError, Out, Result};
use crate::cli::{Global, SendArgs};

fn parse_key(text: &str) -> Result<(MediaKey, KeyFormat)> {
    MediaKey::parse(text).map_err(|e| CliError::Other(format!("bad key: {e}")))
}

fn format_name(f: KeyFormat) -> &'static str {
    match f {
        KeyFormat::Hex => "hex",
        KeyFormat::Base64Raw => "base64 of the raw key",
        KeyFormat::Base64Hex => "base64 of the hex key",
        _ => "other",
    }
}

/// `ilink decrypt`: streams the file through the decryptor into a temp file,
/// renamed into place only when the padding checked out.
pub(crate) async fn decrypt(out: Out, key: &str, input: &Path, output: &Path) -> Result<()> {
    let (key, format) = parse_key(key)?;
    let (input, output) = (input.to_owned(), output.to_owned());
    let (read, written) = tokio::task::spawn_blocking(move || -> std::io::Result<(u64, u64)> {
        let mut src = std::fs::File::open(&input)?;
        let tmp = output.with_extension("partial");
        let dst = std::fs::File::create(&tmp)?;
        let mut writer = ilink::crypto::DecryptingWriter::new(&key, std::io::BufWriter::new(dst));
        let read = std::io::copy(&mut src, &mut writer)?;
        let mut inner = writer.finish().inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        std::io::Write::flush(&mut inner)?;
        drop(inner);
        std::fs::rename(&tmp, &output)?;
        Ok((read, std::fs::metadata(&output)?.len()))
    })
    .await
    .map_err(|e| CliError::Other(format!("decrypt task failed: {e}")))??;
    out.emit(
        format!(
            "Decrypted {read} bytes into {written} bytes (key given as {}).",
            format_name(format)
        ),
        json!({"event": "decrypted", "ciphertext_bytes": read, "plaintext_bytes": written,
               "key_format": format_name(format)}),
    );
    Ok(())
}

/// `ilink encrypt`.
pub(crate) async fn encrypt(
    out: Out,
    key: Option<&str>,
    input: &Path,
    output: &Path,
) -> Result<()> {
    // A key the user gave is not echoed (it may have come from a file so
    // as to stay off screens and logs); a new one must be shown.
    let generated = key.is_none();
    let key = match key {
        Some(k) => parse_key(k)?.0,
        None => MediaKey::generate().map_err(|e| CliError::Other(format!("no randomness: {e}")))?,
    };
    let (input, output2) = (input.to_owned(), output.to_owned());
    let info = tokio::task::spawn_blocking(move || -> std::io::Result<ilink::crypto::PlainInfo> {
        let info = ilink::crypto::scan(std::fs::File::open(&input)?)?;
        let mut reader = ilink::crypto::EncryptingReader::new(&key, std::fs::File::open(&input)?);
        let mut dst = std::io::BufWriter::new(std::fs::File::create(&output2)?);
        std::io::copy(&mut reader, &mut dst)?;
        std::io::Write::flush(&mut dst)?;
        Ok(info)
    })
    .await
    .map_err(|e| CliError::Other(format!("encrypt task failed: {e}")))??;
    let mut human = format!(
        "Encrypted {} bytes (md5 {}) into {} bytes",
        info.size,
        info.md5,
        info.ciphertext_len()
    );
    let mut event = json!({"event": "encrypted", "plaintext_bytes": info.size,
                           "md5": info.md5.to_hex(), "ciphertext_bytes": info.ciphertext_len()});
    if generated {
        human.push_str(&format!(
            " with a new key.\naeskey (hex, for getuploadurl): {}\naes_key (base64 of hex, for messages): {}",
            key.to_hex(),
            key.to_base64_hex()
        ));
        event["aeskey_hex"] = json!(key.to_hex());
        event["aes_key"] = json!(key.to_base64_hex());
    } else {
        human.push_str(" with the given key.");
    }
    out.emit(human, event);
    Ok(())
}

/// `ilink download`.
pub(crate) async fn download(
    g: &Global,
    out: Out,
    param: Option<String>,
    url: Option<String>,
    key: Option<String>,
    output: std::path::PathBuf,
) -> Result<()> {
    let client = app::client(g)?;
    let source = match (url, param) {
        (Some(u), _) => DownloadSource::full_url(u),
        (None, Some(p)) => DownloadSource::param(p),
        (None, None) => return Err(CliError::Other("give --param or --url".to_owned())),
    };
    let key = key.as_deref().map(parse_key).transpose()?.map(|(k, _)| k);
    let tmp = output.with_extension("partial");
    let mut file = tokio::fs::File::create(&tmp).await?;
    let result = client
        .transport()
        .download_to(&source, key.as_ref(), &mut file, None)
        .await;
    let n = match result {
        Ok(n) => n,
        Err(e) => {
            drop(file);
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(ilink::Error::Http(e).into());
        }
    };
    tokio::io::AsyncWriteExt::flush(&mut file).await?;
    drop(file);
    tokio::fs::rename(&tmp, &output).await?;
    out.emit(
        format!("Downloaded {n} bytes into {}.", output.display()),
        json!({"event": "downloaded", "bytes": n, "path": output}),
    );
    Ok(())
}

/// `ilink send`.
pub(crate) async fn send(g: &Global, out: Out, args: SendArgs) -> Result<()> {
    let bot = app::bot(g).await?;
    if let Some(text) = args.text {
        let sent = app::delivered(&bot, bot.send_text(args.to.as_str(), text).await?).await?;
        let ids: Vec<Option<String>> = sent
            .iter()
            .map(|s| s.message_id.map(|m| m.to_string()))
            .collect();
        out.emit(
            format!("Sent {} message(s) to {}.", sent.len(), args.to),
            json!({"event": "sent", "to": args.to, "messages": sent.len(), "message_ids": ids}),
        );
        return Ok(());
    }
    let Some(path) = args.file else {
        return Err(CliError::Other("give --text or --file".to_owned()));
    };
    send_file(&bot, out, &args.to, &path, args.caption).await
}

/// Sends a file with a progress bar on stderr for large uploads.
async fn send_file(
    bot: &ilink::Bot,
    out: Out,
    to: &str,
    path: &Path,
    caption: Option<String>,
) -> Result<()> {
    let size = tokio::fs::metadata(path).await?.len();
    let kind = ilink::MediaKind::from_file_name(&path.to_string_lossy());
    let mut send = bot.send_media(to, ilink::MediaSource::path(path));
    if let Some(c) = caption {
        send = send.caption(c);
    }
    if !out.json && size > 4 * 1024 * 1024 {
        let bar = ProgressBar::default();
        send = send.on_progress(move |sent, total| bar.draw(sent, total));
    }
    let sent = app::delivered(bot, send.await?).await?;
    if !out.json && size > 4 * 1024 * 1024 {
        eprintln!();
    }
    let ids: Vec<Option<String>> = sent
        .iter()
        .map(|s| s.message_id.map(|m| m.to_string()))
        .collect();
    out.emit(
        format!("Sent {} ({size} bytes) as {kind} to {to}.", path.display()),
        json!({"event": "sent", "to": to, "kind": kind.as_str(), "bytes": size,
               "messages": sent.len(), "message_ids": ids}),
    );
    Ok(())
}

/// A one-line progress bar on stderr, redrawn when the percentage changes.
#[derive(Default)]
struct ProgressBar {
    last: std::sync::atomic::AtomicU64,
}

impl ProgressBar {
    fn draw(&self, sent: u64, total: u64) {
        let pct = (sent * 100).checked_div(total).unwrap_or(100);
        let previous = self
            .last
            .swap(pct + 1, std::sync::atomic::Ordering::Relaxed);
        if previous == pct + 1 {
            return;
        }
        let filled = (pct / 4) as usize;
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        eprint!(
            "\r[{}{}] {pct:>3}% {:.1}/{:.1} MiB",
            "#".repeat(filled),
            " ".repeat(25 - filled.min(25)),
            mib(sent),
            mib(total)
        );
    }
}

/// Saves every media item of a message into `dir` (`listen --download`):
/// its own, or the media it quotes when it has none.
pub(crate) async fn save_media(bot: &ilink::Bot, out: Out, msg: &ilink::Message, dir: &Path) {
    for media in bot.media_of(msg) {
        let quoted = media.quoted.is_some();
        match bot.download(&media.item).to_dir(dir).await {
            Ok(path) => out.emit(
                format!(
                    "  saved {}{}",
                    path.display(),
                    if quoted { " (quoted)" } else { "" }
                ),
                json!({"event": "saved", "path": path, "quoted": quoted,
                       "message_id": msg.message_id().map(|m| m.to_string())}),
            ),
            Err(e) => out.emit(
                format!("  could not save media: {}", app::describe(&CliError::Sdk(e))),
                json!({"event": "save_failed", "message_id": msg.message_id().map(|m| m.to_string())}),
            ),
        }
    }
}

/// Echoes a message's media back by downloading and re-uploading it.
pub(crate) async fn echo_media(
    ctx: &ilink::Context,
    msg: &ilink::Message,
) -> std::result::Result<(), ilink::BoxError> {
    for item in msg.items().iter().filter(|i| i.media().is_some()) {
        let kind = match item.item_type.and_then(ilink::MediaKind::of_item) {
            // Voice items from bots are not shown as voice bubbles: echo the
            // audio as a file.
            Some(ilink::MediaKind::Voice) => ilink::MediaKind::File,
            Some(kind) => kind,
            None => continue,
        };
        let bytes = ctx.download(item).bytes().await?;
        let name = match item.content() {
            ilink::proto::ItemContent::File(f) => f.file_name.clone(),
            _ => None,
        };
        let mut send = ctx.send_media(bytes).kind(kind);
        if let Some(n) = name {
            send = send.file_name(n);
        }
        send.await?;
    }
    Ok(())
}

/// The longest key file or key line read: a key in any form is under 100
/// characters.
const MAX_KEY_INPUT: u64 = 4096;

/// The key the user gave: `--key` (or `ILINK_AES_KEY`), the first line of
/// `--key-file`, or the first line of standard input with `--key-stdin`.
pub(crate) fn read_key(args: &crate::cli::KeyArgs) -> Result<Option<String>> {
    use std::io::{BufRead, Read};
    if let Some(key) = &args.key {
        return Ok(Some(key.trim().to_owned()));
    }
    let text = if let Some(path) = &args.key_file {
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_KEY_INPUT).read_to_string(&mut text))
            .map_err(|e| {
                CliError::Other(format!("cannot read the key file {}: {e}", path.display()))
            })?;
        text
    } else if args.key_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .take(MAX_KEY_INPUT)
            .read_line(&mut line)
            .map_err(|e| {
                CliError::Other(format!("cannot read the key from standard input: {e}"))
            })?;
        line
    } else {
        return Ok(None);
    };
    let key = text.lines().next().unwrap_or_default().trim().to_owned();
    if key.is_empty() {
        return Err(CliError::Other("the key input is empty".to_owned()));
    }
    Ok(Some(key))
}
