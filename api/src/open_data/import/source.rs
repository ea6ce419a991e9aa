//! The records of a source file, streamed: CSV with a header row, or a JSON array of
//! objects (read element by element, never whole). Each record comes with where it
//! starts (CSV line, or JSON element from 1) and its values by import field.

use super::fields::{Field, Values};
use super::mapping::Mapping;
use serde::de::{Deserializer as _, SeqAccess, Visitor};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The fields without which no record can be imported: a missing column is a mistake
/// in the file or the mapping, not in a row.
const REQUIRED: [Field; 2] = [Field::ServiceRequestId, Field::RequestedDatetime];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    /// What a record's position is called in reports.
    pub fn unit(self) -> &'static str {
        match self {
            Format::Csv => "line",
            Format::Json => "element",
        }
    }
}

/// One record read, or why it could not be read.
pub struct Record {
    pub line: u64,
    pub values: Result<Values, String>,
}

/// An opened source whose header (for CSV) was checked against the mapping.
pub struct Source {
    pub format: Format,
    reader: BufReader<File>,
    /// For CSV: the column index of each field.
    columns: Vec<(Field, usize)>,
    csv_header_len: usize,
}

/// By extension, else by the first non-blank byte (`[` is JSON).
fn detect(path: &Path, reader: &mut BufReader<File>) -> Result<Format, String> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
    {
        Some(e) if e == "json" => return Ok(Format::Json),
        Some(e) if e == "csv" => return Ok(Format::Csv),
        _ => {}
    }
    let head = reader
        .fill_buf()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let first = head
        .iter()
        .copied()
        .find(|b| !(b.is_ascii_whitespace() || [0xEF, 0xBB, 0xBF].contains(b)));
    Ok(if first == Some(b'[') {
        Format::Json
    } else {
        Format::Csv
    })
}

fn csv_reader<R: Read>(reader: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader)
}

impl Source {
    pub fn open(path: &Path, mapping: &Mapping) -> Result<Source, String> {
        let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let format = detect(path, &mut reader)?;
        for field in REQUIRED {
            if mapping.sources[field as usize].is_none()
                && mapping.constants[field as usize].is_none()
            {
                return Err(format!("the mapping gives no source for {}", field.name()));
            }
        }
        let mut source = Source {
            format,
            reader,
            columns: Vec::new(),
            csv_header_len: 0,
        };
        if format == Format::Csv {
            source.check_header(path, mapping)?;
        }
        Ok(source)
    }

    /// Reads the header once (then rewinds) and finds each field's column.
    fn check_header(&mut self, path: &Path, mapping: &Mapping) -> Result<(), String> {
        let header = {
            let mut csv = csv_reader(&mut self.reader);
            csv.headers()
                .map_err(|e| format!("cannot read the header of {}: {e}", path.display()))?
                .clone()
        };
        let names: Vec<&str> = header
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim())
            .collect();
        for field in Field::ALL {
            let Some(source) = &mapping.sources[field as usize] else {
                continue;
            };
            match names.iter().position(|n| n == source) {
                Some(i) => self.columns.push((field, i)),
                // A renamed field names a column that must be there; so do the required ones.
                None if source != field.name() || REQUIRED.contains(&field) => {
                    return Err(format!(
                        "{} has no column {source:?} (for {}); its columns are: {}",
                        path.display(),
                        field.name(),
                        names.join(", ")
                    ))
                }
                None => {}
            }
        }
        self.csv_header_len = names.len();
        Ok(())
    }

    /// Calls `sink` with every record, in file order, until it returns false. An error
    /// is returned only when the file cannot be read on (I/O, broken JSON).
    pub fn for_each(
        self,
        mapping: &Mapping,
        mut sink: impl FnMut(Record) -> bool,
    ) -> Result<(), String> {
        match self.format {
            Format::Csv => {
                let mut file = self.reader;
                // The header was read by a reader that buffered ahead: start again.
                use std::io::Seek;
                file.seek(std::io::SeekFrom::Start(0))
                    .map_err(|e| format!("cannot rewind the file: {e}"))?;
                read_csv(file, &self.columns, self.csv_header_len, &mut sink)
            }
            Format::Json => read_json(self.reader, mapping, &mut sink),
        }
    }
}

fn read_csv(
    reader: impl Read,
    columns: &[(Field, usize)],
    width: usize,
    sink: &mut impl FnMut(Record) -> bool,
) -> Result<(), String> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let mut record = csv::StringRecord::new();
    loop {
        let line = csv.position().line() + 1;
        match csv.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                let values = if record.len() != width {
                    Err(format!(
                        "has {} fields where the header has {width}",
                        record.len()
                    ))
                } else {
                    let mut values = Values::default();
                    for (field, i) in columns {
                        values.set(*field, &record[*i]);
                    }
                    Ok(values)
                };
                if !sink(Record { line, values }) {
                    return Ok(());
                }
            }
            Err(e) => match e.kind() {
                csv::ErrorKind::Utf8 { pos, .. } => {
                    let line = pos.as_ref().map_or(line, |p| p.line());
                    let values = Err("is not valid UTF-8".to_string());
                    if !sink(Record { line, values }) {
                        return Ok(());
                    }
                }
                _ => return Err(format!("cannot read the CSV near line {line}: {e}")),
            },
        }
    }
}

