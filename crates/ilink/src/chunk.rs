//! Splitting long text into several messages: [`chunk_text`].
//!
//! Long replies are sent as several text messages of at most a given number
//! of characters (by default [`DEFAULT_CHUNK_CHARS`]), cut where a reader
//! would cut them.

use unicode_segmentation::{GraphemeCursor, UnicodeSegmentation};

/// The default chunk limit (characters): what users of the real service report as safe.
pub const DEFAULT_CHUNK_CHARS: usize = 2000;

/// The kinds of break opportunity, indexed from the least to the most preferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// After whitespace.
    Word = 0,
    /// After the end of a sentence.
    Sentence = 1,
    /// After a line break.
    Line = 2,
    /// After a blank line.
    Paragraph = 3,
}

/// The kinds, from the most to the least preferred.
const BY_PREFERENCE: [Kind; 4] = [Kind::Paragraph, Kind::Line, Kind::Sentence, Kind::Word];

/// A grapheme-cluster boundary: its byte offset and its offset in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Boundary {
    byte: usize,
    chars: usize,
}

/// What the last non-separator clusters said about a sentence ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// No sentence end pending.
    None,
    /// A sentence mark that needs whitespace after it.
    NeedsSpace,
    /// A CJK full stop: a break is allowed right after it.
    Immediate,
}

/// Classifies the boundary after each grapheme cluster, fed in text order.
#[derive(Debug)]
struct Classifier {
    stop: Stop,
    in_run: bool,
    run_newlines: usize,
    run_after_stop: bool,
}

impl Classifier {
    fn new() -> Self {
        Self {
            stop: Stop::None,
            in_run: false,
            run_newlines: 0,
            run_after_stop: false,
        }
    }

    /// The kind of break opportunity right after the cluster `g`, if any.
    fn after(&mut self, g: &str) -> Option<Kind> {
        let mut chars = g.chars();
        let first = chars.next()?;
        // Marks and closers only count as bare characters: `.` with a
        // combining mark on it is a letter-like cluster, not a full stop.
        let single = chars.as_str().is_empty().then_some(first);
        let separator = match single {
            Some(c) => c.is_whitespace() || c == '\u{200B}',
            None => g.chars().all(char::is_whitespace),
        };
        if separator {
            if !self.in_run {
                self.in_run = true;
                self.run_newlines = 0;
                self.run_after_stop = self.stop != Stop::None;
            }
            self.stop = Stop::None;
            self.run_newlines = self.run_newlines.saturating_add(newline_weight(g));
            return Some(match self.run_newlines {
                0 if self.run_after_stop => Kind::Sentence,
                0 => Kind::Word,
                1 => Kind::Line,
                _ => Kind::Paragraph,
            });
        }
        self.in_run = false;
        match single {
            Some(c) if is_immediate_stop(c) => {
                self.stop = Stop::Immediate;
                Some(Kind::Sentence)
            }
            Some(c) if is_spaced_stop(c) => {
                self.stop = Stop::NeedsSpace;
                None
            }
            Some(c) if self.stop != Stop::None && is_closer(c) => {
                (self.stop == Stop::Immediate).then_some(Kind::Sentence)
            }
            _ => {
                self.stop = Stop::None;
                None
            }
        }
    }
}

/// How many line breaks a separator cluster counts for.
fn newline_weight(g: &str) -> usize {
    if g.contains('\u{2029}') {
        2
    } else if g.contains(['\n', '\r', '\u{0B}', '\u{0C}', '\u{85}', '\u{2028}']) {
        1
    } else {
        0
    }
}

/// CJK full stops, after which a break needs no whitespace.
fn is_immediate_stop(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '｡')
}

/// Sentence marks that end a sentence when whitespace (or the end) follows.
fn is_spaced_stop(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '；' | '…')
}

/// Closing quotes and brackets, which may stand between a sentence mark and the break.
fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\''
            | ')'
            | ']'
            | '}'
            | '»'
            | '”'
            | '’'
            | '」'
            | '』'
            | '）'
            | '】'
            | '〕'
            | '〉'
            | '》'
            | '〗'
            | '〙'
            | '〛'
            | '｣'
            | '＂'
            | '＇'
            | '］'
            | '｝'
    )
}

