//! A case's handling history as events, and the replay that derives the case row's
//! lifecycle columns from them.
//!
//! The generator draws a case's whole future (accept, assign, claim, reply, rating…),
//! and [`Timeline`] keeps only what happened by the end of the window: events later than
//! `end` are dropped, so cases submitted near the end are naturally still open.

use chrono::{DateTime, TimeDelta, Utc};
use entities::{case, case_event, rating, CaseAction, CaseStatus};

pub const ACTOR: &str = "system:seed";

/// The events of one case under construction.
pub struct Timeline {
    end: DateTime<Utc>,
    pub events: Vec<case_event::Model>,
    pub status: Option<CaseStatus>,
    pub department_id: Option<i32>,
    last: Option<DateTime<Utc>>,
    /// True once an event fell after `end`: nothing later is recorded.
    pub cut: bool,
}

impl Timeline {
    pub fn new(end: DateTime<Utc>) -> Self {
        Timeline {
            end,
            events: Vec::with_capacity(12),
            status: None,
            department_id: None,
            last: None,
            cut: false,
        }
    }

    /// The instant of the latest recorded event.
    pub fn last_at(&self) -> Option<DateTime<Utc>> {
        self.last
    }

    /// Records an event at `at` (moved one second past the previous event if needed, so
    /// a case's events are strictly ordered). `to`: the new status of a transition, None
    /// for events that leave the status as it is (respond, remind, extend, supervise,
    /// rate, publish; recorded with `to_status` = the unchanged status). Returns the
    /// instant used, or None once the window has ended.
    pub fn push(
        &mut self,
        at: DateTime<Utc>,
        action: CaseAction,
        to: Option<CaseStatus>,
        department_id: Option<i32>,
        reply_due_at: Option<DateTime<Utc>>,
        note: Option<String>,
    ) -> Option<DateTime<Utc>> {
        if self.cut {
            return None;
        }
        let at = match self.last {
            Some(last) if at <= last => last + TimeDelta::seconds(1),
            _ => at,
        };
        if at > self.end {
            self.cut = true;
            return None;
        }
        if department_id.is_some() {
            self.department_id = department_id;
        }
        self.events.push(case_event::Model {
            id: 0,
            case_id: 0,
            at,
            action,
            from_status: self.status,
            // Status-keeping events record the unchanged status, as the workflow does.
            to_status: to.or(self.status),
            department_id: department_id.or(self.department_id),
            reply_due_at,
            actor: ACTOR.to_string(),
            note,
        });
        if to.is_some() {
            self.status = to;
        }
        self.last = Some(at);
        Some(at)
    }
}

/// Sets the lifecycle columns of `row` to what its events say (events in time order):
/// status = the target of the latest transition; accepted_at / rejected_at = the accept /
/// reject event; responded_at = the first respond or reply; reply_due_at = the deadline
/// put in force last (accept, extend, reopen); first_reply_due_at = the deadline of the
/// first round (the latest accept/extend deadline before any reopen); first_replied_at / replied_at = the first /
/// latest reply; closed_at = the latest close or merge, cleared by a reopen; archived_at
/// = the archive; department = the latest event's department; published = a publish
/// event; supervised = a supervise event; reopen_count = reopen events; version = the
/// number of events; updated_at = the latest event; rating_level = the latest rating's.
pub fn replay(row: &mut case::Model, events: &[case_event::Model], ratings: &[rating::Model]) {
    row.status = CaseStatus::Submitted;
    row.accepted_at = None;
    row.rejected_at = None;
    row.responded_at = None;
    row.reply_due_at = None;
    row.first_reply_due_at = None;
    row.first_replied_at = None;
    row.replied_at = None;
    row.closed_at = None;
    row.archived_at = None;
    row.published = false;
    row.supervised = false;
    row.reopen_count = 0;
    row.version = 0;
    row.updated_at = row.submitted_at;
    row.rating_level = ratings
        .iter()
        .max_by_key(|r| (r.rated_at, r.id))
        .map(|r| r.level);
    for e in events {
        if let Some(to) = e.to_status {
            row.status = to;
        }
        if let Some(due) = e.reply_due_at {
            row.reply_due_at = Some(due);
            if row.reopen_count == 0 && matches!(e.action, CaseAction::Accept | CaseAction::Extend)
            {
                row.first_reply_due_at = Some(due);
            }
        }
        if e.department_id.is_some() {
            row.department_id = e.department_id;
        }
        match e.action {
            CaseAction::Accept => row.accepted_at = row.accepted_at.or(Some(e.at)),
            CaseAction::Reject => row.rejected_at = Some(e.at),
            CaseAction::Respond => row.responded_at = row.responded_at.or(Some(e.at)),
            CaseAction::Reply => {
                row.responded_at = row.responded_at.or(Some(e.at));
                row.first_replied_at = row.first_replied_at.or(Some(e.at));
                row.replied_at = Some(e.at);
            }
            CaseAction::Close | CaseAction::Merge => row.closed_at = Some(e.at),
            CaseAction::Reopen => {
                row.closed_at = None;
                row.reopen_count += 1;
            }
            CaseAction::Archive => row.archived_at = Some(e.at),
            CaseAction::Publish => row.published = true,
            CaseAction::Unpublish => row.published = false,
            CaseAction::Supervise => row.supervised = true,
            _ => {}
        }
        row.version += 1;
        row.updated_at = e.at;
    }
}

/// Whether `action` may happen in status `from` and lead to `to`: the workflow's own
/// state machine decides (publishing included); status-keeping events record their
/// unchanged status as `to`.
#[cfg(test)]
pub fn is_legal(from: Option<CaseStatus>, action: CaseAction, to: Option<CaseStatus>) -> bool {
    use crate::workflow::state_machine::{transition, Action};
    let (Some(from), Some(to)) = (from, to) else {
        return from.is_none() && action == CaseAction::Submit && to == Some(CaseStatus::Submitted);
    };
    match Action::from_event(action) {
        Some(action) => transition(from, action) == Ok(to),
        None => false,
    }
}
