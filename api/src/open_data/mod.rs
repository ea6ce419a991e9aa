//! Open data for the public audience: what leaves minyi without an API key (see docs/OPEN_DATA.md).
//! One module a door; every door shows only published cases with personal data masked.

pub mod catalog;
pub mod dictionary;
pub mod export;
pub mod http_cache;
pub mod import;
pub mod open311;
pub mod redact_all;
pub mod redaction;
pub mod release;
pub mod suppression;

/// Every open-data HTTP route (exports, dictionary, Open311, catalog, releases).
pub fn routes(route: poem::Route) -> poem::Route {
    let route = export::routes(route);
    let route = dictionary::routes(route);
    let route = open311::routes(route);
    let route = catalog::routes(route);
    release::routes(route)
}
