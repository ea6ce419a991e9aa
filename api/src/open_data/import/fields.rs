//! The fields an import understands: the GeoReport v2 request fields, plus the
//! extensions minyi reads (`closed_datetime`, `channel`, `region_code`, `kind`).

/// One import field. The discriminant indexes [`Field::ALL`] and a [`Values`] array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    ServiceRequestId,
    Status,
    StatusNotes,
    ServiceCode,
    ServiceName,
    Description,
    AgencyResponsible,
    RequestedDatetime,
    UpdatedDatetime,
    ExpectedDatetime,
    ClosedDatetime,
    Address,
    Lat,
    Long,
    Zipcode,
    Channel,
    RegionCode,
    Kind,
}

pub const FIELD_COUNT: usize = 18;

impl Field {
    pub const ALL: [Field; FIELD_COUNT] = [
        Field::ServiceRequestId,
        Field::Status,
        Field::StatusNotes,
        Field::ServiceCode,
        Field::ServiceName,
        Field::Description,
        Field::AgencyResponsible,
        Field::RequestedDatetime,
        Field::UpdatedDatetime,
        Field::ExpectedDatetime,
        Field::ClosedDatetime,
        Field::Address,
        Field::Lat,
        Field::Long,
        Field::Zipcode,
        Field::Channel,
        Field::RegionCode,
        Field::Kind,
    ];

    /// The GeoReport v2 name (or the extension's name): the CSV header or JSON key
    /// when no mapping renames it.
    pub fn name(self) -> &'static str {
        match self {
            Field::ServiceRequestId => "service_request_id",
            Field::Status => "status",
            Field::StatusNotes => "status_notes",
            Field::ServiceCode => "service_code",
            Field::ServiceName => "service_name",
            Field::Description => "description",
            Field::AgencyResponsible => "agency_responsible",
            Field::RequestedDatetime => "requested_datetime",
            Field::UpdatedDatetime => "updated_datetime",
            Field::ExpectedDatetime => "expected_datetime",
            Field::ClosedDatetime => "closed_datetime",
            Field::Address => "address",
            Field::Lat => "lat",
            Field::Long => "long",
            Field::Zipcode => "zipcode",
            Field::Channel => "channel",
            Field::RegionCode => "region_code",
            Field::Kind => "kind",
        }
    }

    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The fields holding a timestamp (the ones a mapping may give a time format for).
    pub fn is_time(self) -> bool {
        matches!(
            self,
            Field::RequestedDatetime
                | Field::UpdatedDatetime
                | Field::ExpectedDatetime
                | Field::ClosedDatetime
        )
    }

    /// Every field name, for error messages.
    pub fn all_names() -> String {
        Field::ALL.map(Field::name).join(", ")
    }
}

/// The values of one source record, by field (`None` = absent or empty after trimming).
#[derive(Debug, Clone, Default)]
pub struct Values(pub [Option<String>; FIELD_COUNT]);

impl Values {
    pub fn get(&self, field: Field) -> Option<&str> {
        self.0[field as usize].as_deref()
    }

    /// Stores a value, trimmed; blank values count as absent.
    pub fn set(&mut self, field: Field, value: &str) {
        let value = value.trim();
        self.0[field as usize] = (!value.is_empty()).then(|| value.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_sits_at_its_own_index_and_round_trips_by_name() {
        for (i, f) in Field::ALL.into_iter().enumerate() {
            assert_eq!(f as usize, i);
            assert_eq!(Field::from_name(f.name()), Some(f));
        }
        assert_eq!(Field::from_name("nope"), None);
    }
}
