//! Small-cell suppression of public statistics at township/village level: which counts
//! of which cells to hide. Pure logic; `graphql/stats.rs` decides when it applies.
//!
//! A count from 1 to below the threshold is hidden (primary suppression). Zero is shown:
//! it identifies nobody, it is the most common value of a quiet township, and hiding it
//! would force hiding real numbers beside it (a line whose hidden cells could only be
//! zeros gives them back). Each count also sits in
//! *lines*: sets of cells whose sum the public can learn elsewhere, such as the
//! townships of a county (the county total is public) or the intervals of a series (the
//! window total is public). A line gives a hidden cell back when it is the only unknown
//! in it, or when the hidden cells of the line must sum to zero. So while some line
//! exposes a cell, the smallest shown positive cell of that line is hidden too
//! (secondary suppression), until no line exposes anything. Within one cell,
//! `rated = satisfied + basicallySatisfied + dissatisfied` is a line as well. Rates whose
//! numerator or denominator is hidden are hidden, and so are duration figures whose
//! count is hidden.
//!
//! What no rule can hide: a line of one cell equals its parent, and a parent total of 0
//! tells that every cell below it is 0. Both are documented in docs/OPEN_DATA.md.

use dashboard_queries as dq;

/// Counts below this are hidden unless configured otherwise.
pub const DEFAULT_THRESHOLD: i64 = 5;

/// The configured threshold, as schema data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold(pub i64);

/// The counts of a `Stats` cell that suppression protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Count {
    Received,
    Accepted,
    Rejected,
    Due,
    RepliedWhenDue,
    OnTime,
    Closed,
    Replied,
    Rated,
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
    OverdueNow,
    Repeats,
    /// Cases with a first reply: the count of the reply-duration summaries.
    ReplyDurations,
    /// Cases with a first response: the count of the response-duration summaries.
    ResponseDurations,
}

/// How many [`Count`]s there are.
pub const COUNTS: usize = 16;

impl Count {
    pub const ALL: [Count; COUNTS] = [
        Count::Received,
        Count::Accepted,
        Count::Rejected,
        Count::Due,
        Count::RepliedWhenDue,
        Count::OnTime,
        Count::Closed,
        Count::Replied,
        Count::Rated,
        Count::Satisfied,
        Count::BasicallySatisfied,
        Count::Dissatisfied,
        Count::OverdueNow,
        Count::Repeats,
        Count::ReplyDurations,
        Count::ResponseDurations,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The value of this count in `stats`.
    pub fn of(self, s: &dq::Stats) -> i64 {
        let wide = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        match self {
            Count::Received => s.received,
            Count::Accepted => s.accepted,
            Count::Rejected => s.rejected,
            Count::Due => s.due,
            Count::RepliedWhenDue => s.replied_when_due,
            Count::OnTime => s.on_time,
            Count::Closed => s.closed,
            Count::Replied => s.replied,
            Count::Rated => s.rated,
            Count::Satisfied => s.satisfied,
            Count::BasicallySatisfied => s.basically_satisfied,
            Count::Dissatisfied => s.dissatisfied,
            Count::OverdueNow => s.overdue_now,
            Count::Repeats => s.repeats,
            Count::ReplyDurations => wide(s.reply_hours.count),
            Count::ResponseDurations => wide(s.response_hours.count),
        }
    }
}

/// The rates of a `Stats` cell and the counts each is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    Reply,
    OnTime,
    Completion,
    Satisfaction,
    Participation,
    Repeat,
}

impl Rate {
    fn inputs(self) -> &'static [Count] {
        match self {
            Rate::Reply => &[Count::RepliedWhenDue, Count::Due],
            Rate::OnTime => &[Count::OnTime, Count::Due],
            Rate::Completion => &[Count::Closed, Count::Accepted],
            Rate::Satisfaction => &[Count::Satisfied, Count::BasicallySatisfied, Count::Rated],
            Rate::Participation => &[Count::Rated, Count::Replied],
            Rate::Repeat => &[Count::Repeats, Count::Received],
        }
    }
}

