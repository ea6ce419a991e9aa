//! The demo departments: for each chosen region, its leader mailboxes, party committee,
//! people's government with its bureaus, township offices and the utilities, as a tree
//! (`parent_id`, `path` = "/ancestor ids/own id/").

use entities::{DepartmentKind, RegionLevel};
use std::collections::HashMap;

/// A region as the seed needs it (a row of `regions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent_code: Option<String>,
    pub province_code: String,
    pub city_code: Option<String>,
    pub county_code: Option<String>,
}

/// The kind of handling unit, independent of its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    Party,
    Government,
    SecretaryMailbox,
    MayorMailbox,
    Housing,
    Planning,
    UrbanManagement,
    Ecology,
    Transport,
    Education,
    HumanResources,
    Market,
    Health,
    Police,
    CivilAffairs,
    Agriculture,
    Justice,
    Culture,
    WaterResources,
    Power,
    Water,
    Township,
    Hospital,
}

const PROVINCE_UNITS: &[Unit] = &[
    Unit::Housing,
    Unit::Ecology,
    Unit::Transport,
    Unit::Education,
    Unit::HumanResources,
    Unit::Market,
    Unit::Health,
    Unit::Police,
    Unit::CivilAffairs,
    Unit::Agriculture,
];

const CITY_UNITS: &[Unit] = &[
    Unit::Housing,
    Unit::Planning,
    Unit::UrbanManagement,
    Unit::Ecology,
    Unit::Transport,
    Unit::Education,
    Unit::HumanResources,
    Unit::Market,
    Unit::Health,
    Unit::Police,
    Unit::CivilAffairs,
    Unit::Agriculture,
    Unit::Justice,
    Unit::Culture,
    Unit::WaterResources,
];

const COUNTY_UNITS: &[Unit] = CITY_UNITS;

/// One department to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub id: i32,
    pub name: String,
    pub region_code: String,
    pub parent_id: Option<i32>,
    pub kind: DepartmentKind,
    pub path: String,
    pub unit: Unit,
}

/// The departments, and where to find the unit of a kind in a region.
#[derive(Debug, Default)]
pub struct Org {
    pub departments: Vec<Department>,
    by_region: HashMap<String, HashMap<Unit, i32>>,
}

fn bureau_name(unit: Unit, level: RegionLevel, name: &str, city_name: &str) -> String {
    let province = level == RegionLevel::Province;
    let county = level == RegionLevel::County;
    let suffix = match unit {
        Unit::Housing if province => "住房和城乡建设厅",
        Unit::Housing => "住房和城乡建设局",
        Unit::Planning => "自然资源和规划局",
        Unit::UrbanManagement if county => "综合行政执法局",
        Unit::UrbanManagement => "城市管理局",
        Unit::Ecology if province => "生态环境厅",
        Unit::Ecology => "生态环境局",
        Unit::Transport if province => "交通运输厅",
        Unit::Transport => "交通运输局",
        Unit::Education if province => "教育厅",
        Unit::Education => "教育局",
        Unit::HumanResources if province => "人力资源和社会保障厅",
        Unit::HumanResources => "人力资源和社会保障局",
        Unit::Market => "市场监督管理局",
        Unit::Health if county => "卫生健康局",
        Unit::Health => "卫生健康委员会",
        Unit::Police if province => "公安厅",
        Unit::Police if county && name.ends_with('区') => {
            return format!("{city_name}公安局{name}分局");
        }
        Unit::Police => "公安局",
        Unit::CivilAffairs if province => "民政厅",
        Unit::CivilAffairs => "民政局",
        Unit::Agriculture if province => "农业农村厅",
        Unit::Agriculture => "农业农村局",
        Unit::Justice => "司法局",
        Unit::Culture => "文化广电旅游局",
        Unit::WaterResources => "水利局",
        _ => "人民政府",
    };
    format!("{name}{suffix}")
}

/// The short form of a province name for utility names ("四川省" → "四川").
fn short(name: &str) -> &str {
    for suffix in [
        "维吾尔自治区",
        "壮族自治区",
        "回族自治区",
        "自治区",
        "省",
        "市",
    ] {
        if let Some(s) = name.strip_suffix(suffix) {
            return s;
        }
    }
    name
}

impl Org {
    fn add(
        &mut self,
        name: String,
        region: &Region,
        parent_id: Option<i32>,
        kind: DepartmentKind,
        unit: Unit,
        first_id: i32,
    ) -> i32 {
        let id = first_id + self.departments.len() as i32;
        let parent_path = parent_id
            .and_then(|p| self.departments.get((p - first_id) as usize))
            .map(|d| d.path.clone())
            .unwrap_or_else(|| "/".to_string());
        self.departments.push(Department {
            id,
            name,
            region_code: region.code.clone(),
            parent_id,
            kind,
            path: format!("{parent_path}{id}/"),
            unit,
        });
        self.by_region
            .entry(region.code.clone())
            .or_default()
            .insert(unit, id);
        id
    }

    /// The id of the `unit` of `region_code`, if the region has one.
    pub fn unit(&self, region_code: &str, unit: Unit) -> Option<i32> {
        self.by_region.get(region_code)?.get(&unit).copied()
    }

    /// The name of department `id`.
    pub fn name(&self, id: i32) -> Option<&str> {
        let first = self.departments.first()?.id;
        let index = usize::try_from(id.checked_sub(first)?).ok()?;
        self.departments.get(index).map(|d| d.name.as_str())
    }

