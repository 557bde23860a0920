//! Integration tests of prow-github: HMAC, webhook validation, events, the fake, the octocrab
//! client and phony, over real payloads and real HTTP servers on 127.0.0.1.

mod app;
mod events;
mod fake;
mod hmac;
mod octo;
mod octo_projects;
mod octo_protection;
mod phony;
mod support;
mod throttle;
mod webhook;
