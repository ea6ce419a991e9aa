//! Open311 GeoReport v2 read endpoints over published cases (`/open311/v2/…`), JSON and XML.

/// The routes of this door (merged by `open_data::routes`).
pub fn routes(route: poem::Route) -> poem::Route {
    route
}
