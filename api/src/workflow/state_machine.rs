//! The case lifecycle as one pure function: (status, action) → new status or a refusal.
//! Every mutation asks it before writing, and replaying the recorded events through it
//! must give back the stored status (the property tests below check both).
//!
//! ```text
//! submitted ─accept→ accepted ─assign→ assigned ─claim→ in_progress ─reply→ replied ─close→ closed ─archive→ archived
//!     └─reject→ rejected        transfer: assigned|in_progress → assigned (new department)
//!                               reopen:   replied|closed → in_progress (fresh deadline)
//!                               merge as duplicate: any open status → closed
//! ```
//! remind, extend, supervise and rate are events: they keep the status.
//! publish (replied | closed) and unpublish (any status a case can be published in or
//! reach afterwards) keep it too: they only move the case on and off the public site.

use entities::{CaseAction, CaseStatus};

/// What a caller asks to do to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Accept,
    Reject,
    Assign,
    Transfer,
    Claim,
    /// 响应: the department's first contact with the citizen; the status stays.
    Respond,
    Remind,
    Extend,
    Reply,
    Close,
    Rate,
    Reopen,
    Supervise,
    /// Closes this case as a duplicate of a canonical one.
    MergeAsDuplicate,
    Archive,
    /// 公开: the case becomes visible to the public (a replied or closed case).
    Publish,
    /// 撤回公开: a published case is taken off the public site again.
    Unpublish,
}

impl Action {
    pub const ALL: [Action; 17] = [
        Action::Accept,
        Action::Reject,
        Action::Assign,
        Action::Transfer,
        Action::Claim,
        Action::Respond,
        Action::Remind,
        Action::Extend,
        Action::Reply,
        Action::Close,
        Action::Rate,
        Action::Reopen,
        Action::Supervise,
        Action::MergeAsDuplicate,
        Action::Archive,
        Action::Publish,
        Action::Unpublish,
    ];

    /// The action recorded in the case event.
    pub fn event(self) -> CaseAction {
        match self {
            Action::Accept => CaseAction::Accept,
            Action::Reject => CaseAction::Reject,
            Action::Assign => CaseAction::Assign,
            Action::Transfer => CaseAction::Transfer,
            Action::Claim => CaseAction::Claim,
            Action::Respond => CaseAction::Respond,
            Action::Remind => CaseAction::Remind,
            Action::Extend => CaseAction::Extend,
            Action::Reply => CaseAction::Reply,
            Action::Close => CaseAction::Close,
            Action::Rate => CaseAction::Rate,
            Action::Reopen => CaseAction::Reopen,
            Action::Supervise => CaseAction::Supervise,
            Action::MergeAsDuplicate => CaseAction::Merge,
            Action::Archive => CaseAction::Archive,
            Action::Publish => CaseAction::Publish,
            Action::Unpublish => CaseAction::Unpublish,
        }
    }

    /// The inverse of [`Action::event`]; `None` for events no mutation records as an
    /// action (submit, edit).
    pub fn from_event(action: CaseAction) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.event() == action)
    }

    /// The verb used in error messages ("cannot reply a case whose status is …").
    pub fn verb(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Assign => "assign",
            Action::Transfer => "transfer",
            Action::Claim => "claim",
            Action::Respond => "respond to",
            Action::Remind => "remind",
            Action::Extend => "extend the deadline of",
            Action::Reply => "reply to",
            Action::Close => "close",
            Action::Rate => "rate",
            Action::Reopen => "reopen",
            Action::Supervise => "supervise",
            Action::MergeAsDuplicate => "merge as a duplicate",
            Action::Archive => "archive",
            Action::Publish => "publish",
            Action::Unpublish => "unpublish",
        }
    }
}

/// Why an action was refused: the action and the status it met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub action: Action,
    pub status: CaseStatus,
}

impl From<Refusal> for crate::error::ApiError {
    fn from(r: Refusal) -> Self {
        Self::InvalidTransition {
            action: r.action.verb().to_string(),
            status: r.status,
        }
    }
}

