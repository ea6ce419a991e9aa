//! Who is calling: the API key's principal, the rate-limit bucket that pays, the request
//! id and the consistency token, resolved once per HTTP request.

use super::graphql_error;
use crate::auth::Principal;
use crate::rate_limit::BucketKey;
use crate::routes::AppState;
use poem::http::{header, StatusCode};
use poem::{Request, Response};
use sea_orm::DatabaseConnection;
use std::net::{IpAddr, Ipv4Addr};

/// The caller of one HTTP request, resolved once for all its operations.
pub(super) struct Caller {
    pub(super) principal: Principal,
    pub(super) bucket: BucketKey,
    pub(super) request_id: String,
    /// The consistency token the caller sent (`X-Minyi-Consistency`), when replicas are configured.
    pub(super) consistency: Option<crate::replicas::Lsn>,
}

/// Resolves the caller or answers for them (400 malformed consistency token, 401
/// unknown key, 503 database down).
pub(super) async fn caller_of(req: &Request, state: &AppState) -> Result<Caller, Response> {
    let request_id = request_id_of(req);
    let consistency = crate::replicas::token::of_request(req, &state.reads)
        .map_err(|message| graphql_error(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &message))?;
    let principal = principal_of(req, &state.db).await?;
    Ok(Caller {
        bucket: bucket_key_of(req, &principal),
        principal,
        request_id,
        consistency,
    })
}

async fn principal_of(req: &Request, db: &DatabaseConnection) -> Result<Principal, Response> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(Principal::public());
    };
    let secret = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let unauthenticated =
        |message: &str| graphql_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
    let Some(secret) = secret else {
        return Err(unauthenticated(
            "the Authorization header must be `Bearer <api key>`",
        ));
    };
    match Principal::from_secret(db, secret).await {
        Ok(principal) => Ok(principal),
        Err(crate::error::ApiError::Unauthenticated) => {
            Err(unauthenticated("the API key is unknown or revoked"))
        }
        Err(err) => {
            tracing::error!(error = ?err, "resolving an API key failed");
            Err(graphql_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "INTERNAL",
                "internal error",
            ))
        }
    }
}

/// The id the access log gave this request (it also sets the `x-request-id` header).
fn request_id_of(req: &Request) -> String {
    req.data::<crate::telemetry::RequestId>()
        .map(|id| id.as_str().to_string())
        .unwrap_or_default()
}

/// Whose bucket pays: the key's own for keyed callers, the client IP's for the public.
fn bucket_key_of(req: &Request, principal: &Principal) -> BucketKey {
    match principal.key_id {
        Some(id) => BucketKey::ApiKey(id),
        None => BucketKey::Ip(peer_ip(req)),
    }
}

/// The client's IP address. Without a TCP peer (never the case behind poem's
/// TcpListener) all such callers share one bucket rather than escaping the limit.
pub(crate) fn peer_ip(req: &Request) -> IpAddr {
    req.remote_addr()
        .as_socket_addr()
        .map(|addr| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}
