//! The data dictionary of the exports: `GET /exports/dictionary.json` (and docs/DATA_DICTIONARY.md).

/// The routes of this door (merged by `open_data::routes`).
pub fn routes(route: poem::Route) -> poem::Route {
    route
}
