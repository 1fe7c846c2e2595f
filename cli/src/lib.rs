//! The local server behind `portcullis serve`, as a library so the end-to-end tests run the very
//! same code on ephemeral ports.
#![forbid(unsafe_code)]

pub mod serve;
