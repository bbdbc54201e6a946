//! [`BatchFilter`]: a getupdates answer read in bounded memory.

use std::fmt;

/// The bracket depth between the batch array's elements.
const ARRAY_DEPTH: u32 = 2;

/// The most bytes kept outside the batch's elements (the cursor, the
/// timeout hint, the status fields).
pub const OUTSIDE_LIMIT: usize = 64 * 1024;

/// At most this many placeholders in one answer; elements set aside past
/// them are only counted ([`Filtered::set_aside`]).
const MAX_PLACEHOLDERS: usize = 1_024;

/// The key of a placeholder that stands for an element set aside.
pub(crate) const SET_ASIDE_KEY: &str = "ilink_set_aside";

/// Why an answer could not be kept even with its large elements set aside.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchFilterError {
    /// The part of the answer outside the batch's elements is larger than
    /// [`OUTSIDE_LIMIT`].
    TooLarge {
        /// The total limit.
        limit: usize,
    },
}

impl fmt::Display for BatchFilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(
                f,
                "the answer outside its batch is larger than the limit of {limit} bytes"
            ),
        }
    }
}

impl std::error::Error for BatchFilterError {}

/// What [`BatchFilter::finish`] kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Filtered {
    /// The answer, with placeholders for the elements set aside.
    pub bytes: Vec<u8>,
    /// Elements set aside.
    pub set_aside: usize,
    /// Bytes received in all, the ones set aside included.
    pub received: u64,
}

/// Where the scanner is in the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Outside the top-level object, or inside it but not in the batch.
    Outside,
    /// Inside the batch array, between elements.
    Between,
    /// Inside an element of the batch array.
    Element,
}

/// A getupdates answer read in bounded memory, whatever its size: the
/// elements of its batch array that are too large are set aside while the
/// answer streams in, and the rest (the cursor, the timeout hint, every
/// message that fits) decodes as usual.
///
/// A message from one WeChat user must never cost the others theirs: an
/// answer that fails as a whole loses its batch on a server that does not
/// replay it, and wedges the account on one that does. The filter is fed
/// the body chunk by chunk and copies it, except that an element of the
/// top-level array `msgs` longer than the per-element limit, or one that
/// would take the elements kept past the total limit, is replaced by a
/// placeholder `{"ilink_set_aside":{"bytes":N,"reason":"…"}}`, which
/// [`Update`](crate::Update) decodes as a
/// [`MalformedUpdate`](crate::MalformedUpdate) with
/// [`set_aside`](crate::MalformedUpdate::set_aside) set.
///
/// The filter tracks JSON structure only (strings, escapes, brackets); it
/// does not validate. Input that is not JSON comes out as input that is not
/// JSON, and fails to decode as it would have.
///
/// ```
/// use ilink_proto::{BatchFilter, GetUpdatesResponse};
///
/// let big = "x".repeat(5_000);
/// let body = format!(
///     r#"{{"ret":0,"msgs":[{{"message_id":1}},{{"message_id":2,"text":"{big}"}},{{"message_id":3}}],"get_updates_buf":"c2"}}"#
/// );
/// let mut filter = BatchFilter::new("msgs", 1_000, 64 * 1024);
/// for chunk in body.as_bytes().chunks(700) {
///     filter.push(chunk).unwrap();
/// }
/// let kept = filter.finish().unwrap();
/// let resp: GetUpdatesResponse = serde_json::from_slice(&kept.bytes).unwrap();
/// assert_eq!(resp.messages().count(), 2);
/// assert_eq!(resp.malformed().next().unwrap().set_aside, Some(5_026));
/// assert_eq!(resp.next_cursor(""), "c2");
/// assert_eq!(kept.set_aside, 1);
/// ```
#[derive(Debug)]
pub struct BatchFilter {
    key: &'static str,
    element_limit: usize,
    total_limit: usize,
    out: Vec<u8>,
    /// The element being read (while it fits its limit).
    element: Vec<u8>,
    /// The element's length so far, kept or not.
    element_len: usize,
    /// The element outgrew its limit: its bytes are counted, not kept.
    skipping: bool,
    /// An element that is a string, number or literal (ends at `,` `]` or
    /// whitespace rather than at its closing bracket).
    scalar: bool,
    place: Place,
    /// Bracket depth, counted from the top-level object (1 inside it).
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// At depth 1: whether the next string is a key.
    expect_key: bool,
    /// The key being read at depth 1 (only as far as it can match).
    key_buf: Vec<u8>,
    key_overflow: bool,
    /// The last key read at depth 1 matched `key`.
    key_matches: bool,
    set_aside: usize,
    received: u64,
    /// Elements written to the current batch array (kept or placeholders).
    written: usize,
    /// Placeholders written.
    placeholders: usize,
    /// Bytes of the batch's elements kept.
    kept: usize,
    /// Bytes kept outside the batch's elements.
    outside: usize,
}

