//! The local server behind `portcullis serve`, as a library so the end-to-end tests run the very
//! same code on ephemeral ports; and the report of `portcullis config check`.
#![forbid(unsafe_code)]

pub mod config_check;
pub mod features;
pub mod serve;
