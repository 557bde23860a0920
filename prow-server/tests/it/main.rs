//! Integration tests of prow-server: hook over real HTTP on 127.0.0.1 with the fake GitHub and
//! the SQLite job store, and the plugins' decisions.

mod hook;
mod plugins;
mod support;
