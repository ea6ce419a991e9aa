//! HTTP caching for the open-data doors (exports, Open311, the catalog, releases):
//! a strong `ETag`, `Cache-Control`, and `304 Not Modified` when the client's
//! `If-None-Match` already names the current version (RFC 9110 §13.1.2).
//!
//! Two ways to name a version: the hash of a body already in memory
//! ([`respond_with_body`]), or, for streamed bodies that are not built before they are
//! sent, the hash of what determines them (the request's filters plus a cheap data
//! version such as the count and latest `updated_at` of the matching rows:
//! [`etag_of`] + [`not_modified`] + [`with_cache_headers`]).

use poem::http::{header, HeaderValue, StatusCode};
use poem::{Request, Response};
use sha2::{Digest, Sha256};

/// How long shared caches may keep an open-data answer without asking again. Short:
/// the data moves all day, and revalidation with the ETag is cheap.
pub const DEFAULT_MAX_AGE_SECONDS: u32 = 60;

/// A strong ETag (quoted) naming the bytes of `parts`, in order.
pub fn etag_of(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        // Length-prefixed, so ("ab", "c") and ("a", "bc") name different versions.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    let digest = hex::encode(hasher.finalize());
    format!("\"{}\"", &digest[..32])
}

/// True when the request's `If-None-Match` matches `etag` (or is `*`). Weak
/// comparison, as RFC 9110 asks for `If-None-Match`: `W/"x"` matches `"x"`.
pub fn not_modified(req: &Request, etag: &str) -> bool {
    let Some(value) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let ours = etag.trim_start_matches("W/");
    value
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == ours)
}

/// Adds `ETag` and `Cache-Control: public, max-age=…` to `response`.
pub fn with_cache_headers(mut response: Response, etag: &str, max_age_seconds: u32) -> Response {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age_seconds}")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    response
}

/// The `304 Not Modified` answer for `etag` (no body, the same validators).
pub fn not_modified_response(etag: &str, max_age_seconds: u32) -> Response {
    with_cache_headers(
        Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .finish(),
        etag,
        max_age_seconds,
    )
}

/// Answers with `body` (200) or with 304 when the client already has these bytes.
pub fn respond_with_body(
    req: &Request,
    body: Vec<u8>,
    content_type: &str,
    max_age_seconds: u32,
) -> Response {
    let etag = etag_of(&[&body]);
    if not_modified(req, &etag) {
        return not_modified_response(&etag, max_age_seconds);
    }
    with_cache_headers(
        Response::builder().content_type(content_type).body(body),
        &etag,
        max_age_seconds,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(if_none_match: &str) -> Request {
        Request::builder()
            .header(header::IF_NONE_MATCH, if_none_match)
            .finish()
    }

    #[test]
    fn an_etag_names_the_parts_and_their_boundaries() {
        assert_eq!(etag_of(&[b"ab", b"c"]), etag_of(&[b"ab", b"c"]));
        assert_ne!(etag_of(&[b"ab", b"c"]), etag_of(&[b"a", b"bc"]));
        assert_eq!(etag_of(&[b"x"]).len(), 34);
    }

    #[test]
    fn if_none_match_matches_a_listed_weak_or_star_validator() {
        let etag = etag_of(&[b"data"]);
        assert!(not_modified(&request_with(&etag), &etag));
        assert!(not_modified(
            &request_with(&format!("\"other\", W/{etag}")),
            &etag
        ));
        assert!(not_modified(&request_with("*"), &etag));
        assert!(!not_modified(&request_with("\"other\""), &etag));
        assert!(!not_modified(&Request::builder().finish(), &etag));
    }

    #[test]
    fn a_known_body_is_answered_with_304_and_the_same_etag() {
        let body = b"hello".to_vec();
        let etag = etag_of(&[&body]);
        let fresh = respond_with_body(&Request::builder().finish(), body.clone(), "text/plain", 60);
        assert_eq!(fresh.status(), StatusCode::OK);
        assert_eq!(fresh.headers()[header::ETAG], etag.as_str());
        assert_eq!(fresh.headers()[header::CACHE_CONTROL], "public, max-age=60");
        let cached = respond_with_body(&request_with(&etag), body, "text/plain", 60);
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(cached.headers()[header::ETAG], etag.as_str());
    }
}
