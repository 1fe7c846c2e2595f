//! Administration over real HTTP: roles on admin routes, the last-admin rule, user management,
//! signup modes with invitations and approval, access keys, and the audit log.

use portcullis_tests::{Backend, PASSWORD, Server, concurrently, on_both_stores, unique_email};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every admin route, with a body where it takes one.
fn admin_routes(id: &str) -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        ("GET", "/v1/admin/users".into(), None),
        ("GET", format!("/v1/admin/users/{id}"), None),
        (
            "PATCH",
            format!("/v1/admin/users/{id}"),
            Some(json!({"status": "disabled"})),
        ),
        ("DELETE", format!("/v1/admin/users/{id}"), None),
        (
            "POST",
            format!("/v1/admin/users/{id}/approve"),
            Some(json!({})),
        ),
        (
            "POST",
            format!("/v1/admin/users/{id}/unlock"),
            Some(json!({})),
        ),
        ("POST", "/v1/admin/invitations".into(), Some(json!({}))),
        ("GET", "/v1/admin/invitations".into(), None),
        (
            "DELETE",
            "/v1/admin/invitations/0123456789abcdef".into(),
            None,
        ),
        ("GET", "/v1/admin/audit".into(), None),
    ]
}

async fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> portcullis_tests::Reply {
    match method {
        "GET" => server.get_with_token(path, token).await,
        "PATCH" => {
            server
                .patch_with_token(path, token, body.unwrap_or(json!({})))
                .await
        }
        "DELETE" => server.delete_with_token(path, token).await,
        _ => {
            server
                .post_with_token(path, token, body.unwrap_or(json!({})))
                .await
        }
    }
}

