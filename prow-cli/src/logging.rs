//! Logs for every binary: `--log-level` (or `RUST_LOG`) and `--log-format text|json`, on
//! standard error.
//!
//! JSON lines read like Prow's logrus output: `level` (`debug`, `info`, `warning`, `error`),
//! `msg`, `time` (RFC 3339), `component`, then the event's fields and those of the spans it
//! happened in, outermost first, so hook's per-delivery span adds `event-GUID`, `event-type`,
//! `org`, `repo` and `pr` to every line logged while the delivery is processed. A `component`
//! field on a span or event wins over the binary's own name (`prow serve` runs several
//! components in one process and each part's span names it).

use std::fmt;
use std::io::IsTerminal;

use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// How log lines look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, with Prow's field names.
    Json,
}

/// The logging flags every binary takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LogArgs {
    /// The least severe level logged (`trace`, `debug`, `info`, `warn`, `error`), or a
    /// `RUST_LOG`-style filter; without it `RUST_LOG` applies, else `info`.
    #[arg(long, value_name = "LEVEL", global = true)]
    pub log_level: Option<String>,
    /// `text` or `json`.
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
}

/// Starts logging for `component` (the binary's name) as the flags say. Fails only on a
/// filter that does not parse; a second call in one process keeps the first subscriber.
pub fn init(component: &'static str, args: &LogArgs) -> anyhow::Result<()> {
    let filter = match &args.log_level {
        Some(level) => {
            EnvFilter::try_new(level).map_err(|e| anyhow::anyhow!("--log-level {level:?}: {e}"))?
        }
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match args.log_format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .try_init(),
        LogFormat::Json => builder
            .fmt_fields(JsonFields::new())
            .event_format(ProwJson { component })
            .try_init(),
    };
    // Only a subscriber set earlier in this process makes it fail; keep that one.
    let _ = installed;
    Ok(())
}

/// [`init`] with the logging flags on this process's command line; a filter that does not
/// parse is reported and `info` used instead.
pub fn init_from_command_line(component: &'static str) {
    let mut args = LogArgs::from_command_line();
    if let Err(e) = init(component, &args) {
        eprintln!("{component}: {e:#}; logging at info");
        args.log_level = Some("info".to_owned());
        let _ = init(component, &args);
    }
}

/// Formats events as Prow's JSON log lines.
#[derive(Debug, Clone, Copy)]
pub struct ProwJson {
    /// The component named when no span or event names one.
    pub component: &'static str,
}

impl<S, N> FormatEvent<S, N> for ProwJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = serde_json::Map::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(recorded) = extensions.get::<FormattedFields<N>>() else {
                    continue;
                };
                if let Ok(serde_json::Value::Object(map)) =
                    serde_json::from_str::<serde_json::Value>(recorded.as_str())
                {
                    fields.extend(map);
                }
            }
        }
        event.record(&mut Visitor(&mut fields));
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warning",
            tracing::Level::INFO => "info",
            tracing::Level::DEBUG => "debug",
            tracing::Level::TRACE => "trace",
        };
        let msg = fields.remove("message").unwrap_or_default();
        let component = fields
            .remove("component")
            .unwrap_or_else(|| self.component.into());
        let mut line = serde_json::Map::new();
        line.insert("component".into(), component);
        line.insert("level".into(), level.into());
        line.insert("msg".into(), msg);
        line.insert(
            "time".into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .into(),
        );
        line.extend(fields);
        let text = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// Records an event's fields as JSON values.
struct Visitor<'a>(&'a mut serde_json::Map<String, serde_json::Value>);

impl tracing::field::Visit for Visitor<'_> {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_error(
        &mut self,
        field: &tracing::field::Field,
        value: &(dyn std::error::Error + 'static),
    ) {
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.0.insert(field.name().to_owned(), text.into());
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), format!("{value:?}").into());
    }
}

impl LogArgs {
    /// The logging flags as they stand on this process's command line (`--log-level X`,
    /// `--log-level=X`, `--log-format json`, Go's single dash too), read before the rest of the
    /// flags so that even a tool that takes its options from the environment, or fails to parse
    /// the rest, logs as asked.
    pub fn from_command_line() -> LogArgs {
        Self::from_args(std::env::args().skip(1))
    }

    fn from_args(args: impl IntoIterator<Item = String>) -> LogArgs {
        let mut found = LogArgs::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
                continue;
            };
            let (name, inline) = match flag.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (flag, None),
            };
            if name != "log-level" && name != "log-format" {
                continue;
            }
            let Some(value) = inline.or_else(|| args.next()) else {
                break;
            };
            if name == "log-level" {
                found.log_level = Some(value);
            } else if value == "json" {
                found.log_format = LogFormat::Json;
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_log_flags_among_others() {
        let args = |line: &str| LogArgs::from_args(line.split_whitespace().map(str::to_owned));
        let found = args("--job x --log-level debug -log-format json --other");
        assert_eq!(found.log_level.as_deref(), Some("debug"));
        assert_eq!(found.log_format, LogFormat::Json);
        let found = args("--log-level=warn --log-format=text");
        assert_eq!(found.log_level.as_deref(), Some("warn"));
        assert_eq!(found.log_format, LogFormat::Text);
        assert_eq!(args("--job x").log_level, None);
    }
}
