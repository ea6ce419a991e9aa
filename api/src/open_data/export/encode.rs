//! Turns export rows into CSV or NDJSON bytes. Both formats walk the same array of
//! fields, in the order of the dictionary's [`COLUMNS`], so they cannot disagree.
//! The hot path of a million-row export: no allocation per row beyond the output buffer.

use super::china_time;
use super::rows::{Names, RowView};
use crate::open_data::dictionary::{
    channel_value, kind_value, rating_value, status_value, COLUMNS,
};
use crate::workflow::state_machine::AWAITING_REPLY;
use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use std::io::Write;

/// The two export formats.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Ndjson => "ndjson",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv",
            Self::Ndjson => "application/x-ndjson",
        }
    }

    /// The `Content-Type` header value.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8; header=present",
            Self::Ndjson => "application/x-ndjson; charset=utf-8",
        }
    }
}

/// The UTF-8 byte order mark Excel needs to read a CSV file as UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One exported value.
#[derive(Debug, Clone, Copy)]
enum Field<'r> {
    Null,
    Int(i64),
    Text(&'r str),
    Time(DateTime<Utc>),
    Bool(bool),
    /// Written with three decimals.
    Decimal(f64),
}

const WIDTH: usize = 27;
const _: () = assert!(WIDTH == COLUMNS.len(), "one field per dictionary column");

fn text(value: Option<&str>) -> Field<'_> {
    value.map_or(Field::Null, Field::Text)
}

fn time(value: Option<DateTime<Utc>>) -> Field<'static> {
    value.map_or(Field::Null, Field::Time)
}

/// Coordinates rounded to 0.001° (about 100 m): where the problem is, not whose door it is.
fn coordinate(value: Option<f64>) -> Field<'static> {
    value
        .filter(|v| v.is_finite())
        .map_or(Field::Null, Field::Decimal)
}

/// The row's values, in [`COLUMNS`] order; `region_name` and `department_name` come from
/// the encoder's [`NameCache`]s.
fn fields<'r>(
    row: &RowView<'r>,
    names: &'r Names,
    region_name: Option<&'r str>,
    department_name: Option<&'r str>,
    as_of: DateTime<Utc>,
) -> [Field<'r>; WIDTH] {
    let category = row.category_id.and_then(|id| names.categories.get(&id));
    let overdue =
        AWAITING_REPLY.contains(&row.status) && row.reply_due_at.is_some_and(|d| d < as_of);
    [
        Field::Int(row.id),
        Field::Text(row.tracking_number),
        text(row.public_title),
        text(row.public_body),
        text(row.public_reply),
        Field::Text(channel_value(&row.channel)),
        Field::Text(kind_value(&row.kind)),
        category.map_or(Field::Null, |(code, _)| Field::Text(code)),
        category.map_or(Field::Null, |(_, name)| Field::Text(name)),
        Field::Text(row.region_code),
        text(region_name),
        Field::Text(row.province_code),
        text(row.city_code),
        text(row.county_code),
        row.department_id
            .map_or(Field::Null, |id| Field::Int(id.into())),
        text(department_name),
        Field::Text(status_value(&row.status)),
        Field::Time(row.submitted_at),
        time(row.accepted_at),
        time(row.reply_due_at),
        time(row.replied_at),
        time(row.closed_at),
        Field::Bool(overdue),
        row.rating_level
            .as_ref()
            .map_or(Field::Null, |level| Field::Text(rating_value(level))),
        row.repeat_of.map_or(Field::Null, Field::Int),
        coordinate(row.latitude),
        coordinate(row.longitude),
    ]
}

/// The names an export has met so far, by a compact key: a few thousand regions and
/// departments in a small table stay in the CPU cache, where a look-up among the 45,000
/// region names of [`Names`] (string keys on the heap) missed it on most rows (perf: a
/// fifth of the encoder's time). Filled from [`Names`] as keys are met, so it says
/// exactly what [`Names`] says.
struct NameCache<K> {
    names: FxHashMap<K, Option<Box<str>>>,
}

