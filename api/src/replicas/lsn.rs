//! PostgreSQL WAL positions (`pg_lsn`, written `16/B374D848`): the consistency token of
//! read-your-writes is the primary's position after a mutation, in that same text form.

use std::fmt;
use std::str::FromStr;

/// A position in PostgreSQL's write-ahead log. Ordered: a replica that replayed up to
/// `b` has seen every commit at `a <= b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

/// A consistency token (or a server's answer) that is not `<hex>/<hex>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a WAL position: a consistency token looks like `0/16B3748` (two hexadecimal numbers of at most 8 digits separated by `/`)")]
pub struct MalformedLsn(pub String);

impl FromStr for Lsn {
    type Err = MalformedLsn;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || MalformedLsn(text.chars().take(64).collect());
        let (high, low) = text.trim().split_once('/').ok_or_else(malformed)?;
        let half = |part: &str| {
            let well_formed =
                !part.is_empty() && part.len() <= 8 && part.chars().all(|c| c.is_ascii_hexdigit());
            if well_formed {
                u32::from_str_radix(part, 16).map_err(|_| malformed())
            } else {
                Err(malformed())
            }
        };
        Ok(Lsn((u64::from(half(high)?) << 32) | u64::from(half(low)?)))
    }
}

impl fmt::Display for Lsn {
    /// PostgreSQL's own spelling, so the token can be compared in SQL too.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

impl Lsn {
    /// Bytes of WAL between `self` and a later position (0 when `later` is not later).
    pub fn bytes_until(self, later: Lsn) -> u64 {
        later.0.saturating_sub(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_lsn_reads_and_writes_back_the_same() {
        let lsn: Lsn = "16/B374D848".parse().expect("an LSN");
        assert_eq!(lsn, Lsn(0x16_B374_D848));
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert_eq!("0/0".parse::<Lsn>(), Ok(Lsn(0)));
    }

    #[test]
    fn later_positions_compare_greater_across_the_slash() {
        let a: Lsn = "0/FFFFFFFF".parse().expect("an LSN");
        let b: Lsn = "1/0".parse().expect("an LSN");
        assert!(a < b);
        assert_eq!(a.bytes_until(b), 1);
        assert_eq!(b.bytes_until(a), 0);
    }

    #[test]
    fn anything_else_is_malformed() {
        for bad in [
            "",
            "0",
            "0/",
            "/0",
            "x/1",
            "0/1/2",
            "123456789/0",
            "-1/0",
            "0x1/0",
        ] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad:?} was accepted");
        }
    }
}
