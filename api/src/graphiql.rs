//! GraphiQL, served with its assets vendored in `api/assets/graphiql/` (no CDN), so the
//! explorer works on a machine without internet. See that directory's README for the
//! versions, how to reproduce the files, their checksums and licences.

use poem::http::{header, StatusCode};
use poem::web::{Html, Path};
use poem::{get, handler, IntoResponse, Response, Route};

/// Where the assets are mounted (the page is at `/graphiql`, `GET /graphql` serves it too,
/// so the URLs are absolute).
const ASSET_PREFIX: &str = "/graphiql/assets";

/// The vendored files are immutable for a given build; browsers may keep them a year.
/// The file names carry no version, so the page adds `?v=` to bust caches on upgrades.
const ASSET_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// Only this server's own scripts and `/graphql`: nothing may be fetched from elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'";

/// Bumped with the vendored versions (see the assets README).
const ASSET_VERSION: &str = "graphiql-3.8.3_react-18.3.1";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "graphiql.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/graphiql/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/graphiql/graphiql.min.css"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/graphiql/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    },
    Asset {
        name: "minyi-graphiql.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/graphiql/minyi-graphiql.js"),
    },
];

/// The GraphiQL page, talking to `/graphql`, with the headers editor open for an
/// `Authorization: Bearer …` key.
pub fn page() -> Html<String> {
    let url = |name: &str| format!("{ASSET_PREFIX}/{name}?v={ASSET_VERSION}");
    Html(format!(
        r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>minyi GraphiQL</title>
<link rel="stylesheet" href="{css}">
<style>html, body, #graphiql {{ height: 100%; margin: 0; overflow: hidden; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="{react}"></script>
<script src="{react_dom}"></script>
<script src="{graphiql}"></script>
<script src="{init}"></script>
</body>
</html>
"#,
        csp = CONTENT_SECURITY_POLICY,
        css = url("graphiql.min.css"),
        react = url("react.production.min.js"),
        react_dom = url("react-dom.production.min.js"),
        graphiql = url("graphiql.min.js"),
        init = url("minyi-graphiql.js"),
    ))
}

#[handler]
fn index() -> Html<String> {
    page()
}

#[handler]
fn serve_asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(asset) => Response::builder()
            .content_type(asset.content_type)
            .header(header::CACHE_CONTROL, ASSET_CACHE_CONTROL)
            .header("X-Content-Type-Options", "nosniff")
            .body(asset.bytes),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Nested at `/graphiql`: the page at `/` and the vendored files at `/assets/:file`.
pub fn routes() -> Route {
    Route::new()
        .at("/", get(index))
        .at("/assets/:file", get(serve_asset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_local_assets_that_exist() {
        let Html(html) = page();
        assert!(!html.contains("http://") && !html.contains("https://"));
        for src in html
            .split("src=\"")
            .skip(1)
            .chain(html.split("href=\"").skip(1))
        {
            let url = src.split('"').next().unwrap_or_default();
            let name = url
                .strip_prefix(&format!("{ASSET_PREFIX}/"))
                .and_then(|rest| rest.split('?').next())
                .unwrap_or_else(|| panic!("{url} is not a vendored asset"));
            assert!(
                ASSETS.iter().any(|a| a.name == name),
                "{name} is not vendored"
            );
        }
    }
}
