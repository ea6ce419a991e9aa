//! One source record checked and turned into what the writer stores, or the reason it
//! is rejected. Pure: no database (region codes are checked by the writer).

use super::fields::{Field, Values};
use super::mapping::Mapping;
use super::time::TimeReader;
use crate::open_data::redaction::public_text;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use entities::{CaseKind, Channel};

/// The longest identifier kept: the tracking number `IMP-<id>` fits the 32 characters
/// of `cases.tracking_number` (GeoReport ids are short: Baltimore's have 11).
const MAX_ID: usize = 28;
/// The department of rows that name no agency: closing a case takes a department.
pub const AGENCY_NOT_GIVEN: &str = "Agency not given";

/// A record ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// The CSV line (or JSON array element, from 1) the record starts at.
    pub line: u64,
    pub external_id: String,
    pub closed: bool,
    /// (service_code, service_name): the category, when the record names one.
    pub category: Option<(String, String)>,
    pub agency: String,
    /// The record's own region code (`None`: the import's `--region` or the unassigned one).
    pub region_code: Option<String>,
    pub channel: Channel,
    pub kind: CaseKind,
    pub title: String,
    pub body: String,
    pub reply: Option<String>,
    pub public_title: String,
    pub public_body: String,
    pub public_reply: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub expected_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// What a row is read with: the mapping and the zone of offset-less timestamps.
pub struct RowReader<'a> {
    pub mapping: &'a Mapping,
    pub zone: Tz,
}

