//! The table, its indexes and its TTL.

use super::*;

impl DynamoStore {
    /// Creates the table with its index and TTL; succeeds when it already exists.
    pub async fn create_table(&self) -> Result<()> {
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(Error::internal)
        };
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(Error::internal)
        };
        let index = |name: &str, pk: &str, sk: &str| {
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(pk, KeyType::Hash)?)
                .key_schema(key(sk, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(Error::internal)
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .attribute_definitions(attribute("pk")?)
            .attribute_definitions(attribute("sk")?)
            .attribute_definitions(attribute("gsi1pk")?)
            .attribute_definitions(attribute("gsi1sk")?)
            .attribute_definitions(attribute("gsi2pk")?)
            .attribute_definitions(attribute("gsi2sk")?)
            .global_secondary_indexes(index(GSI1, "gsi1pk", "gsi1sk")?)
            .global_secondary_indexes(index(GSI2, "gsi2pk", "gsi2sk")?)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) => {}
            Err(e) => return Err(sdk_error(e)),
        }
        self.wait_until_active().await?;
        let ttl = self
            .client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()
                    .map_err(Error::internal)?,
            )
            .send()
            .await;
        match ttl {
            Ok(_) => Ok(()),
            // Already enabled: DynamoDB refuses to set it twice.
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.code() == Some("ValidationException")
                        && s.message().is_some_and(|m| m.contains("already enabled"))
                }) =>
            {
                Ok(())
            }
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn wait_until_active(&self) -> Result<()> {
        for _ in 0..120 {
            let described = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(sdk_error)?;
            let status = described
                .table()
                .and_then(|t| t.table_status())
                .map(|s| s.as_str().to_owned());
            if status.as_deref() == Some("ACTIVE") {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        Err(Error::internal(format!(
            "table {} did not become active",
            self.table
        )))
    }

    /// A one-paragraph description of the table: status, items, index, TTL.
    pub async fn describe_table(&self) -> Result<String> {
        let described = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(sdk_error)?;
        let table = described
            .table()
            .ok_or_else(|| Error::internal("no table description"))?;
        let ttl = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(sdk_error)?;
        let ttl = ttl
            .time_to_live_description()
            .map(|d| {
                format!(
                    "{} on {}",
                    d.time_to_live_status().map_or("unknown", |s| s.as_str()),
                    d.attribute_name().unwrap_or("-")
                )
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let indexes: Vec<&str> = table
            .global_secondary_indexes()
            .iter()
            .filter_map(|i| i.index_name())
            .collect();
        Ok(format!(
            "table {}: {}, {} items, indexes [{}], TTL {}",
            self.table,
            table.table_status().map_or("unknown", |s| s.as_str()),
            table.item_count().unwrap_or(0),
            indexes.join(", "),
            ttl
        ))
    }
}
