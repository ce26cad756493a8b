//! The id of the request being answered: taken from the caller's `X-Request-Id` when it is a
//! sane token (so ids can be followed across services), else a new one. It is readable
//! anywhere below the middleware that sets it (problem bodies quote it, log lines carry it).
//!
//! New ids cost no system call: 128 random bits are drawn from the OS once per process, and each
//! id is a process-wide counter mixed with them through a bijective 64-bit mixer (splitmix64's
//! finaliser). Ids look random, never repeat within a process (the counter does not wrap for
//! 2^64 ids), and ids of different processes collide only if their random seeds do.

use std::sync::{
    LazyLock,
    atomic::{AtomicU64, Ordering},
};

/// The header that carries the request id both ways.
pub const HEADER: &str = "x-request-id";

/// The longest caller-chosen id we keep.
const MAX_LEN: usize = 64;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being answered; empty outside a request.
pub fn current() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// Runs `future` with `id` as the current request id.
pub async fn scope<F: Future>(id: String, future: F) -> F::Output {
    REQUEST_ID.scope(id, future).await
}

/// The caller's id when it is 1–64 characters of `[A-Za-z0-9-_.:]`, else a new random one.
pub fn from_header(value: Option<&str>) -> String {
    value
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_LEN
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(new_id)
}

/// The process's random seeds: one offsets the counter, the other keys the id's upper half.
static SEEDS: LazyLock<[u64; 2]> = LazyLock::new(|| {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness (never seen on Linux): ids stay unique within the process, and the
        // clock and the process id keep those of other processes apart.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = (nanos ^ (u128::from(std::process::id()) << 96)).to_le_bytes();
    }
    let (low, high) = bytes.split_at(8);
    let word = |half: &[u8]| half.try_into().map_or(0, u64::from_le_bytes);
    [word(low), word(high)]
});

/// Ids made so far by this process.
static ISSUED: AtomicU64 = AtomicU64::new(0);

/// splitmix64's finaliser: a bijection on 64-bit words that spreads every input bit over all
/// output bits.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A new id: 32 lowercase hex digits, unique within the process.
fn new_id() -> String {
    let [offset, key] = *SEEDS;
    let n = ISSUED.fetch_add(1, Ordering::Relaxed);
    // Distinct counters give distinct words (adding an odd multiple of `n`, `mix` and `^ key`
    // are all bijections), so the low half alone keeps ids unique; the high half only looks
    // random.
    // The key inside the low half too: the mixer is public and invertible, so without it two
    // ids would tell how many requests were answered between them.
    let low = mix(mix(offset.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15))) ^ key);
    let high = mix(low ^ key.rotate_left(32));
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(32);
    for byte in high.to_be_bytes().into_iter().chain(low.to_be_bytes()) {
        id.push(char::from(HEX[usize::from(byte >> 4)]));
        id.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    id
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::from_header;

    #[test]
    fn a_sane_caller_id_is_kept_and_anything_else_replaced() {
        assert_eq!(from_header(Some("abc-123_x.y:z")), "abc-123_x.y:z");
        for bad in ["", "has space", "a\u{0}b", &"x".repeat(65)] {
            let id = from_header(Some(bad));
            assert_eq!(id.len(), 32, "{bad:?} gets a new id");
        }
    }

    #[test]
    fn new_ids_are_32_lowercase_hex_digits_and_never_repeat() {
        let ids: HashSet<String> = (0..100_000).map(|_| from_header(None)).collect();
        assert_eq!(ids.len(), 100_000);
        assert!(ids.iter().all(|id| {
            id.len() == 32
                && id
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }));
        // Consecutive ids share no telling prefix: the counter does not show.
        let (a, b) = (from_header(None), from_header(None));
        assert_ne!(a[..8], b[..8]);
    }
}
