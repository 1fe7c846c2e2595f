//! Reading a JSON request body field by field, so every missing or mistyped field is named at once.

use lambda_http::http::header;
use lambda_http::{Body, Request};
use serde_json::{Map, Value};

use crate::error::{Error, FieldErrors, Result};
use crate::secret::Secret;

pub struct JsonBody {
    fields: Map<String, Value>,
    errors: FieldErrors,
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

pub fn body_bytes(request: &Request) -> &[u8] {
    match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

impl JsonBody {
    pub fn parse(request: &Request) -> Result<JsonBody> {
        let bytes = body_bytes(request);
        if bytes.len() > super::MAX_BODY_BYTES {
            return Err(Error::PayloadTooLarge);
        }
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or(""));
        match content_type {
            Some(ct) if is_json(ct) => {}
            None if bytes.is_empty() => {}
            _ => return Err(Error::UnsupportedMediaType),
        }
        if bytes.is_empty() {
            return Err(Error::invalid_field("body", "must be a JSON object"));
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::InvalidRequest {
            detail: "The body is not valid JSON.".into(),
            errors: {
                let mut errors = FieldErrors::default();
                errors.add("body", format!("is not valid JSON ({e})"));
                errors
            },
        })?;
        match value {
            Value::Object(fields) => Ok(JsonBody {
                fields,
                errors: FieldErrors::default(),
            }),
            _ => Err(Error::invalid_field("body", "must be a JSON object")),
        }
    }

    fn take(&mut self, name: &str, required: bool) -> Option<Value> {
        match self.fields.remove(name) {
            None | Some(Value::Null) => {
                if required {
                    self.errors.add(name, "is required");
                }
                None
            }
            Some(value) => Some(value),
        }
    }

    pub fn string(&mut self, name: &str, required: bool) -> Option<String> {
        match self.take(name, required)? {
            Value::String(s) => Some(s),
            _ => {
                self.errors.add(name, "must be a string");
                None
            }
        }
    }

    /// A string that must not reach a log line (a password or token).
    pub fn secret(&mut self, name: &str, required: bool) -> Option<Secret> {
        self.string(name, required).map(Secret::new)
    }

    pub fn bool(&mut self, name: &str, required: bool) -> Option<bool> {
        match self.take(name, required)? {
            Value::Bool(b) => Some(b),
            _ => {
                self.errors.add(name, "must be a boolean");
                None
            }
        }
    }

    /// An array of strings.
    pub fn string_list(&mut self, name: &str, required: bool) -> Option<Vec<String>> {
        let list = match self.take(name, required)? {
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>(),
            _ => None,
        };
        if list.is_none() {
            self.errors.add(name, "must be an array of strings");
        }
        list
    }

    /// A whole number from 0 up.
    pub fn unsigned(&mut self, name: &str, required: bool) -> Option<u64> {
        match self.take(name, required)? {
            Value::Number(n) if n.as_u64().is_some() => n.as_u64(),
            _ => {
                self.errors.add(name, "must be a whole number");
                None
            }
        }
    }

    /// The names of the fields not read yet.
    pub fn remaining_fields(&self) -> Vec<String> {
        self.fields.keys().cloned().collect()
    }

    /// Adds a validation message about a field.
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.add(field, message);
    }

    /// `Err(InvalidRequest)` listing every field problem found so far.
    pub fn finish(self) -> Result<()> {
        self.errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http;

    fn request(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/v1/login");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(Body::Text(body.to_owned())).unwrap()
    }

    #[test]
    fn names_every_missing_and_mistyped_field() {
        let mut body =
            JsonBody::parse(&request(Some("application/json"), r#"{"a": 5, "c": null}"#)).unwrap();
        assert_eq!(body.string("a", true), None);
        assert_eq!(body.string("b", true), None);
        assert_eq!(body.bool("c", true), None);
        assert_eq!(body.string("d", false), None);
        let Err(Error::InvalidRequest { errors, .. }) = body.finish() else {
            panic!("expected invalid_request");
        };
        assert_eq!(errors.get("a"), Some(&["must be a string".to_owned()][..]));
        assert_eq!(errors.get("b"), Some(&["is required".to_owned()][..]));
        assert_eq!(errors.get("c"), Some(&["is required".to_owned()][..]));
        assert_eq!(errors.get("d"), None);
    }

    #[test]
    fn refuses_other_media_types_and_non_objects() {
        assert!(matches!(
            JsonBody::parse(&request(Some("text/plain"), "{}")),
            Err(Error::UnsupportedMediaType)
        ));
        assert!(matches!(
            JsonBody::parse(&request(None, "{}")),
            Err(Error::UnsupportedMediaType)
        ));
        assert!(matches!(
            JsonBody::parse(&request(Some("application/json"), "[1]")),
            Err(Error::InvalidRequest { .. })
        ));
        assert!(matches!(
            JsonBody::parse(&request(Some("application/json"), "{")),
            Err(Error::InvalidRequest { .. })
        ));
        assert!(JsonBody::parse(&request(Some("application/json; charset=utf-8"), "{}")).is_ok());
    }

    #[test]
    fn refuses_oversize_bodies() {
        let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(super::super::MAX_BODY_BYTES));
        assert!(matches!(
            JsonBody::parse(&request(Some("application/json"), &big)),
            Err(Error::PayloadTooLarge)
        ));
    }
}
