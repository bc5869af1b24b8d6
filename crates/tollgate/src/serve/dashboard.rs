//! The dashboard: server-rendered pages (askama), one CSS and one small JS file embedded in the
//! binary, no external fetches.

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::App;

/// The dashboard's pages (the read middleware is added by the caller).
pub fn routes() -> Router<Arc<App>> {
    Router::new()
}

/// The static assets, served without a token (they hold no data).
pub fn assets() -> Router<Arc<App>> {
    Router::new().route(
        "/assets/style.css",
        get(|| async { ([(header::CONTENT_TYPE, "text/css")], "").into_response() }),
    )
}

/// The page asking for the read token.
pub fn login_page() -> String {
    String::from(
        "<!doctype html><title>Tollgate</title><form method=post action=/login><input name=token type=password><button>Sign in</button></form>",
    )
}
