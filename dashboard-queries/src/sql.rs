//! SQL text with backend-correct placeholders, and the resolution of a scope and a
//! filter into WHERE conditions (unknown regions, departments, categories are errors).

use crate::model::{Scope, StatsFilter};
use crate::Error;
use entities::RegionLevel;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// A statement under construction. Placeholders are handed out in text order, which
/// is what SQLite's `?` needs; PostgreSQL gets numbered `$n`.
pub(crate) struct Sql {
    backend: DbBackend,
    pub text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(backend: DbBackend) -> Self {
        Sql {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    /// Appends raw SQL (never user data: that goes through `bind`).
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                let n = self.values.len();
                self.text.push_str(&format!("${n}"));
            }
            _ => self.text.push('?'),
        }
        self
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    pub fn build(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// The column of `cases` that holds a region code of the given level.
pub(crate) fn region_column(level: RegionLevel) -> &'static str {
    match level {
        RegionLevel::Province => "province_code",
        RegionLevel::City => "city_code",
        RegionLevel::County => "county_code",
        RegionLevel::Township | RegionLevel::Village => "region_code",
    }
}

/// The expression on `cases c` holding the code of the child region a case lies in,
/// for a scope region of `level` (None: no region, the children are provinces). A
/// city's children are its counties, except in the cities without counties (Dongguan
/// 4419, Zhongshan 4420, Danzhou 4604), whose townships hang directly under the city
/// and whose cases have no `county_code`. Codes that are not children (a case at the
/// scope's own level) are folded into the scope's own group by the caller.
pub(crate) fn child_expr(level: Option<RegionLevel>) -> &'static str {
    match level {
        None => "c.province_code",
        Some(RegionLevel::Province) => "c.city_code",
        Some(RegionLevel::City) => "COALESCE(c.county_code, c.region_code)",
        Some(_) => "c.region_code",
    }
}

/// A region found in `regions`.
#[derive(Debug, Clone)]
pub(crate) struct RegionRef {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    /// The province the region lies in (its own code for a province).
    pub province_code: String,
}

/// Scope and filter checked against the reference tables, ready to become SQL.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resolved {
    pub region: Option<RegionRef>,
    pub department_path: Option<String>,
    pub filter: StatsFilter,
}

pub(crate) async fn find_region<C: ConnectionTrait>(
    db: &C,
    code: &str,
) -> Result<Option<RegionRef>, Error> {
    let mut q = Sql::new(db.get_database_backend());
    q.push("SELECT code, name, level, province_code FROM regions WHERE code = ")
        .bind(code);
    let Some(row) = db.query_one_raw(q.build()).await? else {
        return Ok(None);
    };
    let level: String = row.try_get("", "level")?;
    let level = RegionLevel::from_db(&level)
        .ok_or_else(|| Error::Db(sea_orm::DbErr::Custom(format!("bad region level {level}"))))?;
    Ok(Some(RegionRef {
        code: row.try_get("", "code")?,
        name: row.try_get("", "name")?,
        level,
        province_code: row.try_get("", "province_code")?,
    }))
}

pub(crate) async fn resolve<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    filter: &StatsFilter,
) -> Result<Resolved, Error> {
    let backend = db.get_database_backend();
    let region = match &scope.region_code {
        Some(code) => Some(
            find_region(db, code)
                .await?
                .ok_or_else(|| Error::UnknownRegion(code.clone()))?,
        ),
        None => None,
    };
    let department_path = match scope.department_id {
        Some(id) => {
            let mut q = Sql::new(backend);
            q.push("SELECT path FROM departments WHERE id = ").bind(id);
            let row = db
                .query_one_raw(q.build())
                .await?
                .ok_or(Error::UnknownDepartment(id))?;
            Some(row.try_get::<String>("", "path")?)
        }
        None => None,
    };
    if let Some(id) = filter.category_id {
        let mut q = Sql::new(backend);
        q.push("SELECT id FROM categories WHERE id = ").bind(id);
        if db.query_one_raw(q.build()).await?.is_none() {
            return Err(Error::UnknownCategory(id));
        }
    }
    Ok(Resolved {
        region,
        department_path,
        filter: filter.clone(),
    })
}

/// Appends ` AND …` conditions on `cases c` for the resolved scope and filter.
pub(crate) fn push_scope(q: &mut Sql, r: &Resolved) {
    if let Some(region) = &r.region {
        q.push(" AND c.")
            .push(region_column(region.level))
            .push(" = ")
            .bind(region.code.clone());
    }
    if let Some(path) = &r.department_path {
        // Paths are '/1/7/' chains of digits, so a LIKE prefix needs no escaping.
        q.push(" AND c.department_id IN (SELECT d.id FROM departments d WHERE d.path LIKE ")
            .bind(format!("{path}%"))
            .push(")");
    }
    if let Some(channel) = r.filter.channel {
        q.push(" AND c.channel = ").bind(channel.as_str());
    }
    if let Some(kind) = r.filter.kind {
        q.push(" AND c.kind = ").bind(kind.as_str());
    }
    if let Some(category) = r.filter.category_id {
        q.push(" AND (c.category_id = ")
            .bind(category)
            .push(" OR c.category_id IN (SELECT k.id FROM categories k WHERE k.parent_id = ")
            .bind(category)
            .push("))");
    }
}
