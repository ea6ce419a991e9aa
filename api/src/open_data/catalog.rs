//! The DCAT-AP catalog of the open data: `GET /catalog.jsonld`.
//!
//! JSON-LD with its `@context` inline (no remote context: it must expand offline), built
//! from the data on each request and answered with an ETag of its bytes. It describes:
//! the live case dataset with its CSV and NDJSON exports and the data dictionary; each
//! citable release as a dataset whose distributions carry byte sizes and SHA-256
//! checksums; and the GraphQL endpoint and Open311 as data services. Coverage in time
//! (first and last submission) and space (the provinces) comes from the published cases.

use super::dictionary::dictionary_version;
use super::export::problem;
use super::http_cache::{respond_with_body, DEFAULT_MAX_AGE_SECONDS};
use super::release::{list as list_releases, metric_definitions_version};
use crate::auth::Principal;
use crate::routes::AppState;
use chrono::{DateTime, Utc};
use entities::{case, region, release, release_file};
use poem::http::header;
use poem::web::Data;
use poem::{get, handler, Request, Response};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{json, Value};

/// The licence the open data is published under.
pub const LICENSE: &str = "https://creativecommons.org/licenses/by/4.0/";

/// The vocabularies, inline.
fn context() -> Value {
    json!({
        "dcat": "http://www.w3.org/ns/dcat#",
        "dct": "http://purl.org/dc/terms/",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "spdx": "http://spdx.org/rdf/terms#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "adms": "http://www.w3.org/ns/adms#",
    })
}

/// What the catalog says about the data, read in a handful of queries.
struct Coverage {
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    /// (code, name) of the provinces with published cases.
    provinces: Vec<(String, String)>,
}

async fn coverage(db: &DatabaseConnection) -> Result<Coverage, DbErr> {
    let public = Principal::public().case_visibility();
    let (first, last): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = case::Entity::find()
        .select_only()
        .expr(Func::min(Expr::col((
            case::Entity,
            case::Column::SubmittedAt,
        ))))
        .expr(Func::max(Expr::col((
            case::Entity,
            case::Column::SubmittedAt,
        ))))
        .filter(public.clone())
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((None, None));
    let codes: Vec<String> = case::Entity::find()
        .select_only()
        .column(case::Column::ProvinceCode)
        .distinct()
        .filter(public)
        .into_tuple()
        .all(db)
        .await?;
    let provinces = region::Entity::find()
        .select_only()
        .columns([region::Column::Code, region::Column::Name])
        .filter(region::Column::Code.is_in(codes))
        .order_by_asc(region::Column::Code)
        .into_tuple()
        .all(db)
        .await?;
    Ok(Coverage {
        first,
        last,
        provinces,
    })
}

fn date_time(t: DateTime<Utc>) -> Value {
    json!({ "@value": t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "@type": "xsd:dateTime" })
}

fn period(first: Option<DateTime<Utc>>, last: Option<DateTime<Utc>>) -> Value {
    let mut period = json!({ "@type": "dct:PeriodOfTime" });
    if let Some(first) = first {
        period["dcat:startDate"] = date_time(first);
    }
    if let Some(last) = last {
        period["dcat:endDate"] = date_time(last);
    }
    period
}

fn media_type(media: &str) -> Value {
    json!({ "@id": format!("https://www.iana.org/assignments/media-types/{media}") })
}

fn text(zh: &str, en: &str) -> Value {
    json!([{ "@value": zh, "@language": "zh" }, { "@value": en, "@language": "en" }])
}

