//! Who may call what. Two bearer tokens, read from environment variables (mounted from a
//! Secret), never from the config file: one for reads (API, dashboard, metrics) and one for the
//! intake (audit webhook, log intake). Clients on a loopback address read without a token unless
//! the config says otherwise (`kubectl port-forward` arrives on loopback); the intake needs its
//! token from anywhere but loopback, and without a configured token it refuses every client that
//! is not on loopback, so it never runs open on a reachable address.
//!
//! The browser dashboard cannot send an `Authorization` header, so `POST /login` with the read
//! token sets it as an HttpOnly, SameSite=Strict cookie.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use ring::digest;
use serde::Deserialize;
use tollgate_core::service::ServeAuth;

use super::App;

/// The cookie the dashboard keeps the read token in.
const COOKIE: &str = "tollgate_token";

/// The configured tokens and what loopback clients may do without one.
#[derive(Debug, Clone)]
pub struct Tokens {
    read: Option<String>,
    intake: Option<String>,
    open_reads_on_loopback: bool,
    open_intake_on_loopback: bool,
}

impl Tokens {
    /// Reads the tokens from the variables the config names.
    ///
    /// # Errors
    /// A token variable set to an empty or too short value (a typo, not a choice).
    pub fn from_env(auth: &ServeAuth, _listen: SocketAddr) -> anyhow::Result<Tokens> {
        let read = |name: &str| -> anyhow::Result<Option<String>> {
            match std::env::var(name) {
                Ok(value) if value.trim().len() >= 16 => Ok(Some(value.trim().to_owned())),
                Ok(_) => anyhow::bail!(
                    "{name} is set but shorter than 16 characters; use a long random token \
                     (`openssl rand -hex 32`)"
                ),
                Err(_) => Ok(None),
            }
        };
        Ok(Tokens {
            read: read(auth.read_env())?,
            intake: read(auth.intake_env())?,
            open_reads_on_loopback: auth.open_reads_on_loopback.unwrap_or(true),
            open_intake_on_loopback: auth.open_intake_on_loopback.unwrap_or(false),
        })
    }

    /// Tokens for tests.
    #[cfg(test)]
    pub fn new(read: Option<&str>, intake: Option<&str>) -> Tokens {
        Tokens {
            read: read.map(str::to_owned),
            intake: intake.map(str::to_owned),
            open_reads_on_loopback: true,
            open_intake_on_loopback: false,
        }
    }

    /// What an operator should know at start.
    pub fn warnings(&self, listen: SocketAddr) -> Vec<String> {
        let mut warnings = Vec::new();
        if !listen.ip().is_loopback() {
            if self.intake.is_none() {
                warnings.push(format!(
                    "no intake token (TOLLGATE_INTAKE_TOKEN): the audit and log intake refuse \
                     every client not on loopback ({listen} is reachable)"
                ));
            }
            if self.read.is_none() {
                warnings.push(
                    "no read token (TOLLGATE_READ_TOKEN): the API, dashboard and metrics answer \
                     only loopback clients"
                        .to_owned(),
                );
            }
        }
        warnings
    }

    fn allows_read(&self, peer: SocketAddr, presented: Option<&str>) -> bool {
        (self.open_reads_on_loopback && peer.ip().is_loopback())
            || matches(self.read.as_deref(), presented)
    }

    fn allows_intake(&self, peer: SocketAddr, presented: Option<&str>) -> bool {
        (self.open_intake_on_loopback && peer.ip().is_loopback())
            || matches(self.intake.as_deref(), presented)
    }
}

/// Whether the presented token is the expected one, false when no token is configured. Both
/// are hashed first and the digests compared without an early exit, so the time taken says
/// nothing about how much of a guess was right.
fn matches(expected: Option<&str>, presented: Option<&str>) -> bool {
    match (expected, presented) {
        (Some(expected), Some(presented)) => {
            let a = digest::digest(&digest::SHA256, expected.as_bytes());
            let b = digest::digest(&digest::SHA256, presented.as_bytes());
            a.as_ref()
                .iter()
                .zip(b.as_ref())
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0
        }
        _ => false,
    }
}

/// The bearer token of a request, or the dashboard cookie.
fn presented(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(token) = value.strip_prefix("Bearer ")
    {
        return Some(token.trim());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("tollgate_token="))
}

fn peer(request: &Request) -> Option<SocketAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0)
}

/// Middleware for the intake routes.
pub async fn require_intake(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let allowed = peer(&request).is_some_and(|p| {
        let token = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        app.tokens.allows_intake(p, token)
    });
    if allowed {
        next.run(request).await
    } else {
        app.metrics.refused("intake");
        unauthorized("the intake needs `Authorization: Bearer <intake token>`")
    }
}

/// Middleware for the read routes (API, dashboard, metrics).
pub async fn require_read(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let allowed =
        peer(&request).is_some_and(|p| app.tokens.allows_read(p, presented(request.headers())));
    if allowed {
        return next.run(request).await;
    }
    app.metrics.refused("read");
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        (
            StatusCode::UNAUTHORIZED,
            axum::response::Html(super::dashboard::login_page()),
        )
            .into_response()
    } else {
        unauthorized("reads need `Authorization: Bearer <read token>`")
    }
}

fn unauthorized(message: &'static str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        axum::Json(serde_json::json!({"error": message})),
    )
        .into_response()
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct Login {
    token: String,
}

/// `POST /login`: a correct read token becomes a session cookie.
pub async fn login(State(app): State<Arc<App>>, Form(form): Form<Login>) -> Response {
    if !matches(app.tokens.read.as_deref(), Some(form.token.trim())) {
        app.metrics.refused("login");
        return (
            StatusCode::UNAUTHORIZED,
            axum::response::Html(super::dashboard::login_page()),
        )
            .into_response();
    }
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200",
        form.token.trim()
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_reads_are_open_and_the_intake_is_not() {
        let tokens = Tokens::new(None, Some("intake-token-0123456789"));
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "10.0.0.7:5000".parse().unwrap();
        assert!(tokens.allows_read(local, None));
        assert!(!tokens.allows_read(remote, None));
        assert!(!tokens.allows_read(remote, Some("")));
        assert!(!tokens.allows_intake(local, None));
        assert!(tokens.allows_intake(remote, Some("intake-token-0123456789")));
        assert!(!tokens.allows_intake(remote, Some("intake-token-012345678")));
    }

    #[test]
    fn the_cookie_or_the_header_carries_the_token() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=b; tollgate_token=xyz".parse().unwrap());
        assert_eq!(presented(&headers), Some("xyz"));
        headers.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(presented(&headers), Some("abc"));
    }

    #[test]
    fn without_a_token_nothing_matches() {
        assert!(!matches(None, Some("anything")));
        assert!(!matches(Some("a-token"), None));
    }
}