/// The extended grapheme clusters of a text with their byte offsets: the same
/// as `grapheme_indices(true)`, with a fast path for ASCII.
///
/// Between two ASCII characters there is always a cluster boundary, except
/// inside `\r\n` (UAX #29: every rule that joins characters other than GB3
/// involves a non-ASCII character), so an ASCII character followed by another
/// ASCII character, or by the end, is a cluster of its own. Anything else is
/// handed to `unicode-segmentation`, started at the current boundary: no rule
/// looks back across a cluster boundary for the *next* boundary (regional
/// indicator pairs restart at every boundary), so that gives the same cluster
/// as segmenting the whole text.
#[derive(Debug)]
struct Clusters<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Clusters<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.pos;
        let rest = self.text.get(start..).filter(|r| !r.is_empty())?;
        let bytes = rest.as_bytes();
        let len = match (bytes[0], bytes.get(1)) {
            (b, None) if b.is_ascii() => 1,
            (b, Some(&n)) if b.is_ascii() && n.is_ascii() && !(b == b'\r' && n == b'\n') => 1,
            _ => match GraphemeCursor::new(0, rest.len(), true).next_boundary(rest, 0) {
                Ok(Some(end)) => end,
                // Not reached: the whole rest is given, and it is not empty.
                _ => rest.graphemes(true).next().map_or(rest.len(), str::len),
            },
        };
        self.pos = start + len;
        Some((start, &rest[..len]))
    }
}

/// The last opportunity of the best kind that makes a chunk of at least `min_chars`.
fn best_break(last: &[Option<Boundary>; 4], start: Boundary, min_chars: usize) -> Option<Boundary> {
    BY_PREFERENCE
        .iter()
        .filter_map(|&kind| last[kind as usize])
        .find(|b| b.chars - start.chars >= min_chars)
}

