//! `--columns MAPPING.toml`: how another dataset's columns, time formats and values
//! map onto the import fields. Without a file every field is read from the column (or
//! JSON key) of its own GeoReport v2 name, timestamps are ISO 8601 and values are taken
//! as they are.
//!
//! ```toml
//! timezone = "America/New_York"          # for timestamps without an offset
//! [columns]                              # field = source column
//! service_request_id = "ServiceRequestNum"
//! [time_formats]                         # field = chrono strftime format
//! requested_datetime = "%m/%d/%Y %I:%M:%S %p"
//! [values.status]                        # source value = field value
//! "Closed (Duplicate)" = "closed"
//! [constants]                            # field = the same value for every row
//! kind = "help_request"
//! ```

use super::fields::{Field, FIELD_COUNT};
use chrono::format::{Item, StrftimeItems};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// The file as written.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    timezone: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    time_formats: BTreeMap<String, String>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    constants: BTreeMap<String, String>,
}

/// A checked mapping, indexed by field.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The source column / JSON key of each field (`None` when a constant replaces it).
    pub sources: [Option<String>; FIELD_COUNT],
    pub constants: [Option<String>; FIELD_COUNT],
    pub time_formats: [Option<String>; FIELD_COUNT],
    pub values: [Option<HashMap<String, String>>; FIELD_COUNT],
    /// The source's time zone, unless `--timezone` says otherwise.
    pub timezone: Option<Tz>,
}

impl Default for Mapping {
    /// GeoReport v2 names, ISO 8601 timestamps, values as they are.
    fn default() -> Self {
        Mapping {
            sources: Field::ALL.map(|f| Some(f.name().to_string())),
            constants: Default::default(),
            time_formats: Default::default(),
            values: Default::default(),
            timezone: None,
        }
    }
}

fn field(section: &str, name: &str) -> Result<Field, String> {
    Field::from_name(name).ok_or_else(|| {
        format!(
            "[{section}] names an unknown field {name:?}; the fields are: {}",
            Field::all_names()
        )
    })
}

/// Parses a time zone name (`Asia/Shanghai`), with a clear error.
pub fn parse_timezone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| {
        format!("unknown time zone {name:?}: use an IANA name such as Asia/Shanghai or America/New_York")
    })
}

fn check_format(field: Field, format: &str) -> Result<(), String> {
    if !field.is_time() {
        return Err(format!(
            "[time_formats] {}: not a timestamp field (those are requested_datetime, updated_datetime, expected_datetime, closed_datetime)",
            field.name()
        ));
    }
    if StrftimeItems::new(format).any(|item| matches!(item, Item::Error)) {
        return Err(format!(
            "[time_formats] {}: {format:?} is not a valid chrono format",
            field.name()
        ));
    }
    Ok(())
}

impl Mapping {
    /// Parses and checks a mapping file's text.
    pub fn parse(text: &str) -> Result<Mapping, String> {
        let file: MappingFile = toml::from_str(text).map_err(|e| {
            // toml's messages span several lines; the CLI prints one.
            e.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })?;
        let mut mapping = Mapping::default();
        if let Some(tz) = &file.timezone {
            mapping.timezone = Some(parse_timezone(tz)?);
        }
        for (name, column) in &file.columns {
            let f = field("columns", name)?;
            if column.trim().is_empty() {
                return Err(format!("[columns] {name}: the source column name is empty"));
            }
            mapping.sources[f as usize] = Some(column.clone());
        }
        for (name, format) in &file.time_formats {
            let f = field("time_formats", name)?;
            check_format(f, format)?;
            mapping.time_formats[f as usize] = Some(format.clone());
        }
        for (name, table) in &file.values {
            let f = field("values", name)?;
            mapping.values[f as usize] = Some(
                table
                    .iter()
                    .map(|(from, to)| (from.trim().to_string(), to.trim().to_string()))
                    .collect(),
            );
        }
        for (name, value) in &file.constants {
            let f = field("constants", name)?;
            if file.columns.contains_key(name) {
                return Err(format!("{name} has both a column and a constant: keep one"));
            }
            mapping.sources[f as usize] = None;
            mapping.constants[f as usize] = Some(value.trim().to_string());
        }
        Ok(mapping)
    }

    /// Reads and parses a mapping file.
    pub fn load(path: &std::path::Path) -> Result<Mapping, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the mapping {}: {e}", path.display()))?;
        Mapping::parse(&text).map_err(|e| format!("bad mapping {}: {e}", path.display()))
    }

    /// A source value as the field's value: renamed by `[values.<field>]` when listed.
    pub fn translate<'a>(&'a self, field: Field, value: &'a str) -> &'a str {
        match &self.values[field as usize] {
            Some(table) => table.get(value).map(String::as_str).unwrap_or(value),
            None => value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_renames_columns_and_sets_formats_values_and_constants() {
        let m = Mapping::parse(
            r#"
            timezone = "America/New_York"
            [columns]
            service_request_id = "ServiceRequestNum"
            [time_formats]
            requested_datetime = "%m/%d/%Y %I:%M:%S %p"
            [values.status]
            "Closed (Duplicate)" = "closed"
            [constants]
            kind = "help_request"
            "#,
        )
        .expect("the mapping parses");
        assert_eq!(
            m.sources[Field::ServiceRequestId as usize].as_deref(),
            Some("ServiceRequestNum")
        );
        assert_eq!(m.sources[Field::Status as usize].as_deref(), Some("status"));
        assert_eq!(m.sources[Field::Kind as usize], None);
        assert_eq!(
            m.constants[Field::Kind as usize].as_deref(),
            Some("help_request")
        );
        assert_eq!(m.translate(Field::Status, "Closed (Duplicate)"), "closed");
        assert_eq!(m.translate(Field::Status, "open"), "open");
        assert_eq!(m.timezone, Some(chrono_tz::America::New_York));
    }

    #[test]
    fn mistakes_in_a_mapping_are_named() {
        let err = |text: &str| Mapping::parse(text).expect_err("the mapping is refused");
        assert!(err("[columns]\nticket = \"Id\"").contains("unknown field \"ticket\""));
        assert!(err("[time_formats]\nstatus = \"%Y\"").contains("not a timestamp field"));
        assert!(err("[time_formats]\nrequested_datetime = \"%Q\"").contains("not a valid"));
        assert!(err("timezone = \"Mars/Olympus\"").contains("unknown time zone"));
        assert!(err("colums = 1").contains("colums"));
        assert!(err("[columns]\nkind = \"K\"\n[constants]\nkind = \"praise\"").contains("both"));
    }
}
