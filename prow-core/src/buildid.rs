//! Build IDs: Twitter-style snowflake numbers, as Prow's plank makes them.
//!
//! Prow numbers builds with `bwmarrin/snowflake` on node 1: 41 bits of milliseconds since the
//! Twitter epoch (2010-11-04T01:42:54.657Z), 10 bits of node, 12 bits of sequence. The IDs sort
//! by time, which deck and the artifact layout (`.../<job>/<build-id>/`) rely on.

/// Milliseconds between the Unix epoch and the snowflake epoch.
pub const SNOWFLAKE_EPOCH_MS: i64 = 1_288_834_974_657;
const NODE_BITS: u32 = 10;
const STEP_BITS: u32 = 12;
const STEP_MASK: u64 = (1 << STEP_BITS) - 1;

/// A snowflake ID generator for one node.
#[derive(Debug, Clone)]
pub struct Snowflake {
    node: u64,
    last_ms: i64,
    step: u64,
}

impl Snowflake {
    /// A generator for `node` (Prow uses node 1); only the low 10 bits are used.
    pub fn new(node: u16) -> Self {
        Snowflake {
            node: u64::from(node) & ((1 << NODE_BITS) - 1),
            last_ms: i64::MIN,
            step: 0,
        }
    }

    /// The next ID at `unix_ms` milliseconds since the Unix epoch.
    ///
    /// IDs never repeat and never go down: when more than 4,096 IDs are asked for within one
    /// millisecond, or the clock steps back, the generator borrows from the next millisecond
    /// instead of spinning like upstream.
    pub fn next_at(&mut self, unix_ms: i64) -> u64 {
        let mut now = (unix_ms - SNOWFLAKE_EPOCH_MS).max(0);
        if now <= self.last_ms {
            self.step = (self.step + 1) & STEP_MASK;
            now = if self.step == 0 {
                self.last_ms + 1
            } else {
                self.last_ms
            };
        } else {
            self.step = 0;
        }
        self.last_ms = now;
        ((now as u64) << (NODE_BITS + STEP_BITS)) | (self.node << STEP_BITS) | self.step
    }

    /// The next ID now, as a decimal string (the form of `BUILD_ID`).
    pub fn next_build_id(&mut self) -> String {
        let unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        self.next_at(unix_ms).to_string()
    }
}

/// The Unix time in milliseconds at which a snowflake ID was made.
pub fn snowflake_unix_ms(id: u64) -> i64 {
    (id >> (NODE_BITS + STEP_BITS)) as i64 + SNOWFLAKE_EPOCH_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_real_prow_build_id() {
        // prow.k8s.io/build-id 1549129474832863232 from upstream's integration fixture was made
        // by node 1 on 2022-07-18.
        let id: u64 = 1_549_129_474_832_863_232;
        let unix_ms = snowflake_unix_ms(id);
        let mut generator = Snowflake::new(1);
        let again = generator.next_at(unix_ms);
        assert_eq!(again >> STEP_BITS, id >> STEP_BITS);
        assert_eq!((id >> STEP_BITS) & ((1 << NODE_BITS) - 1), 1);
        // 2022-07-18T20:30:22Z, the fixture's creationTimestamp, to the second.
        assert_eq!(unix_ms / 1000, 1_658_176_222);
    }

    #[test]
    fn ids_are_unique_and_increasing_even_when_the_clock_stalls_or_steps_back() {
        let mut generator = Snowflake::new(1);
        let mut last = 0;
        let times = std::iter::repeat_n(1_700_000_000_000, 5000)
            .chain([1_699_999_999_000, 1_700_000_000_500]);
        for t in times {
            let id = generator.next_at(t);
            assert!(id > last, "{id} after {last}");
            last = id;
        }
    }
}
