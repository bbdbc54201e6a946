//! Text of outside origin made safe to show on a terminal or in a log line.

use std::borrow::Cow;

/// `text` as it may be shown on a terminal or written to a log line: every
/// character that a terminal obeys or that hides or reorders text is
/// replaced by a visible escape, everything else is kept as it is.
///
/// Use it for every string of outside origin (the login server's bot id,
/// user id and QR content, a sender's id and text, a file name, a server's
/// error message) before it reaches a terminal or a text log. JSON output
/// needs no such step: its encoder escapes control characters itself.
///
/// Replaced, as `\n`, `\r`, `\t` or `\u{…}` (hexadecimal code point):
///
/// - C0 controls (U+0000–U+001F, ESC and BEL among them: the start of every
///   escape sequence that clears the screen, moves the cursor, sets the
///   title or writes the clipboard with OSC 52), DEL (U+007F) and C1
///   controls (U+0080–U+009F, CSI and OSC among them);
/// - bidirectional controls: embeddings and overrides (U+202A–U+202E),
///   isolates (U+2066–U+2069), marks (U+200E, U+200F, U+061C), which make
///   `exe.txt` look like `txt.exe` or reorder a line;
/// - other invisible format characters that can hide or forge text: the
///   zero-width space (U+200B), the soft hyphen (U+00AD), the line and
///   paragraph separators (U+2028, U+2029), the word joiner and invisible
///   operators (U+2060–U+2064), deprecated format controls (U+206A–U+206F),
///   the byte order mark (U+FEFF), interlinear annotation controls
///   (U+FFF9–U+FFFB), the Mongolian vowel separator (U+180E), the Arabic and
///   Syriac prepended marks (U+0600–U+0605, U+06DD, U+070F, U+0890, U+0891,
///   U+08E2), the Brahmi, Kaithi, Egyptian, shorthand and musical format
///   controls, and the language tag characters (U+E0001, U+E0020–U+E007F:
///   invisible ASCII), except inside an emoji flag sequence (U+1F3F4, tags,
///   U+E007F), which is how subdivision flags are written.
///
/// Kept: every printable character, CJK and emoji included, the zero-width
/// joiner and non-joiner (U+200C, U+200D: emoji sequences and several
/// scripts need them) and variation selectors. The result borrows `text`
/// when nothing is replaced.
///
/// ```
/// use ilink_proto::display_safe;
///
/// assert_eq!(display_safe("bob@im.wechat"), "bob@im.wechat");
/// assert_eq!(display_safe("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
/// assert_eq!(display_safe("photo\u{202e}gnp.exe"), "photo\\u{202e}gnp.exe");
/// assert_eq!(display_safe("你好 👋\nnext"), "你好 👋\\nnext");
/// ```
pub fn display_safe(text: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == BLACK_FLAG
            && let Some(len) = flag_tags_len(&text[i + c.len_utf8()..])
        {
            let end = i + c.len_utf8() + len;
            if let Some(out) = &mut out {
                out.push_str(&text[i..end]);
            }
            while chars.offset() < end {
                chars.next();
            }
            continue;
        }
        if is_display_unsafe(c) {
            let out = out.get_or_insert_with(|| {
                let mut s = String::with_capacity(text.len() + 16);
                s.push_str(&text[..i]);
                s
            });
            push_escape(out, c);
        } else if let Some(out) = &mut out {
            out.push(c);
        }
    }
    out.map_or(Cow::Borrowed(text), Cow::Owned)
}

/// Whether `c` is shown as an escape by [`display_safe`] (outside an emoji
/// flag sequence).
///
/// ```
/// assert!(ilink_proto::is_display_unsafe('\u{1b}'));
/// assert!(ilink_proto::is_display_unsafe('\u{202e}'));
/// assert!(!ilink_proto::is_display_unsafe('字'));
/// ```
pub fn is_display_unsafe(c: char) -> bool {
    c.is_control() || is_hiding_format(c)
}

/// U+1F3F4 WAVING BLACK FLAG, the base of subdivision flag sequences.
const BLACK_FLAG: char = '\u{1f3f4}';
/// U+E007F CANCEL TAG, the end of a flag sequence.
const CANCEL_TAG: char = '\u{e007f}';

/// The byte length of the tag characters (U+E0020–U+E007E, then U+E007F)
/// that follow U+1F3F4 in a well-formed emoji flag sequence, if `after`
/// starts with one (at most 16 tags: real ones have 4 to 6).
fn flag_tags_len(after: &str) -> Option<usize> {
    let mut len = 0;
    for (n, c) in after.chars().enumerate() {
        match c {
            CANCEL_TAG if n > 0 => return Some(len + c.len_utf8()),
            '\u{e0020}'..='\u{e007e}' if n < 16 => len += c.len_utf8(),
            _ => return None,
        }
    }
    None
}

fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            use std::fmt::Write as _;
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

/// Format characters (Unicode category Cf) and separators that are
/// invisible or reorder text, except the joiners (U+200C, U+200D).
fn is_hiding_format(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061c}'
            | '\u{06dd}'
            | '\u{070f}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08e2}'
            | '\u{180e}'
            | '\u{200b}'
            | '\u{200e}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (no dependencies here).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }

        fn char(&mut self) -> char {
            // Biased towards the interesting ranges.
            let pick = match self.next() % 8 {
                0 => self.next() % 0x100,
                1 => 0x2000 + self.next() % 0x80,
                2 => 0xe0000 + self.next() % 0x100,
                3 => 0x1f300 + self.next() % 0x400,
                4 => 0x4e00 + self.next() % 0x5000,
                5 => 0x600 + self.next() % 0x300,
                6 => 0xfe00 + self.next() % 0x200,
                _ => self.next() % 0x110000,
            };
            char::from_u32(pick as u32).unwrap_or('?')
        }
    }

    #[test]
    fn escapes_become_visible_text() {
        let hostile =
            "hi\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\nbob: forged\u{202e}txt.exe\u{9b}\u{7f}";
        assert_eq!(
            display_safe(hostile),
            "hi\\u{1b}]52;c;ZXZpbA==\\u{7}\\u{1b}[2J\\nbob: forged\\u{202e}txt.exe\\u{9b}\\u{7f}"
        );
        for c in [
            '\u{202a}',
            '\u{202b}',
            '\u{202c}',
            '\u{202d}',
            '\u{202e}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200e}',
            '\u{200f}',
            '\u{061c}',
            '\u{200b}',
            '\u{feff}',
            '\u{2028}',
            '\u{2029}',
            '\u{e0041}',
            '\u{ad}',
            '\0',
        ] {
            let text = format!("a{c}b");
            let shown = display_safe(&text);
            assert_eq!(shown, format!("a\\u{{{:x}}}b", u32::from(c)), "{c:?}");
        }
    }

    #[test]
    fn printable_text_is_borrowed_unchanged() {
        for text in [
            "",
            "plain ascii ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./",
            "中文 日本語 한국어 ✓",
            "emoji 👋🏽 👨‍👩‍👧 ❤️ 🇨🇳 🏴\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}",
            "فارسی\u{200c}ها हिन्दी",
            "wxid_abc@im.wechat",
        ] {
            assert!(
                matches!(display_safe(text), Cow::Borrowed(t) if t == text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn tags_outside_a_flag_are_escaped() {
        // Invisible ASCII after a visible word, and a flag left open.
        assert_eq!(
            display_safe("ok\u{e0068}\u{e0069}"),
            "ok\\u{e0068}\\u{e0069}"
        );
        assert_eq!(display_safe("🏴\u{e0067}x"), "🏴\\u{e0067}x");
        assert_eq!(display_safe("🏴\u{e007f}"), "🏴\\u{e007f}");
        // A flag followed by a hostile character.
        assert_eq!(
            display_safe("🏴\u{e0067}\u{e0062}\u{e007f}\u{1b}"),
            "🏴\u{e0067}\u{e0062}\u{e007f}\\u{1b}"
        );
    }

    /// For any input: no control, bidi or hiding character survives (except
    /// tags inside a well-formed flag), every safe character is kept in
    /// order, and the output is already safe.
    #[test]
    fn property_no_unsafe_character_survives() {
        let mut rng = Lcg(0x1234_5678);
        for _ in 0..20_000 {
            let len = (rng.next() % 24) as usize;
            let text: String = (0..len).map(|_| rng.char()).collect();
            let shown = display_safe(&text);
            let mut in_flag = false;
            for c in shown.chars() {
                match c {
                    BLACK_FLAG => in_flag = true,
                    '\u{e0020}'..='\u{e007e}' if in_flag => {}
                    CANCEL_TAG if in_flag => in_flag = false,
                    c => {
                        in_flag = false;
                        assert!(!is_display_unsafe(c), "{c:?} in {shown:?} from {text:?}");
                    }
                }
            }
            assert_eq!(display_safe(&shown), shown, "idempotent on {text:?}");
            // Every safe character is kept, in order.
            let mut shown_chars = shown.chars();
            for c in text.chars().filter(|c| !is_display_unsafe(*c)) {
                assert!(
                    shown_chars.any(|s| s == c),
                    "{c:?} lost: {text:?} -> {shown:?}"
                );
            }
        }
    }
}
