//! The inbox on disk: `inbox/<20-digit sequence>_<escaped key>.json`, one
//! file per received message, so acknowledging one is a single removal.
//!
//! The key is in the name so that finding an entry by key needs a directory
//! listing, not a read of every entry. Keys whose escaped form is too long
//! for a file name get `<sequence>.json` and are read from the file.

use std::fs;
use std::io;
use std::path::Path;

use super::durable::{corrupt, io_error, parse_json, read_optional};
use super::name::{escape, unescape};
use crate::store::{InboxEntry, StoreError};

/// The inbox directory's name in the account directory.
pub(super) const DIR: &str = "inbox";

/// Longest escaped key put in a file name (20 + 1 + 180 + 5 bytes in all).
const MAX_KEY_IN_NAME: usize = 180;
const SEQ_DIGITS: usize = 20;
const SUFFIX: &str = ".json";

/// One inbox file.
#[derive(Debug)]
pub(super) struct Slot {
    /// Its sequence number: the order of arrival.
    pub(super) seq: u64,
    /// Its file name.
    pub(super) name: String,
    /// The key, when the name holds it.
    key: Option<String>,
}

/// The file name of entry number `seq`.
pub(super) fn file_name(seq: u64, key: &str) -> String {
    let escaped = escape(key);
    if escaped.len() <= MAX_KEY_IN_NAME {
        format!("{seq:020}_{escaped}{SUFFIX}")
    } else {
        format!("{seq:020}{SUFFIX}")
    }
}

fn parse_name(name: &str) -> Option<Slot> {
    let stem = name.strip_suffix(SUFFIX)?;
    let digits = stem.get(..SEQ_DIGITS)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seq = digits.parse().ok()?;
    let key = match &stem[SEQ_DIGITS..] {
        "" => None,
        rest => Some(unescape(rest.strip_prefix('_')?)?),
    };
    Some(Slot {
        seq,
        name: name.to_owned(),
        key,
    })
}

/// The inbox files of `dir` (the inbox directory) in arrival order. Other
/// names (temporary files) are skipped.
pub(super) fn list(dir: &Path) -> Result<Vec<Slot>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(dir)(e)),
    };
    let mut slots = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_error(dir))?;
        if let Some(slot) = entry.file_name().to_str().and_then(parse_name) {
            slots.push(slot);
        }
    }
    slots.sort_by_key(|slot| slot.seq);
    Ok(slots)
}

/// The next free sequence number after the files of `slots`.
pub(super) fn next_seq(slots: &[Slot]) -> u64 {
    slots.last().map_or(0, |slot| slot.seq + 1)
}

/// Reads the entry of a slot; `None` if it vanished (acknowledged meanwhile).
pub(super) fn read(dir: &Path, slot: &Slot) -> Result<Option<InboxEntry>, StoreError> {
    let path = dir.join(&slot.name);
    let Some(bytes) = read_optional(&path)? else {
        return Ok(None);
    };
    let entry: InboxEntry = parse_json(&path, &bytes)?;
    if slot.key.as_ref().is_some_and(|key| *key != entry.key) {
        return Err(corrupt(&path, "the key inside differs from the file name"));
    }
    Ok(Some(entry))
}

/// The key of a slot, from its name or else its content; `None` if it
/// vanished.
pub(super) fn key(dir: &Path, slot: &Slot) -> Result<Option<String>, StoreError> {
    match &slot.key {
        Some(key) => Ok(Some(key.clone())),
        None => Ok(read(dir, slot)?.map(|entry| entry.key)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let slot = parse_name(&file_name(7, "123456")).unwrap();
        assert_eq!(slot.name, "00000000000000000007_123456.json");
        assert_eq!((slot.seq, slot.key.as_deref()), (7, Some("123456")));
        let slot = parse_name(&file_name(u64::MAX, "Client:1/2")).unwrap();
        assert_eq!(
            (slot.seq, slot.key.as_deref()),
            (u64::MAX, Some("Client:1/2"))
        );
        let slot = parse_name(&file_name(1, "")).unwrap();
        assert_eq!(slot.key.as_deref(), Some(""));
        let long = "x".repeat(MAX_KEY_IN_NAME + 1);
        let slot = parse_name(&file_name(3, &long)).unwrap();
        assert_eq!((slot.seq, slot.key), (3, None));
    }

    #[test]
    fn foreign_names_are_skipped() {
        for name in [
            ".tmp.1.2.00000000000000000001_1.json",
            "00000000000000000001_1.json.bak",
            "0000000000000000001_1.json",
            "0000000000000000000a_1.json",
            "00000000000000000001-1.json",
            "00000000000000000001_%zz.json",
            "99999999999999999999_1.json",
            "readme",
        ] {
            assert!(parse_name(name).is_none(), "{name}");
        }
    }
}
