//! The data dictionary of the exports: `GET /exports/dictionary.json` (and docs/DATA_DICTIONARY.md).
//!
//! [`COLUMNS`] is the one column list: the CSV header, the NDJSON keys, the dictionary JSON
//! and the Markdown table in docs/DATA_DICTIONARY.md all come from it (a test holds the
//! document to it), so the files and their description cannot drift apart.

use super::http_cache::{respond_with_body, DEFAULT_MAX_AGE_SECONDS};
use entities::{CaseKind, CaseStatus, Channel, RatingLevel};
use poem::{get, handler, Request, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// What a column holds, as a consumer parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Integer,
    String,
    /// One of the listed values (SCREAMING_CASE, as in the GraphQL schema).
    Enum,
    /// ISO 8601 with the China Standard Time offset: `2024-03-01T09:30:00+08:00`.
    Timestamp,
    /// `true` / `false`.
    Boolean,
    /// A decimal number (`30.657`).
    Decimal,
}

impl ColumnType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Integer => "integer",
            Self::String => "string",
            Self::Enum => "enum",
            Self::Timestamp => "timestamp",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
        }
    }
}

/// One value of an enumerated column, with its meaning in both languages.
#[derive(Debug, Clone, Copy)]
pub struct EnumValue {
    pub value: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
}

/// One column of the case export.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnType,
    /// May be empty (CSV) / `null` (NDJSON).
    pub nullable: bool,
    pub en: &'static str,
    pub zh: &'static str,
    /// The allowed values of an enum column (empty otherwise).
    pub values: &'static [EnumValue],
}

const fn column(
    name: &'static str,
    kind: ColumnType,
    nullable: bool,
    en: &'static str,
    zh: &'static str,
) -> Column {
    Column {
        name,
        kind,
        nullable,
        en,
        zh,
        values: &[],
    }
}

const fn enumeration(
    name: &'static str,
    nullable: bool,
    en: &'static str,
    zh: &'static str,
    values: &'static [EnumValue],
) -> Column {
    Column {
        name,
        kind: ColumnType::Enum,
        nullable,
        en,
        zh,
        values,
    }
}

const fn v(value: &'static str, en: &'static str, zh: &'static str) -> EnumValue {
    EnumValue { value, en, zh }
}

/// Where a case came in, in the order of [`Channel::ALL`].
pub const CHANNELS: &[EnumValue] = &[
    v("LEADER_BOARD", "Leader message board", "领导留言板"),
    v("MAILBOX", "Leader's mailbox", "领导信箱"),
    v("HOTLINE", "12345 hotline (phone)", "12345热线"),
    v("WEBSITE", "Website", "网站"),
    v("WECHAT", "WeChat", "微信"),
    v("WEIBO", "Weibo", "微博"),
    v("ALIPAY", "Alipay", "支付宝"),
    v("APP", "Mobile app", "移动客户端"),
    v("VIDEO", "Video", "视频"),
    v("VISIT", "In-person visit", "来访"),
];

/// The kind of request, in the order of [`CaseKind::ALL`].
pub const KINDS: &[EnumValue] = &[
    v("COMPLAINT", "Complaint", "投诉"),
    v("HELP_REQUEST", "Request for help", "求助"),
    v("CONSULTATION", "Consultation", "咨询"),
    v("SUGGESTION", "Suggestion", "建议"),
    v("REPORT", "Report of wrongdoing", "举报"),
    v("PRAISE", "Praise", "表扬"),
];

/// The handling state, in the order of [`CaseStatus::ALL`].
pub const STATUSES: &[EnumValue] = &[
    v("SUBMITTED", "Submitted, not yet accepted", "已提交"),
    v("ACCEPTED", "Accepted by the platform", "已受理"),
    v("REJECTED", "Declined by the platform", "不予受理"),
    v("ASSIGNED", "Assigned to a department", "已交办"),
    v("IN_PROGRESS", "Being handled by the department", "办理中"),
    v("REPLIED", "Replied", "已答复"),
    v("CLOSED", "Handling finished", "已办结"),
    v("ARCHIVED", "Archived", "已归档"),
];

/// The citizen's latest satisfaction rating, in the order of [`RatingLevel::ALL`].
pub const RATING_LEVELS: &[EnumValue] = &[
    v("SATISFIED", "Satisfied", "满意"),
    v("BASICALLY_SATISFIED", "Basically satisfied", "基本满意"),
    v("DISSATISFIED", "Dissatisfied", "不满意"),
];

