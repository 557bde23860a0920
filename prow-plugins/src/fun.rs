//! What the cat, dog, pony and yuks plugins share: a choice from a list that needs no network
//! and no randomness source, and the commands' shape.

/// The item of `list` for `seed` (the delivery id), the same for the same delivery: FNV-1a of
/// the seed modulo the length. `None` for an empty list.
pub fn pick<'a, T>(list: &'a [T], seed: &str) -> Option<&'a T> {
    if list.is_empty() {
        return None;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let len = u64::try_from(list.len()).unwrap_or(u64::MAX);
    let index = usize::try_from(hash % len).unwrap_or(0);
    list.get(index)
}