impl BatchFilter {
    /// A filter for the array under `key` of the top-level object: elements
    /// over `element_limit` bytes are set aside, and so is any element that
    /// would take the elements kept over `total_limit` bytes. What is
    /// outside the elements may have [`OUTSIDE_LIMIT`] bytes.
    pub fn new(key: &'static str, element_limit: usize, total_limit: usize) -> Self {
        Self {
            key,
            element_limit,
            total_limit,
            out: Vec::new(),
            element: Vec::new(),
            element_len: 0,
            skipping: false,
            scalar: false,
            place: Place::Outside,
            depth: 0,
            in_string: false,
            escaped: false,
            expect_key: false,
            key_buf: Vec::new(),
            key_overflow: false,
            key_matches: false,
            set_aside: 0,
            received: 0,
            written: 0,
            placeholders: 0,
            kept: 0,
            outside: 0,
        }
    }

    /// Feeds the next chunk of the answer.
    ///
    /// # Errors
    ///
    /// [`BatchFilterError::TooLarge`] when what is outside the batch's
    /// elements passes [`OUTSIDE_LIMIT`].
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), BatchFilterError> {
        self.received = self.received.saturating_add(chunk.len() as u64);
        for &b in chunk {
            self.byte(b)?;
        }
        Ok(())
    }

    /// The answer as kept.
    ///
    /// # Errors
    ///
    /// As [`push`](Self::push).
    pub fn finish(mut self) -> Result<Filtered, BatchFilterError> {
        if self.place == Place::Element {
            // Truncated input: what was read is passed on, and fails to
            // decode as it would have.
            self.end_element()?;
        }
        Ok(Filtered {
            bytes: self.out,
            set_aside: self.set_aside,
            received: self.received,
        })
    }

    fn emit(&mut self, b: u8) -> Result<(), BatchFilterError> {
        if self.outside >= OUTSIDE_LIMIT {
            return Err(BatchFilterError::TooLarge {
                limit: OUTSIDE_LIMIT,
            });
        }
        self.outside += 1;
        self.out.push(b);
        Ok(())
    }

    fn byte(&mut self, b: u8) -> Result<(), BatchFilterError> {
        match self.place {
            Place::Element => self.element_byte(b),
            Place::Between => {
                if b == b']' && !self.in_string {
                    self.depth -= 1;
                    self.place = Place::Outside;
                    return self.emit(b);
                }
                if b == b',' || b.is_ascii_whitespace() {
                    // Written before the next element kept, if any.
                    return Ok(());
                }
                self.place = Place::Element;
                self.element.clear();
                self.element_len = 0;
                self.skipping = false;
                self.scalar = !matches!(b, b'{' | b'[');
                self.element_byte(b)
            }
            Place::Outside => self.outside_byte(b),
        }
    }

    fn outside_byte(&mut self, b: u8) -> Result<(), BatchFilterError> {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            if self.depth == 1 && self.expect_key {
                if self.in_string {
                    if self.key_buf.len() <= self.key.len() {
                        self.key_buf.push(b);
                    } else {
                        self.key_overflow = true;
                    }
                } else {
                    self.key_matches = !self.key_overflow && self.key_buf == self.key.as_bytes();
                    self.expect_key = false;
                }
            }
            return self.emit(b);
        }
        match b {
            b'"' => {
                self.in_string = true;
                if self.depth == 1 && self.expect_key {
                    self.key_buf.clear();
                    self.key_overflow = false;
                }
            }
            b'{' | b'[' => {
                if self.depth == 1 && b == b'[' && self.key_matches {
                    self.depth += 1;
                    self.key_matches = false;
                    self.place = Place::Between;
                    self.written = 0;
                    return self.emit(b);
                }
                self.depth += 1;
                if self.depth == 1 {
                    self.expect_key = b == b'{';
                }
                if self.depth == 2 {
                    self.key_matches = false;
                }
            }
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 1 {
                    self.key_matches = false;
                }
            }
            b',' if self.depth == 1 => {
                self.expect_key = true;
                self.key_matches = false;
            }
            b':' => {}
            _ if self.depth == 1 && !b.is_ascii_whitespace() => {
                // A scalar value of a top-level key.
                self.key_matches = false;
            }
            _ => {}
        }
        self.emit(b)
    }

    fn element_byte(&mut self, b: u8) -> Result<(), BatchFilterError> {
        if self.scalar && !self.in_string && (b == b',' || b == b']' || b.is_ascii_whitespace()) {
            // The scalar ended before this byte, which belongs outside it.
            self.end_element()?;
            return self.byte(b);
        }
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
        } else {
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
        self.element_len = self.element_len.saturating_add(1);
        if !self.skipping {
            if self.element_len > self.element_limit {
                self.skipping = true;
                self.element = Vec::new();
            } else {
                self.element.push(b);
            }
        }
        // An object or array element ends when the depth is back at the
        // batch array's.
        if !self.scalar && self.depth <= ARRAY_DEPTH {
            self.end_element()?;
        }
        Ok(())
    }

    fn end_element(&mut self) -> Result<(), BatchFilterError> {
        self.place = Place::Between;
        let len = self.element_len;
        let reason = if self.skipping {
            Some("over the per-message limit")
        } else if self.kept + self.element.len() > self.total_limit {
            Some("over the batch limit")
        } else {
            None
        };
        match reason {
            None => {
                self.separate();
                let element = std::mem::take(&mut self.element);
                self.kept += element.len();
                self.out.extend_from_slice(&element);
                self.element = element;
                self.element.clear();
            }
            Some(reason) => {
                self.set_aside += 1;
                self.element = Vec::new();
                if self.placeholders < MAX_PLACEHOLDERS {
                    self.separate();
                    let placeholder =
                        format!(r#"{{"{SET_ASIDE_KEY}":{{"bytes":{len},"reason":"{reason}"}}}}"#);
                    self.placeholders += 1;
                    self.out.extend_from_slice(placeholder.as_bytes());
                }
            }
        }
        Ok(())
    }

    /// The comma before an element, unless it is the array's first.
    fn separate(&mut self) {
        if self.written > 0 {
            self.out.push(b',');
        }
        self.written += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &str, element: usize, total: usize, chunk: usize) -> Filtered {
        let mut f = BatchFilter::new("msgs", element, total);
        for c in body.as_bytes().chunks(chunk.max(1)) {
            f.push(c).unwrap();
        }
        f.finish().unwrap()
    }

    #[test]
    fn small_answers_pass_unchanged_in_any_chunking() {
        let body = r#"{"ret":0,"msgs":[{"a":"]}\"[{"},[1,2],"s,]",17,true,null],"x":{"msgs":[1]},"get_updates_buf":"c"}"#;
        for chunk in 1..body.len() {
            let out = run(body, 1000, 10_000, chunk);
            // Whitespace between the batch's elements is not kept.
            assert_eq!(String::from_utf8(out.bytes).unwrap(), body, "chunk {chunk}");
            assert_eq!(out.set_aside, 0);
        }
    }

    #[test]
    fn a_large_element_of_each_kind_is_set_aside() {
        let long = "y".repeat(100);
        let body = format!(
            r#"{{"msgs":[{{"t":"{long}"}},"{long}",[{long:?}],1,{{"ok":1}}],"get_updates_buf":"c"}}"#
        );
        for chunk in [1, 7, 64, body.len()] {
            let out = run(&body, 50, 10_000, chunk);
            let v: serde_json::Value = serde_json::from_slice(&out.bytes).unwrap();
            let msgs = v["msgs"].as_array().unwrap();
            assert_eq!(msgs.len(), 5);
            for m in &msgs[..3] {
                assert!(m[SET_ASIDE_KEY]["bytes"].as_u64().unwrap() > 100, "{m}");
            }
            assert_eq!(msgs[3], 1);
            assert_eq!(msgs[4]["ok"], 1);
            assert_eq!(v["get_updates_buf"], "c");
            assert_eq!(out.set_aside, 3);
        }
    }

    #[test]
    fn the_total_limit_sets_aside_what_does_not_fit() {
        let body = r#"{"msgs":[{"n":"aaaaaaaaaa"},{"n":"bbbbbbbbbb"},{"n":"cccccccccc"}],"get_updates_buf":"c"}"#;
        let out = run(body, 1000, 40, 3);
        let v: serde_json::Value = serde_json::from_slice(&out.bytes).unwrap();
        let msgs = v["msgs"].as_array().unwrap();
        assert_eq!(msgs[0]["n"], "aaaaaaaaaa");
        assert!(
            msgs.iter()
                .any(|m| m[SET_ASIDE_KEY]["reason"] == "over the batch limit")
        );
        assert_eq!(v["get_updates_buf"], "c");
    }

    #[test]
    fn a_huge_top_level_field_outside_the_batch_is_too_large() {
        let body = format!(r#"{{"errmsg":"{}","msgs":[]}}"#, "z".repeat(OUTSIDE_LIMIT));
        let mut f = BatchFilter::new("msgs", 10, 100);
        assert!(matches!(
            f.push(body.as_bytes()),
            Err(BatchFilterError::TooLarge {
                limit: OUTSIDE_LIMIT
            })
        ));
    }

    #[test]
    fn a_flood_of_elements_stays_bounded_and_valid() {
        let body = format!(
            r#"{{"msgs":[{}1],"get_updates_buf":"c"}}"#,
            "[[1,2,3]], ".repeat(100_000)
        );
        let out = run(&body, 1000, 4_096, 4_096);
        assert!(
            out.bytes.len() < 4_096 + 100 * MAX_PLACEHOLDERS,
            "{}",
            out.bytes.len()
        );
        let v: serde_json::Value = serde_json::from_slice(&out.bytes).unwrap();
        assert_eq!(v["get_updates_buf"], "c");
        assert!(out.set_aside > 90_000);
    }

    #[test]
    fn deep_nesting_is_only_counted() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let body = format!(r#"{{"msgs":[{deep},{{"ok":1}}],"get_updates_buf":"c"}}"#);
        let out = run(&body, 100, 1_000, 333);
        let v: serde_json::Value = serde_json::from_slice(&out.bytes).unwrap();
        assert_eq!(v["msgs"][0][SET_ASIDE_KEY]["bytes"], 20_000);
        assert_eq!(v["msgs"][1]["ok"], 1);
    }

    #[test]
    fn a_key_named_like_the_batch_elsewhere_is_not_the_batch() {
        let body = r#"{"other":{"msgs":["aaaaaaaaaaaaaaaaaaaaaaaa"]},"msgsx":["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"],"msgs":["cccccccccccccccccccccccccccccc"]}"#;
        let out = run(body, 10, 10_000, 5);
        let v: serde_json::Value = serde_json::from_slice(&out.bytes).unwrap();
        assert_eq!(v["other"]["msgs"][0], "aaaaaaaaaaaaaaaaaaaaaaaa");
        assert_eq!(v["msgsx"][0], "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
        assert_eq!(v["msgs"][0][SET_ASIDE_KEY]["bytes"], 32);
    }
}
