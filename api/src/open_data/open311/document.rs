//! One in-memory shape for every Open311 answer, rendered to JSON or XML from the same
//! values: a list of records (ordered fields) under a root element. Building the answer
//! once and rendering it twice is what keeps the two formats from drifting apart.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// The value of one field.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// JSON `null`, an empty XML element: the value is unknown or withheld.
    Null,
    /// A nested list (the `attributes` of a service definition), `item` naming each
    /// record's XML element.
    List {
        item: &'static str,
        records: Vec<Record>,
    },
}

impl Field {
    /// `Text`, or `Null` for `None`.
    pub fn text_or_null(value: Option<String>) -> Self {
        value.map_or(Field::Null, Field::Text)
    }
}

/// One object of the answer: its fields in the order they are written.
pub type Record = Vec<(&'static str, Field)>;

/// A whole answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// `<root><item>…</item>…</root>` in XML, an array of objects in JSON (services,
    /// requests, errors).
    List {
        root: &'static str,
        item: &'static str,
        records: Vec<Record>,
    },
    /// `<root>…</root>` in XML, one object in JSON (a service definition).
    Object { root: &'static str, record: Record },
}

/// The two representations GeoReport v2 defines (the URL's extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// The format named by a URL extension (`json`, `xml`), if it is one of ours.
    pub fn from_extension(extension: &str) -> Option<Self> {
        match extension {
            "json" => Some(Self::Json),
            "xml" => Some(Self::Xml),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json; charset=utf-8",
            Self::Xml => "text/xml; charset=utf-8",
        }
    }
}

impl Document {
    /// The bytes of the answer in `format`.
    pub fn render(&self, format: Format) -> Vec<u8> {
        match format {
            Format::Json => render_json(self),
            Format::Xml => render_xml(self),
        }
    }
}

/// Serializes the records as a JSON array of objects keeping the field order.
struct Records<'a>(&'a [Record]);
struct Object<'a>(&'a Record);

impl Serialize for Records<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for record in self.0 {
            seq.serialize_element(&Object(record))?;
        }
        seq.end()
    }
}

impl Serialize for Object<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            match value {
                Field::Text(text) => map.serialize_entry(name, text)?,
                Field::Int(number) => map.serialize_entry(name, number)?,
                Field::Float(number) => map.serialize_entry(name, number)?,
                Field::Bool(flag) => map.serialize_entry(name, flag)?,
                Field::Null => map.serialize_entry(name, &())?,
                Field::List { records, .. } => map.serialize_entry(name, &Records(records))?,
            }
        }
        map.end()
    }
}

fn render_json(document: &Document) -> Vec<u8> {
    // Serializing strings, numbers and booleans into a Vec cannot fail (serde_json
    // writes a non-finite float as null).
    let written = match document {
        Document::List { records, .. } => serde_json::to_vec(&Records(records)),
        Document::Object { record, .. } => serde_json::to_vec(&Object(record)),
    };
    written.unwrap_or_default()
}

fn render_xml(document: &Document) -> Vec<u8> {
    let mut writer = Writer::new(Vec::new());
    let written = write_xml(&mut writer, document);
    debug_assert!(written.is_ok(), "writing XML into a Vec cannot fail");
    writer.into_inner()
}

fn write_xml(writer: &mut Writer<Vec<u8>>, document: &Document) -> std::io::Result<()> {
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    match document {
        Document::List {
            root,
            item,
            records,
        } => write_list(writer, root, item, records),
        Document::Object { root, record } => write_record(writer, root, record),
    }
}

fn write_list(
    writer: &mut Writer<Vec<u8>>,
    root: &str,
    item: &str,
    records: &[Record],
) -> std::io::Result<()> {
    writer.write_event(Event::Start(BytesStart::new(root)))?;
    for record in records {
        write_record(writer, item, record)?;
    }
    writer.write_event(Event::End(BytesEnd::new(root)))?;
    Ok(())
}

fn write_record(
    writer: &mut Writer<Vec<u8>>,
    element: &str,
    record: &Record,
) -> std::io::Result<()> {
    writer.write_event(Event::Start(BytesStart::new(element)))?;
    for (name, value) in record {
        match value {
            Field::Null => writer.write_event(Event::Empty(BytesStart::new(*name)))?,
            Field::List { item, records } => write_list(writer, name, item, records)?,
            scalar => {
                writer.write_event(Event::Start(BytesStart::new(*name)))?;
                let text = xml_text(scalar);
                writer.write_event(Event::Text(BytesText::from_escaped(
                    quick_xml::escape::escape(text.as_str()),
                )))?;
                writer.write_event(Event::End(BytesEnd::new(*name)))?;
            }
        }
    }
    writer.write_event(Event::End(BytesEnd::new(element)))?;
    Ok(())
}

/// The text of a scalar field as XML character data: the characters XML 1.0 cannot
/// carry at all (most C0 controls), even escaped, become U+FFFD so the document stays
/// well-formed whatever a citizen typed.
fn xml_text(value: &Field) -> String {
    let raw = match value {
        Field::Text(text) => text.clone(),
        Field::Int(number) => number.to_string(),
        Field::Float(number) => number.to_string(),
        Field::Bool(flag) => flag.to_string(),
        Field::Null | Field::List { .. } => String::new(),
    };
    raw.chars()
        .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
        .collect()
}

/// XML 1.0 `Char`: tab, newline, carriage return, and everything from U+0020 except the
/// surrogates (impossible in a Rust `char`) and U+FFFE/U+FFFF.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Document {
        Document::List {
            root: "service_requests",
            item: "request",
            records: vec![vec![
                ("service_request_id", Field::Text("T1".into())),
                ("description", Field::Text("a<b & \"c\" 'd'\u{1}".into())),
                ("lat", Field::Float(30.5)),
                ("address", Field::Null),
                ("metadata", Field::Bool(false)),
            ]],
        }
    }

    #[test]
    fn json_keeps_the_field_order_and_writes_null() {
        let json = String::from_utf8(sample().render(Format::Json)).expect("utf-8");
        assert_eq!(
            json,
            r#"[{"service_request_id":"T1","description":"a<b & \"c\" 'd'\u0001","lat":30.5,"address":null,"metadata":false}]"#
        );
    }

    #[test]
    fn xml_escapes_markup_and_replaces_characters_xml_cannot_carry() {
        let xml = String::from_utf8(sample().render(Format::Xml)).expect("utf-8");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><service_requests><request>\
             <service_request_id>T1</service_request_id>\
             <description>a&lt;b &amp; &quot;c&quot; &apos;d&apos;\u{FFFD}</description>\
             <lat>30.5</lat><address/><metadata>false</metadata></request></service_requests>"
        );
    }

    #[test]
    fn an_object_with_a_nested_list_renders_in_both_formats() {
        let document = Document::Object {
            root: "service_definition",
            record: vec![
                ("service_code", Field::Text("A".into())),
                (
                    "attributes",
                    Field::List {
                        item: "attribute",
                        records: vec![],
                    },
                ),
            ],
        };
        assert_eq!(
            document.render(Format::Json),
            br#"{"service_code":"A","attributes":[]}"#
        );
        assert!(String::from_utf8(document.render(Format::Xml))
            .expect("utf-8")
            .ends_with("?><service_definition><service_code>A</service_code><attributes></attributes></service_definition>"));
    }
}
