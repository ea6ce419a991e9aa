//! The filters of an export: every `CaseFilter` field, as HTTP query parameters with the
//! GraphQL names (`regionCode`, `submittedFrom`, …) or as CLI flags (`--region-code`),
//! parsed by one function so both doors mean the same thing.
//!
//! Always ANDed with the public role's visibility: exports carry published cases only,
//! whoever asks. Free-text search looks at the masked public text, never at the raw text
//! (searching a phone number must not reveal which case contains it).

use super::problem::ParamError;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::graphql::cases::{overdue_at, search_condition, CaseFilter};
use async_graphql::ID;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use entities::{case, CaseKind, CaseStatus, Channel};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbErr};

/// The parameters an export understands, besides `bom`.
pub const PARAMETERS: [&str; 10] = [
    "regionCode",
    "departmentId",
    "categoryId",
    "channel",
    "kind",
    "status",
    "submittedFrom",
    "submittedTo",
    "overdue",
    "search",
];

/// A parsed, not yet resolved export filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublicFilter {
    pub region_code: Option<String>,
    pub department_id: Option<i32>,
    pub category_id: Option<i32>,
    pub channel: Option<Channel>,
    pub kind: Option<CaseKind>,
    pub status: Option<CaseStatus>,
    pub submitted_from: Option<DateTime<Utc>>,
    pub submitted_to: Option<DateTime<Utc>>,
    pub overdue: Option<bool>,
    pub search: Option<String>,
}

/// Why a filter could not be turned into SQL.
#[derive(Debug)]
pub enum FilterError {
    Param(ParamError),
    Database(DbErr),
}

impl From<ParamError> for FilterError {
    fn from(e: ParamError) -> Self {
        Self::Param(e)
    }
}

impl From<DbErr> for FilterError {
    fn from(e: DbErr) -> Self {
        Self::Database(e)
    }
}

impl PublicFilter {
    /// Parses `name=value` pairs (the query string, or the CLI flags under their HTTP
    /// names). Unknown or repeated parameters are errors, so a typo never silently
    /// widens an export. `bom` is returned apart.
    pub fn parse(pairs: &[(String, String)]) -> Result<(Self, bool), ParamError> {
        let mut filter = Self::default();
        let mut bom = false;
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            if seen.contains(&name.as_str()) {
                return Err(ParamError::new(name, "given more than once"));
            }
            seen.push(name);
            let value = value.trim();
            match name.as_str() {
                "bom" => bom = parse_bool(name, value)?,
                "regionCode" => {
                    let well_formed = (value.len() == 6 || value.len() == 9)
                        && value.bytes().all(|b| b.is_ascii_digit());
                    if !well_formed {
                        return Err(ParamError::new(
                            name,
                            format!("{value:?} is not a 6- or 9-digit division code"),
                        ));
                    }
                    filter.region_code = Some(value.to_string());
                }
                "departmentId" => filter.department_id = Some(parse_id(name, value)?),
                "categoryId" => filter.category_id = Some(parse_id(name, value)?),
                "channel" => filter.channel = Some(parse_enum(name, value, Channel::from_db)?),
                "kind" => filter.kind = Some(parse_enum(name, value, CaseKind::from_db)?),
                "status" => filter.status = Some(parse_enum(name, value, CaseStatus::from_db)?),
                "submittedFrom" => filter.submitted_from = Some(parse_instant(name, value)?),
                "submittedTo" => filter.submitted_to = Some(parse_instant(name, value)?),
                "overdue" => filter.overdue = Some(parse_bool(name, value)?),
                "search" => {
                    if value.chars().count() > 100 {
                        return Err(ParamError::new(name, "is limited to 100 characters"));
                    }
                    if !value.is_empty() {
                        filter.search = Some(value.to_string());
                    }
                }
                _ => {
                    return Err(ParamError::new(
                        name,
                        format!("unknown parameter; use bom, {}", PARAMETERS.join(", ")),
                    ))
                }
            }
        }
        Ok((filter, bom))
    }

    /// A canonical spelling of the filter, part of the export's ETag.
    pub fn canonical(&self) -> String {
        format!("{self:?}")
    }

    /// The WHERE condition: the public visibility AND every filter. Referenced regions,
    /// departments and categories must exist (the same checks as GraphQL's `CaseFilter`).
    /// `overdue` is evaluated at `as_of`.
    pub async fn condition(
        &self,
        db: &DatabaseConnection,
        as_of: DateTime<Utc>,
    ) -> Result<Condition, FilterError> {
        let mut cond = Condition::all().add(Principal::public().case_visibility());
        if let Some(code) = &self.region_code {
            let only = CaseFilter {
                region_code: Some(code.clone()),
                ..Default::default()
            };
            cond = cond.add(resolved(db, only, "regionCode").await?);
        }
        if let Some(id) = self.department_id {
            let only = CaseFilter {
                department_id: Some(ID(id.to_string())),
                ..Default::default()
            };
            cond = cond.add(resolved(db, only, "departmentId").await?);
        }
        if let Some(id) = self.category_id {
            let only = CaseFilter {
                category_id: Some(ID(id.to_string())),
                ..Default::default()
            };
            cond = cond.add(resolved(db, only, "categoryId").await?);
        }
        if let Some(channel) = self.channel {
            cond = cond.add(case::Column::Channel.eq(channel));
        }
        if let Some(kind) = self.kind {
            cond = cond.add(case::Column::Kind.eq(kind));
        }
        if let Some(status) = self.status {
            cond = cond.add(case::Column::Status.eq(status));
        }
        if let Some(from) = self.submitted_from {
            cond = cond.add(case::Column::SubmittedAt.gte(from));
        }
        if let Some(to) = self.submitted_to {
            cond = cond.add(case::Column::SubmittedAt.lt(to));
        }
        if let Some(overdue) = self.overdue {
            let late = overdue_at(as_of);
            cond = cond.add(if overdue { late } else { late.not() });
        }
        if let Some(search) = &self.search {
            cond = cond.add(search_condition(search, false));
        }
        Ok(cond)
    }
}

