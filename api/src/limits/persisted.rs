//! Automatic persisted queries (Apollo's APQ protocol): a client sends the SHA-256 of
//! its query; the server answers from the query text it keeps, or with
//! `PERSISTED_QUERY_NOT_FOUND`, after which the client sends query and hash once to
//! register it. Dashboards can then use short, cacheable `GET` URLs.
//!
//! The query *text* is kept (not a parsed document), so a persisted query passes every
//! limit again on each use; the cache is bounded by its total bytes, least recently
//! used first out.

use async_graphql::ServerError;
use lru::LruCache;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

/// The `extensions.persistedQuery` of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistedQueryRef {
    pub sha256_hash: String,
}

impl PersistedQueryRef {
    /// Reads `extensions.persistedQuery` (`None` when absent); only version 1 exists.
    pub fn from_extensions(
        extensions: &async_graphql::Extensions,
    ) -> Result<Option<Self>, ServerError> {
        let Some(value) = extensions.0.get("persistedQuery") else {
            return Ok(None);
        };
        let json = value.clone().into_json().ok();
        let version = json.as_ref().and_then(|j| j.get("version")?.as_i64());
        let hash = json
            .as_ref()
            .and_then(|j| j.get("sha256Hash")?.as_str().map(str::to_ascii_lowercase));
        match (version, hash) {
            (Some(1), Some(hash))
                if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                Ok(Some(Self { sha256_hash: hash }))
            }
            (Some(1), _) => Err(bad_input(
                "extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits",
            )),
            _ => Err(bad_input(
                "extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": \"…\"}",
            )),
        }
    }
}

/// The hex SHA-256 of a query text, as APQ clients compute it.
pub fn sha256_hex(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

/// The error Apollo clients answer by sending the full query.
pub fn not_found_error() -> ServerError {
    let mut error = ServerError::new("PersistedQueryNotFound", None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", "PERSISTED_QUERY_NOT_FOUND");
    error
}

pub fn hash_mismatch_error() -> ServerError {
    bad_input("extensions.persistedQuery.sha256Hash is not the SHA-256 of the query")
}

fn bad_input(message: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", "BAD_USER_INPUT");
    error
}

/// Query texts by hash, at most `max_bytes` of text in all.
pub struct PersistedQueries {
    max_bytes: usize,
    inner: Mutex<Store>,
}

struct Store {
    queries: LruCache<String, Arc<str>>,
    bytes: usize,
}

impl PersistedQueries {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            inner: Mutex::new(Store {
                queries: LruCache::unbounded(),
                bytes: 0,
            }),
        }
    }

    /// The query registered under `hash`, if it is still kept.
    pub fn get(&self, hash: &str) -> Option<Arc<str>> {
        self.lock().queries.get(hash).cloned()
    }

    /// Keeps `query` under its hash, evicting the least recently used until it fits.
    /// A query larger than the whole cache is not kept.
    pub fn insert(&self, hash: String, query: &str) {
        if query.len() > self.max_bytes {
            return;
        }
        let mut store = self.lock();
        if store.queries.contains(&hash) {
            store.queries.promote(&hash);
            return;
        }
        while store.bytes + query.len() > self.max_bytes {
            match store.queries.pop_lru() {
                Some((_, evicted)) => store.bytes -= evicted.len(),
                None => break,
            }
        }
        store.bytes += query.len();
        store.queries.put(hash, Arc::from(query));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        // The store is a map and a byte count, consistent between statements: a panic
        // elsewhere while the lock was held leaves nothing half-done.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_query_leaves_when_the_bytes_run_out() {
        let cache = PersistedQueries::new(10);
        cache.insert("a".into(), "aaaa");
        cache.insert("b".into(), "bbbb");
        assert!(cache.get("a").is_some()); // a is now the most recently used
        cache.insert("c".into(), "cccc");
        assert!(cache.get("b").is_none());
        assert_eq!(cache.get("a").as_deref(), Some("aaaa"));
        assert_eq!(cache.get("c").as_deref(), Some("cccc"));
        cache.insert("d".into(), "a query longer than the cache");
        assert!(cache.get("d").is_none());
    }

    #[test]
    fn the_hash_is_the_lowercase_hex_sha256_of_the_text() {
        assert_eq!(
            sha256_hex("{ __typename }"),
            "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b"
        );
    }
}
