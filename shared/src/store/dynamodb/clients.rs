//! The apps registered with the OpenID provider: one item each, listed through `gsi1`.

use super::*;
use crate::openid::Client as OpenIdClient;
use crate::store::ClientStore;

fn client_item(client: &OpenIdClient) -> Item {
    let list = |values: &[String]| AttributeValue::L(values.iter().map(s).collect());
    let mut item = Item::from([
        ("pk".into(), s(client_pk(&client.id))),
        ("sk".into(), s("CLIENT")),
        ("type".into(), s("client")),
        ("client_id".into(), s(&client.id)),
        ("name".into(), s(&client.name)),
        ("redirect_uris".into(), list(&client.redirect_uris)),
        (
            "post_logout_redirect_uris".into(),
            list(&client.post_logout_redirect_uris),
        ),
        ("scopes".into(), list(&client.scopes)),
        ("created_at".into(), n(client.created_at.seconds())),
        ("updated_at".into(), n(client.updated_at.seconds())),
        ("gsi1pk".into(), s(CLIENTS_PARTITION)),
        (
            "gsi1sk".into(),
            s(format!("{:020}#{}", client.created_at.seconds(), client.id)),
        ),
    ]);
    if let Some(digest) = &client.secret_digest {
        item.insert("secret_digest".into(), s(digest));
    }
    item
}

fn client_from_item(item: &Item) -> Result<OpenIdClient> {
    Ok(OpenIdClient {
        id: get_s(item, "client_id")?,
        name: get_s(item, "name")?,
        redirect_uris: string_list(item, "redirect_uris")?,
        post_logout_redirect_uris: string_list(item, "post_logout_redirect_uris")?,
        scopes: string_list(item, "scopes")?,
        secret_digest: get_opt_s(item, "secret_digest")?,
        created_at: UnixTime(get_n(item, "created_at")?),
        updated_at: UnixTime(get_n(item, "updated_at")?),
    })
}

impl DynamoStore {
    async fn put_client(&self, client: &OpenIdClient, condition: &str) -> Result<bool> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(client_item(client)))
            .condition_expression(condition)
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(sdk_error(error)),
        }
    }
}

#[async_trait]
impl ClientStore for DynamoStore {
    async fn create_client(&self, client: &OpenIdClient) -> Result<bool> {
        self.put_client(client, "attribute_not_exists(pk)").await
    }

    async fn client(&self, id: &str) -> Result<Option<OpenIdClient>> {
        self.get(&client_pk(id), "CLIENT")
            .await?
            .map(|item| client_from_item(&item))
            .transpose()
    }

    async fn clients(&self) -> Result<Vec<OpenIdClient>> {
        self.index_partition(CLIENTS_PARTITION, "", true)
            .await?
            .iter()
            .map(client_from_item)
            .collect()
    }

    async fn update_client(&self, client: &OpenIdClient) -> Result<bool> {
        self.put_client(client, "attribute_exists(pk)").await
    }

    async fn delete_client(&self, id: &str) -> Result<bool> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(client_pk(id)))
            .key("sk", s("CLIENT"))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(sdk_error(error)),
        }
    }
}
