//! What handlers take from a request: cookies, the CSRF token, the logged-in user, the client's
//! address; and where to go after logging in.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::{Svc, WebError, WebResult, csrf_cookie, session_cookie};
use crate::auth::{random_token, same_secret, sha256_hex};
use crate::model::*;
use crate::service::Service;

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

pub fn set_cookie(svc: &Service, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if svc.secure_cookies {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The request's CSRF token. With a session it is bound to it: an HMAC of the session cookie's
/// secret under the service's key, which nobody without that cookie can compute (a planted
/// cookie does not help). Before login (the login and reset forms, a rating page) it is a
/// random value in a cookie, submitted again with the form (double submit), or a fresh one to
/// set with the response.
#[derive(Debug, Clone)]
pub struct Csrf {
    pub token: String,
    fresh: bool,
    /// Set on the page's response when the token is new (the cookie's name).
    cookie: Option<&'static str>,
}

impl FromRequestParts<Svc> for Csrf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, svc: &Svc) -> Result<Self, Self::Rejection> {
        if let Some(session) = cookie(&parts.headers, session_cookie(svc)).filter(|s| !s.is_empty()) {
            return Ok(Csrf { token: svc.session_csrf(&session), fresh: false, cookie: None });
        }
        let name = csrf_cookie(svc);
        Ok(match cookie(&parts.headers, name).filter(|t| t.len() >= 20) {
            Some(token) => Csrf { token, fresh: false, cookie: None },
            None => Csrf { token: random_token(24), fresh: true, cookie: Some(name) },
        })
    }
}

impl Csrf {
    /// Checks a submitted token against the session (or the cookie).
    pub fn check(&self, submitted: Option<&str>) -> WebResult<()> {
        match submitted {
            Some(s) if !self.fresh && same_secret(s, &self.token) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }

    /// A page with a form: sets the cookie when it is new.
    pub fn page(&self, svc: &Service, html: String) -> Response {
        let mut resp = Html(html).into_response();
        if let (true, Some(name)) = (self.fresh, self.cookie) {
            resp.headers_mut().append(header::SET_COOKIE, set_cookie(svc, name, &self.token, None));
        }
        no_store(&mut resp);
        resp
    }
}

pub fn no_store(resp: &mut Response) {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The logged-in user, if any. A session ends 7 days after login, or after 2 hours without a
/// request (each request moves that on; the store is written at most every few minutes).
pub async fn current_user(svc: &Service, headers: &HeaderMap) -> WebResult<Option<User>> {
    let Some(secret) = cookie(headers, session_cookie(svc)) else { return Ok(None) };
    let now = svc.clock.now();
    let Some(mut session) = svc.store.session(&sha256_hex(&secret), now).await? else { return Ok(None) };
    if now - session.last_seen > crate::service::SESSION_IDLE {
        svc.store.delete_session(&session.id_hash).await?;
        return Ok(None);
    }
    if now - session.last_seen > chrono::Duration::minutes(5) {
        session.last_seen = now;
        svc.store.put_session(&session).await?;
    }
    Ok(svc.store.user(&session.user_id).await?.filter(|u| u.active))
}

/// The logged-in user, or a redirect to the login page that comes back to `back`.
pub async fn require_user(svc: &Service, headers: &HeaderMap, back: &str) -> WebResult<User> {
    current_user(svc, headers).await?.ok_or_else(|| WebError::Login(back.to_owned()))
}

/// The client's address, for throttling. Served directly (`helpdesk serve`), it is the TCP
/// peer; any forwarding header is ignored (a client could write anything there). Under Lambda
/// there is no peer: the service is reached only through CloudFront (the origin secret is
/// checked first), whose viewer-request function (`ViewerAddressFunction` in
/// `infra/template.yaml`) writes the address it saw into `x-helpdesk-viewer-ip`, replacing
/// whatever a client sent under that name; `CloudFront-Viewer-Address` (`ip:port`, also set
/// by CloudFront) is the fallback. IPv6 clients are grouped by their /64: one subscriber line
/// gets a whole /64 and can pick any address in it.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

/// The header CloudFront's viewer-request function fills with the viewer's address.
pub const VIEWER_IP_HEADER: &str = "x-helpdesk-viewer-ip";

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let ours = || parts.headers.get(VIEWER_IP_HEADER)?.to_str().ok()?.trim().parse::<std::net::IpAddr>().ok();
        let viewer = || {
            let v = parts.headers.get("cloudfront-viewer-address")?.to_str().ok()?;
            let (ip, _port) = v.trim().rsplit_once(':')?;
            ip.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().ok()
        };
        // Without that header (an origin request policy that does not forward it), the event's
        // source address: CloudFront's edge, coarser, but never one bucket for everybody.
        let source = || match parts.extensions.get::<lambda_http::request::RequestContext>() {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => {
                ctx.http.source_ip.as_deref()?.parse().ok()
            }
            _ => None,
        };
        Ok(ClientIp(
            peer.or_else(ours).or_else(viewer).or_else(source).map(throttle_key).unwrap_or_else(|| "unknown".into()),
        ))
    }
}