impl RowReader<'_> {
    fn value<'v>(&'v self, values: &'v Values, field: Field) -> Option<&'v str> {
        values
            .get(field)
            .or(self.mapping.constants[field as usize].as_deref())
            .map(|v| self.mapping.translate(field, v))
            .filter(|v| !v.is_empty())
    }

    fn time(&self, values: &Values, field: Field) -> Result<Option<DateTime<Utc>>, String> {
        let Some(text) = self.value(values, field) else {
            return Ok(None);
        };
        let reader = TimeReader {
            zone: self.zone,
            format: self.mapping.time_formats[field as usize].as_deref(),
        };
        reader
            .read(text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", field.name()))
    }

    fn coordinate(&self, values: &Values, field: Field, limit: f64) -> Result<Option<f64>, String> {
        let Some(text) = self.value(values, field) else {
            return Ok(None);
        };
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v.abs() <= limit => Ok(Some(v)),
            _ => Err(format!(
                "{}: {text:?} is not a number between -{limit} and {limit}",
                field.name()
            )),
        }
    }

    /// Checks one record.
    pub fn read(&self, line: u64, values: &Values) -> Result<ImportRow, String> {
        let external_id = self
            .value(values, Field::ServiceRequestId)
            .ok_or("service_request_id is missing")?
            .to_string();
        if external_id.chars().count() > MAX_ID {
            return Err(format!(
                "service_request_id is longer than {MAX_ID} characters"
            ));
        }
        let closed = match self
            .value(values, Field::Status)
            .map(str::to_ascii_lowercase)
        {
            Some(s) if s == "open" => false,
            Some(s) if s == "closed" => true,
            Some(s) => return Err(format!("status {s:?} is neither open nor closed")),
            None => return Err("status is missing".into()),
        };
        let requested_at = self
            .time(values, Field::RequestedDatetime)?
            .ok_or("requested_datetime is missing")?;
        let expected_at = self.time(values, Field::ExpectedDatetime)?;
        let updated_at = self.time(values, Field::UpdatedDatetime)?;
        let closed_at = match (closed, self.time(values, Field::ClosedDatetime)?) {
            (true, Some(at)) => Some(at),
            // Plain GeoReport v2 has no closing time: a closed request's last update is it.
            (true, None) => Some(updated_at.ok_or(
                "status is closed but neither closed_datetime nor updated_datetime is given",
            )?),
            (false, Some(_)) => return Err("status is open but closed_datetime is given".into()),
            (false, None) => None,
        };
        if let Some(at) = closed_at.filter(|at| *at < requested_at) {
            return Err(format!(
                "closed at {at} before it was requested at {requested_at}"
            ));
        }
        let channel = match self.value(values, Field::Channel) {
            // 311 and 12345 are telephone hotlines first.
            None => Channel::Hotline,
            Some(v) => Channel::from_db(&v.to_ascii_lowercase()).ok_or_else(|| {
                format!(
                    "channel {v:?} is not one of {}",
                    Channel::ALL
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?,
        };
        let kind = match self.value(values, Field::Kind) {
            // A service request asks for help with something.
            None => CaseKind::HelpRequest,
            Some(v) => CaseKind::from_db(&v.to_ascii_lowercase()).ok_or_else(|| {
                format!(
                    "kind {v:?} is not one of {}",
                    CaseKind::ALL
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?,
        };
        let latitude = self.coordinate(values, Field::Lat, 90.0)?;
        let longitude = self.coordinate(values, Field::Long, 180.0)?;
        if latitude.is_some() != longitude.is_some() {
            return Err("lat and long come together: one of them is missing".into());
        }
        let code = self.value(values, Field::ServiceCode);
        let name = self.value(values, Field::ServiceName);
        let category = code.map(|c| (c.to_string(), name.unwrap_or(c).to_string()));
        let title = name
            .or(code)
            .map(str::to_string)
            .unwrap_or_else(|| format!("Service request {external_id}"));
        let body = self
            .value(values, Field::Description)
            .unwrap_or_default()
            .to_string();
        let reply = self
            .value(values, Field::StatusNotes)
            .filter(|_| closed)
            .map(str::to_string);
        Ok(ImportRow {
            line,
            public_title: public_text(&title, None),
            public_body: public_text(&body, None),
            public_reply: reply.as_deref().map(|r| public_text(r, None)),
            external_id,
            closed,
            category,
            agency: self
                .value(values, Field::AgencyResponsible)
                .unwrap_or(AGENCY_NOT_GIVEN)
                .to_string(),
            region_code: self.value(values, Field::RegionCode).map(str::to_string),
            channel,
            kind,
            title,
            body,
            reply,
            requested_at,
            expected_at,
            closed_at,
            address: self.value(values, Field::Address).map(str::to_string),
            latitude,
            longitude,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(Field, &str)]) -> Values {
        let mut v = Values::default();
        for (f, s) in pairs {
            v.set(*f, s);
        }
        v
    }

    fn reader(mapping: &Mapping) -> RowReader<'_> {
        RowReader {
            mapping,
            zone: chrono_tz::Asia::Shanghai,
        }
    }

    fn base() -> Vec<(Field, &'static str)> {
        vec![
            (Field::ServiceRequestId, "R-1"),
            (Field::Status, "closed"),
            (Field::RequestedDatetime, "2024-03-01T08:00:00"),
            (Field::ClosedDatetime, "2024-03-02T08:00:00"),
        ]
    }

    #[test]
    fn a_closed_request_reads_with_defaults() {
        let m = Mapping::default();
        let row = reader(&m).read(2, &values(&base())).expect("accepted");
        assert!(row.closed);
        assert_eq!(row.agency, AGENCY_NOT_GIVEN);
        assert_eq!(row.channel, Channel::Hotline);
        assert_eq!(row.kind, CaseKind::HelpRequest);
        assert_eq!(row.title, "Service request R-1");
        assert_eq!(row.requested_at.to_rfc3339(), "2024-03-01T00:00:00+00:00");
        assert_eq!(
            row.closed_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2024-03-02T00:00:00+00:00")
        );
    }

    #[test]
    fn inconsistent_records_are_rejected_with_a_reason() {
        let m = Mapping::default();
        let r = reader(&m);
        let with = |extra: &[(Field, &'static str)]| {
            let mut v = base();
            v.extend_from_slice(extra);
            r.read(2, &values(&v)).expect_err("rejected")
        };
        assert_eq!(
            with(&[(Field::Status, "pending")]),
            "status \"pending\" is neither open nor closed"
        );
        assert_eq!(
            with(&[(Field::Status, "open")]),
            "status is open but closed_datetime is given"
        );
        assert!(with(&[(Field::ClosedDatetime, "2024-02-01T00:00:00")]).starts_with("closed at"));
        assert!(with(&[(Field::Lat, "31.2")]).starts_with("lat and long"));
        assert!(with(&[(Field::Lat, "191"), (Field::Long, "0")]).starts_with("lat:"));
        assert!(with(&[(Field::Channel, "pigeon")]).starts_with("channel \"pigeon\""));
        assert!(with(&[(Field::RequestedDatetime, "soon")]).starts_with("requested_datetime:"));
        assert_eq!(
            with(&[(Field::ServiceRequestId, "12345678901234567890123456789")]),
            "service_request_id is longer than 28 characters"
        );
        assert_eq!(
            r.read(2, &values(&[(Field::Status, "open")]))
                .expect_err("rejected"),
            "service_request_id is missing"
        );
    }

    #[test]
    fn personal_data_is_masked_in_the_public_text() {
        let m = Mapping::default();
        let mut v = base();
        v.push((
            Field::Description,
            "Call me on 13812345678 about the pothole",
        ));
        let row = reader(&m).read(2, &values(&v)).expect("accepted");
        assert!(row.body.contains("13812345678"));
        assert!(
            !row.public_body.contains("13812345678"),
            "{}",
            row.public_body
        );
    }
}