/// Which counts of one cell are hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mask([bool; COUNTS]);

impl Mask {
    /// Nothing hidden.
    pub const NONE: Mask = Mask([false; COUNTS]);
    /// Everything hidden.
    pub const ALL: Mask = Mask([true; COUNTS]);

    pub fn hides(&self, count: Count) -> bool {
        self.0[count.index()]
    }

    /// A rate is hidden when any count it is computed from is.
    pub fn hides_rate(&self, rate: Rate) -> bool {
        rate.inputs().iter().any(|c| self.hides(*c))
    }

    /// Whether anything at all is hidden (the `suppressed` flag).
    pub fn any(&self) -> bool {
        self.0.iter().any(|h| *h)
    }

    /// The same mask with `counts` shown: for counts the answer does not contain (the
    /// duration summaries when they were not asked for, which are then all 0).
    pub fn without(mut self, counts: &[Count]) -> Mask {
        for c in counts {
            self.0[c.index()] = false;
        }
        self
    }

    pub(crate) fn hide(&mut self, count: Count) {
        self.0[count.index()] = true;
    }
}

/// Makes sure `line` gives no hidden cell back, hiding one more cell if it does.
///
/// `values[i]` is a cell, `hidden[i]` whether it is hidden; the cells sum to a parent
/// total that is public unless `parent_hidden`. Exposed: exactly one unknown (a hidden
/// cell, or the hidden parent itself when every cell is shown), or a public parent whose
/// hidden cells must sum to 0. The remedy hides the smallest shown positive cell (the
/// smallest shown cell when none is positive); ties go to the first. Returns whether it
/// hid a cell: callers repeat until nothing changes.
pub fn protect_line(values: &[i64], hidden: &mut [bool], parent_hidden: bool) -> bool {
    let unknowns = hidden.iter().filter(|h| **h).count() + usize::from(parent_hidden);
    let hidden_sum: i64 = values
        .iter()
        .zip(hidden.iter())
        .filter(|(_, h)| **h)
        .map(|(v, _)| *v)
        .sum();
    let exposed = match unknowns {
        0 => false,
        1 => true,
        _ => !parent_hidden && hidden_sum == 0,
    };
    if !exposed {
        return false;
    }
    let shown = || (0..values.len()).filter(|i| !hidden[*i]);
    let pick = shown()
        .filter(|i| values[*i] > 0)
        .min_by_key(|i| (values[*i], *i))
        .or_else(|| shown().min_by_key(|i| (values[*i], *i)));
    match pick {
        Some(i) => {
            hidden[i] = true;
            true
        }
        // Every cell is hidden already: nothing left to hide in this line.
        None => false,
    }
}

/// The counts of every cell, as a matrix `[cell][count]`.
fn values_of(cells: &[&dq::Stats]) -> Vec<[i64; COUNTS]> {
    cells.iter().map(|s| Count::ALL.map(|c| c.of(s))).collect()
}

/// Primary suppression: every count from 1 to below the threshold.
fn primary(values: &[[i64; COUNTS]], threshold: i64) -> Vec<Mask> {
    values
        .iter()
        .map(|row| Mask(row.map(|v| v > 0 && v < threshold)))
        .collect()
}

/// One pass of the `rated = satisfied + basicallySatisfied + dissatisfied` line of a cell.
fn protect_rating_split(values: &[i64; COUNTS], mask: &mut Mask) -> bool {
    let parts = [
        Count::Satisfied,
        Count::BasicallySatisfied,
        Count::Dissatisfied,
    ];
    let v = parts.map(|c| values[c.index()]);
    let mut h = parts.map(|c| mask.hides(c));
    let changed = protect_line(&v, &mut h, mask.hides(Count::Rated));
    for (c, hidden) in parts.iter().zip(h) {
        if hidden {
            mask.hide(*c);
        }
    }
    changed
}