use ColumnType::{Boolean, Decimal, Integer, String as Text, Timestamp};

/// Every column of the case export, in file order.
pub const COLUMNS: &[Column] = &[
    column(
        "case_id",
        Integer,
        false,
        "Identifier of the case in minyi; stable across exports and releases",
        "留言编号（在本平台中固定不变）",
    ),
    column(
        "tracking_number",
        Text,
        false,
        "Tracking number given to the citizen",
        "受理编号",
    ),
    column(
        "title",
        Text,
        true,
        "Title as published, personal data masked (empty until the masked copy is written)",
        "标题（已脱敏）",
    ),
    column(
        "body",
        Text,
        true,
        "Message as published, personal data masked",
        "留言内容（已脱敏）",
    ),
    column(
        "reply",
        Text,
        true,
        "The department's public reply, personal data masked",
        "答复内容（已脱敏）",
    ),
    enumeration("channel", false, "Where the case came in", "渠道", CHANNELS),
    enumeration("kind", false, "Kind of request", "诉求类型", KINDS),
    column(
        "category_code",
        Text,
        true,
        "Topic code (two-level tree, English codes)",
        "分类代码",
    ),
    column("category_name", Text, true, "Topic name", "分类名称"),
    column(
        "region_code",
        Text,
        false,
        "Statistical division code of the place (6 digits to county, 9 for townships)",
        "行政区划代码",
    ),
    column(
        "region_name",
        Text,
        false,
        "Name of the place",
        "行政区划名称",
    ),
    column(
        "province_code",
        Text,
        false,
        "Province of the place (6 digits)",
        "省级区划代码",
    ),
    column(
        "city_code",
        Text,
        true,
        "City (prefecture) of the place (6 digits)",
        "市级区划代码",
    ),
    column(
        "county_code",
        Text,
        true,
        "County or district of the place (6 digits)",
        "县级区划代码",
    ),
    column(
        "department_id",
        Integer,
        true,
        "Handling department (a unit, never a person)",
        "承办部门编号",
    ),
    column(
        "department_name",
        Text,
        true,
        "Name of the handling department",
        "承办部门名称",
    ),
    enumeration(
        "status",
        false,
        "Handling state at export time",
        "办理状态",
        STATUSES,
    ),
    column(
        "submitted_at",
        Timestamp,
        false,
        "When the citizen submitted the case",
        "提交时间",
    ),
    column(
        "accepted_at",
        Timestamp,
        true,
        "When the platform accepted it",
        "受理时间",
    ),
    column(
        "reply_due_at",
        Timestamp,
        true,
        "The reply deadline in force",
        "答复期限",
    ),
    column(
        "replied_at",
        Timestamp,
        true,
        "When it was (last) replied",
        "答复时间",
    ),
    column(
        "closed_at",
        Timestamp,
        true,
        "When handling finished",
        "办结时间",
    ),
    column(
        "overdue",
        Boolean,
        false,
        "Awaiting a reply past its deadline (at export time; at the cutoff in a release)",
        "是否超期未答复",
    ),
    enumeration(
        "rating_level",
        true,
        "The citizen's latest satisfaction rating",
        "满意度评价",
        RATING_LEVELS,
    ),
    column(
        "repeat_of",
        Integer,
        true,
        "An earlier published case this one repeats (same issue raised again)",
        "重复反映的原留言编号",
    ),
    column(
        "latitude",
        Decimal,
        true,
        "Latitude (WGS 84) of the problem's location, rounded to 0.001° (about 100 m)",
        "问题位置纬度（保留三位小数，约100米）",
    ),
    column(
        "longitude",
        Decimal,
        true,
        "Longitude (WGS 84) of the problem's location, rounded to 0.001°",
        "问题位置经度（保留三位小数）",
    ),
];

/// The exported value of an enum variant: its label at the variant's position in `ALL`.
fn label_of<T: PartialEq>(all: &[T], labels: &'static [EnumValue], value: &T) -> &'static str {
    all.iter()
        .position(|candidate| candidate == value)
        .and_then(|i| labels.get(i))
        .map_or("", |label| label.value)
}

pub fn channel_value(channel: &Channel) -> &'static str {
    label_of(Channel::ALL, CHANNELS, channel)
}

pub fn kind_value(kind: &CaseKind) -> &'static str {
    label_of(CaseKind::ALL, KINDS, kind)
}

