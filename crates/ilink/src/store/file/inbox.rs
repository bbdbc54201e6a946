//! The inbox on disk: `inbox/<20-digit sequence>.batch.json`, one file per
//! committed batch holding a JSON array of its new entries, so a whole batch
//! is made durable with a single file write.
//!
//! Older stores wrote one file per entry, `<sequence>_<escaped key>.json` (or
//! `<sequence>.json` for keys too long for a name); such files are still read
//! and removed once acknowledged, and share the sequence numbers.
//!
//! Acknowledging an entry does not touch its batch file: its key joins the
//! deduplication window, and the file is removed once every key in it is
//! acknowledged. [`Index`] keeps, per account, which file holds which key, so
//! that `seen`, duplicate checks and acks need a directory listing but no
//! reads.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::path::Path;

use super::durable::{corrupt, io_error, parse_json, read_optional};
#[cfg(test)]
use super::name::escape;
use super::name::unescape;
use crate::store::{InboxEntry, StoreError};

/// The inbox directory's name in the account directory.
pub(super) const DIR: &str = "inbox";

/// Longest escaped key put in a (legacy) file name (20 + 1 + 180 + 5 bytes in
/// all).
#[cfg(test)]
const MAX_KEY_IN_NAME: usize = 180;
const SEQ_DIGITS: usize = 20;
const SUFFIX: &str = ".json";
const BATCH_SUFFIX: &str = ".batch.json";

/// What an inbox file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A legacy single entry; the key when the name holds it.
    Entry(Option<String>),
    /// A batch: a JSON array of entries.
    Batch,
}

/// One inbox file.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    /// Its sequence number: the order of arrival.
    pub(super) seq: u64,
    /// Its file name.
    pub(super) name: String,
    kind: Kind,
}

/// The legacy file name of entry number `seq` (tests only: new entries go
/// into batch files).
#[cfg(test)]
fn file_name(seq: u64, key: &str) -> String {
    let escaped = escape(key);
    if escaped.len() <= MAX_KEY_IN_NAME {
        format!("{seq:020}_{escaped}{SUFFIX}")
    } else {
        format!("{seq:020}{SUFFIX}")
    }
}

impl Slot {
    /// The batch file number `seq`.
    pub(super) fn batch(seq: u64) -> Self {
        Self {
            seq,
            name: batch_name(seq),
            kind: Kind::Batch,
        }
    }
}

/// The file name of batch number `seq`.
pub(super) fn batch_name(seq: u64) -> String {
    format!("{seq:020}{BATCH_SUFFIX}")
}

