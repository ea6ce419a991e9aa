//! `GET /graphql?query=…`: the query string as a GraphQL request (queries only, so
//! shared caches may keep the answer).

use super::*;

/// `GET /graphql` parameters, named as GraphQL over HTTP names them; `variables` and
/// `extensions` are JSON texts.
#[derive(serde::Deserialize)]
struct GetParams {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

fn request_of_query_string(query: &str) -> Result<async_graphql::Request, String> {
    let params: GetParams = serde_urlencoded::from_str(query).map_err(|e| e.to_string())?;
    let json = |name: &str, text: Option<String>| -> Result<serde_json::Value, String> {
        match text {
            None => Ok(json!({})),
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| format!("`{name}` is not JSON: {e}"))
            }
        }
    };
    let variables = json("variables", params.variables)?;
    let extensions = json("extensions", params.extensions)?;
    let mut request = async_graphql::Request::new(params.query)
        .variables(async_graphql::Variables::from_json(variables));
    request.operation_name = params.operation_name;
    request.extensions = serde_json::from_value(extensions)
        .map_err(|e| format!("`extensions` must be a JSON object: {e}"))?;
    Ok(request)
}

#[handler]
pub async fn graphql_get(req: &Request, state: Data<&AppState>) -> Response {
    let query = req.uri().query().unwrap_or_default();
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if query.is_empty() && wants_html {
        return crate::graphiql::page().into_response();
    }
    let request = match request_of_query_string(query) {
        Ok(request) => request,
        Err(err) => {
            return graphql_error(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("GET /graphql needs ?query=… (or a persisted query's hash): {err}"),
            )
        }
    };
    let caller = match caller_of(req, &state).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let outcome = run_operation(&state, &caller, request, Method::Get).await;
    single_response(outcome, &caller, Method::Get, &state.config.limits)
}
