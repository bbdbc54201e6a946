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

/// `ilink decrypt`: streams the file through the decryptor into a temporary
/// file next to the output, moved into place only when the padding checked
/// out. An output that is the input, a directory, or (without `--force`) an
/// existing file is refused before anything is read.
pub(crate) async fn decrypt(
    out: Out,
    key: &str,
    input: &Path,
    output: &Path,
    force: bool,
) -> Result<()> {
    let (key, format) = parse_key(key)?;
    crate::files::check_output(output, &[input], force)?;
    let (input, output) = (input.to_owned(), output.to_owned());
    let bar = crate::progress::bar(
        out,
        std::fs::metadata(&input).map_or(0, |m| m.len()),
        "decrypting",
    );
    let (read, written) = tokio::task::spawn_blocking(move || -> Result<(u64, u64)> {
        let src = std::fs::File::open(&input)
            .map_err(|e| CliError::Other(format!("cannot read {}: {e}", input.display())))?;
        let mut src = crate::progress::Reading::new(src, bar.clone());
        let tmp = crate::files::temp_next_to(&output)?;
        let dst = tmp.as_file().try_clone()?;
        let mut writer = ilink::crypto::DecryptingWriter::new(&key, std::io::BufWriter::new(dst));
        let read = std::io::copy(&mut src, &mut writer)?;
        let mut inner = writer.finish().map_err(|e| {
            CliError::Other(format!(
                "{} does not decrypt with this key: {e}",
                input.display()
            ))
        })?;
        std::io::Write::flush(&mut inner)?;
        drop(inner);
        let written = tmp.as_file().metadata()?.len();
        crate::files::persist(tmp, &output, force)?;
        crate::progress::finish(bar);
        Ok((read, written))
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
    force: bool,
) -> Result<()> {
    crate::files::check_output(output, &[input], force)?;
    // A key the user gave is not echoed (it may have come from a file so
    // as to stay off screens and logs); a new one must be shown.
    let generated = key.is_none();
    let key = match key {
        Some(k) => parse_key(k)?.0,
        None => MediaKey::generate().map_err(|e| CliError::Other(format!("no randomness: {e}")))?,
    };
    let (input, output2) = (input.to_owned(), output.to_owned());
    let size = std::fs::metadata(&input).map_or(0, |m| m.len());
    let hashing = crate::progress::bar(out, size, "hashing");
    let encrypting = crate::progress::bar(out, size, "encrypting");
    let info = tokio::task::spawn_blocking(move || -> Result<ilink::crypto::PlainInfo> {
        let open = || {
            std::fs::File::open(&input)
                .map_err(|e| CliError::Other(format!("cannot read {}: {e}", input.display())))
        };
        let info = ilink::crypto::scan(crate::progress::Reading::new(open()?, hashing.clone()))?;
        crate::progress::finish(hashing);
        let mut reader = ilink::crypto::EncryptingReader::new(
            &key,
            crate::progress::Reading::new(open()?, encrypting.clone()),
        );
        let tmp = crate::files::temp_next_to(&output2)?;
        let mut dst = std::io::BufWriter::new(tmp.as_file().try_clone()?);
        std::io::copy(&mut reader, &mut dst)?;
        std::io::Write::flush(&mut dst)?;
        drop(dst);
        crate::files::persist(tmp, &output2, force)?;
        crate::progress::finish(encrypting);
        Ok(info)
    })
    .await
    .map_err(|e| CliError::Other(format!("encrypt task failed: {e}")))??;
    let mut human = format!(
        "Encrypted {} bytes (md5 {}) into {} bytes",
        info.size,
        info.md5,
        info.ciphertext_size()
    );
    let mut event = json!({"event": "encrypted", "plaintext_bytes": info.size,
                           "md5": info.md5.to_hex(), "ciphertext_bytes": info.ciphertext_size()});
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
    force: bool,
) -> Result<()> {
    crate::files::check_output(&output, &[], force)?;
    let client = app::client(g).await?;
    let source = match (url, param) {
        (Some(u), _) => DownloadSource::full_url(u),
        (None, Some(p)) => DownloadSource::param(p),
        (None, None) => return Err(CliError::Other("give --param or --url".to_owned())),
    };
    let key = key.as_deref().map(parse_key).transpose()?.map(|(k, _)| k);
    // Dropped on failure, the temporary file is removed with it.
    let tmp = crate::files::temp_next_to(&output)?;
    let bar = crate::progress::bar(out, 0, "downloading");
    let mut file = crate::progress::Writing::new(
        tokio::fs::File::from_std(tmp.as_file().try_clone()?),
        bar.clone(),
    );
    let n = client
        .transport()
        .download_to(&source, key.as_ref(), &mut file, None)
        .await
        .map_err(ilink::Error::Http)?;
    tokio::io::AsyncWriteExt::flush(&mut file).await?;
    drop(file);
    crate::files::persist(tmp, &output, force)?;
    crate::progress::finish(bar);
    out.emit(
        format!("Downloaded {n} bytes into {}.", output.display()),
        json!({"event": "downloaded", "bytes": n, "path": output}),
    );
    Ok(())
}

/// `ilink send`.
pub(crate) async fn send(g: &Global, out: Out, args: SendArgs) -> Result<()> {
    if args.to.trim().is_empty() {
        return Err(CliError::Usage(
            "--to is empty: name the user (…@im.wechat)".to_owned(),
        ));
    }
    if args.text.as_deref().is_some_and(str::is_empty) {
        return Err(CliError::Usage(
            "--text is empty: nothing to send".to_owned(),
        ));
    }
    let bot = app::bot(g).await?;
    if !args.force && bot.context_token(args.to.as_str()).await?.is_none() {
        return Err(CliError::Refused(format!(
            "no context token for {}: the user has not written to this bot (or not since \
             the last login), and a message without one may never reach the chat; \
             ask them to write first, or pass --force to send anyway",
            app::visible(&args.to)
        )));
    }
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

/// Sends a file, with progress bars on a terminal for the MD5 pass and the
/// upload.
async fn send_file(
    bot: &ilink::Bot,
    out: Out,
    to: &str,
    path: &Path,
    caption: Option<String>,
) -> Result<()> {
    let size = tokio::fs::metadata(path)
        .await
        .map_err(|e| CliError::Other(format!("cannot read {}: {e}", path.display())))?
        .len();
    let kind = ilink::MediaKind::from_file_name(&path.to_string_lossy());
    let mut send = bot.send_media(to, ilink::MediaSource::path(path));
    if let Some(c) = caption {
        send = send.caption(c);
    }
    let hashing = crate::progress::bar(out, size, "hashing");
    let uploading = crate::progress::bar(out, size, "uploading");
    if let Some(b) = hashing.clone() {
        send = send.on_hash_progress(move |done, _| b.set_position(done));
    }
    if let Some(b) = uploading.clone() {
        let hashed = hashing.clone();
        send = send.on_progress(move |sent, total| {
            if let Some(h) = &hashed
                && !h.is_finished()
            {
                h.finish_and_clear();
            }
            b.set_length(total.max(1));
            b.set_position(sent);
        });
    }
    let sent = send.await;
    crate::progress::finish(hashing);
    crate::progress::finish(uploading);
    let sent = app::delivered(bot, sent?).await?;
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

/// Saves every media item of a message into `dir` (`listen --download`):
/// its own, or the media it quotes when it has none. Stops at the first
/// item that cannot be downloaded and says why (the caller leaves the
/// message pending: a download can succeed later). A voice note that does
/// not decode is kept as `.silk` and reported (`decode_failed`), never a
/// reason to stop.
pub(crate) async fn save_media(
    bot: &ilink::Bot,
    out: Out,
    msg: &ilink::Message,
    dir: &Path,
    voice: crate::cli::VoiceSave,
) -> std::result::Result<(), String> {
    use crate::cli::VoiceSave;
    let message_id = msg.message_id().map(|m| m.to_string());
    for media in bot.media_of(msg) {
        let quoted = media.quoted.is_some();
        let saved = bot.download(&media.item).to_dir(dir).await;
        if let (Ok(silk), Some(item)) = (&saved, media.item.voice_item.as_deref())
            && voice != VoiceSave::Silk
        {
            let wav = silk.with_extension("wav");
            match save_wav(silk, item, &wav).await {
                Ok(duration) => {
                    out.emit(
                        format!(
                            "  saved {} ({:.1} s)",
                            wav.display(),
                            duration.as_secs_f64()
                        ),
                        json!({"event": "saved", "path": wav, "quoted": quoted,
                               "message_id": message_id, "format": "wav",
                               "duration_ms": duration.as_millis() as u64}),
                    );
                    if voice == VoiceSave::Wav {
                        let _ = std::fs::remove_file(silk);
                        continue;
                    }
                }
                Err(reason) => {
                    // The note is saved as it came; a voice note that does
                    // not decode is this step's failure, never a reason to
                    // keep the message pending (it would fail again on every
                    // run). Reported, and listening goes on.
                    out.emit(
                        format!(
                            "  warning: the voice note could not be decoded ({reason}); kept as {}",
                            silk.display()
                        ),
                        json!({"event": "decode_failed", "message_id": message_id,
                               "quoted": quoted, "path": silk, "reason": reason}),
                    );
                }
            }
        }
        match saved {
            Ok(path) => out.emit(
                format!(
                    "  saved {}{}",
                    path.display(),
                    if quoted { " (quoted)" } else { "" }
                ),
                json!({"event": "saved", "path": path, "quoted": quoted,
                       "message_id": message_id}),
            ),
            Err(e) => {
                let reason = app::describe(&CliError::Sdk(e));
                out.emit(
                    format!("  could not save media: {reason}"),
                    json!({"event": "save_failed", "message_id": message_id,
                           "quoted": quoted, "reason": reason}),
                );
                return Err(reason);
            }
        }
    }
    Ok(())
}

/// Decodes a saved `.silk` next to it as `.wav` (never over an existing
/// file); how long the audio lasts.
async fn save_wav(
    silk: &Path,
    item: &ilink::proto::VoiceItem,
    wav: &Path,
) -> std::result::Result<std::time::Duration, String> {
    let rate = ilink::voice::sample_rate_of(item);
    let (silk, wav) = (silk.to_owned(), wav.to_owned());
    let pcm = tokio::task::spawn_blocking(move || decode_to_wav(&silk, rate, &wav, false))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| app::describe(&e))?;
    Ok(pcm.duration())
}

/// Decodes a SILK file into a WAV next to its destination, moved into place
/// only when whole (over an existing file only with `force`).
fn decode_to_wav(silk: &Path, rate: u32, wav: &Path, force: bool) -> Result<ilink::voice::Pcm> {
    let bytes = std::fs::read(silk)
        .map_err(|e| CliError::Other(format!("cannot read {}: {e}", silk.display())))?;
    let pcm = ilink::voice::decode(&bytes, rate)
        .map_err(|e| CliError::Other(format!("{}: {e}", silk.display())))?;
    let tmp = crate::files::temp_next_to(wav)?;
    pcm.write_wav(std::io::BufWriter::new(tmp.as_file()))?;
    crate::files::persist(tmp, wav, force)?;
    Ok(pcm)
}

/// `ilink voice decode`.
pub(crate) async fn voice_decode(
    out: Out,
    input: &Path,
    output: Option<std::path::PathBuf>,
    sample_rate: u32,
    force: bool,
) -> Result<()> {
    if !ilink::voice::SAMPLE_RATES.contains(&sample_rate) {
        return Err(CliError::Usage(format!(
            "--sample-rate {sample_rate} is not one of {:?}",
            ilink::voice::SAMPLE_RATES
        )));
    }
    let output = output.unwrap_or_else(|| input.with_extension("wav"));
    crate::files::check_output(&output, &[input], force)?;
    let size = std::fs::metadata(input)
        .map_err(|e| CliError::Other(format!("cannot read {}: {e}", input.display())))?
        .len();
    if size > ilink::voice::MAX_SILK_BYTES as u64 {
        return Err(CliError::Other(format!(
            "{} has {size} bytes, more than the {} a voice note decodes from",
            input.display(),
            ilink::voice::MAX_SILK_BYTES
        )));
    }
    let (input2, output2) = (input.to_owned(), output.clone());
    let pcm =
        tokio::task::spawn_blocking(move || decode_to_wav(&input2, sample_rate, &output2, force))
            .await
            .map_err(|e| CliError::Other(format!("decode task failed: {e}")))??;
    out.emit(
        format!(
            "Decoded {} into {} ({:.2} s at {} Hz).",
            app::visible(&input.display().to_string()),
            app::visible(&output.display().to_string()),
            pcm.duration().as_secs_f64(),
            pcm.sample_rate
        ),
        json!({"event": "decoded", "path": output, "duration_ms": pcm.duration().as_millis() as u64,
               "sample_rate": pcm.sample_rate, "samples": pcm.samples.len()}),
    );
    Ok(())
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
