//! `plugins.yaml`: which hook plugins run for which org or repo, and their settings.
//!
//! `config` holds the typed sections with Prow's YAML names, `load` reads the file and its
//! supplemental configs and merges them, `validate` applies Prow's defaults and checks, and
//! `query` answers per-repo look-ups for hook, `bugzilla` resolves the bugzilla plugin's
//! layered options, `checks` has checkconfig's plugin-only warnings.
//! Field paths become lines through the crate's one locator (`crate::locate`).

mod bugzilla;
mod checks;
mod config;
mod load;
mod query;
mod validate;

pub use bugzilla::{BUGZILLA_WILDCARD, pretty_status, resolve_bugzilla_options};
pub use checks::{NamedWarning, checkconfig_warnings, missing_trigger_warning};
pub use config::*;
pub use load::{DEFAULT_SUPPLEMENTAL_SUFFIX, PluginLoadOptions, load_plugins, parse_plugin_config};
pub use validate::{EXTERNAL_PLUGINS, KNOWN_PLUGINS, REMOVED_PLUGINS, unknown_plugin_message};