fn parse_seq(digits: &str) -> Option<u64> {
    if digits.len() != SEQ_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn parse_name(name: &str) -> Option<Slot> {
    if let Some(stem) = name.strip_suffix(BATCH_SUFFIX) {
        return Some(Slot {
            seq: parse_seq(stem)?,
            name: name.to_owned(),
            kind: Kind::Batch,
        });
    }
    let stem = name.strip_suffix(SUFFIX)?;
    let seq = parse_seq(stem.get(..SEQ_DIGITS)?)?;
    let key = match &stem[SEQ_DIGITS..] {
        "" => None,
        rest => Some(unescape(rest.strip_prefix('_')?)?),
    };
    Some(Slot {
        seq,
        name: name.to_owned(),
        kind: Kind::Entry(key),
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
    slots.sort_by(|a, b| a.seq.cmp(&b.seq).then_with(|| a.name.cmp(&b.name)));
    Ok(slots)
}

/// Reads the entries of a slot, in order; `None` if it vanished (acknowledged
/// meanwhile).
pub(super) fn read(dir: &Path, slot: &Slot) -> Result<Option<Vec<InboxEntry>>, StoreError> {
    let path = dir.join(&slot.name);
    let Some(bytes) = read_optional(&path)? else {
        return Ok(None);
    };
    match &slot.kind {
        Kind::Batch => {
            let entries: Vec<InboxEntry> = parse_json(&path, &bytes)?;
            let mut keys = HashSet::new();
            if !entries.iter().all(|entry| keys.insert(entry.key.as_str())) {
                return Err(corrupt(&path, "a key appears twice"));
            }
            Ok(Some(entries))
        }
        Kind::Entry(key) => {
            let entry: InboxEntry = parse_json(&path, &bytes)?;
            if key.as_ref().is_some_and(|key| *key != entry.key) {
                return Err(corrupt(&path, "the key inside differs from the file name"));
            }
            Ok(Some(vec![entry]))
        }
    }
}

/// The keys of a slot, from its name or else its content; `None` if it
/// vanished.
fn keys(dir: &Path, slot: &Slot) -> Result<Option<Vec<String>>, StoreError> {
    match &slot.kind {
        Kind::Entry(Some(key)) => Ok(Some(vec![key.clone()])),
        _ => Ok(read(dir, slot)?.map(|entries| entries.into_iter().map(|e| e.key).collect())),
    }
}

/// Which inbox file holds which key, for one account: what the directory
/// held when last listed by this process.
#[derive(Debug, Default)]
pub(super) struct Index {
    /// Per file (by sequence and name): its slot and the keys it holds.
    files: BTreeMap<(u64, String), (Slot, Vec<String>)>,
    /// Per key: the file holding it.
    owner: HashMap<String, (u64, String)>,
}

impl Index {
    /// Brings the index of `cached` up to date with the directory `dir`: one
    /// listing, and a read of each file this process has not seen yet (none
    /// for legacy files, whose name holds the key).
    pub(super) fn fresh<'a>(
        cached: &'a mut Option<Index>,
        dir: &Path,
    ) -> Result<&'a mut Index, StoreError> {
        let index = cached.get_or_insert_with(Index::default);
        let slots = list(dir)?;
        let listed: HashSet<(u64, &str)> = slots.iter().map(|s| (s.seq, s.name.as_str())).collect();
        let gone: Vec<(u64, String)> = index
            .files
            .keys()
            .filter(|(seq, name)| !listed.contains(&(*seq, name.as_str())))
            .cloned()
            .collect();
        for id in gone {
            index.forget(&id);
        }
        for slot in slots {
            let id = (slot.seq, slot.name.clone());
            if index.files.contains_key(&id) {
                continue;
            }
            let Some(keys) = keys(dir, &slot)? else {
                continue;
            };
            index.add(slot, keys);
        }
        Ok(index)
    }

    fn add(&mut self, slot: Slot, keys: Vec<String>) {
        let id = (slot.seq, slot.name.clone());
        for key in &keys {
            self.owner.entry(key.clone()).or_insert_with(|| id.clone());
        }
        self.files.insert(id, (slot, keys));
    }

    fn forget(&mut self, id: &(u64, String)) {
        if let Some((_, keys)) = self.files.remove(id) {
            for key in keys {
                if self.owner.get(&key) == Some(id) {
                    self.owner.remove(&key);
                }
            }
        }
    }

    /// Records a batch file this process just wrote.
    pub(super) fn add_batch(&mut self, seq: u64, keys: Vec<String>) {
        self.add(Slot::batch(seq), keys);
    }

    /// Whether a file in the inbox holds `key` (acknowledged or not).
    pub(super) fn contains(&self, key: &str) -> bool {
        self.owner.contains_key(key)
    }

    /// The next free sequence number.
    pub(super) fn next_seq(&self) -> u64 {
        self.files
            .keys()
            .next_back()
            .map_or(0, |(seq, _)| seq.saturating_add(1))
    }

    /// The files, in arrival order.
    pub(super) fn slots(&self) -> Vec<Slot> {
        self.files.values().map(|(slot, _)| slot.clone()).collect()
    }

    /// The file holding `key` and every key in that file.
    pub(super) fn file_of(&self, key: &str) -> Option<(&Slot, &[String])> {
        let id = self.owner.get(key)?;
        self.files
            .get(id)
            .map(|(slot, keys)| (slot, keys.as_slice()))
    }

    /// Removes the file `slot` from disk (no fsync: a removal lost in a crash
    /// leaves acknowledged entries, which are skipped) and from the index.
    pub(super) fn remove(&mut self, dir: &Path, slot: &Slot) -> Result<(), StoreError> {
        let path = dir.join(&slot.name);
        if let Err(e) = fs::remove_file(&path)
            && e.kind() != io::ErrorKind::NotFound
        {
            return Err(io_error(&path)(e));
        }
        self.forget(&(slot.seq, slot.name.clone()));
        Ok(())
    }

    /// Records that the file `slot` now holds `keys` only (after a rewrite).
    pub(super) fn replace(&mut self, slot: &Slot, keys: Vec<String>) {
        self.forget(&(slot.seq, slot.name.clone()));
        self.add(slot.clone(), keys);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let slot = parse_name(&file_name(7, "123456")).unwrap();
        assert_eq!(slot.name, "00000000000000000007_123456.json");
        assert_eq!(
            (slot.seq, slot.kind),
            (7, Kind::Entry(Some("123456".into())))
        );
        let slot = parse_name(&file_name(u64::MAX, "Client:1/2")).unwrap();
        assert_eq!(
            (slot.seq, slot.kind),
            (u64::MAX, Kind::Entry(Some("Client:1/2".into())))
        );
        let slot = parse_name(&file_name(1, "")).unwrap();
        assert_eq!(slot.kind, Kind::Entry(Some(String::new())));
        let long = "x".repeat(MAX_KEY_IN_NAME + 1);
        let slot = parse_name(&file_name(3, &long)).unwrap();
        assert_eq!((slot.seq, slot.kind), (3, Kind::Entry(None)));
        let slot = parse_name(&batch_name(42)).unwrap();
        assert_eq!(slot.name, "00000000000000000042.batch.json");
        assert_eq!((slot.seq, slot.kind), (42, Kind::Batch));
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
            ".tmp.1.2.00000000000000000001.batch.json",
            "0000000000000000001.batch.json",
            "00000000000000000001_1.batch.json",
            "00000000000000000001.batch.json.bak",
            "readme",
        ] {
            assert!(parse_name(name).is_none(), "{name}");
        }
    }
}
