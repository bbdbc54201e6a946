//! Integration tests of ilink-proto: JSON fixtures round-trip losslessly, and
//! the builders produce exactly what the protocol expects.

mod builders;
mod endpoints;
mod fixtures;

use serde_json::Value;

/// Loads a fixture from `tests/fixtures/`.
pub(crate) fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Absent and `null` mean the same on the wire and we write neither: drop
/// `null` members before comparing.
pub(crate) fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// Decodes `json` as `T`, re-encodes it, and checks nothing was lost.
pub(crate) fn round_trip<T>(json: &str) -> T
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let typed: T = serde_json::from_str(json).expect("decodes");
    let again = serde_json::to_value(&typed).expect("encodes");
    let original: Value = serde_json::from_str(json).expect("valid JSON");
    assert_eq!(again, strip_nulls(original), "round trip changed the JSON");
    typed
}
