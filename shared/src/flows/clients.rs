//! The apps registered with the OpenID provider: `/v1/admin/clients` and `portcullis clients`.
//! A confidential client's secret is shown once, when it is made; the store keeps its digest.

use serde::Serialize;
use serde_json::json;

use crate::app::App;
use crate::audit::{self, EventKind};
use crate::caller::Caller;
use crate::error::{Error, FieldErrors, Result};
use crate::json_body::JsonBody;
use crate::openid::{
    Client, MAX_NAME_LENGTH, MAX_REDIRECT_URIS, SCOPES, check_redirect_uri, check_scopes,
};
use crate::secret::Secret;
use crate::tokens::{OpaqueToken, random_secret};
use crate::user::User;

/// How the admin API shows a client (never its secret).
#[derive(Debug, Serialize)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl ClientView {
    pub fn of(client: Client) -> ClientView {
        ClientView {
            kind: client.kind(),
            client_id: client.id,
            name: client.name,
            redirect_uris: client.redirect_uris,
            post_logout_redirect_uris: client.post_logout_redirect_uris,
            scopes: client.scopes,
            created_at: client.created_at.rfc3339(),
            updated_at: client.updated_at.rfc3339(),
        }
    }
}

/// `201`: the client, and for a confidential one its secret, shown this once.
pub struct CreatedClient {
    pub client: ClientView,
    pub secret: Option<Secret>,
}

impl Serialize for CreatedClient {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(&self.client).map_err(serde::ser::Error::custom)?;
        if let (Some(secret), Some(object)) = (&self.secret, value.as_object_mut()) {
            object.insert("client_secret".into(), json!(secret.expose()));
        }
        value.serialize(serializer)
    }
}

/// What may be set on a client, validated: every field for a new one, the given ones for an
/// update.
#[derive(Debug, Default)]
pub struct ClientFields {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub public: Option<bool>,
}

/// Reads and checks `{name, redirect_uris, post_logout_redirect_uris, scopes, public}`; on
/// create, `name` and `redirect_uris` are required, and `public` may not be changed later.
pub fn parse_fields(mut body: JsonBody, creating: bool) -> Result<ClientFields> {
    let fields = ClientFields {
        name: body.string("name", creating),
        redirect_uris: body.string_list("redirect_uris", creating),
        post_logout_redirect_uris: body.string_list("post_logout_redirect_uris", false),
        scopes: body.string_list("scopes", false),
        public: if creating {
            body.bool("public", false)
        } else {
            None
        },
    };
    let mut errors = FieldErrors::default();
    if let Some(name) = &fields.name {
        let length = name.trim().chars().count();
        if length == 0 || length > MAX_NAME_LENGTH {
            errors.add("name", format!("must be 1 to {MAX_NAME_LENGTH} characters"));
        }
    }
    for (field, uris) in [
        ("redirect_uris", &fields.redirect_uris),
        (
            "post_logout_redirect_uris",
            &fields.post_logout_redirect_uris,
        ),
    ] {
        let Some(uris) = uris else { continue };
        if field == "redirect_uris" && uris.is_empty() {
            errors.add(field, "must name at least one URI");
        }
        if uris.len() > MAX_REDIRECT_URIS {
            errors.add(field, format!("must name at most {MAX_REDIRECT_URIS} URIs"));
        }
        for uri in uris {
            check_redirect_uri(field, uri, &mut errors);
        }
    }
    if let Some(scopes) = &fields.scopes {
        check_scopes(scopes, &mut errors);
    }
    for field in body.remaining_fields() {
        let message = if field == "public" {
            "can't be changed: register a new client instead"
        } else {
            "is not a field of a client"
        };
        errors.add(&field, message);
    }
    for (field, messages) in errors.iter() {
        for message in messages {
            body.error(field, message.clone());
        }
    }
    body.finish()?;
    Ok(fields)
}

fn dedup(list: Vec<String>) -> Vec<String> {
    let mut seen = Vec::with_capacity(list.len());
    for item in list {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// Registers a client; a confidential one gets a 256-bit secret, shown once.
pub async fn create(
    app: &App,
    caller: &Caller,
    admin: Option<&User>,
    fields: ClientFields,
) -> Result<CreatedClient> {
    let now = app.clock.now();
    let secret = (!fields.public.unwrap_or(false)).then(OpaqueToken::generate);
    let client = Client {
        id: new_client_id(),
        name: fields.name.unwrap_or_default().trim().to_owned(),
        redirect_uris: dedup(fields.redirect_uris.unwrap_or_default()),
        post_logout_redirect_uris: dedup(fields.post_logout_redirect_uris.unwrap_or_default()),
        scopes: fields
            .scopes
            .map(dedup)
            .unwrap_or_else(|| SCOPES.iter().map(|s| (*s).to_owned()).collect()),
        secret_digest: secret.as_ref().map(|s| s.digest.clone()),
        created_at: now,
        updated_at: now,
    };
    if !app.store.create_client(&client).await? {
        return Err(Error::internal("client id collision"));
    }
    app.audit(
        caller,
        EventKind::ClientCreated,
        admin.map(|a| a.id.as_str()),
        audit::detail(&[("client_id", json!(client.id))]),
    )
    .await;
    Ok(CreatedClient {
        client: ClientView::of(client),
        secret: secret.map(|s| s.token),
    })
}

/// 32 random bytes would be a secret; an id only needs to be unique and unguessable enough not to
/// be enumerated: 16 bytes, base64url.
fn new_client_id() -> String {
    random_secret().expose().chars().take(22).collect()
}

pub async fn list(app: &App) -> Result<Vec<ClientView>> {
    Ok(app
        .store
        .clients()
        .await?
        .into_iter()
        .map(ClientView::of)
        .collect())
}

pub async fn get(app: &App, id: &str) -> Result<ClientView> {
    app.store
        .client(id)
        .await?
        .map(ClientView::of)
        .ok_or(Error::NotFound)
}

pub async fn update(
    app: &App,
    caller: &Caller,
    admin: &User,
    id: &str,
    fields: ClientFields,
) -> Result<ClientView> {
    let mut client = app.store.client(id).await?.ok_or(Error::NotFound)?;
    if let Some(name) = fields.name {
        client.name = name.trim().to_owned();
    }
    if let Some(uris) = fields.redirect_uris {
        client.redirect_uris = dedup(uris);
    }
    if let Some(uris) = fields.post_logout_redirect_uris {
        client.post_logout_redirect_uris = dedup(uris);
    }
    if let Some(scopes) = fields.scopes {
        client.scopes = dedup(scopes);
    }
    client.updated_at = app.clock.now();
    if !app.store.update_client(&client).await? {
        return Err(Error::NotFound);
    }
    app.audit(
        caller,
        EventKind::ClientUpdated,
        Some(&admin.id),
        audit::detail(&[("client_id", json!(client.id))]),
    )
    .await;
    Ok(ClientView::of(client))
}

/// Deletes a client: its codes, access tokens and refresh tokens stop working at once (each use
/// looks the client up).
pub async fn delete(app: &App, caller: &Caller, admin: Option<&User>, id: &str) -> Result<()> {
    if !app.store.delete_client(id).await? {
        return Err(Error::NotFound);
    }
    app.audit(
        caller,
        EventKind::ClientDeleted,
        admin.map(|a| a.id.as_str()),
        audit::detail(&[("client_id", json!(id))]),
    )
    .await;
    Ok(())
}