pub fn status_value(status: &CaseStatus) -> &'static str {
    label_of(CaseStatus::ALL, STATUSES, status)
}

pub fn rating_value(level: &RatingLevel) -> &'static str {
    label_of(RatingLevel::ALL, RATING_LEVELS, level)
}

/// The dictionary as a JSON document.
pub fn dictionary_json() -> Value {
    let columns: Vec<Value> = COLUMNS
        .iter()
        .map(|c| {
            let mut entry = json!({
                "name": c.name,
                "type": c.kind.as_str(),
                "nullable": c.nullable,
                "meaning": { "en": c.en, "zh": c.zh },
            });
            if !c.values.is_empty() {
                entry["values"] = c
                    .values
                    .iter()
                    .map(|v| json!({ "value": v.value, "en": v.en, "zh": v.zh }))
                    .collect();
            }
            entry
        })
        .collect();
    json!({
        "dataset": "cases",
        "title": { "en": "Published cases of the online mass-work platform", "zh": "网上群众工作平台公开留言" },
        "formats": {
            "text/csv": "UTF-8, RFC 4180, a header line with the column names; empty field = no value; `bom=1` prefixes a UTF-8 byte order mark for Excel",
            "application/x-ndjson": "one JSON object a line, keys = the column names, null = no value"
        },
        "timezone": "Timestamps carry the +08:00 offset (China Standard Time)",
        "columns": columns,
    })
}

/// The dictionary's bytes as served and as frozen into releases (pretty, with a final newline).
pub fn dictionary_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let mut bytes = serde_json::to_vec_pretty(&dictionary_json()).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    })
}

/// A short name of the column list, recorded with every release (`dict-` + SHA-256 prefix).
pub fn dictionary_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let digest = hex::encode(Sha256::digest(dictionary_bytes()));
        format!("dict-{}", &digest[..12])
    })
}

/// The Markdown table of the columns, as docs/DATA_DICTIONARY.md carries it.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| column | type | empty allowed | meaning | 含义 | values |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for c in COLUMNS {
        let values = c
            .values
            .iter()
            .map(|v| format!("`{}` {} {}", v.value, v.zh, v.en))
            .collect::<Vec<_>>()
            .join("; ");
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            c.name,
            c.kind.as_str(),
            if c.nullable { "yes" } else { "no" },
            c.en,
            c.zh,
            values
        ));
    }
    out
}

/// The routes of this door (merged by `open_data::routes`).
pub fn routes(route: poem::Route) -> poem::Route {
    route.at("/exports/dictionary.json", get(dictionary))
}

#[handler]
fn dictionary(req: &Request) -> Response {
    respond_with_body(
        req,
        dictionary_bytes().to_vec(),
        "application/json; charset=utf-8",
        DEFAULT_MAX_AGE_SECONDS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored_values(all: &[&str]) -> Vec<String> {
        all.iter().map(|s| s.to_uppercase()).collect()
    }

    fn labels(values: &[EnumValue]) -> Vec<String> {
        values.iter().map(|v| v.value.to_string()).collect()
    }

    #[test]
    fn every_enum_variant_has_its_screaming_case_label_in_declaration_order() {
        let channels: Vec<&str> = Channel::ALL.iter().map(Channel::as_str).collect();
        assert_eq!(labels(CHANNELS), stored_values(&channels));
        let kinds: Vec<&str> = CaseKind::ALL.iter().map(CaseKind::as_str).collect();
        assert_eq!(labels(KINDS), stored_values(&kinds));
        let statuses: Vec<&str> = CaseStatus::ALL.iter().map(CaseStatus::as_str).collect();
        assert_eq!(labels(STATUSES), stored_values(&statuses));
        let levels: Vec<&str> = RatingLevel::ALL.iter().map(RatingLevel::as_str).collect();
        assert_eq!(labels(RATING_LEVELS), stored_values(&levels));
        assert_eq!(status_value(&CaseStatus::InProgress), "IN_PROGRESS");
    }

    #[test]
    fn column_names_are_unique_snake_case() {
        let mut names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
        assert!(names
            .iter()
            .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COLUMNS.len());
    }

    #[test]
    fn the_version_names_the_dictionary_bytes() {
        assert!(dictionary_version().starts_with("dict-"));
        assert_eq!(dictionary_version().len(), 17);
        assert!(dictionary_bytes().ends_with(b"}\n"));
    }
}
