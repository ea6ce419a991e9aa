//! The reference web front end: the leader dashboard (`/dashboard`), its printable
//! monthly bulletin (`/dashboard/bulletin`) and the open-data portal (`/data`). Static
//! files embedded in the binary (`api/assets/web/`, ECharts vendored, see its README),
//! talking to nothing but `/graphql` and the open-data doors, so they work offline.

use poem::http::{header, StatusCode};
use poem::web::Path;
use poem::{get, handler, IntoResponse, Response, Route};

/// Only this server's own files: nothing is fetched from another origin. ECharts sets
/// element styles from script, hence `'unsafe-inline'` for styles only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

/// Scripts and styles change with the binary; a short cache keeps upgrades visible.
const ASSET_CACHE_CONTROL: &str = "public, max-age=300";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../assets/web/", $name)),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";

const ASSETS: &[Asset] = &[
    asset!("common.js", "text/javascript; charset=utf-8"),
    asset!("errors.js", "text/javascript; charset=utf-8"),
    asset!("dashboard.js", "text/javascript; charset=utf-8"),
    asset!("bulletin.js", "text/javascript; charset=utf-8"),
    asset!("data.js", "text/javascript; charset=utf-8"),
    asset!("echarts.min.js", "text/javascript; charset=utf-8"),
    asset!("minyi.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
];

const DASHBOARD: &str = include_str!("../assets/web/dashboard.html");
const BULLETIN: &str = include_str!("../assets/web/bulletin.html");
const PORTAL: &str = include_str!("../assets/web/data.html");

fn page(html: &'static str) -> Response {
    Response::builder()
        .content_type(HTML)
        .header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)
        .header("X-Content-Type-Options", "nosniff")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(html)
}

#[handler]
fn dashboard() -> Response {
    page(DASHBOARD)
}

#[handler]
fn bulletin() -> Response {
    page(BULLETIN)
}

#[handler]
fn portal() -> Response {
    page(PORTAL)
}

/// Browsers ask for `/favicon.ico` on any page without an icon link (a stylesheet,
/// an export): the same SVG icon, rather than a 404 in every console.
#[handler]
fn favicon() -> Response {
    serve_named("favicon.svg")
}

#[handler]
fn serve_asset(Path(file): Path<String>) -> Response {
    serve_named(&file)
}

fn serve_named(file: &str) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(asset) => Response::builder()
            .content_type(asset.content_type)
            .header(header::CACHE_CONTROL, ASSET_CACHE_CONTROL)
            .header("X-Content-Type-Options", "nosniff")
            .body(asset.bytes),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The pages and their assets, added to the application's router.
pub fn routes(route: Route) -> Route {
    route
        .at("/dashboard", get(dashboard))
        .at("/dashboard/bulletin", get(bulletin))
        .at("/data", get(portal))
        .at("/web/assets/:file", get(serve_asset))
        .at("/favicon.ico", get(favicon))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `src`/`href` of a page that points into this server.
    fn local_references(html: &str) -> Vec<String> {
        html.split("src=\"")
            .skip(1)
            .chain(html.split("href=\"").skip(1))
            .filter_map(|rest| rest.split('"').next())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_pages_load_only_vendored_assets_from_this_server() {
        for html in [DASHBOARD, BULLETIN, PORTAL] {
            assert!(!html.contains("http://") && !html.contains("https://"));
            for reference in local_references(html) {
                let Some(name) = reference.strip_prefix("/web/assets/") else {
                    assert!(
                        reference.starts_with('/'),
                        "{reference} is not on this server"
                    );
                    continue;
                };
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "{name} is not vendored"
                );
            }
        }
    }

    #[test]
    fn the_scripts_import_only_vendored_modules() {
        for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            if asset.name == "echarts.min.js" {
                continue;
            }
            let source = std::str::from_utf8(asset.bytes).unwrap_or_default();
            for line in source.lines().filter(|l| l.contains("from \"./")) {
                let module = line
                    .split("from \"./")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or_default();
                assert!(
                    ASSETS.iter().any(|a| a.name == module),
                    "{} imports {module}, which is not vendored",
                    asset.name
                );
            }
            assert!(
                !source.contains("https://"),
                "{} names a remote URL",
                asset.name
            );
        }
    }

    #[test]
    fn the_vendored_echarts_is_the_documented_release() {
        use sha2::{Digest, Sha256};
        let echarts = ASSETS
            .iter()
            .find(|a| a.name == "echarts.min.js")
            .map(|a| a.bytes)
            .unwrap_or_default();
        assert_eq!(
            hex::encode(Sha256::digest(echarts)),
            "b66b25aeb4df84e33199dc21694014d336d222cbd9deb0e5a7c14bd6aa0d0fd0"
        );
    }
}
