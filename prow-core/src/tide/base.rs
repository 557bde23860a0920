//! The history of a base branch as a merge queue sees it: the PRs merged onto it, in order, and
//! the moments it moved for other reasons. A run remembers the position it started at; the
//! history since then says whether its result still speaks for the base as it is now.

use std::collections::VecDeque;

use super::strategy::PrNumber;

/// How many events the history keeps; a run older than that is stale anyway.
const KEEP: usize = 4096;

/// The events on a base branch since the queue was created (bounded; see [`KEEP`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BaseLog {
    /// The position of `events[0]`.
    first: u64,
    /// `Some(pr)`: the queue merged `pr`; `None`: the base moved some other way.
    events: VecDeque<Option<PrNumber>>,
}

impl BaseLog {
    /// The current position: runs started now record it.
    pub(crate) fn position(&self) -> u64 {
        self.first + self.events.len() as u64
    }

    /// Records that `pr` landed on the base.
    pub(crate) fn merged(&mut self, pr: PrNumber) {
        self.push(Some(pr));
    }

    /// Records that the base moved in a way the queue cannot describe (someone else pushed, or
    /// a merge landed only in part): every result from before is stale.
    pub(crate) fn moved(&mut self) {
        self.push(None);
    }

    fn push(&mut self, event: Option<PrNumber>) {
        self.events.push_back(event);
        if self.events.len() > KEEP {
            self.events.pop_front();
            self.first += 1;
        }
    }

    /// The PRs merged since `position`, in order; `None` when the base also moved some other
    /// way since then (or `position` is older than the history kept).
    pub(crate) fn since(&self, position: u64) -> Option<Vec<PrNumber>> {
        let skip = usize::try_from(position.checked_sub(self.first)?).ok()?;
        if skip > self.events.len() {
            return None;
        }
        self.events.iter().skip(skip).copied().collect()
    }

    /// Whether the base is exactly the base at `position` with `prs` merged onto it, in order.
    pub(crate) fn is(&self, position: u64, prs: &[PrNumber]) -> bool {
        let Some(skip) = position
            .checked_sub(self.first)
            .and_then(|s| usize::try_from(s).ok())
        else {
            return false;
        };
        if self.events.len().checked_sub(skip) != Some(prs.len()) {
            return false;
        }
        self.events
            .iter()
            .skip(skip)
            .zip(prs)
            .all(|(event, pr)| *event == Some(*pr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_lists_merges_and_stops_at_other_moves() {
        let mut log = BaseLog::default();
        let start = log.position();
        log.merged(3);
        log.merged(1);
        assert_eq!(log.since(start), Some(vec![3, 1]));
        assert!(log.is(start, &[3, 1]));
        assert!(!log.is(start, &[3]));
        assert!(!log.is(start, &[1, 3]));
        assert!(log.is(log.position(), &[]));
        log.moved();
        assert_eq!(log.since(start), None);
        assert!(!log.is(start, &[3, 1]));
        let later = log.position();
        log.merged(7);
        assert!(log.is(later, &[7]));
        assert_eq!(log.since(later + 5), None);
    }

    #[test]
    fn old_positions_are_forgotten() {
        let mut log = BaseLog::default();
        for pr in 0..(KEEP as u64 + 10) {
            log.merged(pr);
        }
        assert_eq!(log.since(0), None);
        assert!(!log.is(0, &[]));
        let p = log.position() - 2;
        assert_eq!(log.since(p).map(|v| v.len()), Some(2));
    }
}
