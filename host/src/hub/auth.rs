//! `--auth user:pass` (HTTP Basic) and `--token T` (`Authorization: Bearer
//! T`, or `?token=T` for clients that cannot send headers: VLC, ffmpeg, an
//! `<img>` tag). Credentials are compared in constant time.

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::config::Access;

/// Who may use the hub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Everybody.
    Open,
    /// HTTP Basic; holds `base64(user:pass)` as the header carries it.
    Basic(String),
    /// A bearer token, in the header or the query.
    Token(String),
}

impl Auth {
    /// The checker for validated `--auth`/`--token` options.
    pub fn new(access: &Access) -> Auth {
        match access {
            Access::Open => Auth::Open,
            Access::Basic(user_pass) => Auth::Basic(base64(user_pass)),
            Access::Token(t) => Auth::Token(t.clone()),
        }
    }

    /// Whether a request with these headers and query may pass.
    pub fn allows(&self, headers: &HeaderMap, query: Option<&str>) -> bool {
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        match self {
            Auth::Open => true,
            Auth::Basic(expected) => authorization
                .and_then(|a| a.strip_prefix("Basic "))
                .is_some_and(|given| ct_eq(given.trim().as_bytes(), expected.as_bytes())),
            Auth::Token(expected) => {
                let in_header = authorization
                    .and_then(|a| a.strip_prefix("Bearer "))
                    .is_some_and(|given| ct_eq(given.trim().as_bytes(), expected.as_bytes()));
                let in_query = query
                    .into_iter()
                    .flat_map(|q| q.split('&'))
                    .filter_map(|kv| kv.strip_prefix("token="))
                    .any(|given| ct_eq(&percent_decode(given), expected.as_bytes()));
                in_header || in_query
            }
        }
    }

    /// The query to append to the pages' own links: `?token=T` when the
    /// request carried the token there, so assets load without headers.
    pub fn page_query(&self, query: Option<&str>) -> String {
        match (self, query) {
            (Auth::Token(t), Some(q)) if q.split('&').any(|kv| kv.starts_with("token=")) => {
                format!("?token={t}")
            }
            _ => String::new(),
        }
    }

    /// The 401 answer.
    pub fn challenge(&self) -> Response {
        let how = match self {
            Auth::Basic(_) => "Basic realm=\"img-stream hub\"",
            _ => "Bearer realm=\"img-stream hub\"",
        };
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, how)],
            "credentials required\n",
        )
            .into_response()
    }
}

/// Compares in time that depends on the lengths only, not on where the
/// first difference is.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= (x ^ y) as u64;
    }
    // Keeps the loop from being cut short by the optimiser.
    std::hint::black_box(diff) == 0
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).and_then(|&c| hex(c)),
            b.get(i + 2).and_then(|&c| hex(c)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Standard base64 with padding (RFC 4648), for the Basic credential.
fn base64(s: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in s.as_bytes().chunks(3) {
        let n = (c[0] as u32) << 16
            | (c.get(1).copied().unwrap_or(0) as u32) << 8
            | c.get(2).copied().unwrap_or(0) as u32;
        for k in 0..4 {
            if k <= c.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, auth.parse().unwrap());
        h
    }

    #[test]
    fn basic_and_token() {
        assert_eq!(
            base64("Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64("ab:c"), "YWI6Yw==");
        let a = Auth::new(&Access::Basic("Aladdin:open sesame".into()));
        assert!(a.allows(&headers("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), None));
        assert!(!a.allows(&headers("Basic QWxhZGRpbjpvcGVuIHNlc2FtZR=="), None));
        assert!(!a.allows(&HeaderMap::new(), Some("token=x")));
        let t = Auth::new(&Access::Token("s3cr.t".into()));
        assert!(t.allows(&headers("Bearer s3cr.t"), None));
        assert!(t.allows(&HeaderMap::new(), Some("a=1&token=s3cr%2Et")));
        assert!(!t.allows(&HeaderMap::new(), Some("token=s3cr")));
        assert!(!t.allows(&HeaderMap::new(), None));
        assert!(Auth::open_allows_all());
        assert!(!ct_eq(b"abc", b"abcd") && ct_eq(b"", b"") && !ct_eq(b"abd", b"abc"));
    }

    impl Auth {
        fn open_allows_all() -> bool {
            Auth::Open.allows(&HeaderMap::new(), None)
        }
    }
}
