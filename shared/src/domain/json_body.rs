//! Reading a JSON object field by field, so every missing or mistyped field is named at once.
//! The HTTP layer checks the media type and size and hands over the bytes; flows read fields.

use serde_json::{Map, Value};

use crate::email::Email;
use crate::error::{Error, FieldErrors, Result};
use crate::secret::Secret;

pub struct JsonBody {
    fields: Map<String, Value>,
    errors: FieldErrors,
}

impl JsonBody {
    /// The body's fields, or 400 naming `body` when it is not one JSON object.
    pub fn from_slice(bytes: &[u8]) -> Result<JsonBody> {
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

    /// A body whose one required field `name` is an email address: the address, or 400 naming
    /// the field.
    pub fn email(mut self, name: &str) -> Result<Email> {
        let email = self.string(name, true);
        let email = email.and_then(|e| match Email::parse(&e) {
            Ok(email) => Some(email),
            Err(message) => {
                self.error(name, message);
                None
            }
        });
        self.finish()?;
        email.ok_or_else(|| Error::internal("a missing field was not reported"))
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

    #[test]
    fn names_every_missing_and_mistyped_field() {
        let mut body = JsonBody::from_slice(br#"{"a": 5, "c": null}"#).unwrap();
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
    fn refuses_what_is_not_one_object() {
        for text in ["[1]", "{", "", "\"a\""] {
            let Err(Error::InvalidRequest { errors, .. }) = JsonBody::from_slice(text.as_bytes())
            else {
                panic!("{text:?} was taken");
            };
            assert!(errors.get("body").is_some(), "{text:?}");
        }
        assert!(JsonBody::from_slice(b"{}").is_ok());
    }
}