/// Splits `text` into chunks of at most `limit` characters (Unicode scalar values), for sending as several messages.
///
/// The chunks concatenate back to `text` exactly, and are cut at grapheme-cluster
/// boundaries only, preferring paragraph, then line, then sentence, then word breaks;
/// a single grapheme cluster longer than `limit` becomes a chunk of its own.
///
/// # Guarantees
///
/// * The chunks are borrowed slices of the input, in order, and their
///   concatenation is the input **exactly**: nothing is trimmed and no
///   separator is dropped. The whitespace at a cut stays at the end of the
///   chunk before it, so the next chunk normally starts with the next word.
/// * No chunk is empty, and every chunk has at most `limit` characters
///   (Unicode scalar values), with one exception: a single extended grapheme
///   cluster longer than `limit` characters (say, a family emoji with a limit
///   of 3) becomes a chunk of its own rather than being torn apart.
/// * A cut never falls inside a UTF-8 sequence or inside an extended grapheme
///   cluster (emoji with skin tones, ZWJ sequences, flags, combining marks,
///   Hangul jamo, `\r\n`).
/// * `limit == 0` is treated as `1`; empty text gives no chunks; text of at
///   most `limit` characters gives exactly one chunk.
/// * One pass over the text, with constant extra memory besides the output:
///   O(n) overall, whatever `limit` is.
///
/// # Where a chunk ends
///
/// A chunk is cut only when the next grapheme cluster would not fit. Then,
/// among the break opportunities inside the window that fits, the cut goes
/// at the **last** opportunity of the best kind, in this order:
///
/// 1. a paragraph break: after a run of whitespace holding at least two line
///    breaks (`\n\n`, `\r\n\r\n`, `\n  \n`, …) or a U+2029 PARAGRAPH SEPARATOR;
/// 2. a line break: after a run of whitespace holding one line break
///    (`\n`, `\r\n`, `\r`, U+2028, U+0085, vertical tab, form feed);
/// 3. a sentence end: after the whitespace that follows `.` `!` `?` `。` `！`
///    `？` `；` `…` (closing quotes and brackets such as `"` `)` `”` `」` may
///    stand between the mark and the whitespace); the CJK full stops `。` `！`
///    `？` `｡` need no whitespace and allow a cut right after them (or after
///    the closing quotes and brackets that follow them);
/// 4. a word break: after any whitespace (including U+3000 IDEOGRAPHIC SPACE)
///    or a U+200B ZERO WIDTH SPACE;
/// 5. otherwise a hard cut at the last grapheme-cluster boundary that fits.
///
/// Because the opportunity sits *after* each separator of a run, a whole run
/// of separators that fits stays with the chunk before it; when a run
/// straddles the window's edge, the chunk takes as much of it as fits.
///
/// **No tiny chunks.** An opportunity is only taken if the chunk it makes has
/// at least `limit / 4` characters (at least 1); otherwise the next kind is
/// tried, and in the end a hard cut fills the chunk. So a paragraph break
/// three characters into a 2000-character window is ignored in favour of a
/// later line, sentence or word break, or of a hard cut; but a paragraph
/// break 600 characters in is preferred to a word break at 1990. The bound
/// keeps messages meaningful and their number within about four times the
/// minimum. A chunk shorter than that is only produced when the cluster after
/// it does not fit (typically a pathological cluster longer than the limit),
/// or as the last chunk.
///
/// The sentence rule is a heuristic: abbreviations (`e.g. `) and the like
/// also count as sentence ends; that is harmless, since it only picks where
/// to cut, never what is sent.
///
/// # Example
///
/// ```
/// use ilink::chunk::chunk_text;
///
/// let chunks = chunk_text("Hello there. How are you?", 16);
/// assert_eq!(chunks, ["Hello there. ", "How are you?"]);
/// ```
pub fn chunk_text(text: &str, limit: usize) -> Vec<&str> {
    let limit = limit.max(1);
    if text.is_empty() {
        return Vec::new();
    }
    if text.len() <= limit || text.chars().count() <= limit {
        return vec![text];
    }
    let min_chars = (limit / 4).max(1);

    let mut chunks = Vec::new();
    let mut start = Boundary { byte: 0, chars: 0 };
    // The boundary before the cluster being looked at.
    let mut here = start;
    // The last break opportunity of each kind after `start`, indexed by `Kind`.
    let mut last: [Option<Boundary>; 4] = [None; 4];
    let mut classifier = Classifier::new();

    for (byte, g) in (Clusters { text, pos: 0 }) {
        debug_assert_eq!(byte, here.byte);
        let width = g.chars().count();
        // Cut until `g` fits after `start`, or `g` starts a chunk of its own.
        while here.chars + width - start.chars > limit && here.byte > start.byte {
            let cut = best_break(&last, start, min_chars).unwrap_or(here);
            chunks.push(&text[start.byte..cut.byte]);
            start = cut;
            for slot in &mut last {
                if slot.is_some_and(|b| b.byte <= start.byte) {
                    *slot = None;
                }
            }
        }
        here = Boundary {
            byte: byte + g.len(),
            chars: here.chars + width,
        };
        if width > limit {
            // A pathological cluster longer than the limit: alone, and whole.
            chunks.push(g);
            start = here;
        }
        if let Some(kind) = classifier.after(g)
            && here.byte > start.byte
        {
            last[kind as usize] = Some(here);
        }
    }
    if start.byte < text.len() {
        chunks.push(&text[start.byte..]);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grapheme-cluster boundaries of `text`, including 0 and `text.len()`.
    fn grapheme_boundaries(text: &str) -> Vec<usize> {
        let mut v: Vec<usize> = text.grapheme_indices(true).map(|(i, _)| i).collect();
        v.push(text.len());
        v
    }

    /// Chunks `text` and checks every guarantee that holds for any input.
    fn check(text: &str, limit: usize) -> Vec<&str> {
        let chunks = chunk_text(text, limit);
        let limit = limit.max(1);
        let ctx = || format!("text={text:?} limit={limit} chunks={chunks:?}");

        // Lossless, borrowed, in order.
        assert_eq!(chunks.concat(), text, "{}", ctx());
        let bounds = grapheme_boundaries(text);
        let mut pos = 0;
        for (i, c) in chunks.iter().enumerate() {
            assert!(!c.is_empty(), "empty chunk {i}: {}", ctx());
            assert_eq!(
                c.as_ptr(),
                text[pos..].as_ptr(),
                "chunk {i} is not borrowed in place: {}",
                ctx()
            );
            let n = c.chars().count();
            if n > limit {
                assert_eq!(
                    c.graphemes(true).count(),
                    1,
                    "chunk {i} too long: {}",
                    ctx()
                );
            }
            pos += c.len();
            assert!(
                bounds.binary_search(&pos).is_ok(),
                "chunk {i} ends inside a grapheme cluster: {}",
                ctx()
            );
            // No tiny chunk unless the next cluster could not have been added.
            if let Some(next) = chunks.get(i + 1) {
                let next_width = next.graphemes(true).next().map_or(0, |g| g.chars().count());
                assert!(
                    n >= (limit / 4).max(1) || n + next_width > limit,
                    "chunk {i} needlessly tiny: {}",
                    ctx()
                );
            }
        }
        assert_eq!(pos, text.len(), "{}", ctx());
        if text.is_empty() {
            assert!(chunks.is_empty(), "{}", ctx());
        } else if text.chars().count() <= limit {
            assert_eq!(chunks, [text], "{}", ctx());
        }
        chunks
    }

    /// A second, naive formulation of the same rules: classify every boundary
    /// first, then for each chunk scan its whole window. Quadratic, for tests only.
    fn reference(text: &str, limit: usize) -> Vec<&str> {
        let limit = limit.max(1);
        if text.is_empty() {
            return Vec::new();
        }
        let min_chars = (limit / 4).max(1);
        let mut classifier = Classifier::new();
        let mut bounds = vec![(Boundary { byte: 0, chars: 0 }, None)];
        let mut chars = 0;
        for (byte, g) in (Clusters { text, pos: 0 }) {
            chars += g.chars().count();
            bounds.push((
                Boundary {
                    byte: byte + g.len(),
                    chars,
                },
                classifier.after(g),
            ));
        }
        let total = chars;
        let mut chunks = Vec::new();
        let mut s = 0; // index into bounds
        while total - bounds[s].0.chars > limit {
            let start = bounds[s].0;
            let window: Vec<usize> = (s + 1..bounds.len())
                .take_while(|&j| bounds[j].0.chars - start.chars <= limit)
                .collect();
            let e = if window.is_empty() {
                s + 1
            } else {
                BY_PREFERENCE
                    .iter()
                    .find_map(|&kind| {
                        window.iter().rev().copied().find(|&j| {
                            bounds[j].1 == Some(kind)
                                && bounds[j].0.chars - start.chars >= min_chars
                        })
                    })
                    .unwrap_or(*window.last().unwrap_or(&s))
            };
            chunks.push(&text[start.byte..bounds[e].0.byte]);
            s = e;
        }
        if bounds[s].0.byte < text.len() {
            chunks.push(&text[bounds[s].0.byte..]);
        }
        chunks
    }

    /// A small deterministic pseudo-random generator (xorshift64*).
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const PIECES: &[&str] = &[
        "a",
        "word",
        "longerword",
        "x",
        " ",
        " ",
        " ",
        "  ",
        "\n",
        "\n\n",
        "\r\n",
        "\r\n\r\n",
        "\t",
        ". ",
        ".",
        "! ",
        "?",
        "…",
        "；",
        "\"",
        ")",
        "”",
        "」",
        "。",
        "！",
        "？",
        "中",
        "文字",
        "日本語",
        "\u{3000}",
        "\u{200B}",
        "👋🏽",
        "👨‍👩‍👧‍👦",
        "🇨🇳",
        "🇺🇸",
        "e\u{301}",
        "a\u{301}\u{302}\u{303}",
        "\u{1112}\u{1161}\u{11AB}",
        "한",
        "é",
        "\u{2029}",
        "❤️",
        // Pieces that join with whatever comes before or after them.
        "\u{301}",
        "\u{200D}",
        "\u{FE0F}",
        "\u{20E3}",
        "\u{1F3FD}",
        "\u{1F1E8}",
        "\u{600}",
        "\u{903}",
        "क्ष",
        "\u{1100}",
        "\u{1161}",
        "\u{11AB}",
        "\r",
    ];

    fn random_text(rng: &mut XorShift, max_pieces: usize) -> String {
        let n = rng.below(max_pieces + 1);
        (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect()
    }

    #[test]
    fn fast_segmentation_matches_unicode_segmentation() {
        let same = |text: &str| {
            let fast: Vec<_> = Clusters { text, pos: 0 }.collect();
            let slow: Vec<_> = text.grapheme_indices(true).collect();
            assert_eq!(fast, slow, "text={text:?}");
        };
        same("");
        for a in PIECES {
            for b in PIECES {
                for c in ["", "x", "\n", "\r", "\u{1F1E8}"] {
                    same(&format!("{a}{b}{c}"));
                    same(&format!("{c}{a}{b}"));
                }
            }
        }
        let mut rng = XorShift(7);
        for _ in 0..2000 {
            same(&random_text(&mut rng, 40));
        }
    }

    #[test]
    fn empty_text_gives_no_chunks() {
        assert!(chunk_text("", 10).is_empty());
        assert!(chunk_text("", 0).is_empty());
        assert!(chunk_text("", DEFAULT_CHUNK_CHARS).is_empty());
    }

    #[test]
    fn text_within_the_limit_is_one_chunk() {
        assert_eq!(chunk_text("hello", 5), ["hello"]);
        assert_eq!(chunk_text("hello", 100), ["hello"]);
        // 5 characters but 15 bytes: the limit counts characters.
        assert_eq!(chunk_text("你好世界！", 5), ["你好世界！"]);
        assert_eq!(chunk_text("a\n\nb", 4), ["a\n\nb"]);
        let long = "x".repeat(DEFAULT_CHUNK_CHARS);
        assert_eq!(chunk_text(&long, DEFAULT_CHUNK_CHARS), [long.as_str()]);
    }

    #[test]
    fn zero_limit_is_treated_as_one() {
        assert_eq!(chunk_text("abc", 0), ["a", "b", "c"]);
        assert_eq!(chunk_text("abc", 0), chunk_text("abc", 1));
        assert_eq!(chunk_text("a👋🏽", 0), ["a", "👋🏽"]);
        assert_eq!(chunk_text("x", 0), ["x"]);
    }

    #[test]
    fn limit_counts_characters_not_bytes() {
        assert_eq!(chunk_text("ééééé", 2), ["éé", "éé", "é"]);
        assert_eq!(chunk_text("中文中文中", 2), ["中文", "中文", "中"]);
    }

    #[test]
    fn long_word_is_hard_cut() {
        assert_eq!(chunk_text("xxxxxxxxxx", 4), ["xxxx", "xxxx", "xx"]);
        let word = "abcdefghijklmnopqrstuvwxyz";
        assert_eq!(chunk_text(word, 10), ["abcdefghij", "klmnopqrst", "uvwxyz"]);
        // A word longer than the limit, between words: the break before it is
        // taken, then the word is hard cut, then the break after it.
        assert_eq!(
            check("hello abcdefghijklmnopqrstuvwxyz world", 10),
            ["hello ", "abcdefghij", "klmnopqrst", "uvwxyz ", "world"]
        );
    }

    #[test]
    fn paragraph_beats_line_sentence_and_word() {
        let text = "First paragraph.\n\nA line\nAnother sentence. More words here";
        let chunks = check(text, text.chars().count() - 1);
        assert_eq!(
            chunks,
            [
                "First paragraph.\n\n",
                "A line\nAnother sentence. More words here"
            ]
        );
    }

    #[test]
    fn line_beats_sentence_and_word() {
        let text = "First line here\nA sentence. More words here";
        let chunks = check(text, text.chars().count() - 1);
        assert_eq!(chunks, ["First line here\n", "A sentence. More words here"]);
    }

    #[test]
    fn sentence_beats_word() {
        let text = "One two three. Four five six seven";
        let chunks = check(text, text.chars().count() - 1);
        assert_eq!(chunks, ["One two three. ", "Four five six seven"]);
        for mark in ["!", "?", "…", "；"] {
            let text = format!("One two three{mark} Four five six seven");
            let chunks = check(&text, text.chars().count() - 1);
            assert_eq!(chunks[0], format!("One two three{mark} "), "mark {mark}");
        }
    }

    #[test]
    fn word_beats_hard_cut() {
        assert_eq!(check("alpha beta gamma", 12), ["alpha beta ", "gamma"]);
        assert_eq!(check("alpha beta gamma", 11), ["alpha beta ", "gamma"]);
        assert_eq!(check("alpha beta gamma", 10), ["alpha ", "beta gamma"]);
    }

    #[test]
    fn the_last_break_of_the_best_kind_is_taken() {
        assert_eq!(check("aa. bb. cc dd ee", 14), ["aa. bb. ", "cc dd ee"]);
        assert_eq!(
            check("p1\n\np2\n\np3 words", 12),
            ["p1\n\np2\n\n", "p3 words"]
        );
        assert_eq!(check("l1\nl2\nl3 words", 10), ["l1\nl2\n", "l3 words"]);
    }

    #[test]
    fn separators_stay_at_the_end_of_the_previous_chunk() {
        // The whole separator run that fits goes with the chunk before it.
        assert_eq!(
            check("Para one.\n\n\n   Para two is here", 20),
            ["Para one.\n\n\n   ", "Para two is here"]
        );
        assert_eq!(
            check("End.   Next sentence here", 20),
            ["End.   ", "Next sentence here"]
        );
        // `\r\n` pairs count as single line breaks.
        assert_eq!(
            check("first\r\nsecond line here", 20),
            ["first\r\n", "second line here"]
        );
        assert_eq!(
            check("first.\r\n\r\nsecond\r\nthird", 20),
            ["first.\r\n\r\n", "second\r\nthird"]
        );
        // A blank line holding spaces is still a paragraph break.
        assert_eq!(
            check("para one\n  \nline\nmore", 18),
            ["para one\n  \n", "line\nmore"]
        );
        // U+2029 is a paragraph break, U+2028 a line break.
        assert_eq!(
            check("one\u{2029}two\u{2028}three", 12),
            ["one\u{2029}", "two\u{2028}three"]
        );
    }

    #[test]
    fn sentence_end_after_closing_quotes() {
        assert_eq!(
            check("He said \"hi.\" Then he left", 20),
            ["He said \"hi.\" ", "Then he left"]
        );
        assert_eq!(
            check("(It was late.) We went home", 20),
            ["(It was late.) ", "We went home"]
        );
        // A period inside a word is no sentence end.
        assert_eq!(
            check("see example.com for more", 20),
            ["see example.com for ", "more"]
        );
    }

    #[test]
    fn cjk_sentence_breaks() {
        let text = "今天天气很好。我们去公园吧！然后回家";
        assert_eq!(
            check(text, 17),
            ["今天天气很好。我们去公园吧！", "然后回家"]
        );
        assert_eq!(
            check(text, 10),
            ["今天天气很好。", "我们去公园吧！", "然后回家"]
        );
        assert_eq!(
            check("你好吗？我很好｡谢谢你们", 10),
            ["你好吗？我很好｡", "谢谢你们"]
        );
        // The break after a CJK full stop comes after the closing quotes.
        assert_eq!(
            check("他说：“你好。”然后走了很久很久", 12),
            ["他说：“你好。”", "然后走了很久很久"]
        );
        assert_eq!(
            check("「行こう。」と彼は言ったのです", 12),
            ["「行こう。」", "と彼は言ったのです"]
        );
        // `；` and `…` need whitespace; without it the text is hard cut.
        assert_eq!(check("甲乙丙；丁戊己庚辛", 6), ["甲乙丙；丁戊", "己庚辛"]);
        assert_eq!(check("甲乙丙； 丁戊己庚辛", 6), ["甲乙丙； ", "丁戊己庚辛"]);
        // CJK text with no punctuation at all is cut between characters.
        assert_eq!(
            check("一二三四五六七八九十", 4),
            ["一二三四", "五六七八", "九十"]
        );
        // The ideographic space is a word break.
        assert_eq!(
            check("東京\u{3000}大阪名古屋", 5),
            ["東京\u{3000}", "大阪名古屋"]
        );
        // A CJK sentence break is preferred to a later word break.
        assert_eq!(
            check("你好。 好的 谢谢 再见", 11),
            ["你好。 ", "好的 谢谢 再见"]
        );
    }

    #[test]
    fn tiny_breaks_give_way_to_bigger_chunks() {
        // A paragraph break 3 characters into a 20-character window would make a
        // tiny chunk (< 20 / 4): a hard cut is taken instead.
        let text = format!("a\n\n{}", "b".repeat(30));
        let chunks = check(&text, 20);
        assert_eq!(chunks, [format!("a\n\n{}", "b".repeat(17)), "b".repeat(13)]);
        // …and a later lower-ranked break is taken instead of it when there is one.
        assert_eq!(
            check("a\n\nbbbbbb cccccccccccc", 20),
            ["a\n\nbbbbbb ", "cccccccccccc"]
        );
        // A break that is exactly limit / 4 long is taken; one shorter is not.
        assert_eq!(
            check("abcde\n\nfghijklmnopqrstuvwxyz0123", 28),
            ["abcde\n\n", "fghijklmnopqrstuvwxyz0123"]
        );
        assert_eq!(
            check("abc\n\nfghijklmnopqrstuvwxyz01", 24),
            ["abc\n\nfghijklmnopqrstuvwx", "yz01"]
        );
        // With the default limit, a paragraph break 600 characters in beats a word break at 1990.
        let text = format!(
            "{}\n\n{} {}",
            "p".repeat(598),
            "q".repeat(1390),
            "r".repeat(100)
        );
        let chunks = check(&text, DEFAULT_CHUNK_CHARS);
        assert_eq!(chunks[0].chars().count(), 600);
        assert!(chunks[0].ends_with("\n\n"));
    }

    #[test]
    fn explicit_grapheme_examples() {
        assert_eq!(check("a👨‍👩‍👧‍👦b", 3), ["a", "👨‍👩‍👧‍👦", "b"]);
        assert_eq!(check("👋🏽👋🏽👋🏽", 3), ["👋🏽", "👋🏽", "👋🏽"]);
        assert_eq!(check("👋🏽👋🏽👋🏽", 4), ["👋🏽👋🏽", "👋🏽"]);
        assert_eq!(check("🇨🇳🇺🇸🇨🇳", 2), ["🇨🇳", "🇺🇸", "🇨🇳"]);
        assert_eq!(check("🇨🇳🇺🇸🇨🇳", 5), ["🇨🇳🇺🇸", "🇨🇳"]);
        assert_eq!(
            check("e\u{301}e\u{301}e\u{301}", 3),
            ["e\u{301}", "e\u{301}", "e\u{301}"]
        );
        assert_eq!(
            check("\u{1112}\u{1161}\u{11AB}\u{1112}\u{1161}\u{11AB}", 4),
            ["\u{1112}\u{1161}\u{11AB}", "\u{1112}\u{1161}\u{11AB}"]
        );
        // A cluster longer than the limit is a chunk of its own, never split.
        assert_eq!(check("👨‍👩‍👧‍👦", 1), ["👨‍👩‍👧‍👦"]);
        assert_eq!(check("ab 👨‍👩‍👧‍👦 cd", 2), ["ab", " ", "👨‍👩‍👧‍👦", " ", "cd"]);
        assert_eq!(check("\r\n\r\n", 1), ["\r\n", "\r\n"]);
    }

    #[test]
    fn no_cut_inside_a_grapheme_cluster_at_any_limit_or_offset() {
        let clusters = [
            "👋🏽",
            "👨‍👩‍👧‍👦",
            "🇨🇳",
            "🇨🇳🇺🇸",
            "中文",
            "e\u{301}",
            "a\u{301}\u{302}\u{303}\u{304}",
            "\u{1112}\u{1161}\u{11AB}",
            "\u{1100}\u{1100}\u{1161}\u{11A8}\u{11A8}",
            "\r\n",
            "❤️",
            "👩🏽‍💻",
            "🏳️‍🌈",
        ];
        for cluster in clusters {
            let width = cluster.chars().count();
            for offset in 0..8 {
                let prefix = "a".repeat(offset);
                let texts = [
                    format!("{prefix}{cluster}"),
                    format!("{prefix}{cluster}bc"),
                    format!("{prefix}{cluster}{cluster}{cluster}"),
                    format!("{prefix} {cluster} {cluster}. {cluster}\n{cluster}"),
                    format!("{prefix}{cluster}。{cluster}\n\n{cluster}{cluster}"),
                ];
                for text in &texts {
                    let n = text.chars().count();
                    for limit in 0..=n + 1 {
                        let chunks = check(text, limit);
                        assert_eq!(
                            chunks,
                            reference(text, limit),
                            "text={text:?} limit={limit}"
                        );
                        // Every occurrence of a single cluster survives whole.
                        if cluster.graphemes(true).count() > 1 {
                            continue;
                        }
                        let whole = chunks
                            .iter()
                            .map(|c| c.matches(cluster).count())
                            .sum::<usize>();
                        assert_eq!(
                            whole,
                            text.matches(cluster).count(),
                            "text={text:?} limit={limit}"
                        );
                        if limit >= width {
                            assert!(chunks.iter().all(|c| c.chars().count() <= limit.max(1)));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn reassembly_for_many_inputs() {
        let inputs = [
            "",
            " ",
            "\n",
            "\n\n\n\n\n\n",
            "          ",
            "a b c d e f g h i j k l m n o p",
            "The quick brown fox jumps over the lazy dog. Again! And again? Yes.",
            "line1\nline2\nline3\n\npara2 line1\npara2 line2\n",
            "trailing spaces     ",
            "   leading spaces",
            "mixed 中文 and English。再来一句！OK? ok.",
            "emoji 👋🏽 family 👨‍👩‍👧‍👦 flags 🇨🇳🇺🇸 done",
            "combining e\u{301}e\u{301}e\u{301} and jamo \u{1112}\u{1161}\u{11AB}",
            "tabs\tand\tvertical\u{0B}tabs\u{0C}form feeds",
            "...!!!???……；；；。。。",
            "zero\u{200B}width\u{200B}spaces\u{200B}here",
        ];
        for text in inputs {
            for limit in 0..=text.chars().count() + 2 {
                check(text, limit);
                assert_eq!(
                    chunk_text(text, limit),
                    reference(text, limit),
                    "text={text:?} limit={limit}"
                );
            }
        }
    }

    #[test]
    fn random_mixed_texts() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let text = random_text(&mut rng, 60);
            let limit = match rng.below(4) {
                0 => rng.below(5),
                1 => rng.below(20),
                2 => rng.below(80),
                _ => rng.below(300),
            };
            check(&text, limit);
            assert_eq!(
                chunk_text(&text, limit),
                reference(&text, limit),
                "text={text:?} limit={limit}"
            );
        }
    }

    #[test]
    fn one_megabyte_is_linear() {
        let mut rng = XorShift(42);
        let mut text = String::new();
        while text.len() < 1 << 20 {
            text.push_str(PIECES[rng.below(PIECES.len())]);
        }
        let begun = std::time::Instant::now();
        let chunks = chunk_text(&text, DEFAULT_CHUNK_CHARS);
        let elapsed = begun.elapsed();
        assert_eq!(chunks.concat(), text);
        assert!(
            chunks
                .iter()
                .all(|c| c.chars().count() <= DEFAULT_CHUNK_CHARS)
        );
        // Generous even for an unoptimised build on a busy machine; a quadratic
        // rescan would take far longer.
        assert!(elapsed.as_secs() < 10, "took {elapsed:?}");

        // Inputs with no break at all, or a break at every character.
        for text in [
            "x".repeat(1 << 20),
            " ".repeat(1 << 20),
            "\n".repeat(1 << 20),
            "中".repeat(1 << 18),
        ] {
            let chunks = chunk_text(&text, DEFAULT_CHUNK_CHARS);
            assert_eq!(chunks.concat(), text);
            let (last, full) = chunks.split_last().expect("non-empty");
            assert!(
                full.iter()
                    .all(|c| c.chars().count() == DEFAULT_CHUNK_CHARS)
            );
            assert!(last.chars().count() <= DEFAULT_CHUNK_CHARS);
        }
    }
}