async fn resolved(
    db: &DatabaseConnection,
    filter: CaseFilter,
    parameter: &str,
) -> Result<Condition, FilterError> {
    // Only region/department/category references are resolved here (never `search`).
    filter.condition(db, false).await.map_err(|e| match e {
        ApiError::BadUserInput(message) => FilterError::Param(ParamError::new(parameter, message)),
        other => FilterError::Database(DbErr::Custom(other.message())),
    })
}

fn parse_id(name: &str, value: &str) -> Result<i32, ParamError> {
    value
        .parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ParamError::new(name, format!("{value:?} is not a positive integer id")))
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ParamError> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(ParamError::new(
            name,
            format!("{value:?} is not a boolean (true/false or 1/0)"),
        )),
    }
}

/// Enum values as in GraphQL (`WEBSITE`, `IN_PROGRESS`), case-insensitive.
fn parse_enum<T>(
    name: &str,
    value: &str,
    from_db: impl Fn(&str) -> Option<T>,
) -> Result<T, ParamError> {
    from_db(&value.to_ascii_lowercase()).ok_or_else(|| {
        ParamError::new(
            name,
            format!("unknown value {value:?} (see /exports/dictionary.json)"),
        )
    })
}

/// RFC 3339 (`2024-03-01T00:00:00+08:00`), or a date (`2024-03-01`) meaning the start of
/// that day in China Standard Time.
fn parse_instant(name: &str, value: &str) -> Result<DateTime<Utc>, ParamError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(china()).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            ParamError::new(
                name,
                format!("{value:?} is neither an RFC 3339 instant nor a YYYY-MM-DD date"),
            )
        })
}

/// China Standard Time (UTC+8, no daylight saving).
pub fn china() -> FixedOffset {
    CHINA
}

const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_parameter_is_parsed_with_graphql_names_and_values() {
        let (filter, bom) = PublicFilter::parse(&pairs(&[
            ("regionCode", "510104"),
            ("departmentId", "7"),
            ("categoryId", "3"),
            ("channel", "WEBSITE"),
            ("kind", "help_request"),
            ("status", "IN_PROGRESS"),
            ("submittedFrom", "2024-03-01"),
            ("submittedTo", "2024-04-01T00:00:00Z"),
            ("overdue", "false"),
            ("search", " 路灯 "),
            ("bom", "1"),
        ]))
        .unwrap();
        assert!(bom);
        assert_eq!(filter.region_code.as_deref(), Some("510104"));
        assert_eq!(filter.department_id, Some(7));
        assert_eq!(filter.category_id, Some(3));
        assert_eq!(filter.channel, Some(Channel::Website));
        assert_eq!(filter.kind, Some(CaseKind::HelpRequest));
        assert_eq!(filter.status, Some(CaseStatus::InProgress));
        assert_eq!(
            filter.submitted_from.map(|t| t.to_rfc3339()),
            Some("2024-02-29T16:00:00+00:00".to_string())
        );
        assert_eq!(
            filter.submitted_to.map(|t| t.to_rfc3339()),
            Some("2024-04-01T00:00:00+00:00".to_string())
        );
        assert_eq!(filter.overdue, Some(false));
        assert_eq!(filter.search.as_deref(), Some("路灯"));
    }

    #[test]
    fn a_bad_value_names_its_parameter() {
        let cases = [
            ("regionCode", "51"),
            ("departmentId", "x"),
            ("channel", "FAX"),
            ("submittedFrom", "yesterday"),
            ("overdue", "maybe"),
            ("regioncode", "510104"),
        ];
        for (name, value) in cases {
            let err = PublicFilter::parse(&pairs(&[(name, value)])).unwrap_err();
            assert_eq!(err.parameter, name, "{name}={value}");
        }
        let twice = PublicFilter::parse(&pairs(&[("kind", "PRAISE"), ("kind", "REPORT")]));
        assert_eq!(twice.unwrap_err().message, "given more than once");
    }
}
