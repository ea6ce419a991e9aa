//! API keys: a random secret shown once, stored only as its SHA-256.

use crate::error::{ApiError, ApiResult};
use entities::{api_key, department, evaluation_panel, region, Role};
use rand::distr::{Alphanumeric, SampleString};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};
use sha2::{Digest, Sha256};

/// What a new key grants.
#[derive(Debug, Clone)]
pub struct KeyGrant {
    pub role: Role,
    pub region_code: Option<String>,
    pub department_id: Option<i32>,
    pub panel_id: Option<i32>,
    pub label: Option<String>,
}

/// A key just created: the secret is in `secret` and nowhere else.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub id: i32,
    pub secret: String,
    pub role: Role,
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Checks that the grant names the scope its role needs and that the scope exists.
pub async fn validate_grant(db: &DatabaseConnection, grant: &KeyGrant) -> ApiResult<()> {
    match grant.role {
        Role::Public => {
            return Err(ApiError::bad_input(
                "the public role needs no key: requests without a key are public",
            ))
        }
        Role::Leader if grant.region_code.is_none() => {
            return Err(ApiError::bad_input("a leader key needs --region CODE"))
        }
        Role::Handler if grant.department_id.is_none() => {
            return Err(ApiError::bad_input("a handler key needs --department ID"))
        }
        Role::Evaluator if grant.panel_id.is_none() => {
            return Err(ApiError::bad_input("an evaluator key needs --panel ID"))
        }
        _ => {}
    }
    if let Some(code) = &grant.region_code {
        if region::Entity::find_by_id(code.clone())
            .one(db)
            .await?
            .is_none()
        {
            return Err(ApiError::bad_input(format!("unknown region code {code}")));
        }
    }
    if let Some(id) = grant.department_id {
        if department::Entity::find_by_id(id).one(db).await?.is_none() {
            return Err(ApiError::bad_input(format!("unknown department {id}")));
        }
    }
    if let Some(id) = grant.panel_id {
        if evaluation_panel::Entity::find_by_id(id)
            .one(db)
            .await?
            .is_none()
        {
            return Err(ApiError::bad_input(format!(
                "unknown evaluation panel {id}"
            )));
        }
    }
    Ok(())
}

/// Creates a key for the grant and returns its secret (once).
pub async fn create_key(db: &DatabaseConnection, grant: KeyGrant) -> ApiResult<CreatedKey> {
    validate_grant(db, &grant).await?;
    let secret = format!("minyi_{}", Alphanumeric.sample_string(&mut rand::rng(), 40));
    let model = api_key::ActiveModel {
        key_hash: Set(hash_secret(&secret)),
        prefix: Set(secret.chars().take(12).collect()),
        role: Set(grant.role),
        region_code: Set(grant.region_code),
        department_id: Set(grant.department_id),
        panel_id: Set(grant.panel_id),
        label: Set(grant.label),
        created_at: Set(crate::clock::now()),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(CreatedKey {
        id: model.id,
        secret,
        role: model.role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_hash_is_the_hex_sha256_of_the_secret() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