async fn non_admins_get_403_and_strangers_401_on_every_admin_route(backend: Backend) {
    let server = Server::start(backend).await;
    let (victim, _, _) = server.member("victim").await;
    let (_, _, token) = server.member("member").await;
    for (method, path, body) in admin_routes(&victim) {
        let reply = call(&server, method, &path, &token, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {:?}",
            reply.body
        );
        assert_eq!(reply.code(), "forbidden");
        let reply = call(&server, method, &path, "not-a-token", body).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    // Nothing happened to the victim.
    let user = server.app.store.user_by_id(&victim).await.unwrap().unwrap();
    assert_eq!(user.status, portcullis::user::UserStatus::Active);
}

async fn a_demoted_admin_loses_the_admin_api_at_once(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, first) = server.admin().await;
    let (second_id, second) = server.admin().await;
    let reply = server
        .patch_with_token(
            &format!("/v1/admin/users/{second_id}"),
            &first,
            json!({"roles": ["user"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["roles"], json!(["user"]));
    // Its access token still says admin, but the account no longer is one.
    let reply = server.get_with_token("/v1/admin/users", &second).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

async fn admin_lists_users_page_by_page_and_searches(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, admin) = server.admin().await;
    let tag = format!("pg{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut ids = Vec::new();
    for i in 0..7 {
        let email = format!("{tag}-{i}@example.com");
        ids.push(server.signed_up(&email).await.0);
    }
    // One user found by username only.
    let reply = server
        .post(
            "/v1/signup",
            json!({"email": unique_email("other"), "password": PASSWORD, "accept_terms": true, "username": format!("{tag}-name")}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    ids.push(reply.body["user_id"].as_str().unwrap().to_owned());

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("/v1/admin/users?q={}&limit=3", tag.to_uppercase());
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let reply = server.get_with_token(&path, &admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let users = reply.body["users"].as_array().unwrap();
        assert!(users.len() <= 3);
        seen.extend(
            users
                .iter()
                .map(|u| u["user_id"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        match reply.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 10, "the cursor never ends");
    }
    assert!(pages >= 3, "8 users at 3 a page: {pages} pages");
    let mut expected = ids.clone();
    expected.sort();
    let mut got = seen.clone();
    got.sort();
    assert_eq!(got, expected, "every match once, and only matches");

    // A filter by status, and bad parameters named.
    let reply = server
        .get_with_token(&format!("/v1/admin/users?q={tag}&status=disabled"), &admin)
        .await;
    assert_eq!(reply.body["users"], json!([]));
    let reply = server
        .get_with_token(
            "/v1/admin/users?limit=0&status=sleeping&cursor=%21%21",
            &admin,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(!reply.errors("limit").is_empty() && !reply.errors("status").is_empty());
    let reply = server
        .get_with_token("/v1/admin/users?cursor=bm9wZQ", &admin)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(!reply.errors("cursor").is_empty());
    // A cursor from another search is refused, not handed to the store.
    let first = server
        .get_with_token(&format!("/v1/admin/users?q={tag}&limit=2"), &admin)
        .await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let reply = server
        .get_with_token(
            &format!("/v1/admin/users?q=zz{tag}&cursor={cursor}"),
            &admin,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    // Ids too long for any store key name nothing.
    let long = "x".repeat(3000);
    let reply = server
        .get_with_token(&format!("/v1/admin/users/{long}"), &admin)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = server
        .get_with_token(&format!("/v1/admin/audit?user_id={long}"), &admin)
        .await;
    assert!(!reply.errors("user_id").is_empty());

    let reply = server
        .get_with_token(&format!("/v1/admin/users/{}", ids[0]), &admin)
        .await;
    assert_eq!(reply.body["email"], format!("{tag}-0@example.com"));
    let reply = server
        .get_with_token("/v1/admin/users/nobody", &admin)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

async fn a_disabled_user_cannot_log_in_refresh_or_use_a_token(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, admin) = server.admin().await;
    let email = unique_email("disabled");
    let (id, _) = server.signed_up(&email).await;
    let tokens = server.login(&email, PASSWORD).await;
    let (access, refresh) = (
        tokens.body["access_token"].as_str().unwrap().to_owned(),
        tokens.body["refresh_token"].as_str().unwrap().to_owned(),
    );
    let reply = server
        .patch_with_token(
            &format!("/v1/admin/users/{id}"),
            &admin,
            json!({"status": "disabled"}),
        )
        .await;
    assert_eq!(reply.body["status"], "disabled");

    assert_eq!(
        server.get_with_token("/v1/me", &access).await.status,
        StatusCode::UNAUTHORIZED
    );
    let reply = server
        .post("/v1/token/refresh", json!({"refresh_token": refresh}))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = server.login(&email, "Wrong#password1").await;
    assert_eq!(
        reply.code(),
        "invalid_credentials",
        "a wrong password tells nothing"
    );
    let reply = server.login(&email, PASSWORD).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "account_disabled")
    );

    // Re-enabled, the old session stays over; a new login works.
    server
        .patch_with_token(
            &format!("/v1/admin/users/{id}"),
            &admin,
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(
        server.get_with_token("/v1/me", &access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(server.login(&email, PASSWORD).await.status, StatusCode::OK);

    let reply = server
        .patch_with_token(
            &format!("/v1/admin/users/{id}"),
            &admin,
            json!({"status": "asleep", "roles": ["Bad Role"], "password": "x"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    for field in ["status", "roles", "password"] {
        assert!(!reply.errors(field).is_empty(), "{field}: {:?}", reply.body);
    }
}

async fn roles_set_by_an_admin_are_in_the_next_token(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, admin) = server.admin().await;
    let (id, email, _) = server.member("roles").await;
    let reply = server
        .patch_with_token(
            &format!("/v1/admin/users/{id}"),
            &admin,
            json!({"roles": ["user", "billing:read"], "email_verified": true}),
        )
        .await;
    assert_eq!(reply.body["roles"], json!(["user", "billing:read"]));
    let token = server.login(&email, PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let claims = server
        .app
        .keys()
        .verify(
            &token,
            &server.app.issuer,
            "portcullis",
            server.app.clock.now(),
        )
        .unwrap();
    assert_eq!(claims.roles, vec!["user", "billing:read"]);
    assert!(claims.email_verified);
}

async fn the_last_active_admin_stays_one(backend: Backend) {
    let server = Server::start(backend).await;
    let (admin_id, admin) = server.admin().await;
    let path = format!("/v1/admin/users/{admin_id}");
    for body in [json!({"roles": ["user"]}), json!({"status": "disabled"})] {
        let reply = server.patch_with_token(&path, &admin, body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::CONFLICT, "last_admin")
        );
    }
    let reply = server.delete_with_token(&path, &admin).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::CONFLICT, "last_admin")
    );

    // With a second admin, each may step down, but not both at once.
    let (other_id, other) = server.admin().await;
    let replies = concurrently(2, |i| {
        let api = server.api.clone();
        let (target, token) = if i == 0 {
            (other_id.clone(), admin.clone())
        } else {
            (admin_id.clone(), other.clone())
        };
        async move {
            api.patch_with_token(
                &format!("/v1/admin/users/{target}"),
                &token,
                json!({"status": "disabled"}),
            )
            .await
        }
    })
    .await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort();
    // Either one disables the other and the second request comes from a disabled admin (401),
    // or both check at once and one loses the last-admin rule (409). Never two disabled admins.
    assert!(
        statuses == [200, 401] || statuses == [200, 409],
        "{statuses:?}"
    );
    let admins = [&admin_id, &other_id];
    let mut active = 0;
    for id in admins {
        if server
            .app
            .store
            .user_by_id(id)
            .await
            .unwrap()
            .unwrap()
            .is_active_admin()
        {
            active += 1;
        }
    }
    assert_eq!(active, 1);
}

async fn two_admins_demoting_each_other_leave_one(backend: Backend) {
    let server = Server::start(backend).await;
    let (a, _) = server.admin().await;
    let (b, _) = server.admin().await;
    // Store level, so both writes reach the rule at the same moment.
    let store = server.app.store.clone();
    let demote = portcullis::store::UserUpdate {
        roles: Some(vec!["user".into()]),
        ..Default::default()
    };
    let (left, right) = tokio::join!(
        store.update_user(&a, &demote),
        store.update_user(&b, &demote)
    );
    let outcomes = [left.is_ok(), right.is_ok()];
    assert_eq!(
        outcomes.iter().filter(|ok| **ok).count(),
        1,
        "{left:?} {right:?}"
    );
    assert!(matches!(
        left.err().or(right.err()),
        Some(portcullis::Error::LastAdmin)
    ));
}

async fn delete_erases_every_item_of_the_user(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_EMAIL_VERIFICATION", "optional")]).await;
    let (_, admin) = server.admin().await;
    let (id, email, token) = server.member("erase").await;
    // Keys need a confirmed address once verification is on.
    server
        .app
        .store
        .verify_email(
            &id,
            &email.to_lowercase(),
            portcullis::user::UserStatus::Active,
        )
        .await
        .unwrap();
    let key = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED);
    let access_key = key.body["access_key"].as_str().unwrap().to_owned();
    server
        .post("/v1/password/reset-request", json!({"email": email}))
        .await;
    let reset = server
        .mailed_token(&email, "/reset-password")
        .await
        .expect("a reset mail");
    server.login(&email, "Wrong#password1").await;

    let link = portcullis::oauth::IdentityLink {
        provider: portcullis::oauth::Provider::GitHub,
        subject: format!("gh-{id}"),
        user_id: id.clone(),
        email_key: email.to_lowercase(),
        created_at: server.app.clock.now(),
    };
    assert!(server.app.store.link_identity(&link).await.unwrap());

    let reply = server
        .delete_with_token(&format!("/v1/admin/users/{id}"), &admin)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    let store = &server.app.store;
    assert!(store.user_by_id(&id).await.unwrap().is_none());
    let email_key = email.to_lowercase();
    assert!(store.user_by_email(&email_key).await.unwrap().is_none());
    assert!(store.sessions_of(&id).await.unwrap().is_empty());
    assert!(store.access_key(&access_key).await.unwrap().is_none());
    assert!(store.access_keys_of(&id).await.unwrap().is_empty());
    assert!(store.identities_of(&id).await.unwrap().is_empty());
    assert!(
        !store.link_identity(&link).await.unwrap(),
        "no link to an account that is gone"
    );
    assert!(
        store
            .identity(portcullis::oauth::Provider::GitHub, &format!("gh-{id}"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .token(&portcullis::tokens::digest(&reset))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .lockout(&portcullis::lockout::account_key(&id))
            .await
            .unwrap()
            .is_none()
    );
    if backend == Backend::DynamoDb {
        // Nothing of the user is left in the table but its audit trail.
        let items = portcullis_tests::emulator::dynamodb()
            .scan()
            .table_name(server.table.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        let left: Vec<_> = items
            .items()
            .iter()
            .filter(|item| {
                item.values().any(|v| {
                    v.as_s()
                        .is_ok_and(|s| s.contains(&id) || s.contains(&email_key))
                }) && item
                    .get("type")
                    .and_then(|t| t.as_s().ok())
                    .map(String::as_str)
                    != Some("audit_event")
            })
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
    // The email is free again, and the old token is dead.
    assert_eq!(
        server.get_with_token("/v1/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.signup(&email, PASSWORD).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        server
            .delete_with_token(&format!("/v1/admin/users/{id}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn approval_mode_waits_for_an_admin(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_SIGNUP_MODE", "approval")]).await;
    let (_, admin) = server.admin().await;
    let email = unique_email("approve");
    let reply = server.signup(&email, PASSWORD).await;
    assert_eq!(reply.body["status"], "pending_approval");
    let id = reply.body["user_id"].as_str().unwrap().to_owned();
    assert_eq!(
        server.login(&email, "Wrong#password1").await.code(),
        "invalid_credentials"
    );
    let reply = server.login(&email, PASSWORD).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "pending_approval")
    );

    let reply = server
        .get_with_token("/v1/admin/users?status=pending_approval", &admin)
        .await;
    assert!(
        reply.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["user_id"] == id.as_str())
    );
    let reply = server
        .post_with_token(&format!("/v1/admin/users/{id}/approve"), &admin, json!({}))
        .await;
    assert_eq!(reply.body["status"], "active");
    assert_eq!(server.login(&email, PASSWORD).await.status, StatusCode::OK);
    // Approving never re-enables a disabled account.
    server
        .patch_with_token(
            &format!("/v1/admin/users/{id}"),
            &admin,
            json!({"status": "disabled"}),
        )
        .await;
    let reply = server
        .post_with_token(&format!("/v1/admin/users/{id}/approve"), &admin, json!({}))
        .await;
    assert_eq!(reply.body["status"], "disabled");
}

async fn disabled_mode_refuses_signup(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_SIGNUP_MODE", "disabled")]).await;
    let reply = server.signup(&unique_email("closed"), PASSWORD).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "signup_disabled")
    );
}

fn invitation_token(body: &str) -> Option<String> {
    let at = body.find("invitation=")? + "invitation=".len();
    Some(
        body[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect(),
    )
}

async fn invited_signup(server: &Server, email: &str, token: &str) -> portcullis_tests::Reply {
    server
        .post(
            "/v1/signup",
            json!({"email": email, "password": PASSWORD, "accept_terms": true, "invitation_token": token}),
        )
        .await
}

async fn invitation_mode_needs_a_valid_invitation(backend: Backend) {
    let server = Server::with(
        backend,
        &[
            ("PORTCULLIS_SIGNUP_MODE", "invitation"),
            ("PORTCULLIS_EMAIL_VERIFICATION", "required"),
        ],
    )
    .await;
    let (_, admin) = server.admin().await;
    let email = unique_email("invited");
    assert_eq!(
        server.signup(&email, PASSWORD).await.code(),
        "invitation_required"
    );
    assert_eq!(
        invited_signup(&server, &email, &"a".repeat(43))
            .await
            .code(),
        "invitation_invalid"
    );

    // Bound to an email: mailed there, and only that email may use it.
    let reply = server
        .post_with_token(
            "/v1/admin/invitations",
            &admin,
            json!({"email": email, "roles": ["user", "staff"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let token = reply.body["token"].as_str().unwrap().to_owned();
    let mails = server.mail_to(&email).await;
    assert_eq!(
        invitation_token(&mails.last().expect("an invitation mail").body).as_deref(),
        Some(token.as_str())
    );

    let reply = invited_signup(&server, &unique_email("intruder"), &token).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "invitation_invalid")
    );
    let reply = invited_signup(&server, &email.to_uppercase(), &token).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    // The invitation does not verify the email (the admin holds its token too): the link
    // mailed at signup does.
    assert_eq!(reply.body["status"], "pending_verification");
    assert_eq!(
        server.login(&email, PASSWORD).await.code(),
        "email_not_verified"
    );
    let verify = server
        .mailed_token(&email.to_uppercase(), "/verify-email")
        .await
        .expect("a verification mail");
    let verified = server
        .post("/v1/verify-email", json!({ "token": verify }))
        .await;
    assert_eq!(verified.body["status"], "active");
    let login = server.login(&email, PASSWORD).await;
    let claims = server
        .app
        .keys()
        .verify(
            login.body["access_token"].as_str().unwrap(),
            &server.app.issuer,
            "portcullis",
            server.app.clock.now(),
        )
        .unwrap();
    assert_eq!(claims.roles, vec!["user", "staff"]);
    assert_eq!(
        invited_signup(&server, &unique_email("again"), &token)
            .await
            .code(),
        "invitation_invalid"
    );

    let list = server.get_with_token("/v1/admin/invitations", &admin).await;
    let listed = &list.body["invitations"][0];
    assert_eq!(listed["status"], "used");
    assert!(
        !list.body.to_string().contains(&token),
        "the token is shown once"
    );

    // Expired and deleted invitations admit nobody.
    let reply = server
        .post_with_token("/v1/admin/invitations", &admin, json!({"expires_in": 60}))
        .await;
    let expiring = reply.body["token"].as_str().unwrap().to_owned();
    server.clock.advance(std::time::Duration::from_secs(61));
    assert_eq!(
        invited_signup(&server, &unique_email("late"), &expiring)
            .await
            .code(),
        "invitation_invalid"
    );
    let reply = server
        .post_with_token("/v1/admin/invitations", &admin, json!({}))
        .await;
    let (deleted, id) = (
        reply.body["token"].as_str().unwrap().to_owned(),
        reply.body["invitation_id"].as_str().unwrap().to_owned(),
    );
    assert_eq!(
        server
            .delete_with_token(&format!("/v1/admin/invitations/{id}"), &admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        invited_signup(&server, &unique_email("gone"), &deleted)
            .await
            .code(),
        "invitation_invalid"
    );
    let reply = server
        .post_with_token(
            "/v1/admin/invitations",
            &admin,
            json!({"email": "nope", "roles": ["UP"], "expires_in": 5}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    for field in ["email", "roles", "expires_in"] {
        assert!(!reply.errors(field).is_empty(), "{field}");
    }
}

async fn one_invitation_two_signups_one_wins(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_SIGNUP_MODE", "invitation")]).await;
    let (_, admin) = server.admin().await;
    let reply = server
        .post_with_token("/v1/admin/invitations", &admin, json!({}))
        .await;
    let token = reply.body["token"].as_str().unwrap().to_owned();
    let replies = concurrently(2, |_| {
        let api = server.api.clone();
        let token = token.clone();
        async move {
            api.post(
                "/v1/signup",
                json!({"email": unique_email("race"), "password": PASSWORD, "accept_terms": true, "invitation_token": token}),
            )
            .await
        }
    })
    .await;
    let mut outcomes: Vec<(u16, String)> = replies
        .iter()
        .map(|r| (r.status.as_u16(), r.code().to_owned()))
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![(201, String::new()), (403, "invitation_invalid".to_owned())]
    );
}

async fn access_keys_log_in_count_toward_lockout_and_die_when_deleted(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_ACCESS_KEY_LIMIT", "2")]).await;
    let (_, email, token) = server.member("keys").await;
    let created = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let (key, secret) = (
        created.body["access_key"].as_str().unwrap().to_owned(),
        created.body["secret_key"].as_str().unwrap().to_owned(),
    );
    let login = |secret: String| {
        let key = key.clone();
        let api = server.api.clone();
        async move {
            api.post(
                "/v1/login/access-key",
                json!({"access_key": key, "secret_key": secret}),
            )
            .await
        }
    };
    let reply = login(secret.clone()).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["user"]["email"], email.as_str());

    // Listed without the secret; the limit holds.
    let list = server.get_with_token("/v1/access-keys", &token).await;
    assert_eq!(list.body["access_keys"][0]["access_key"], key.as_str());
    assert!(!list.body.to_string().contains(&secret));
    assert!(list.body["access_keys"][0]["last_used_at"].is_string());
    let second = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    let reply = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::CONFLICT, "access_key_limit")
    );

    // A session a key opened lives only while the key does, even if nothing revoked it (the
    // key is deleted in the store directly here), and it can't make keys of its own.
    let second_key = second.body["access_key"].as_str().unwrap().to_owned();
    let opened = server
        .post(
            "/v1/login/access-key",
            json!({"access_key": second_key, "secret_key": second.body["secret_key"]}),
        )
        .await;
    let (second_access, second_refresh) = (
        opened.body["access_token"].as_str().unwrap().to_owned(),
        opened.body["refresh_token"].as_str().unwrap().to_owned(),
    );
    let reply = server
        .post_with_token(
            "/v1/access-keys",
            &second_access,
            json!({"current_password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let user_id = opened.body["user"]["user_id"].as_str().unwrap().to_owned();
    assert!(
        server
            .app
            .store
            .delete_access_key(&user_id, &second_key)
            .await
            .unwrap()
    );
    assert_eq!(
        server.get_with_token("/v1/me", &second_access).await.status,
        StatusCode::UNAUTHORIZED
    );
    let reply = server
        .post(
            "/v1/token/refresh",
            json!({"refresh_token": second_refresh}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // Wrong secrets and unknown keys: one 401; ten wrong secrets lock key logins (and only
    // them: tests/tests/device_lockout.rs).
    let unknown = server
        .post(
            "/v1/login/access-key",
            json!({"access_key": "PCAKAAAAAAAAAAAAAAAA", "secret_key": secret}),
        )
        .await;
    let wrong = login("x".repeat(43)).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.body_without_request_id(),
        unknown.body_without_request_id()
    );
    for _ in 0..9 {
        login("y".repeat(43)).await;
    }
    let reply = login(secret.clone()).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::TOO_MANY_REQUESTS, "account_locked")
    );
    assert_eq!(
        server.login(&email, PASSWORD).await.status,
        StatusCode::OK,
        "wrong secrets never lock password logins"
    );
    server
        .clock
        .advance(std::time::Duration::from_secs(20 * 60));

    // The lock is over: fresh sessions from the key and from the password.
    let reply = login(secret.clone()).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let key_session = reply.body["access_token"].as_str().unwrap().to_owned();
    let token = server.login(&email, PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Deleting the key ends its use and its sessions at once; another user can't delete it.
    let (_, _, stranger) = server.member("stranger").await;
    assert_eq!(
        server
            .delete_with_token(&format!("/v1/access-keys/{key}"), &stranger)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.get_with_token("/v1/me", &key_session).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server
            .delete_with_token(&format!("/v1/access-keys/{key}"), &token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(login(secret.clone()).await.code(), "invalid_credentials");
    assert_eq!(
        server.get_with_token("/v1/me", &key_session).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.get_with_token("/v1/me", &token).await.status,
        StatusCode::OK,
        "password sessions stay"
    );
    let reply = server
        .post("/v1/login/access-key", json!({"access_key": 7}))
        .await;
    assert!(!reply.errors("access_key").is_empty() && !reply.errors("secret_key").is_empty());
}

async fn a_disabled_users_keys_do_not_work(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, admin) = server.admin().await;
    let (id, _, token) = server.member("keydisabled").await;
    let created = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await;
    server
        .patch_with_token(
            &format!("/v1/admin/users/{id}"),
            &admin,
            json!({"status": "disabled"}),
        )
        .await;
    let reply = server
        .post("/v1/login/access-key", json!({"access_key": created.body["access_key"], "secret_key": created.body["secret_key"]}))
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "account_disabled")
    );
}

async fn admin_unlocks_a_locked_account(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, admin) = server.admin().await;
    let email = unique_email("unlock");
    let (id, _) = server.signed_up(&email).await;
    for _ in 0..10 {
        server.login(&email, "Wrong#password1").await;
    }
    assert_eq!(
        server.login(&email, PASSWORD).await.code(),
        "account_locked"
    );
    let reply = server
        .post_with_token(&format!("/v1/admin/users/{id}/unlock"), &admin, json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(server.login(&email, PASSWORD).await.status, StatusCode::OK);
}

async fn every_security_event_is_audited_without_secrets(backend: Backend) {
    let server = Server::with(
        backend,
        &[
            ("PORTCULLIS_EMAIL_VERIFICATION", "optional"),
            ("PORTCULLIS_LOCKOUT_THRESHOLD", "2"),
        ],
    )
    .await;
    let (admin_id, admin) = server.admin().await;
    let email = unique_email("audit");
    let (id, _) = server.signed_up(&email).await;
    let verify = server
        .mailed_token(&email, "/verify-email")
        .await
        .expect("verification mail");
    server
        .post("/v1/verify-email", json!({"token": verify}))
        .await;
    let token = server.login(&email, PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let new_password = "Qz9!lantern-moss";
    server
        .post_with_token(
            "/v1/password/change",
            &token,
            json!({"current_password": PASSWORD, "new_password": new_password}),
        )
        .await;
    server
        .post("/v1/password/reset-request", json!({"email": email}))
        .await;
    let reset = server
        .mailed_token(&email, "/reset-password")
        .await
        .expect("reset mail");
    server
        .post(
            "/v1/password/reset-confirm",
            json!({"token": reset, "new_password": PASSWORD}),
        )
        .await;
    let token = server.login(&email, PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await;
    let secret = key.body["secret_key"].as_str().unwrap().to_owned();
    server
        .post(
            "/v1/login/access-key",
            json!({"access_key": key.body["access_key"], "secret_key": secret}),
        )
        .await;
    server.login(&email, "Wrong#password1").await;
    server.login(&email, "Wrong#password2").await;
    server
        .post_with_token(&format!("/v1/admin/users/{id}/unlock"), &admin, json!({}))
        .await;
    server
        .patch_with_token(
            &format!("/v1/admin/users/{id}"),
            &admin,
            json!({"roles": ["user", "ops"]}),
        )
        .await;
    let invitation = server
        .post_with_token("/v1/admin/invitations", &admin, json!({}))
        .await;
    let invitation_token = invitation.body["token"].as_str().unwrap().to_owned();

    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/admin/audit?user_id={id}&limit=4");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let reply = server.get_with_token(&path, &admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        events.extend(reply.body["events"].as_array().unwrap().clone());
        match reply.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for kind in [
        "signup",
        "email_verified",
        "login_succeeded",
        "password_changed",
        "password_reset_requested",
        "password_reset",
        "access_key_created",
        "access_key_used",
        "login_failed",
        "account_locked",
        "admin_user_unlocked",
        "admin_user_updated",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let ats: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(
        ats.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {ats:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["user_id"] == id.as_str() && e["ip"].is_string())
    );
    let updated = events
        .iter()
        .find(|e| e["type"] == "admin_user_updated")
        .unwrap();
    assert_eq!(updated["detail"]["admin_id"], admin_id.as_str());

    let all = server
        .get_with_token("/v1/admin/audit?limit=200", &admin)
        .await;
    let everything = format!("{} {}", all.body, json!(events));
    assert!(
        all.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "admin_invitation_created")
    );
    for secret_value in [
        PASSWORD,
        new_password,
        "Wrong#password1",
        &verify,
        &reset,
        &secret,
        &token,
        &invitation_token,
    ] {
        assert!(
            !everything.contains(secret_value),
            "the audit log holds a secret"
        );
    }
}

on_both_stores!(
    non_admins_get_403_and_strangers_401_on_every_admin_route,
    a_demoted_admin_loses_the_admin_api_at_once,
    admin_lists_users_page_by_page_and_searches,
    a_disabled_user_cannot_log_in_refresh_or_use_a_token,
    roles_set_by_an_admin_are_in_the_next_token,
    the_last_active_admin_stays_one,
    two_admins_demoting_each_other_leave_one,
    delete_erases_every_item_of_the_user,
    approval_mode_waits_for_an_admin,
    disabled_mode_refuses_signup,
    invitation_mode_needs_a_valid_invitation,
    one_invitation_two_signups_one_wins,
    access_keys_log_in_count_toward_lockout_and_die_when_deleted,
    a_disabled_users_keys_do_not_work,
    admin_unlocks_a_locked_account,
    every_security_event_is_audited_without_secrets,
);