impl<K: std::hash::Hash + Eq + Copy> NameCache<K> {
    fn new() -> Self {
        Self {
            names: FxHashMap::default(),
        }
    }

    fn get(&mut self, key: K, look_up: impl FnOnce() -> Option<Box<str>>) -> Option<&str> {
        self.names.entry(key).or_insert_with(look_up).as_deref()
    }
}

/// A region code as a cache key: its decimal value and its length (so `011` and `11`
/// differ). `None` for a code that is not 1–18 ASCII digits (looked up directly).
fn region_key(code: &str) -> Option<u64> {
    let bytes = code.as_bytes();
    if bytes.is_empty() || bytes.len() > 18 {
        return None;
    }
    let mut value = 0u64;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(b - b'0');
    }
    Some(value << 5 | bytes.len() as u64)
}

/// Encodes rows into an in-memory buffer that the caller drains in chunks.
pub struct Encoder {
    format: Format,
    as_of: DateTime<Utc>,
    out: Vec<u8>,
    scratch: Vec<u8>,
    region_names: NameCache<u64>,
    department_names: NameCache<i32>,
}

impl Encoder {
    /// An encoder whose buffer already holds the BOM (when asked) and the CSV header.
    /// `overdue` is evaluated at `as_of`.
    pub fn new(format: Format, bom: bool, as_of: DateTime<Utc>) -> Self {
        let mut out = Vec::with_capacity(CHUNK_BYTES + 64 * 1024);
        if bom && format == Format::Csv {
            out.extend_from_slice(BOM);
        }
        if format == Format::Csv {
            for (i, column) in COLUMNS.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(column.name.as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
        Self {
            format,
            as_of,
            out,
            scratch: Vec::with_capacity(64),
            region_names: NameCache::new(),
            department_names: NameCache::new(),
        }
    }

    /// Appends one case; `names` are the dimension names of the export's snapshot (the
    /// same for every row of an export: the caches remember what they said).
    pub fn row(&mut self, names: &Names, row: &RowView<'_>) {
        let look_up_region = || names.regions.get(row.region_code).cloned();
        let region_name = match region_key(row.region_code) {
            Some(key) => self.region_names.get(key, look_up_region),
            None => names.regions.get(row.region_code).map(|name| &**name),
        };
        let department_name = row.department_id.and_then(|id| {
            self.department_names
                .get(id, || names.departments.get(&id).cloned())
        });
        let values = fields(row, names, region_name, department_name, self.as_of);
        match self.format {
            Format::Csv => csv_row(&mut self.out, &mut self.scratch, &values),
            Format::Ndjson => ndjson_row(&mut self.out, &values),
        }
    }

    /// Bytes encoded and not yet taken.
    pub fn buffered(&self) -> usize {
        self.out.len()
    }

    /// Takes everything encoded so far.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::replace(&mut self.out, Vec::with_capacity(CHUNK_BYTES + 64 * 1024))
    }
}

/// RFC 4180: comma-separated, CRLF-terminated, a field quoted (quotes doubled) only
/// when it holds a comma, a quote or a line break; an empty field is no value.
fn csv_row(out: &mut Vec<u8>, scratch: &mut Vec<u8>, values: &[Field<'_>; WIDTH]) {
    let mut digits = itoa::Buffer::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match *value {
            Field::Null => {}
            Field::Int(n) => out.extend_from_slice(digits.format(n).as_bytes()),
            Field::Text(s) => csv_field(out, s),
            Field::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Field::Time(t) => china_time::write(out, t),
            Field::Decimal(x) => {
                scratch.clear();
                // Writing into a Vec cannot fail.
                let _ = write!(scratch, "{x:.3}");
                out.extend_from_slice(scratch);
            }
        }
    }
    out.extend_from_slice(b"\r\n");
}

fn ndjson_row(out: &mut Vec<u8>, values: &[Field<'_>; WIDTH]) {
    let mut digits = itoa::Buffer::new();
    out.push(b'{');
    for (i, (column, value)) in COLUMNS.iter().zip(values).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(column.name.as_bytes());
        out.extend_from_slice(b"\":");
        match *value {
            Field::Null => out.extend_from_slice(b"null"),
            Field::Int(n) => out.extend_from_slice(digits.format(n).as_bytes()),
            Field::Text(s) => json_string(out, s),
            Field::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Field::Time(t) => {
                out.push(b'"');
                china_time::write(out, t);
                out.push(b'"');
            }
            Field::Decimal(x) => {
                // Writing into a Vec cannot fail.
                let _ = write!(out, "{x:.3}");
            }
        }
    }
    out.extend_from_slice(b"}\n");
}

/// The size of the chunks handed to the HTTP body or the file.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// Whether any byte of `bytes` is `special`. Most exported text needs no quoting or
/// escaping, so this answers "no" for most fields: 32 bytes at a time, with no early exit
/// inside a block, which the compiler turns into vector compares (a byte at a time with
/// an exit per byte cannot be vectorised).
#[inline]
fn any_byte(bytes: &[u8], special: impl Fn(u8) -> bool + Copy) -> bool {
    let block_has = |block: &[u8]| block.iter().fold(false, |found, &b| found | special(b));
    if bytes.len() < 32 {
        // A short field, padded with spaces (special to neither format) to one block.
        let mut block = [b' '; 32];
        block[..bytes.len()].copy_from_slice(bytes);
        return block_has(&block);
    }
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        if block_has(block) {
            return true;
        }
    }
    // The last 32 bytes, overlapping blocks already checked: the tail without a byte loop.
    !blocks.remainder().is_empty() && block_has(&bytes[bytes.len() - 32..])
}