/// One pass over the column of `count` in `rows` (a line of sibling cells).
fn protect_column(
    values: &[[i64; COUNTS]],
    masks: &mut [Mask],
    rows: &[usize],
    count: Count,
    parent_hidden: bool,
) -> bool {
    let v: Vec<i64> = rows.iter().map(|r| values[*r][count.index()]).collect();
    let mut h: Vec<bool> = rows.iter().map(|r| masks[*r].hides(count)).collect();
    let changed = protect_line(&v, &mut h, parent_hidden);
    for (r, hidden) in rows.iter().zip(h) {
        if hidden {
            masks[*r].hide(count);
        }
    }
    changed
}

/// Suppression for sibling cells whose sum is their parent (the townships of a county
/// with the county's own remainder, or any breakdown of one township). `parent` says
/// which of the parent's counts are hidden themselves ([`Mask::NONE`] for a public
/// parent).
pub fn suppress_siblings(cells: &[&dq::Stats], parent: &Mask, threshold: i64) -> Vec<Mask> {
    let values = values_of(cells);
    let mut masks = primary(&values, threshold);
    let all: Vec<usize> = (0..cells.len()).collect();
    loop {
        let mut changed = false;
        for count in Count::ALL {
            changed |= protect_column(&values, &mut masks, &all, count, parent.hides(count));
        }
        for (row, mask) in values.iter().zip(masks.iter_mut()) {
            changed |= protect_rating_split(row, mask);
        }
        if !changed {
            return masks;
        }
    }
}

/// Suppression for a series of sibling cells: `grid[t][s]` is sibling `s` in interval
/// `t`, `None` where that interval's breakdown does not list the sibling (a known 0, not
/// a cell). Each interval's siblings sum to their public parent (the county in that
/// interval), and each sibling's intervals sum to its window total, whose mask is
/// `totals[s]` (from [`suppress_siblings`] over the whole window, so a series never
/// shows what the window's breakdown hides). Returns `masks[t][s]`.
pub fn suppress_grid(
    grid: &[Vec<Option<&dq::Stats>>],
    totals: &[Mask],
    threshold: i64,
) -> Vec<Vec<Mask>> {
    let siblings = totals.len();
    if siblings == 0 {
        return vec![Vec::new(); grid.len()];
    }
    let zero = dq::Stats::default();
    let flat: Vec<&dq::Stats> = grid
        .iter()
        .flat_map(|row| (0..siblings).map(move |s| row.get(s).copied().flatten()))
        .map(|cell| cell.unwrap_or(&zero))
        .collect();
    let present = |t: usize, s: usize| grid[t].get(s).copied().flatten().is_some();
    let values = values_of(&flat);
    let mut masks = primary(&values, threshold);
    let at = |t: usize, s: usize| t * siblings + s;
    for t in 0..grid.len() {
        for s in 0..siblings {
            if !present(t, s) {
                masks[at(t, s)] = Mask::NONE;
            }
        }
    }
    let columns: Vec<Vec<usize>> = (0..grid.len())
        .map(|t| {
            (0..siblings)
                .filter(|s| present(t, *s))
                .map(|s| at(t, s))
                .collect()
        })
        .collect();
    let rows: Vec<Vec<usize>> = (0..siblings)
        .map(|s| {
            (0..grid.len())
                .filter(|t| present(*t, s))
                .map(|t| at(t, s))
                .collect()
        })
        .collect();
    loop {
        let mut changed = false;
        for count in Count::ALL {
            for column in &columns {
                changed |= protect_column(&values, &mut masks, column, count, false);
            }
            for (s, row) in rows.iter().enumerate() {
                changed |= protect_column(&values, &mut masks, row, count, totals[s].hides(count));
            }
        }
        for t in 0..grid.len() {
            for s in 0..siblings {
                if present(t, s) {
                    changed |= protect_rating_split(&values[at(t, s)], &mut masks[at(t, s)]);
                }
            }
        }
        if !changed {
            break;
        }
    }
    masks
        .chunks(siblings.max(1))
        .map(<[Mask]>::to_vec)
        .collect()
}

#[cfg(test)]
#[path = "suppression_tests.rs"]
mod tests;
