//! The administrative division tree from the National Bureau of Statistics codes.

use super::{csv_error, INSERT_CHUNK};
use entities::{region, RegionLevel};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

const PROVINCES: &str = include_str!("../../data/regions/provinces.csv");
const CITIES: &str = include_str!("../../data/regions/cities.csv");
const AREAS: &str = include_str!("../../data/regions/areas.csv");
const STREETS: &str = include_str!("../../data/regions/streets.csv");

/// The source writes provinces with 2 digits and cities with 4; minyi's contract is
/// 6 digits for provinces, cities and counties (right-padded with zeros), 9 for townships.
pub fn pad_region_code(code: &str) -> String {
    if code.len() < 6 {
        format!("{code:0<6}")
    } else {
        code.to_string()
    }
}

fn records(text: &str) -> Result<Vec<csv::StringRecord>, DbErr> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .collect::<Result<_, _>>()
        .map_err(|e| csv_error("region", e))
}

fn field(record: &csv::StringRecord, index: usize) -> Result<&str, DbErr> {
    record
        .get(index)
        .ok_or_else(|| csv_error("region", format!("missing column {index} in {record:?}")))
}

/// Every region of the shipped tree, parents before children.
pub fn region_rows() -> Result<Vec<region::Model>, DbErr> {
    let mut rows = Vec::with_capacity(45_000);
    for r in records(PROVINCES)? {
        let code = pad_region_code(field(&r, 0)?);
        rows.push(region::Model {
            province_code: code.clone(),
            code,
            name: field(&r, 1)?.to_string(),
            level: RegionLevel::Province,
            parent_code: None,
            city_code: None,
            county_code: None,
        });
    }
    for r in records(CITIES)? {
        let code = pad_region_code(field(&r, 0)?);
        let province = pad_region_code(field(&r, 2)?);
        rows.push(region::Model {
            city_code: Some(code.clone()),
            code,
            name: field(&r, 1)?.to_string(),
            level: RegionLevel::City,
            parent_code: Some(province.clone()),
            province_code: province,
            county_code: None,
        });
    }
    // Dongguan, Zhongshan and Danzhou have no counties: the source lists the city
    // again as its own "area" (441900 …). The city row stands; their townships hang
    // directly under the city and have no county code.
    let cityless_areas: std::collections::HashSet<String> =
        rows.iter().map(|r| r.code.clone()).collect();
    for r in records(AREAS)? {
        let code = pad_region_code(field(&r, 0)?);
        if cityless_areas.contains(&code) {
            continue;
        }
        let city = pad_region_code(field(&r, 2)?);
        let province = pad_region_code(field(&r, 3)?);
        rows.push(region::Model {
            county_code: Some(code.clone()),
            code,
            name: field(&r, 1)?.to_string(),
            level: RegionLevel::County,
            parent_code: Some(city.clone()),
            province_code: province,
            city_code: Some(city),
        });
    }
    for r in records(STREETS)? {
        let county = pad_region_code(field(&r, 2)?);
        let city = pad_region_code(field(&r, 4)?);
        let under_city_directly = county == city;
        rows.push(region::Model {
            code: field(&r, 0)?.to_string(),
            name: field(&r, 1)?.to_string(),
            level: RegionLevel::Township,
            parent_code: Some(county.clone()),
            province_code: pad_region_code(field(&r, 3)?),
            city_code: Some(city),
            county_code: (!under_city_directly).then_some(county),
        });
    }
    Ok(rows)
}

pub(super) async fn load<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let rows = region_rows()?;
    for chunk in rows.chunks(INSERT_CHUNK) {
        let models = chunk.iter().map(|r| region::ActiveModel {
            code: Set(r.code.clone()),
            name: Set(r.name.clone()),
            level: Set(r.level),
            parent_code: Set(r.parent_code.clone()),
            province_code: Set(r.province_code.clone()),
            city_code: Set(r.city_code.clone()),
            county_code: Set(r.county_code.clone()),
        });
        region::Entity::insert_many(models)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provinces_and_cities_are_padded_to_six_digits() {
        assert_eq!(pad_region_code("51"), "510000");
        assert_eq!(pad_region_code("5101"), "510100");
        assert_eq!(pad_region_code("510104"), "510104");
        assert_eq!(pad_region_code("510104001"), "510104001");
    }

    #[test]
    fn the_shipped_tree_has_every_level_and_sichuan_chengdu_jinjiang() {
        let rows = region_rows().expect("embedded data parses");
        let count = |level| rows.iter().filter(|r| r.level == level).count();
        assert_eq!(count(RegionLevel::Province), 31);
        assert_eq!(count(RegionLevel::City), 342);
        // 2,978 areas less the three cities the source repeats as their own area.
        assert_eq!(count(RegionLevel::County), 2975);
        assert_eq!(count(RegionLevel::Township), 41352);
        let jinjiang = rows.iter().find(|r| r.code == "510104").expect("Jinjiang");
        assert_eq!(jinjiang.name, "锦江区");
        assert_eq!(jinjiang.parent_code.as_deref(), Some("510100"));
        assert_eq!(jinjiang.province_code, "510000");
    }

    #[test]
    fn dongguan_townships_hang_directly_under_the_city() {
        let rows = region_rows().expect("embedded data parses");
        let codes: std::collections::HashSet<_> = rows.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes.len(), rows.len(), "codes are unique");
        let town = rows
            .iter()
            .find(|r| r.level == RegionLevel::Township && r.code.starts_with("4419"))
            .expect("a Dongguan township");
        assert_eq!(town.parent_code.as_deref(), Some("441900"));
        assert_eq!(town.county_code, None);
    }

    #[test]
    fn every_code_starts_with_its_ancestors_prefix() {
        for r in region_rows().expect("embedded data parses") {
            assert!(r.code.starts_with(&r.province_code[..2]), "{r:?}");
            if let Some(city) = &r.city_code {
                assert!(r.code.starts_with(&city[..4]), "{r:?}");
            }
        }
    }
}
