//! Parsing GraphQL `ID`s and region codes into database keys, with BAD_USER_INPUT on junk.

use crate::error::{ApiError, ApiResult};
use async_graphql::ID;
use entities::region;
use sea_orm::{DatabaseConnection, EntityTrait};

pub fn parse_id<T: std::str::FromStr>(id: &ID, what: &str) -> ApiResult<T> {
    id.parse::<T>()
        .map_err(|_| ApiError::bad_input(format!("{what} id {:?} is not a valid id", id.as_str())))
}

/// Looks a region up by code; an unknown code is the caller's mistake.
pub async fn known_region(db: &DatabaseConnection, code: &str) -> ApiResult<region::Model> {
    let well_formed =
        (code.len() == 6 || code.len() == 9) && code.bytes().all(|b| b.is_ascii_digit());
    if !well_formed {
        return Err(ApiError::bad_input(format!(
            "region code {code:?} is not a 6- or 9-digit division code"
        )));
    }
    region::Entity::find_by_id(code.to_string())
        .one(db)
        .await?
        .ok_or_else(|| ApiError::bad_input(format!("unknown region code {code}")))
}