    /// Builds the tree over `regions` (parents before children, sorted by code), ids
    /// counting from `first_id`.
    pub fn build(regions: &[Region], first_id: i32) -> Org {
        let mut org = Org::default();
        let by_code: HashMap<&str, &Region> =
            regions.iter().map(|r| (r.code.as_str(), r)).collect();
        let parent_of = |r: &Region| {
            r.parent_code
                .as_deref()
                .and_then(|p| by_code.get(p).copied())
        };
        for level in [
            RegionLevel::Province,
            RegionLevel::City,
            RegionLevel::County,
            RegionLevel::Township,
        ] {
            for region in regions.iter().filter(|r| r.level == level) {
                let parent = parent_of(region);
                let up = |org: &Org, unit| parent.and_then(|p| org.unit(&p.code, unit));
                let name = region.name.as_str();
                if level == RegionLevel::Township {
                    let title = if name.ends_with("街道") {
                        format!("{name}办事处")
                    } else {
                        format!("{name}人民政府")
                    };
                    let p = up(&org, Unit::Government);
                    org.add(
                        title,
                        region,
                        p,
                        DepartmentKind::Government,
                        Unit::Township,
                        first_id,
                    );
                    continue;
                }
                let p = up(&org, Unit::Party);
                let party = org.add(
                    format!("中共{name}委员会"),
                    region,
                    p,
                    DepartmentKind::Party,
                    Unit::Party,
                    first_id,
                );
                let p = up(&org, Unit::Government);
                let gov = org.add(
                    format!("{name}人民政府"),
                    region,
                    p,
                    DepartmentKind::Government,
                    Unit::Government,
                    first_id,
                );
                org.add(
                    format!("{name}委书记信箱"),
                    region,
                    Some(party),
                    DepartmentKind::LeaderOffice,
                    Unit::SecretaryMailbox,
                    first_id,
                );
                org.add(
                    format!("{name}长信箱"),
                    region,
                    Some(gov),
                    DepartmentKind::LeaderOffice,
                    Unit::MayorMailbox,
                    first_id,
                );
                let units = match level {
                    RegionLevel::Province => PROVINCE_UNITS,
                    RegionLevel::City => CITY_UNITS,
                    _ => COUNTY_UNITS,
                };
                let city_name = parent.map(|p| p.name.as_str()).unwrap_or("");
                for &unit in units {
                    org.add(
                        bureau_name(unit, level, name, city_name),
                        region,
                        Some(gov),
                        DepartmentKind::Government,
                        unit,
                        first_id,
                    );
                }
                // Utilities: the grid company's provincial branch and its city and county
                // supply companies; a water group per city with county companies.
                let power_parent = up(&org, Unit::Power);
                let power_name = match level {
                    RegionLevel::Province => format!("国网{}省电力公司", short(name)),
                    RegionLevel::City => format!("国网{}供电公司", short(name)),
                    _ => format!("国网{name}供电分公司"),
                };
                org.add(
                    power_name,
                    region,
                    power_parent,
                    DepartmentKind::Utility,
                    Unit::Power,
                    first_id,
                );
                if level != RegionLevel::Province {
                    let water_parent = up(&org, Unit::Water);
                    let water_name = if level == RegionLevel::City {
                        format!("{name}水务集团有限公司")
                    } else {
                        format!("{name}供排水有限公司")
                    };
                    org.add(
                        water_name,
                        region,
                        water_parent,
                        DepartmentKind::Utility,
                        Unit::Water,
                        first_id,
                    );
                }
                if level != RegionLevel::Province {
                    let p = org.unit(&region.code, Unit::Health).or(Some(gov));
                    org.add(
                        format!("{name}人民医院"),
                        region,
                        p,
                        DepartmentKind::PublicInstitution,
                        Unit::Hospital,
                        first_id,
                    );
                }
            }
        }
        org
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str, name: &str, level: RegionLevel, parent: Option<&str>) -> Region {
        Region {
            code: code.into(),
            name: name.into(),
            level,
            parent_code: parent.map(Into::into),
            province_code: "510000".into(),
            city_code: (level != RegionLevel::Province).then(|| "510100".into()),
            county_code: matches!(level, RegionLevel::County | RegionLevel::Township)
                .then(|| "510104".into()),
        }
    }

    #[test]
    fn paths_chain_the_ancestor_ids_and_names_read_naturally() {
        let regions = vec![
            region("510000", "四川省", RegionLevel::Province, None),
            region("510100", "成都市", RegionLevel::City, Some("510000")),
            region("510104", "锦江区", RegionLevel::County, Some("510100")),
            region(
                "510104001",
                "春熙路街道",
                RegionLevel::Township,
                Some("510104"),
            ),
        ];
        let org = Org::build(&regions, 1);
        let by_id: HashMap<i32, &Department> = org.departments.iter().map(|d| (d.id, d)).collect();
        for d in &org.departments {
            let expected = match d.parent_id {
                Some(p) => format!("{}{}/", by_id[&p].path, d.id),
                None => format!("/{}/", d.id),
            };
            assert_eq!(d.path, expected, "{d:?}");
        }
        let name = |code: &str, unit| {
            by_id[&org.unit(code, unit).expect("unit exists")]
                .name
                .clone()
        };
        assert_eq!(name("510100", Unit::MayorMailbox), "成都市长信箱");
        assert_eq!(name("510104", Unit::SecretaryMailbox), "锦江区委书记信箱");
        assert_eq!(name("510104", Unit::Police), "成都市公安局锦江区分局");
        assert_eq!(name("510104", Unit::Health), "锦江区卫生健康局");
        assert_eq!(name("510000", Unit::Power), "国网四川省电力公司");
        assert_eq!(name("510104001", Unit::Township), "春熙路街道办事处");
        let township = &by_id[&org.unit("510104001", Unit::Township).expect("office")];
        let county_gov = org.unit("510104", Unit::Government).expect("gov");
        assert_eq!(township.parent_id, Some(county_gov));
        assert_eq!(township.path.matches('/').count(), 5, "{}", township.path);
    }
}
