//! Static files for the demo (`--static DIR` at `/`, `--static PREFIX=DIR` below a prefix),
//! served with `Cache-Control: no-store`; the longest matching prefix is tried first and a miss
//! falls through to the next mount.

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// One static directory and the URL prefix it is served under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `/` or `/something` (no trailing slash).
    pub prefix: String,
    pub dir: PathBuf,
}

impl Mount {
    /// `DIR` (served at `/`) or `PREFIX=DIR`.
    pub fn parse(arg: &str) -> Result<Mount, String> {
        let (prefix, dir) = match arg.split_once('=') {
            Some((p, d)) => (p, d),
            None => ("/", arg),
        };
        if dir.is_empty() || !prefix.starts_with('/') {
            return Err(format!("--static {arg}: expected DIR or /PREFIX=DIR"));
        }
        let trimmed = prefix.trim_end_matches('/');
        let prefix = if trimmed.is_empty() {
            "/".to_string()
        } else {
            trimmed.to_string()
        };
        Ok(Mount {
            prefix,
            dir: dir.into(),
        })
    }
}

/// Adds the mounts to the router as its fallback (API routes keep priority).
pub fn mount(router: Router, mut mounts: Vec<Mount>) -> Router {
    if mounts.is_empty() {
        return router;
    }
    mounts.sort_by_key(|m| std::cmp::Reverse(m.prefix.len()));
    let dirs: Arc<Vec<(String, ServeDir)>> = Arc::new(
        mounts
            .into_iter()
            .map(|m| (m.prefix, ServeDir::new(m.dir)))
            .collect(),
    );
    // Its own trace layer: the API router's wraps only the routes that existed when it was added.
    let files = Router::new()
        .fallback(move |req: Request| serve(dirs.clone(), req))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http());
    router.fallback_service(files)
}

async fn serve(dirs: Arc<Vec<(String, ServeDir)>>, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return ApiError::NotFound.into_response();
    }
    let path = req.uri().path();
    for (prefix, dir) in dirs.iter() {
        let rest = if prefix == "/" {
            Some(path)
        } else {
            path.strip_prefix(prefix.as_str())
                .filter(|r| r.is_empty() || r.starts_with('/'))
        };
        let Some(rest) = rest else { continue };
        let mut uri = if rest.is_empty() {
            "/".to_string()
        } else {
            rest.to_string()
        };
        if let Some(q) = req.uri().query() {
            uri.push('?');
            uri.push_str(q);
        }
        let mut inner = Request::new(Body::empty());
        *inner.method_mut() = req.method().clone();
        *inner.headers_mut() = req.headers().clone();
        match uri.parse() {
            Ok(u) => *inner.uri_mut() = u,
            Err(_) => continue,
        }
        let Ok(resp) = dir.clone().oneshot(inner).await;
        if resp.status() == StatusCode::NOT_FOUND {
            continue;
        }
        let mut resp = resp.map(Body::new);
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        // Directory redirects point below the stripped path; put the prefix back.
        if prefix != "/" {
            let moved = h
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .filter(|l| l.starts_with('/'))
                .map(|l| format!("{prefix}{l}"));
            if let Some(v) = moved.and_then(|l| HeaderValue::from_str(&l).ok()) {
                h.insert(header::LOCATION, v);
            }
        }
        return resp;
    }
    ApiError::NotFound.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mounts() {
        assert_eq!(
            Mount::parse("www").unwrap(),
            Mount {
                prefix: "/".into(),
                dir: "www".into()
            }
        );
        assert_eq!(
            Mount::parse("/pkg/=pkg").unwrap(),
            Mount {
                prefix: "/pkg".into(),
                dir: "pkg".into()
            }
        );
        assert!(Mount::parse("pkg=pkg").is_err());
        assert!(Mount::parse("/x=").is_err());
    }
}
