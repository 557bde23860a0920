//! Integration tests of prow-github: HMAC, webhook validation and phony over real payloads and
//! a real HTTP server on 127.0.0.1.

mod events;
mod fake;
mod hmac;
mod phony;
mod support;
mod webhook;