/// The address as throttling counts it: IPv4 as is, IPv6 by its /64 network.
pub fn throttle_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Where to go after logging in: only a path on this site. Browsers drop tabs and newlines
/// from a URL and read a backslash as a slash, so a tab or a backslash after the first slash
/// would lead to another site: anything with a control character, whitespace or a backslash,
/// and anything that is not a plain absolute path (`//host`, `http:`), goes to the portal.
pub fn safe_next(next: Option<&str>) -> String {
    let ok = |n: &str| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\')
            && n.len() <= 2000
    };
    match next {
        Some(n) if ok(n) => n.to_owned(),
        _ => "/portal".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_only_ever_a_path_here() {
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "evil.example",
            "/\u{0}x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/portal", "{bad:?}");
        }
        for good in ["/portal", "/portal/tickets/INC-2026-00001?created=1", "/agent?state=open&level=2"] {
            assert_eq!(safe_next(Some(good)), good);
        }
    }

    async fn client_ip(headers: &[(&str, &str)]) -> String {
        let mut req = axum::http::Request::builder().uri("/login");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let (mut parts, ()) = req.body(()).expect("request").into_parts();
        let ClientIp(ip) = ClientIp::from_request_parts(&mut parts, &()).await.expect("infallible");
        ip
    }

    #[tokio::test]
    async fn behind_cloudfront_the_viewer_address_counts_not_x_forwarded_for() {
        // What a client writes itself is ignored; what CloudFront saw counts.
        let ip = client_ip(&[("x-forwarded-for", "203.0.113.9"), ("cloudfront-viewer-address", "198.51.100.10:46532")])
            .await;
        assert_eq!(ip, "198.51.100.10");
        assert_eq!(client_ip(&[("x-forwarded-for", "203.0.113.9")]).await, "unknown");
        let v6 = client_ip(&[("cloudfront-viewer-address", "2406:2d40:728d:fa10::c4a:42838")]).await;
        assert_eq!(v6, "2406:2d40:728d:fa10::/64");
        // The header our CloudFront function writes wins over both.
        let ip = client_ip(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("cloudfront-viewer-address", "198.51.100.10:46532"),
            ("x-helpdesk-viewer-ip", "192.0.2.77"),
        ])
        .await;
        assert_eq!(ip, "192.0.2.77");
        assert_eq!(
            client_ip(&[("x-helpdesk-viewer-ip", "2406:2d40:728d:fa10::c4a")]).await,
            "2406:2d40:728d:fa10::/64"
        );
    }

    #[test]
    fn throttling_groups_ipv6_by_64() {
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: std::net::IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: std::net::IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(throttle_key(a), throttle_key(b));
        assert_ne!(throttle_key(a), throttle_key(c));
        assert_eq!(throttle_key("198.51.100.7".parse().unwrap()), "198.51.100.7");
        assert_eq!(throttle_key("::ffff:198.51.100.7".parse().unwrap()), "198.51.100.7");
    }
}
