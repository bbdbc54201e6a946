//! Safe local names for received files: the sender's name is untrusted.

use std::path::{Component, Path};

use ilink_proto::{MessageItem, VoiceEncodeType};

use super::MediaKind;

/// The longest name produced, in bytes, leaving room for a ` (N)` suffix
/// under the usual 255-byte limit of file systems.
const MAX_NAME_BYTES: usize = 200;
/// Extensions longer than this are not worth keeping when a name is cut.
const MAX_EXT_BYTES: usize = 16;
/// Names that Windows reserves in any directory, with or without extension.
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
    "COM8", "COM9", "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    "CONIN$", "CONOUT$",
];

/// A file name that is safe to create in any directory, derived from an
/// untrusted one: `None` when nothing usable is left.
///
/// Path separators (`/`, `\`), control and bidirectional-override
/// characters and the characters Windows forbids become `_`; leading dots,
/// underscores and spaces and trailing dots and spaces go; reserved device
/// names (`CON`, `nul.txt`, …) get a leading `_`; long names are cut at a
/// character boundary, keeping a short extension. The result is a single
/// normal path component.
pub(crate) fn sanitize(untrusted: &str) -> Option<String> {
    let replaced: String = untrusted
        .chars()
        .map(|c| if is_unsafe(c) { '_' } else { c })
        .collect();
    let trimmed = replaced
        .trim_start_matches(['.', '_', ' '])
        .trim_end_matches(['.', ' ']);
    if trimmed.is_empty() {
        return None;
    }
    let mut name = truncate(trimmed, MAX_NAME_BYTES);
    let stem = name.split('.').next().unwrap_or_default().trim_end();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        name.insert(0, '_');
    }
    is_single_component(&name).then_some(name)
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*'
            // bidirectional overrides and isolates: they make "gpj.exe" read as "exe.jpg"
            | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
        )
}

/// Cuts a name to at most `max` bytes at a character boundary, keeping the
/// extension when it is short.
fn truncate(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.len() <= MAX_EXT_BYTES);
    let keep = match ext {
        Some(e) => max - e.len() - 1,
        None => max,
    };
    let mut cut = keep;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let stem = name[..cut].trim_end_matches(['.', ' ']);
    match ext {
        Some(e) => format!("{stem}.{e}"),
        None => stem.to_owned(),
    }
}

pub(crate) fn is_single_component(name: &str) -> bool {
    let mut components = Path::new(name).components();
    matches!(
        (components.next(), components.next()),
        (Some(Component::Normal(_)), None)
    )
}

/// The name a received item is saved under in a directory: the sanitized
/// sender's name for files, else `<kind>-<msg_id>.<ext>` (the extension
/// sniffed from the content's first bytes when possible).
pub(crate) fn local_name(item: &MessageItem, kind: MediaKind, head: &[u8]) -> String {
    if let Some(name) = item
        .file_item
        .as_ref()
        .and_then(|f| f.file_name.as_deref())
        .and_then(sanitize)
    {
        return name;
    }
    let id = item
        .msg_id
        .as_ref()
        .map(|id| id.as_str().to_owned())
        .and_then(|id| sanitize(&id))
        .unwrap_or_else(|| crate::store::now_ms().to_string());
    let ext = sniff(head).unwrap_or(match kind {
        MediaKind::Image => "jpg",
        MediaKind::Video => "mp4",
        MediaKind::Voice => voice_ext(item),
        MediaKind::File => "bin",
    });
    truncate(&format!("{kind}-{id}.{ext}"), MAX_NAME_BYTES)
}

fn voice_ext(item: &MessageItem) -> &'static str {
    match item.voice_item.as_ref().and_then(|v| v.encode_type) {
        Some(VoiceEncodeType::AMR) => "amr",
        Some(VoiceEncodeType::MP3) => "mp3",
        Some(VoiceEncodeType::SPEEX | VoiceEncodeType::OGG_SPEEX) => "spx",
        Some(VoiceEncodeType::PCM) => "pcm",
        _ => "silk",
    }
}

/// The extension the content's first bytes announce.
pub(crate) fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("jpg")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("gif")
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some("webp")
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        Some(if &head[8..12] == b"qt  " {
            "mov"
        } else {
            "mp4"
        })
    } else if head.starts_with(b"#!SILK") || head.starts_with(b"\x02#!SILK") {
        Some("silk")
    } else if head.starts_with(b"#!AMR") {
        Some("amr")
    } else {
        None
    }
}

/// The `n`-th alternative of a name: `a.txt` → `a (n).txt`.
pub(crate) fn numbered(name: &str, n: u32) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => {
            format!("{stem} ({n}).{ext}")
        }
        _ => format!("{name} ({n})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names() {
        for (input, expected) in [
            ("../../x", Some("x")),
            ("/etc/passwd", Some("etc_passwd")),
            ("..", None),
            (".", None),
            ("", None),
            ("   ", None),
            ("a/b\\c", Some("a_b_c")),
            ("CON", Some("_CON")),
            ("con.txt", Some("_con.txt")),
            ("lpt9", Some("_lpt9")),
            ("CONSOLE.txt", Some("CONSOLE.txt")),
            (".bashrc", Some("bashrc")),
            ("a\0b\nc", Some("a_b_c")),
            ("report.pdf. . ", Some("report.pdf")),
            ("evil\u{202e}gpj.exe", Some("evil_gpj.exe")),
            ("C:\\Windows\\x.dll", Some("C__Windows_x.dll")),
            ("報告 2024.docx", Some("報告 2024.docx")),
            ("///", None),
        ] {
            assert_eq!(sanitize(input).as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn long_names_are_cut_keeping_the_extension() {
        let long = format!("{}.pdf", "é".repeat(300));
        let name = sanitize(&long).unwrap();
        assert!(name.len() <= MAX_NAME_BYTES, "{}", name.len());
        assert!(name.ends_with(".pdf"));
        let no_ext = "x".repeat(1000);
        assert_eq!(sanitize(&no_ext).unwrap().len(), MAX_NAME_BYTES);
    }

    #[test]
    fn sanitized_names_are_one_component() {
        for input in ["a/../b", "..\\..\\c", "./d", "e/", "\\\\server\\share"] {
            let name = sanitize(input).unwrap();
            assert!(is_single_component(&name), "{input:?} → {name:?}");
        }
    }

    #[test]
    fn fallback_names_by_kind() {
        let item: MessageItem =
            serde_json::from_str(r#"{"type":2,"msg_id":123,"image_item":{}}"#).unwrap();
        assert_eq!(local_name(&item, MediaKind::Image, b""), "image-123.jpg");
        assert_eq!(
            local_name(&item, MediaKind::Image, b"\x89PNG\r\n\x1a\n...."),
            "image-123.png"
        );
        let voice: MessageItem =
            serde_json::from_str(r#"{"type":3,"msg_id":"v1:9","voice_item":{"encode_type":5}}"#)
                .unwrap();
        assert_eq!(local_name(&voice, MediaKind::Voice, b""), "voice-v1_9.amr");
        let file: MessageItem =
            serde_json::from_str(r#"{"type":4,"msg_id":7,"file_item":{"file_name":".."}}"#)
                .unwrap();
        assert_eq!(local_name(&file, MediaKind::File, b""), "file-7.bin");
    }

    #[test]
    fn numbering() {
        assert_eq!(numbered("a.txt", 1), "a (1).txt");
        assert_eq!(numbered("a", 2), "a (2)");
        assert_eq!(numbered("a.tar.gz", 3), "a.tar (3).gz");
    }
}
