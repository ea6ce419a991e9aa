//! GraphiQL, served with its assets vendored in `api/assets/graphiql/` (no CDN).

use poem::{get, handler, web::Html, Route};

/// The GraphiQL page, talking to `/graphql`.
pub fn page() -> Html<String> {
    Html(async_graphql::http::GraphiQLSource::build().endpoint("/graphql").finish())
}

#[handler]
fn index() -> Html<String> {
    page()
}

pub fn routes() -> Route {
    Route::new().at("/", get(index))
}
