//! `/deck/command-help.json`: the plugin help document (Prow's `pluginhelp.Help`, as
//! `/plugin-help.js` serves it) with its HTML fields sanitised by `ammonia`, for the command
//! help page to render as HTML.
//!
//! Plugins write their descriptions, configuration notes and "who can use" texts as HTML
//! (links, `<br>`, `<code>`), as upstream's do; external plugins' help comes from other
//! servers. `ammonia` keeps the formatting tags and links (with `rel="noopener noreferrer"`)
//! and drops scripts, event handlers, styles and everything else, so the page can insert the
//! result as markup. Usages stay plain text.

use serde_json::Value;

/// The fields of one plugin's help that hold HTML.
const HTML_FIELDS: &[&str] = &["Description"];
/// The fields of one command that hold HTML.
const COMMAND_HTML_FIELDS: &[&str] = &["Description", "WhoCanUse"];

/// `help` (a `pluginhelp.Help` document) with every HTML field of every plugin's and external
/// plugin's help sanitised.
pub fn sanitised(mut help: Value) -> Value {
    for section in ["PluginHelp", "ExternalPluginHelp"] {
        let Some(plugins) = help.get_mut(section).and_then(Value::as_object_mut) else {
            continue;
        };
        for plugin in plugins.values_mut() {
            sanitise_plugin(plugin);
        }
    }
    help
}

fn sanitise_plugin(plugin: &mut Value) {
    for field in HTML_FIELDS {
        clean_field(plugin, field);
    }
    if let Some(config) = plugin.get_mut("Config").and_then(Value::as_object_mut) {
        for value in config.values_mut() {
            clean_value(value);
        }
    }
    if let Some(commands) = plugin.get_mut("Commands").and_then(Value::as_array_mut) {
        for command in commands {
            for field in COMMAND_HTML_FIELDS {
                clean_field(command, field);
            }
            // Upstream's examples hold markup too (lgtm's links to GitHub's review docs).
            if let Some(examples) = command.get_mut("Examples").and_then(Value::as_array_mut) {
                examples.iter_mut().for_each(clean_value);
            }
        }
    }
}

fn clean_field(object: &mut Value, field: &str) {
    if let Some(value) = object.get_mut(field) {
        clean_value(value);
    }
}

fn clean_value(value: &mut Value) {
    if let Value::String(text) = value {
        *text = ammonia::clean(text);
    }
}