/// Statuses in which a case waits for its reply: the ones a reply deadline applies to.
pub const AWAITING_REPLY: [CaseStatus; 3] = [
    CaseStatus::Accepted,
    CaseStatus::Assigned,
    CaseStatus::InProgress,
];

/// Statuses in which the case is still being handled (not rejected, closed or archived).
pub fn is_open(status: CaseStatus) -> bool {
    use CaseStatus::*;
    matches!(
        status,
        Submitted | Accepted | Assigned | InProgress | Replied
    )
}

/// The lifecycle of `domain.md`, and nothing else.
pub fn transition(status: CaseStatus, action: Action) -> Result<CaseStatus, Refusal> {
    use Action::*;
    use CaseStatus::*;
    let next = match (action, status) {
        (Accept, Submitted) => Accepted,
        (Reject, Submitted) => Rejected,
        (Assign, Accepted) => Assigned,
        (Transfer, Assigned | InProgress) => Assigned,
        (Claim, Assigned) => InProgress,
        (Respond, InProgress) => InProgress,
        (Reply, InProgress) => Replied,
        (Close, Replied) => Closed,
        (Archive, Closed) => Archived,
        (Reopen, Replied | Closed) => InProgress,
        // A reminder goes to the department that has the case.
        (Remind, Assigned | InProgress) => status,
        // Only a case still waiting for its reply has a deadline worth moving.
        (Extend, Accepted | Assigned | InProgress) => status,
        (Rate, Replied | Closed) => status,
        (Supervise, s) if is_open(s) => s,
        (MergeAsDuplicate, s) if is_open(s) => Closed,
        // The public sees a case with its answer: published once replied, never before.
        (Publish, Replied | Closed) => status,
        // A takedown is always possible, also after archiving (e.g. a privacy complaint);
        // a rejected case was never published.
        (Unpublish, s) if s != Rejected => s,
        _ => return Err(Refusal { action, status }),
    };
    Ok(next)
}

/// Why a recorded trail does not replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayError {
    /// The trail does not start with the submission.
    NotSubmittedFirst,
    /// Event `index` is illegal from the status reached before it.
    Illegal { index: usize, refusal: Refusal },
    /// Event `index` records a different target than the lifecycle gives.
    Mismatch {
        index: usize,
        recorded: Option<CaseStatus>,
        expected: CaseStatus,
    },
}

/// Replays a trail of (action, recorded to-status) and returns the status it ends in.
/// Events no mutation issues as an action (edit) are skipped.
pub fn replay(
    events: impl IntoIterator<Item = (CaseAction, Option<CaseStatus>)>,
) -> Result<CaseStatus, ReplayError> {
    let mut events = events.into_iter().enumerate();
    let mut status = match events.next() {
        Some((_, (CaseAction::Submit, _))) => CaseStatus::Submitted,
        _ => return Err(ReplayError::NotSubmittedFirst),
    };
    for (index, (recorded_action, recorded_to)) in events {
        let Some(action) = Action::from_event(recorded_action) else {
            continue;
        };
        let next = transition(status, action)
            .map_err(|refusal| ReplayError::Illegal { index, refusal })?;
        if recorded_to.is_some_and(|to| to != next) {
            return Err(ReplayError::Mismatch {
                index,
                recorded: recorded_to,
                expected: next,
            });
        }
        status = next;
    }
    Ok(status)
}

/// Checks a merge of `duplicate` into `canonical` beyond the duplicate's status:
/// a case is not its own duplicate and a duplicate is never canonical (no chains).
pub fn validate_merge(
    duplicate_id: i64,
    canonical_id: i64,
    canonical_duplicate_of: Option<i64>,
    canonical_status: CaseStatus,
) -> Result<(), &'static str> {
    if duplicate_id == canonical_id {
        return Err("a case cannot be a duplicate of itself");
    }
    if canonical_duplicate_of.is_some() {
        return Err(
            "the canonical case is itself a merged duplicate; merge into its canonical case",
        );
    }
    if canonical_status == CaseStatus::Rejected {
        return Err("a rejected case cannot be canonical");
    }
    Ok(())
}

#[cfg(test)]
#[path = "state_machine_tests.rs"]
mod tests;
