//! The DCAT-AP catalog of the open data: `GET /catalog.jsonld`.

/// The routes of this door (merged by `open_data::routes`).
pub fn routes(route: poem::Route) -> poem::Route {
    route
}