/// The catalog document for a server reached at `base` (scheme and authority, no slash).
fn document(
    base: &str,
    coverage: &Coverage,
    releases: &[(release::Model, Vec<release_file::Model>)],
) -> Value {
    let live = format!("{base}/catalog.jsonld#cases");
    let license = json!({ "@id": LICENSE });
    let publisher = json!({
        "@id": format!("{base}/catalog.jsonld#publisher"),
        "@type": "foaf:Agent",
        "foaf:name": text("网上群众工作平台", "Online mass-work platform (minyi)"),
    });
    let spatial: Vec<Value> = coverage
        .provinces
        .iter()
        .map(|(code, name)| {
            json!({
                "@type": "dct:Location",
                "dct:identifier": code,
                "skos:prefLabel": { "@value": name, "@language": "zh" },
            })
        })
        .collect();
    let dictionary_url = format!("{base}/exports/dictionary.json");
    let export = |format: &str, media: &str, title: &str| {
        json!({
            "@id": format!("{base}/exports/cases.{format}"),
            "@type": "dcat:Distribution",
            "dct:title": title,
            "dcat:accessURL": { "@id": format!("{base}/exports/cases.{format}") },
            "dcat:downloadURL": { "@id": format!("{base}/exports/cases.{format}") },
            "dcat:mediaType": media_type(media),
            "dct:license": license,
            "dct:conformsTo": { "@id": dictionary_url },
        })
    };
    let mut datasets = vec![json!({
        "@id": live,
        "@type": "dcat:Dataset",
        "dct:title": text("公开留言（实时）", "Published cases (live)"),
        "dct:description": text(
            "已公开的群众留言及其办理情况，个人信息已脱敏。",
            "Published citizen cases and how they were handled, personal data masked. Filters as query parameters (docs/OPEN_DATA.md)."
        ),
        "dct:publisher": publisher,
        "dct:license": license,
        "dct:temporal": period(coverage.first, coverage.last),
        "dct:spatial": spatial,
        "dcat:keyword": ["12345", "留言板", "citizen requests", "open311"],
        "dcat:distribution": [
            export("csv", "text/csv", "CSV (UTF-8, RFC 4180)"),
            export("ndjson", "application/x-ndjson", "NDJSON"),
            {
                "@id": dictionary_url,
                "@type": "dcat:Distribution",
                "dct:title": "Data dictionary",
                "dcat:downloadURL": { "@id": dictionary_url },
                "dcat:mediaType": media_type("application/json"),
                "dct:license": license,
            },
        ],
        "adms:version": dictionary_version(),
    })];
    for (release, files) in releases {
        let id = format!("{base}/releases/{}", release.name);
        let distributions: Vec<Value> = files
            .iter()
            .map(|f| {
                let url = format!("{id}/{}", f.file_name);
                json!({
                    "@id": url,
                    "@type": "dcat:Distribution",
                    "dct:title": f.file_name,
                    "dcat:downloadURL": { "@id": url },
                    "dcat:accessURL": { "@id": url },
                    "dcat:mediaType": media_type(&f.media_type),
                    "dcat:byteSize": { "@value": f.bytes.to_string(), "@type": "xsd:nonNegativeInteger" },
                    "spdx:checksum": {
                        "@type": "spdx:Checksum",
                        "spdx:algorithm": { "@id": "http://spdx.org/rdf/terms#checksumAlgorithm_sha256" },
                        "spdx:checksumValue": { "@value": f.sha256, "@type": "xsd:hexBinary" },
                    },
                    "dct:license": license,
                })
            })
            .collect();
        let rows = files.iter().find_map(|f| f.rows).unwrap_or(0);
        datasets.push(json!({
            "@id": id,
            "@type": "dcat:Dataset",
            "dct:identifier": release.name,
            "dct:title": text(
                &format!("公开留言发布版 {}", release.name),
                &format!("Published cases, release {}", release.name)
            ),
            "dct:description": format!(
                "{rows} published cases submitted before {}, frozen; metric definitions {}, column list {}.",
                release.cutoff.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                release.metric_definitions_version,
                release.dictionary_version
            ),
            "dct:issued": date_time(release.created_at),
            "dct:publisher": { "@id": format!("{base}/catalog.jsonld#publisher") },
            "dct:license": license,
            "dct:temporal": period(release.first_submitted_at, release.last_submitted_at),
            "dct:isVersionOf": { "@id": live },
            "adms:version": release.name,
            "dcat:distribution": distributions,
        }));
    }
    let graphql = format!("{base}/graphql");
    let open311 = format!("{base}/open311/v2");
    json!({
        "@context": context(),
        "@id": format!("{base}/catalog.jsonld"),
        "@type": "dcat:Catalog",
        "dct:title": text("民意开放数据目录", "minyi open data catalogue"),
        "dct:description": text(
            "网上群众工作平台的公开数据：已公开留言、导出文件、可引用的发布版和数据服务。",
            "Open data of the online mass-work platform: published cases, bulk exports, citable releases and data services."
        ),
        "dct:publisher": publisher,
        "dct:license": license,
        "dct:language": { "@id": "http://publications.europa.eu/resource/authority/language/ZHO" },
        "dct:temporal": period(coverage.first, coverage.last),
        "dct:spatial": spatial,
        "dcat:dataset": datasets,
        "dcat:service": [
            {
                "@id": graphql,
                "@type": "dcat:DataService",
                "dct:title": "GraphQL API",
                "dcat:endpointURL": { "@id": graphql },
                "dcat:endpointDescription": { "@id": format!("{base}/schema.graphql") },
                "dct:conformsTo": { "@id": "https://spec.graphql.org/" },
                "dcat:servesDataset": { "@id": live },
                "dct:license": license,
            },
            {
                "@id": open311,
                "@type": "dcat:DataService",
                "dct:title": "Open311 GeoReport v2",
                "dcat:endpointURL": { "@id": open311 },
                "dct:conformsTo": { "@id": "http://wiki.open311.org/GeoReport_v2/" },
                "dcat:servesDataset": { "@id": live },
                "dct:license": license,
            },
        ],
        "dct:conformsTo": { "@id": format!("urn:minyi:metric-definitions:{}", metric_definitions_version()) },
    })
}

/// `scheme://host` the client used (`X-Forwarded-Proto` when a proxy says so).
fn base_url(req: &Request) -> String {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .unwrap_or("localhost");
    let scheme = match req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// The routes of this door (merged by `open_data::routes`).
pub fn routes(route: poem::Route) -> poem::Route {
    route.at("/catalog.jsonld", get(catalog))
}

#[handler]
async fn catalog(req: &Request, state: Data<&AppState>) -> Response {
    let db = state.reads.for_read(None).await;
    let coverage = match coverage(&db).await {
        Ok(coverage) => coverage,
        Err(e) => return problem::internal(&e),
    };
    let releases = match list_releases(&db).await {
        Ok(releases) => releases,
        Err(e) => return problem::internal(&e),
    };
    let body = match serde_json::to_vec_pretty(&document(&base_url(req), &coverage, &releases)) {
        Ok(body) => body,
        Err(e) => return problem::internal(&e),
    };
    respond_with_body(req, body, "application/ld+json", DEFAULT_MAX_AGE_SECONDS)
}
