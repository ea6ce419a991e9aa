//! A page of cases brings the regions and departments it was asked for along in its own
//! statement (`LEFT JOIN`s), so that a list of 20 cases with their region and
//! department is one statement, not three: the two lookups by key cost little in the
//! database but a round trip each, and on PostgreSQL the round trips were most of the
//! database's work for the public's first page. The joined rows are fed to the
//! request's loaders, where the cases' `region` and `department` fields find them.

use async_graphql::Lookahead;
use entities::{case, department, region};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, SelectStatement};
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable, QueryResult,
    Statement,
};
use std::collections::HashMap;

/// The alias of the joined regions, and the prefix of their columns.
const REGION: &str = "page_region";
/// The alias of the joined departments, and the prefix of their columns.
const DEPARTMENT: &str = "page_department";

/// Which relations a page's statement joins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Joined {
    pub regions: bool,
    pub departments: bool,
}

impl Joined {
    /// Nothing joined: the cases alone.
    pub const NONE: Joined = Joined {
        regions: false,
        departments: false,
    };

    /// The relations a connection's selection asks of its cases, through `nodes` or
    /// `edges { node }`.
    pub fn asked_by(connection: Lookahead<'_>) -> Joined {
        let wants = |field: &str| {
            connection.field("nodes").field(field).exists()
                || connection
                    .field("edges")
                    .field("node")
                    .field(field)
                    .exists()
        };
        Joined {
            regions: wants("region"),
            departments: wants("department"),
        }
    }

    /// Adds the joins and the prefixed columns of the joined rows to a select of cases.
    pub fn apply(self, select: &mut SelectStatement) {
        if self.regions {
            join(
                select,
                region::Entity,
                REGION,
                region::Column::Code,
                case::Column::RegionCode,
            );
        }
        if self.departments {
            join(
                select,
                department::Entity,
                DEPARTMENT,
                department::Column::Id,
                case::Column::DepartmentId,
            );
        }
    }
}

/// `LEFT JOIN entity AS alias ON alias.key = cases.case_column`, selecting every column
/// of the joined row as `alias_column`.
fn join<E: EntityTrait>(
    select: &mut SelectStatement,
    entity: E,
    alias: &str,
    key: E::Column,
    case_column: case::Column,
) {
    let table = Alias::new(alias);
    select.join_as(
        JoinType::LeftJoin,
        entity,
        table.clone(),
        Expr::col((table.clone(), key)).equals((case::Entity, case_column)),
    );
    for column in E::Column::iter() {
        select.expr_as(
            Expr::col((table.clone(), column)),
            Alias::new(format!("{alias}_{}", column.as_str())),
        );
    }
}

/// A page's cases and the regions and departments its statement joined.
#[derive(Debug, Default)]
pub struct PageRows {
    pub cases: Vec<case::Model>,
    pub regions: HashMap<String, region::Model>,
    pub departments: HashMap<i32, department::Model>,
}

/// Runs a page's statement built with `joined` and splits each row into its parts.
pub async fn read<C: ConnectionTrait>(
    db: &C,
    statement: Statement,
    joined: Joined,
) -> Result<PageRows, DbErr> {
    let mut out = PageRows::default();
    for row in db.query_all_raw(statement).await? {
        split(&row, joined, &mut out)?;
    }
    Ok(out)
}

fn split(row: &QueryResult, joined: Joined, out: &mut PageRows) -> Result<(), DbErr> {
    out.cases.push(case::Model::from_query_result(row, "")?);
    if joined.regions {
        if let Some(r) = region::Model::from_query_result_optional(row, &format!("{REGION}_"))? {
            out.regions.insert(r.code.clone(), r);
        }
    }
    if joined.departments {
        let prefix = format!("{DEPARTMENT}_");
        if let Some(d) = department::Model::from_query_result_optional(row, &prefix)? {
            out.departments.insert(d.id, d);
        }
    }
    Ok(())
}
