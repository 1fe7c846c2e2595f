//! Portcullis as an OpenID provider, over HTTP against `portcullis serve` on both stores: the
//! authorization-code flow with PKCE, and the refusals RFC 9700 and OpenID Connect Core ask for.
//! (The whole flow through the hosted login in a browser, with a certified client library, is in
//! `tests/browser/test_openid.py`.)

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use portcullis_tests::{Backend, Server, on_both_stores};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const REDIRECT: &str = "https://app.example.com/callback";
const AFTER_LOGOUT: &str = "https://app.example.com/signed-out";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A client that never follows redirects: the tests read each `Location` themselves.
fn browser() -> reqwest::Client {
    portcullis_tests::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct Registered {
    id: String,
    secret: Option<String>,
}

struct Provider {
    server: Server,
    http: reqwest::Client,
    admin: String,
}

impl Provider {
    async fn start(backend: Backend) -> Provider {
        let server = Server::start(backend).await;
        let (_, admin) = server.admin().await;
        Provider {
            server,
            http: browser(),
            admin,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.api.url)
    }

    async fn register(&self, public: bool) -> Registered {
        let reply = self
            .server
            .api
            .post_with_token(
                "/v1/admin/clients",
                &self.admin,
                json!({
                    "name": "Annotation tool",
                    "redirect_uris": [REDIRECT],
                    "post_logout_redirect_uris": [AFTER_LOGOUT],
                    "public": public,
                }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        assert_eq!(
            reply.body["type"],
            if public { "public" } else { "confidential" }
        );
        Registered {
            id: reply.body["client_id"].as_str().unwrap().to_owned(),
            secret: reply.body["client_secret"].as_str().map(str::to_owned),
        }
    }

    /// A person signed in on the hosted pages: the cookie their browser holds.
    async fn person(&self) -> (String, String) {
        let (user_id, _, token) = self.server.member("oidc").await;
        (user_id, format!("pc_at={token}"))
    }

    /// `GET /oauth2/authorize` with `params`, as the browser with `cookie` sends it.
    async fn authorize(&self, cookie: Option<&str>, params: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.http.get(self.url("/oauth2/authorize")).query(params);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    /// Authorizes `client` for the person with `cookie` and returns the code.
    async fn code(&self, client: &Registered, cookie: &str, extra: &[(&str, &str)]) -> String {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "openid email profile"),
            ("state", "st-1"),
        ];
        params.extend_from_slice(extra);
        let response = self.authorize(Some(cookie), &params).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let back = location(&response);
        assert!(back.starts_with(REDIRECT), "{back}");
        assert_eq!(query(&back, "state").as_deref(), Some("st-1"));
        assert_eq!(
            query(&back, "iss").as_deref(),
            Some(self.server.api.url.as_str())
        );
        query(&back, "code").expect("a code")
    }

    /// `POST /oauth2/token` with `form`, authenticated as `client` with `client_secret_basic`
    /// when it has a secret.
    async fn token(&self, client: &Registered, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut request = self.http.post(self.url("/oauth2/token")).form(form);
        match &client.secret {
            Some(secret) => {
                let basic = STANDARD.encode(format!("{}:{secret}", client.id));
                request = request.header(AUTHORIZATION, format!("Basic {basic}"));
            }
            None => {
                let mut with_id = form.to_vec();
                with_id.push(("client_id", client.id.as_str()));
                request = self.http.post(self.url("/oauth2/token")).form(&with_id);
            }
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        assert_eq!(
            response.headers()["cache-control"],
            "no-store",
            "token responses are never cached"
        );
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn redeem(
        &self,
        client: &Registered,
        code: &str,
        verifier: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier));
        }
        self.token(client, &form).await
    }

    async fn userinfo(&self, access_token: &str) -> reqwest::Response {
        self.http
            .get(self.url("/oauth2/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }

    /// The claims of an ID token, after checking its signature against the JWKS, its issuer and
    /// its audience.
    async fn id_claims(&self, id_token: &str, client: &Registered) -> Value {
        let jwks: jsonwebtoken::jwk::JwkSet = self
            .http
            .get(self.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // Portcullis' own RS256 (ring) is jsonwebtoken's only backend in this build too.
        portcullis::jwt_crypto::install();
        let header = jsonwebtoken::decode_header(id_token).unwrap();
        let jwk = jwks
            .find(header.kid.as_deref().unwrap())
            .expect("kid in JWKS");
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_issuer(&[&self.server.api.url]);
        validation.set_audience(&[&client.id]);
        jsonwebtoken::decode::<Value>(id_token, &key, &validation)
            .expect("a valid ID token")
            .claims
    }
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn query(uri: &str, name: &str) -> Option<String> {
    url::Url::parse(uri)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn the_code_flow_gives_verified_tokens_userinfo_refresh_and_revocation(backend: Backend) {
    let p = Provider::start(backend).await;
    let client = p.register(false).await;
    let (user_id, cookie) = p.person().await;
    let code = p
        .code(
            &client,
            &cookie,
            &[
                ("nonce", "n-0S6_WzA2Mj"),
                ("code_challenge", &challenge(VERIFIER)),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;

    let (status, tokens) = p.redeem(&client, &code, Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid profile email");
    let access = tokens["access_token"].as_str().unwrap();
    let claims = p
        .id_claims(tokens["id_token"].as_str().unwrap(), &client)
        .await;
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj", "the nonce is echoed");
    let half = &Sha256::digest(access.as_bytes())[..16];
    assert_eq!(claims["at_hash"], URL_SAFE_NO_PAD.encode(half));
    assert!(claims["auth_time"].as_i64().unwrap() <= claims["iat"].as_i64().unwrap());
    assert!(claims["sid"].is_string());
    let page_token = cookie.trim_start_matches("pc_at=");
    let me = p.server.api.get_with_token("/v1/me", page_token).await.body;
    assert_eq!(claims["email"], me["email"]);
    assert_eq!(claims["email_verified"], me["email_verified"]);
    assert_eq!(claims["preferred_username"], me["username"]);

    // The person sees the app's session among their own, and by the app's name.
    let sessions = p
        .server
        .api
        .get_with_token("/v1/sessions", page_token)
        .await
        .body;
    let app_session = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["client_id"] == client.id.as_str())
        .expect("the app's session is listed");
    assert_eq!(app_session["session_id"], claims["sid"]);
    assert_eq!(app_session["client_name"], "Annotation tool");

    let response = p.userinfo(access).await;
    assert_eq!(response.status(), StatusCode::OK);
    let info: Value = response.json().await.unwrap();
    assert_eq!(info["sub"], user_id.as_str());
    assert_eq!(info["email"], claims["email"]);

    // The client's tokens are not the /v1 API's, and the other way round.
    let me = p.server.api.get_with_token("/v1/me", access).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let v1 = p
        .server
        .api
        .post("/v1/token/refresh", json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(v1.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        p.userinfo(page_token).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let (status, refreshed) = p
        .token(
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_ne!(refreshed["refresh_token"], tokens["refresh_token"]);
    let again = p
        .id_claims(refreshed["id_token"].as_str().unwrap(), &client)
        .await;
    assert_eq!(again["auth_time"], claims["auth_time"]);
    assert_eq!(again["sid"], claims["sid"]);

    // Another client can't use this client's refresh token, and it is not revoked by trying.
    let other = p.register(false).await;
    let next = refreshed["refresh_token"].as_str().unwrap();
    let (status, body) = p
        .token(
            &other,
            &[("grant_type", "refresh_token"), ("refresh_token", next)],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    // Revocation (RFC 7009) ends the session: the access token stops working too.
    let access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(p.userinfo(access).await.status(), StatusCode::OK);
    let basic = STANDARD.encode(format!("{}:{}", client.id, client.secret.as_ref().unwrap()));
    let response = p
        .http
        .post(p.url("/oauth2/revoke"))
        .header(AUTHORIZATION, format!("Basic {basic}"))
        .form(&[("token", next), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = p.userinfo(access).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()[WWW_AUTHENTICATE],
        "Bearer error=\"invalid_token\""
    );
    let (status, body) = p
        .token(
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", next)],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

async fn a_replayed_code_is_refused_and_revokes_what_it_gave(backend: Backend) {
    let p = Provider::start(backend).await;
    let client = p.register(false).await;
    let (_, cookie) = p.person().await;
    let code = p.code(&client, &cookie, &[]).await;
    let (status, tokens) = p.redeem(&client, &code, None).await;
    assert_eq!(status, StatusCode::OK);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(p.userinfo(access).await.status(), StatusCode::OK);

    let (status, body) = p.redeem(&client, &code, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(
        p.userinfo(access).await.status(),
        StatusCode::UNAUTHORIZED,
        "the replay revoked the first redemption's tokens"
    );
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _) = p
        .token(
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn pkce_binds_the_code_to_its_verifier(backend: Backend) {
    let p = Provider::start(backend).await;
    let public = p.register(true).await;
    let (_, cookie) = p.person().await;

    // A public client must send a challenge.
    let response = p
        .authorize(
            Some(&cookie),
            &[
                ("response_type", "code"),
                ("client_id", &public.id),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "s"),
            ],
        )
        .await;
    let back = location(&response);
    assert_eq!(query(&back, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query(&back, "state").as_deref(), Some("s"));
    // Only S256.
    let response = p
        .authorize(
            Some(&cookie),
            &[
                ("response_type", "code"),
                ("client_id", &public.id),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("code_challenge", VERIFIER),
                ("code_challenge_method", "plain"),
            ],
        )
        .await;
    assert_eq!(
        query(&location(&response), "error").as_deref(),
        Some("invalid_request")
    );

    let with_pkce = [
        ("code_challenge", challenge(VERIFIER)),
        ("code_challenge_method", "S256".to_owned()),
    ];
    let extra: Vec<(&str, &str)> = with_pkce.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // No verifier, then a wrong one: refused, and the code is used up by the wrong guess.
    let code = p.code(&public, &cookie, &extra).await;
    let (status, body) = p.redeem(&public, &code, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let code = p.code(&public, &cookie, &extra).await;
    let wrong = "x".repeat(43);
    let (status, body) = p.redeem(&public, &code, Some(&wrong)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, _) = p.redeem(&public, &code, Some(VERIFIER)).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a wrong guess costs the code"
    );

    // The right one works, for a public client with no secret at all.
    let code = p.code(&public, &cookie, &extra).await;
    let (status, tokens) = p.redeem(&public, &code, Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");

    // A verifier for a code issued without a challenge is a downgrade: refused.
    let confidential = p.register(false).await;
    let code = p.code(&confidential, &cookie, &[]).await;
    let (status, body) = p.redeem(&confidential, &code, Some(VERIFIER)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

async fn codes_belong_to_one_client_one_redirect_uri_and_one_minute(backend: Backend) {
    let p = Provider::start(backend).await;
    let mine = p.register(false).await;
    let theirs = p.register(false).await;
    let (_, cookie) = p.person().await;

    let code = p.code(&mine, &cookie, &[]).await;
    let (status, body) = p.redeem(&theirs, &code, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, _) = p.redeem(&mine, &code, None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another client's attempt leaves the code usable"
    );

    let code = p.code(&mine, &cookie, &[]).await;
    let (status, body) = p
        .token(
            &mine,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://app.example.com/other"),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    let code = p.code(&mine, &cookie, &[]).await;
    p.server.clock.advance(Duration::from_secs(61));
    let (status, body) = p.redeem(&mine, &code, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "codes live 60 seconds"
    );
}

async fn clients_authenticate_with_their_secret(backend: Backend) {
    let p = Provider::start(backend).await;
    let client = p.register(false).await;
    let (_, cookie) = p.person().await;
    let code = p.code(&client, &cookie, &[]).await;

    let wrong = Registered {
        id: client.id.clone(),
        secret: Some("not-the-secret".into()),
    };
    let response = p
        .http
        .post(p.url("/oauth2/token"))
        .basic_auth(&wrong.id, wrong.secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key(WWW_AUTHENTICATE));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    // Without any authentication, a confidential client is refused too.
    let response = p
        .http
        .post(p.url("/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", client.id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // client_secret_post works as well as client_secret_basic, and the code survived the
    // failed attempts.
    let response = p
        .http
        .post(p.url("/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", client.id.as_str()),
            ("client_secret", client.secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // The token endpoint speaks forms, and names what is wrong.
    let response = p
        .http
        .post(p.url("/oauth2/token"))
        .basic_auth(&client.id, client.secret.as_deref())
        .header(CONTENT_TYPE, "application/json")
        .body(r#"{"grant_type":"authorization_code"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    let (status, body) = p.token(&client, &[("grant_type", "password")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
}

async fn bad_authorization_requests_are_never_redirected_to_strangers(backend: Backend) {
    let p = Provider::start(backend).await;
    let client = p.register(false).await;
    let (_, cookie) = p.person().await;

    for (client_id, redirect_uri) in [
        ("no-such-client", REDIRECT),
        (client.id.as_str(), "https://evil.example.com/callback"),
        (client.id.as_str(), "https://app.example.com/callback/extra"),
        (client.id.as_str(), ""),
    ] {
        let response = p
            .authorize(
                Some(&cookie),
                &[
                    ("response_type", "code"),
                    ("client_id", client_id),
                    ("redirect_uri", redirect_uri),
                    ("scope", "openid"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{redirect_uri}");
        assert!(response.headers().get(LOCATION).is_none());
        let page = response.text().await.unwrap();
        assert!(page.contains("<h1>"), "an error page: {page}");
    }

    // Past those two checks, errors go back to the client, with its state.
    for (name, value, error) in [
        ("response_type", "token", "unsupported_response_type"),
        ("scope", "email", "invalid_scope"),
        (
            "request",
            "eyJhbGciOiJub25lIn0.e30.",
            "request_not_supported",
        ),
        ("prompt", "none login", "invalid_request"),
    ] {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "s-2"),
        ];
        params.retain(|(k, _)| *k != name);
        params.push((name, value));
        let response = p.authorize(Some(&cookie), &params).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{name}={value}");
        let back = location(&response);
        assert!(back.starts_with(REDIRECT), "{back}");
        assert_eq!(
            query(&back, "error").as_deref(),
            Some(error),
            "{name}={value}"
        );
        assert_eq!(query(&back, "state").as_deref(), Some("s-2"));
    }
}

async fn sign_in_comes_first_and_prompt_none_does_not_wait_for_it(backend: Backend) {
    let p = Provider::start(backend).await;
    let client = p.register(false).await;
    let params = [
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "s-3"),
        ("login_hint", "ada@example.com"),
    ];

    let response = p.authorize(None, &params).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?login_hint=ada%40example.com");
    let set_cookies: Vec<&str> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        set_cookies
            .iter()
            .any(|c| c.starts_with("pc_authz=") && c.contains("HttpOnly")),
        "the request waits in an HttpOnly cookie: {set_cookies:?}"
    );

    let mut none = params.to_vec();
    none.push(("prompt", "none"));
    let response = p.authorize(None, &none).await;
    let back = location(&response);
    assert!(back.starts_with(REDIRECT));
    assert_eq!(query(&back, "error").as_deref(), Some("login_required"));
    assert_eq!(query(&back, "state").as_deref(), Some("s-3"));

    // Signed in: prompt=login and an exceeded max_age still send the person to sign in again.
    let (_, cookie) = p.person().await;
    p.server.clock.advance(Duration::from_secs(120));
    for (name, value) in [("prompt", "login"), ("max_age", "60")] {
        let mut again = params.to_vec();
        again.push((name, value));
        let response = p.authorize(Some(&cookie), &again).await;
        assert!(
            location(&response).starts_with("/login"),
            "{name}={value}: {}",
            location(&response)
        );
    }
    let mut recent_enough = params.to_vec();
    recent_enough.push(("max_age", "3600"));
    let response = p.authorize(Some(&cookie), &recent_enough).await;
    assert!(query(&location(&response), "code").is_some());
}

async fn rp_initiated_logout_ends_both_sessions_and_returns_only_where_registered(
    backend: Backend,
) {
    let p = Provider::start(backend).await;
    let client = p.register(false).await;
    let (_, cookie) = p.person().await;
    let code = p.code(&client, &cookie, &[]).await;
    let (_, tokens) = p.redeem(&client, &code, None).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let access = tokens["access_token"].as_str().unwrap();

    let logout = |params: Vec<(&'static str, String)>, cookie: Option<String>| {
        let mut request = p.http.get(p.url("/oauth2/logout")).query(&params);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send()
    };

    // An unregistered return address: nothing happens, nothing is redirected to.
    let response = logout(
        vec![
            ("id_token_hint", id_token.to_owned()),
            (
                "post_logout_redirect_uri",
                "https://evil.example.com/".into(),
            ),
        ],
        Some(cookie.clone()),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(LOCATION).is_none());
    assert_eq!(p.userinfo(access).await.status(), StatusCode::OK);

    // No hint: the person is asked, and nothing ends yet.
    let response = logout(vec![], Some(cookie.clone())).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("/oauth2/logout/confirm")
    );
    let page_token = cookie.trim_start_matches("pc_at=");
    assert_eq!(
        p.server
            .api
            .get_with_token("/v1/me", page_token)
            .await
            .status,
        StatusCode::OK
    );

    // With the hint and a registered address: both sessions end and the person goes back.
    let response = logout(
        vec![
            ("id_token_hint", id_token.to_owned()),
            ("post_logout_redirect_uri", AFTER_LOGOUT.into()),
            ("state", "bye-1".into()),
        ],
        Some(cookie.clone()),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("{AFTER_LOGOUT}?state=bye-1"));
    assert_eq!(p.userinfo(access).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        p.server
            .api
            .get_with_token("/v1/me", page_token)
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "the hosted pages' session ended too"
    );
}

async fn clients_are_managed_by_admins_only(backend: Backend) {
    let p = Provider::start(backend).await;
    let (_, _, member) = p.server.member("not-admin").await;
    let reply = p
        .server
        .api
        .post_with_token(
            "/v1/admin/clients",
            &member,
            json!({ "name": "x", "redirect_uris": [REDIRECT] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    let reply = p
        .server
        .api
        .post_with_token(
            "/v1/admin/clients",
            &p.admin,
            json!({
                "name": "",
                "redirect_uris": ["http://app.example.com/cb", "https://ok.example.com/#f"],
                "scopes": ["email"],
                "colour": "blue",
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    for field in ["name", "redirect_uris", "scopes", "colour"] {
        assert!(!reply.errors(field).is_empty(), "{field}: {:?}", reply.body);
    }

    let client = p.register(false).await;
    let path = format!("/v1/admin/clients/{}", client.id);
    let reply = p.server.api.get_with_token(&path, &p.admin).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.get("client_secret").is_none(), "shown once only");
    let reply = p
        .server
        .api
        .patch_with_token(&path, &p.admin, json!({ "name": "Renamed" }))
        .await;
    assert_eq!(
        (reply.status, reply.body["name"].as_str()),
        (StatusCode::OK, Some("Renamed"))
    );
    let reply = p
        .server
        .api
        .get_with_token("/v1/admin/clients", &p.admin)
        .await;
    assert_eq!(reply.body["clients"].as_array().unwrap().len(), 1);

    // Deleting a client ends what it holds.
    let (_, cookie) = p.person().await;
    let code = p.code(&client, &cookie, &[]).await;
    let (_, tokens) = p.redeem(&client, &code, None).await;
    let reply = p.server.api.delete_with_token(&path, &p.admin).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        p.userinfo(tokens["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Redemptions of one code at once: one wins, and the others' replay revokes what it gave (the
/// session exists before the code names it, so no replay can miss it).
async fn concurrent_redemptions_leave_no_live_tokens(backend: Backend) {
    let p = Provider::start(backend).await;
    let client = p.register(false).await;
    let (_, cookie) = p.person().await;
    let code = p.code(&client, &cookie, &[]).await;
    let attempts: Vec<_> = (0..5).map(|_| p.redeem(&client, &code, None)).collect();
    let outcomes = futures_util::future::join_all(attempts).await;
    let won: Vec<&Value> = outcomes
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(won.len(), 1, "one redemption wins: {outcomes:?}");
    let access = won[0]["access_token"].as_str().unwrap();
    assert_eq!(
        p.userinfo(access).await.status(),
        StatusCode::UNAUTHORIZED,
        "the replays revoked the winner's tokens"
    );
}

/// An app signed in to through a sign-in made with an access key lives only as long as the key.
async fn an_access_key_sign_in_lends_the_app_no_more_than_the_key(backend: Backend) {
    let p = Provider::start(backend).await;
    let client = p.register(false).await;
    let (_, _, token) = p.server.member("keyed-app").await;
    let created = p
        .server
        .api
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": portcullis_tests::PASSWORD}),
        )
        .await;
    let key = created.body["access_key"].as_str().unwrap().to_owned();
    let opened = p
        .server
        .api
        .post(
            "/v1/login/access-key",
            json!({"access_key": key, "secret_key": created.body["secret_key"]}),
        )
        .await;
    let cookie = format!("pc_at={}", opened.body["access_token"].as_str().unwrap());
    let code = p.code(&client, &cookie, &[]).await;
    let (_, tokens) = p.redeem(&client, &code, None).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(p.userinfo(access).await.status(), StatusCode::OK);
    let reply = p
        .server
        .api
        .delete_with_token(&format!("/v1/access-keys/{key}"), &token)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(p.userinfo(access).await.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = p
        .token(
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Posted forms are answered as GETs (a cross-site POST carries no Lax cookie) without touching
/// cookies; repeated or over-long requests are refused without a redirect; after the logout
/// question, the way back to the app is a page; a public client's empty Basic secret is no
/// secret; a refresh never releases a scope the client has lost.
async fn browser_endpoints_and_client_edge_cases(backend: Backend) {
    let p = Provider::start(backend).await;
    let client = p.register(false).await;
    let (_, cookie) = p.person().await;

    let response = p
        .http
        .post(p.url("/oauth2/authorize"))
        .form(&[
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/oauth2/authorize?response_type=code&"));
    assert!(response.headers().get("set-cookie").is_none());

    let twice = format!(
        "/oauth2/authorize?response_type=code&client_id={0}&client_id={0}&redirect_uri={1}&scope=openid",
        client.id,
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let long_state = "s".repeat(1000);
    for response in [
        p.http.get(p.url(&twice)).send().await.unwrap(),
        p.authorize(
            Some(&cookie),
            &[
                ("response_type", "code"),
                ("client_id", &client.id),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", &long_state),
                ("nonce", &long_state),
                ("login_hint", &long_state),
            ],
        )
        .await,
    ] {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(LOCATION).is_none());
    }

    // The logout question answered: back to the app through a page, not a redirect.
    let csrf = "c".repeat(43);
    let response = p
        .http
        .post(p.url("/oauth2/logout/confirm"))
        .header(COOKIE, format!("{cookie}; pc_csrf={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("client_id", client.id.as_str()),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
            ("state", "s-9"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(
        page.contains(&format!("url={AFTER_LOGOUT}?state=s-9")),
        "{page}"
    );

    // A public client sending `id:` with an empty Basic secret.
    let public = p.register(true).await;
    let (_, cookie) = p.person().await;
    let code = p
        .code(
            &public,
            &cookie,
            &[
                ("code_challenge", &challenge(VERIFIER)),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    let response = p
        .http
        .post(p.url("/oauth2/token"))
        .header(
            AUTHORIZATION,
            format!("Basic {}", STANDARD.encode(format!("{}:", public.id))),
        )
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // The admin takes `email` away: the next refresh no longer releases it.
    let code = p.code(&client, &cookie, &[]).await;
    let (_, tokens) = p.redeem(&client, &code, None).await;
    assert_eq!(tokens["scope"], "openid profile email");
    let reply = p
        .server
        .api
        .patch_with_token(
            &format!("/v1/admin/clients/{}", client.id),
            &p.admin,
            json!({"scopes": ["openid", "profile"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let (status, refreshed) = p
        .token(
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(refreshed["scope"], "openid profile");
    let claims = p
        .id_claims(refreshed["id_token"].as_str().unwrap(), &client)
        .await;
    assert!(claims.get("email").is_none());
}

/// A code issued just before the person logs out everywhere (or changes or resets the password)
/// is void: it came from a sign-in that has ended.
async fn a_code_dies_with_the_sign_in_it_came_from(backend: Backend) {
    let p = Provider::start(backend).await;
    let client = p.register(false).await;
    let (_, cookie) = p.person().await;
    let code = p.code(&client, &cookie, &[]).await;
    let page_token = cookie.trim_start_matches("pc_at=");
    let reply = p
        .server
        .api
        .post_with_token("/v1/logout", page_token, json!({"scope": "global"}))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let (status, body) = p.redeem(&client, &code, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

on_both_stores!(
    the_code_flow_gives_verified_tokens_userinfo_refresh_and_revocation,
    a_replayed_code_is_refused_and_revokes_what_it_gave,
    pkce_binds_the_code_to_its_verifier,
    codes_belong_to_one_client_one_redirect_uri_and_one_minute,
    clients_authenticate_with_their_secret,
    bad_authorization_requests_are_never_redirected_to_strangers,
    sign_in_comes_first_and_prompt_none_does_not_wait_for_it,
    rp_initiated_logout_ends_both_sessions_and_returns_only_where_registered,
    clients_are_managed_by_admins_only,
    concurrent_redemptions_leave_no_live_tokens,
    an_access_key_sign_in_lends_the_app_no_more_than_the_key,
    browser_endpoints_and_client_edge_cases,
    a_code_dies_with_the_sign_in_it_came_from,
);