/// A JSON value as a field value (numbers as written, `null` as absent).
fn json_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn json_values(element: serde_json::Value, mapping: &Mapping) -> Result<Values, String> {
    let serde_json::Value::Object(object) = element else {
        return Err("is not a JSON object".into());
    };
    let mut values = Values::default();
    for field in Field::ALL {
        if let Some(key) = &mapping.sources[field as usize] {
            if let Some(text) = object.get(key).and_then(json_text) {
                values.set(field, &text);
            }
        }
    }
    Ok(values)
}

/// Visits the top-level array one element at a time.
struct Elements<'a, F> {
    mapping: &'a Mapping,
    sink: &'a mut F,
}

impl<'de, F: FnMut(Record) -> bool> Visitor<'de> for Elements<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of service requests")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0u64;
        while let Some(element) = seq.next_element::<serde_json::Value>()? {
            index += 1;
            let values = json_values(element, self.mapping);
            if !(self.sink)(Record {
                line: index,
                values,
            }) {
                // The consumer stopped: leave the rest unread.
                return Ok(());
            }
        }
        Ok(())
    }
}

fn read_json(
    reader: impl Read,
    mapping: &Mapping,
    sink: &mut impl FnMut(Record) -> bool,
) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let stopped = std::cell::Cell::new(false);
    let mut guarded = |r: Record| {
        let go_on = sink(r);
        stopped.set(!go_on);
        go_on
    };
    de.deserialize_seq(Elements {
        mapping,
        sink: &mut guarded,
    })
    .map_err(|e| format!("the JSON is broken: {e}"))?;
    if !stopped.get() {
        de.end().map_err(|e| format!("the JSON is broken: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(name: &str, text: &str) -> (tempfile_dir::Dir, std::path::PathBuf) {
        let dir = tempfile_dir::Dir::new();
        let path = dir.0.join(name);
        let mut f = File::create(&path).expect("a temp file");
        f.write_all(text.as_bytes()).expect("written");
        (dir, path)
    }

    /// A throwaway directory under the system temp dir, removed on drop.
    mod tempfile_dir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                use std::sync::atomic::{AtomicU64, Ordering};
                static N: AtomicU64 = AtomicU64::new(0);
                let path = std::env::temp_dir().join(format!(
                    "minyi-import-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&path).expect("a temp dir");
                Dir(path)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    fn collect(path: &Path) -> Vec<(u64, Result<Values, String>)> {
        let mapping = Mapping::default();
        let source = Source::open(path, &mapping).expect("opens");
        let mut out = Vec::new();
        source
            .for_each(&mapping, |r| {
                out.push((r.line, r.values));
                true
            })
            .expect("reads");
        out
    }

    #[test]
    fn csv_records_carry_their_line_numbers() {
        let (_d, path) = file(
            "a.csv",
            "service_request_id,requested_datetime,status\n1,2024-01-01T00:00:00,open\n\"2\",\"2024-01-02\nT00\",closed\n3,x\n",
        );
        let records = collect(&path);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].0, 2);
        assert_eq!(
            records[0]
                .1
                .as_ref()
                .ok()
                .and_then(|v| v.get(Field::Status)),
            Some("open")
        );
        assert_eq!(records[1].0, 3);
        assert_eq!(records[2].0, 5);
        assert_eq!(
            records[2].1.as_ref().err().map(String::as_str),
            Some("has 2 fields where the header has 3")
        );
    }

    #[test]
    fn a_json_array_is_read_element_by_element() {
        let (_d, path) = file(
            "a.data",
            r#" [{"service_request_id": 7, "lat": 31.5, "status": null}, 3]"#,
        );
        let records = collect(&path);
        assert_eq!(records.len(), 2);
        let first = records[0].1.as_ref().expect("an object");
        assert_eq!(first.get(Field::ServiceRequestId), Some("7"));
        assert_eq!(first.get(Field::Lat), Some("31.5"));
        assert_eq!(first.get(Field::Status), None);
        assert_eq!(records[1].0, 2);
        assert_eq!(
            records[1].1.as_ref().err().map(String::as_str),
            Some("is not a JSON object")
        );
    }

    #[test]
    fn a_csv_without_a_required_column_is_refused_whole() {
        let (_d, path) = file("a.csv", "id,requested_datetime\n1,2024-01-01\n");
        let err = Source::open(&path, &Mapping::default())
            .err()
            .expect("refused");
        assert!(err.contains("no column \"service_request_id\""), "{err}");
    }
}
