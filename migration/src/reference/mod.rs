//! Reference data embedded in the binary, so that a fresh clone needs nothing else.
//! See `migration/data/README.md` for sources and licences.

mod categories;
mod holidays;
mod policies;
mod regions;

pub use holidays::{holiday_rows, HolidayRow};
pub use regions::{pad_region_code, region_rows};

use sea_orm::{ConnectionTrait, DbErr};

/// Loads every reference table. Callers run it once (it is a migration step).
pub async fn load_all<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    regions::load(db).await?;
    holidays::load(db).await?;
    categories::load(db).await?;
    policies::load(db).await?;
    Ok(())
}

/// Rows are inserted in chunks small enough for SQLite's bound-parameter limit.
pub(crate) const INSERT_CHUNK: usize = 2000;

pub(crate) fn csv_error(what: &str, err: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("embedded {what} data is malformed: {err}"))
}
