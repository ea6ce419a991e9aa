//! The read-your-writes token over HTTP: read from `X-Minyi-Consistency` on the way in,
//! taken from the primary after a mutation and written back on the way out. Without
//! replicas there is no token: the header is ignored and none is handed out (SQLite
//! never has replicas).

use super::{Lsn, MalformedLsn, ReadRouter, CONSISTENCY_HEADER};
use poem::http::HeaderValue;
use poem::{Request, Response};

/// The token the caller sent, or why it is malformed (the caller answers 400).
pub fn of_request(req: &Request, reads: &ReadRouter) -> Result<Option<Lsn>, String> {
    if !reads.has_replicas() {
        return Ok(None);
    }
    let Some(value) = req.headers().get(CONSISTENCY_HEADER) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| "the X-Minyi-Consistency header is not text".to_string())?;
    text.parse()
        .map(Some)
        .map_err(|e: MalformedLsn| format!("the X-Minyi-Consistency header: {e}"))
}

/// The primary's WAL position after a mutation, when replicas are configured: a client
/// sends it back as `X-Minyi-Consistency` to read its own write from any instance. The
/// position is taken after the commit, so it is at or past the mutation's commit record.
pub async fn after_mutation(reads: &ReadRouter) -> Option<Lsn> {
    if !reads.has_replicas() {
        return None;
    }
    match reads.primary_position().await {
        Ok(lsn) => Some(lsn),
        Err(err) => {
            // The write stands; a reader without the token may see it a little later.
            tracing::warn!(error = %err, "the primary's WAL position after a mutation is unknown");
            None
        }
    }
}

/// Sets `X-Minyi-Consistency` to the furthest token of the request's mutations.
pub fn set_header(response: &mut Response, token: Option<Lsn>) {
    if let Some(value) = token.and_then(|lsn| HeaderValue::from_str(&lsn.to_string()).ok()) {
        response.headers_mut().insert(CONSISTENCY_HEADER, value);
    }
}
