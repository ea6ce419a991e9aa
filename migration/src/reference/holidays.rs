//! China's official calendar of statutory holidays and make-up working days.

use super::{csv_error, INSERT_CHUNK};
use chrono::NaiveDate;
use entities::holiday;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use serde::Deserialize;

const YEARS: &[&str] = &[
    include_str!("../../data/holidays-cn/2018.json"),
    include_str!("../../data/holidays-cn/2019.json"),
    include_str!("../../data/holidays-cn/2020.json"),
    include_str!("../../data/holidays-cn/2021.json"),
    include_str!("../../data/holidays-cn/2022.json"),
    include_str!("../../data/holidays-cn/2023.json"),
    include_str!("../../data/holidays-cn/2024.json"),
    include_str!("../../data/holidays-cn/2025.json"),
    include_str!("../../data/holidays-cn/2026.json"),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HolidayRow {
    pub name: String,
    pub date: NaiveDate,
    pub is_off_day: bool,
}

#[derive(Deserialize)]
struct YearFile {
    days: Vec<HolidayRow>,
}

/// Every listed date of every shipped year. A December date can appear in the next
/// year's file; the last file read wins, which is the later notice.
pub fn holiday_rows() -> Result<Vec<HolidayRow>, DbErr> {
    let mut by_date = std::collections::BTreeMap::new();
    for text in YEARS {
        let year: YearFile = serde_json::from_str(text).map_err(|e| csv_error("holiday", e))?;
        for day in year.days {
            by_date.insert(day.date, day);
        }
    }
    Ok(by_date.into_values().collect())
}

pub(super) async fn load<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let rows = holiday_rows()?;
    for chunk in rows.chunks(INSERT_CHUNK) {
        let models = chunk.iter().map(|d| holiday::ActiveModel {
            date: Set(d.date),
            name: Set(d.name.clone()),
            is_off_day: Set(d.is_off_day),
        });
        holiday::Entity::insert_many(models)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spring_festival_2025_is_off_and_its_make_up_sunday_is_a_working_day() {
        let rows = holiday_rows().expect("embedded data parses");
        let find = |d: &str| {
            let date: NaiveDate = d.parse().expect("date");
            rows.iter().find(|r| r.date == date).map(|r| r.is_off_day)
        };
        assert_eq!(find("2025-01-29"), Some(true));
        assert_eq!(find("2025-01-26"), Some(false));
        assert_eq!(find("2025-03-03"), None);
    }
}
