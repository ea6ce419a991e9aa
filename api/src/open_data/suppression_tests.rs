use super::*;
use proptest::prelude::*;

/// A cell whose every count is `n`, rated split as given.
fn cell(received: i64, rating: [i64; 3]) -> dq::Stats {
    dq::Stats {
        received,
        accepted: received,
        rated: rating.iter().sum(),
        satisfied: rating[0],
        basically_satisfied: rating[1],
        dissatisfied: rating[2],
        ..dq::Stats::default()
    }
}

fn hidden_of(masks: &[Mask], count: Count) -> Vec<bool> {
    masks.iter().map(|m| m.hides(count)).collect()
}

/// Can the public get a hidden cell of this line back alone: the only hidden cell, or
/// hidden cells that must all be 0 (the parent minus the shown cells is 0)?
fn recoverable(values: &[i64], hidden: &[bool]) -> bool {
    let n = hidden.iter().filter(|h| **h).count();
    let sum: i64 = values
        .iter()
        .zip(hidden)
        .filter(|(_, h)| **h)
        .map(|(v, _)| v)
        .sum();
    n == 1 || (n > 1 && sum == 0)
}

#[test]
fn a_count_below_the_threshold_is_hidden_with_the_next_smallest_sibling() {
    let cells = [
        cell(3, [0; 3]),
        cell(40, [0; 3]),
        cell(9, [0; 3]),
        cell(12, [0; 3]),
    ];
    let refs: Vec<&dq::Stats> = cells.iter().collect();
    let masks = suppress_siblings(&refs, &Mask::NONE, 5);
    assert_eq!(
        hidden_of(&masks, Count::Received),
        [true, false, true, false]
    );
}

#[test]
fn two_small_cells_protect_each_other_and_nothing_else_is_hidden() {
    let cells = [
        cell(3, [0; 3]),
        cell(40, [0; 3]),
        cell(2, [0; 3]),
        cell(12, [0; 3]),
    ];
    let refs: Vec<&dq::Stats> = cells.iter().collect();
    let masks = suppress_siblings(&refs, &Mask::NONE, 5);
    assert_eq!(
        hidden_of(&masks, Count::Received),
        [true, false, true, false]
    );
}

#[test]
fn zeros_are_shown_because_they_identify_nobody() {
    let cells = [
        cell(0, [0; 3]),
        cell(0, [0; 3]),
        cell(20, [0; 3]),
        cell(30, [0; 3]),
    ];
    let refs: Vec<&dq::Stats> = cells.iter().collect();
    let masks = suppress_siblings(&refs, &Mask::NONE, 5);
    assert!(masks.iter().all(|m| !m.any()));
}

#[test]
fn a_small_cell_among_zeros_takes_the_smallest_positive_sibling_along() {
    // 33 minus the shown 0 + 0 + 30 would give the 3 back; hiding a zero would not help.
    let cells = [
        cell(3, [0; 3]),
        cell(0, [0; 3]),
        cell(0, [0; 3]),
        cell(30, [0; 3]),
    ];
    let refs: Vec<&dq::Stats> = cells.iter().collect();
    let masks = suppress_siblings(&refs, &Mask::NONE, 5);
    assert_eq!(
        hidden_of(&masks, Count::Received),
        [true, false, false, true]
    );
}

#[test]
fn no_cell_is_hidden_when_every_count_reaches_the_threshold() {
    let cells = [cell(5, [5, 5, 5]), cell(7, [6, 5, 9])];
    let refs: Vec<&dq::Stats> = cells.iter().collect();
    let masks = suppress_siblings(&refs, &Mask::NONE, 5);
    for count in [
        Count::Received,
        Count::Accepted,
        Count::Rated,
        Count::Satisfied,
    ] {
        assert_eq!(hidden_of(&masks, count), [false, false], "{count:?}");
    }
}

#[test]
fn a_small_rating_level_hides_another_level_of_the_same_cell() {
    // rated 30 minus shown 20 + 8 would give dissatisfied = 2 back.
    let cells = [cell(40, [20, 8, 2]), cell(40, [20, 8, 2])];
    let refs: Vec<&dq::Stats> = cells.iter().collect();
    let masks = suppress_siblings(&refs, &Mask::NONE, 5);
    for mask in &masks {
        assert!(mask.hides(Count::Dissatisfied));
        assert!(mask.hides(Count::BasicallySatisfied));
        assert!(!mask.hides(Count::Satisfied));
        assert!(!mask.hides(Count::Rated));
        assert!(mask.hides_rate(Rate::Satisfaction));
        assert!(!mask.hides_rate(Rate::Participation) || mask.hides(Count::Replied));
    }
}

#[test]
fn a_hidden_parent_needs_a_hidden_child() {
    // The township's own total is hidden, so its category split must not add up to it.
    let cells = [cell(10, [0; 3]), cell(20, [0; 3])];
    let refs: Vec<&dq::Stats> = cells.iter().collect();
    let mut parent = Mask::NONE;
    parent.hide(Count::Received);
    let masks = suppress_siblings(&refs, &parent, 5);
    assert_eq!(hidden_of(&masks, Count::Received), [true, false]);
}

#[test]
fn rates_follow_their_counts() {
    let mut mask = Mask::NONE;
    mask.hide(Count::Due);
    assert!(mask.hides_rate(Rate::Reply));
    assert!(mask.hides_rate(Rate::OnTime));
    assert!(!mask.hides_rate(Rate::Completion));
    assert!(mask.any());
    assert!(!Mask::NONE.any());
}

