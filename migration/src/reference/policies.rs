//! The default deadline policies.

use super::csv_error;
use entities::{deadline_policy, CaseKind, Channel};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
};

const POLICIES: &str = include_str!("../../data/deadline_policies.csv");

fn optional(value: &str) -> Option<&str> {
    (!value.is_empty()).then_some(value)
}

pub(super) async fn load<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let mut reader = csv::Reader::from_reader(POLICIES.as_bytes());
    for record in reader.records() {
        let r = record.map_err(|e| csv_error("deadline policy", e))?;
        let category_id = match optional(&r[3]) {
            Some(code) => entities::category::Entity::find()
                .filter(entities::category::Column::Code.eq(code))
                .one(db)
                .await?
                .map(|c| c.id),
            None => None,
        };
        let number = |i: usize| -> Result<i32, DbErr> {
            r[i].parse().map_err(|e| csv_error("deadline policy", e))
        };
        deadline_policy::Entity::insert(deadline_policy::ActiveModel {
            id: NotSet,
            name: Set(r[0].to_string()),
            channel: Set(optional(&r[1]).and_then(Channel::from_db)),
            kind: Set(optional(&r[2]).and_then(CaseKind::from_db)),
            category_id: Set(category_id),
            region_code: Set(optional(&r[4]).map(str::to_string)),
            respond_hours: Set(number(5)?),
            reply_working_days: Set(number(6)?),
            // Added by a later migration; its column default (false) applies.
            reopen_on_dissatisfied: NotSet,
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// After inserting explicit ids, PostgreSQL's serial sequence must move past them.
pub(super) async fn reset_sequence<C: ConnectionTrait>(
    db: &C,
    table: &str,
    max_id: usize,
) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), {})",
            max_id.max(1)
        ))
        .await?;
    }
    Ok(())
}