/// A byte that makes a CSV field quoted.
#[inline]
fn csv_special(b: u8) -> bool {
    (b == b',') | (b == b'"') | (b == b'\r') | (b == b'\n')
}

/// A byte a JSON string must escape.
#[inline]
fn json_special(b: u8) -> bool {
    (b < 0x20) | (b == b'"') | (b == b'\\')
}

/// A CSV field, quoted only when it must be.
fn csv_field(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !any_byte(bytes, csv_special) {
        out.extend_from_slice(bytes);
        return;
    }
    out.push(b'"');
    for &b in bytes {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// A JSON string literal of `s` (RFC 8259 escaping; non-ASCII kept as UTF-8).
fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    if !any_byte(bytes, json_special) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1F => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_quotes_controls_and_keep_chinese() {
        let mut out = Vec::new();
        json_string(&mut out, "路灯\"坏了\"\\\n\u{1}ok");
        let text = String::from_utf8(out).unwrap_or_default();
        assert_eq!(text, r#""路灯\"坏了\"\\\n\u0001ok""#);
        let back: String = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, "路灯\"坏了\"\\\n\u{1}ok");
    }
}

#[cfg(test)]
mod csv_tests {
    use super::{any_byte, csv_field, csv_special, json_special};

    #[test]
    fn the_block_check_finds_a_special_byte_at_every_position() {
        for len in [0, 1, 31, 32, 33, 64, 65, 100] {
            let plain = vec![b'a'; len];
            assert!(!any_byte(&plain, csv_special), "{len}");
            assert!(!any_byte(&plain, json_special), "{len}");
            for at in 0..len {
                for (special, csv, json) in [
                    (b',', true, false),
                    (b'"', true, true),
                    (b'\r', true, true),
                    (b'\n', true, true),
                    (b'\\', false, true),
                    (0x01, false, true),
                    (0x1F, false, true),
                    (b'\t', false, true),
                    (0x20, false, false),
                    (0xE8, false, false),
                ] {
                    let mut bytes = plain.clone();
                    bytes[at] = special;
                    assert_eq!(any_byte(&bytes, csv_special), csv, "{len} {at} {special}");
                    assert_eq!(any_byte(&bytes, json_special), json, "{len} {at} {special}");
                }
            }
        }
    }

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        let mut out = Vec::new();
        csv_field(&mut out, "路灯不亮");
        out.push(b'|');
        csv_field(&mut out, "a,b \"c\"\r\nd");
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "路灯不亮|\"a,b \"\"c\"\"\r\nd\""
        );
    }
}
