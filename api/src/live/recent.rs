//! The ids a feeder delivered lately: a PostgreSQL range notice (a bulk statement) may
//! cover ids a concurrent statement already announced one by one.

use std::collections::{HashSet, VecDeque};

/// How many delivered ids are remembered.
const REMEMBERED: usize = 65_536;

#[derive(Default)]
pub struct Recent {
    order: VecDeque<i64>,
    seen: HashSet<i64>,
}

impl Recent {
    /// The ids not delivered before, in their order, now remembered as delivered.
    pub fn fresh(&mut self, ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
        let mut out = Vec::new();
        for id in ids {
            if self.seen.insert(id) {
                self.order.push_back(id);
                out.push(id);
            }
        }
        while self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_delivered_once() {
        let mut recent = Recent::default();
        assert_eq!(recent.fresh([3, 4]), vec![3, 4]);
        assert_eq!(recent.fresh([2, 3, 4, 5]), vec![2, 5]);
    }
}