#[test]
fn a_series_hides_a_second_interval_when_the_window_total_is_public() {
    // One township (plus a large sibling) over three months: 2 in March alone would be
    // the window total 30 minus the shown January and February.
    let small = [cell(14, [0; 3]), cell(14, [0; 3]), cell(2, [0; 3])];
    let big = [cell(90, [0; 3]), cell(80, [0; 3]), cell(70, [0; 3])];
    let grid: Vec<Vec<Option<&dq::Stats>>> = (0..3)
        .map(|t| vec![Some(&small[t]), Some(&big[t])])
        .collect();
    let masks = suppress_grid(&grid, &[Mask::NONE, Mask::NONE], 5);
    let township: Vec<bool> = masks.iter().map(|m| m[0].hides(Count::Received)).collect();
    let sibling: Vec<bool> = masks.iter().map(|m| m[1].hides(Count::Received)).collect();
    // March is small; each month's county total then needs the sibling hidden too, and
    // the sibling's own window total needs a second hidden month, and so on.
    assert!(township[2]);
    assert!(sibling[2]);
    for t in 0..3 {
        let col_values = [small[t].received, big[t].received];
        let col_hidden = [township[t], sibling[t]];
        assert!(!recoverable(&col_values, &col_hidden), "interval {t}");
    }
    let row: Vec<i64> = small.iter().map(|s| s.received).collect();
    assert!(!recoverable(&row, &township));
}

fn line_strategy() -> impl Strategy<Value = (Vec<i64>, i64)> {
    (
        prop::collection::vec(prop_oneof![0i64..8, 0i64..60], 1..14),
        1i64..10,
    )
}

proptest! {
    /// The property: for random sibling counts, no hidden cell comes back alone
    /// from the parent total minus the shown cells, and every small count is hidden.
    /// The only exceptions no suppression can help: a single child (it equals its
    /// parent) and a parent total of 0 (every child is 0).
    #[test]
    fn no_hidden_sibling_is_recoverable_from_the_parent_minus_the_shown_cells(
        (counts, threshold) in line_strategy()
    ) {
        let cells: Vec<dq::Stats> = counts.iter().map(|n| cell(*n, [0; 3])).collect();
        let refs: Vec<&dq::Stats> = cells.iter().collect();
        let masks = suppress_siblings(&refs, &Mask::NONE, threshold);
        let hidden = hidden_of(&masks, Count::Received);
        for (n, h) in counts.iter().zip(&hidden) {
            if (1..threshold).contains(n) {
                prop_assert!(*h, "{n} below {threshold} is shown");
            }
        }
        let parent: i64 = counts.iter().sum();
        if counts.len() > 1 && parent > 0 {
            prop_assert!(!recoverable(&counts, &hidden), "{counts:?} {hidden:?}");
        }
    }

    /// Secondary suppression never hides more than it must: at most one extra cell per
    /// exposed line, so with one small cell exactly two cells are hidden.
    #[test]
    fn one_small_cell_costs_exactly_one_more(
        big in prop::collection::vec(5i64..100, 1..10),
        small in 1i64..5,
    ) {
        let mut counts = big.clone();
        counts.push(small);
        let cells: Vec<dq::Stats> = counts.iter().map(|n| cell(*n, [0; 3])).collect();
        let refs: Vec<&dq::Stats> = cells.iter().collect();
        let masks = suppress_siblings(&refs, &Mask::NONE, 5);
        let hidden = hidden_of(&masks, Count::Received);
        prop_assert_eq!(hidden.iter().filter(|h| **h).count(), 2);
        let smallest_big = big.iter().copied().min().unwrap_or(0);
        let partner = counts.iter().zip(&hidden).take(big.len()).find(|(_, h)| **h).map(|(v, _)| *v);
        prop_assert_eq!(partner, Some(smallest_big));
    }

    /// In a series every interval's siblings and every sibling's intervals stay
    /// protected at once.
    #[test]
    fn a_grid_protects_every_row_and_every_column(
        rows in prop::collection::vec(prop::collection::vec(0i64..30, 3), 1..6),
    ) {
        let siblings = rows[0].len();
        let cells: Vec<Vec<dq::Stats>> = rows
            .iter()
            .map(|r| r.iter().map(|n| cell(*n, [0; 3])).collect())
            .collect();
        let grid: Vec<Vec<Option<&dq::Stats>>> =
            cells.iter().map(|r| r.iter().map(Some).collect()).collect();
        let totals = vec![Mask::NONE; siblings];
        let masks = suppress_grid(&grid, &totals, 5);
        for (t, row) in rows.iter().enumerate() {
            let hidden: Vec<bool> = masks[t].iter().map(|m| m.hides(Count::Received)).collect();
            if row.iter().sum::<i64>() > 0 {
                prop_assert!(!recoverable(row, &hidden), "interval {t}: {row:?} {hidden:?}");
            }
        }
        for s in 0..siblings {
            let values: Vec<i64> = rows.iter().map(|r| r[s]).collect();
            let hidden: Vec<bool> = masks.iter().map(|m| m[s].hides(Count::Received)).collect();
            if values.len() > 1 && values.iter().sum::<i64>() > 0 {
                prop_assert!(!recoverable(&values, &hidden), "sibling {s}: {values:?} {hidden:?}");
            }
        }
    }
}
