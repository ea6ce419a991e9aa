//! The case events of imported requests: the trail that replays through the state
//! machine to each stored status, written by one `INSERT … SELECT` over the batch's
//! new cases.

use entities::{CaseAction, CaseStatus};
use sea_orm::DbBackend;

/// Who the case events name as their actor.
const ACTOR: &str = "import:georeport-v2";

/// One event of the trail: submitted, accepted (with the expected time as the reply
/// deadline) and assigned at the request's time; a closed request is then claimed,
/// and replied and closed at its closing time.
struct Step {
    action: CaseAction,
    from: Option<CaseStatus>,
    to: CaseStatus,
    /// At the closing time (else at the request's time).
    at_closing: bool,
    /// Whether the event names the case's department.
    names_department: bool,
    /// Whether the event puts the case's first reply deadline in force.
    sets_deadline: bool,
    note: Option<&'static str>,
    closed_only: bool,
}

const TRAIL: [Step; 6] = [
    Step {
        action: CaseAction::Submit,
        from: None,
        to: CaseStatus::Submitted,
        at_closing: false,
        names_department: false,
        sets_deadline: false,
        note: Some("imported (GeoReport v2)"),
        closed_only: false,
    },
    Step {
        action: CaseAction::Accept,
        from: Some(CaseStatus::Submitted),
        to: CaseStatus::Accepted,
        at_closing: false,
        names_department: false,
        sets_deadline: true,
        note: None,
        closed_only: false,
    },
    Step {
        action: CaseAction::Assign,
        from: Some(CaseStatus::Accepted),
        to: CaseStatus::Assigned,
        at_closing: false,
        names_department: true,
        sets_deadline: false,
        note: None,
        closed_only: false,
    },
    Step {
        action: CaseAction::Claim,
        from: Some(CaseStatus::Assigned),
        to: CaseStatus::InProgress,
        at_closing: false,
        names_department: true,
        sets_deadline: false,
        note: None,
        closed_only: true,
    },
    Step {
        action: CaseAction::Reply,
        from: Some(CaseStatus::InProgress),
        to: CaseStatus::Replied,
        at_closing: true,
        names_department: true,
        sets_deadline: false,
        note: None,
        closed_only: true,
    },
    Step {
        action: CaseAction::Close,
        from: Some(CaseStatus::Replied),
        to: CaseStatus::Closed,
        at_closing: true,
        names_department: true,
        sets_deadline: false,
        note: None,
        closed_only: true,
    },
];

impl Step {
    /// `(position, action, from, to, at_closing, names_department, sets_deadline, note,
    /// closed_only)` as SQL literals: all of them are the constants above.
    fn values_row(&self, position: usize) -> String {
        let quote = |s: &str| format!("'{s}'");
        let flag = |b: bool| if b { "1" } else { "0" };
        format!(
            "({position}, {}, {}, {}, {}, {}, {}, {}, {})",
            quote(self.action.as_str()),
            self.from
                .map(|s| quote(s.as_str()))
                .unwrap_or_else(|| "NULL".into()),
            quote(self.to.as_str()),
            flag(self.at_closing),
            flag(self.names_department),
            flag(self.sets_deadline),
            self.note.map(quote).unwrap_or_else(|| "NULL".into()),
            flag(self.closed_only),
        )
    }
}

/// `INSERT INTO case_events … SELECT` the trail of `ids` new cases (bound parameters,
/// the only ones): the steps are a constant table joined to each case, the rows
/// ordered by case and step, so each case's events get ascending ids in replay order
/// and both the table and its `(case_id, at)` index are appended to. `CROSS JOIN`
/// makes SQLite walk the cases outside (in id order) and sort only each case's steps,
/// not the whole result.
pub(super) fn trail_sql(backend: DbBackend, ids: usize) -> String {
    let steps: Vec<String> = TRAIL
        .iter()
        .enumerate()
        .map(|(position, step)| step.values_row(position))
        .collect();
    let placeholders: Vec<String> = (1..=ids)
        .map(|n| match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_string(),
        })
        .collect();
    format!(
        "WITH steps (position, action, from_status, to_status, at_closing, names_department, \
         sets_deadline, note, closed_only) AS (VALUES {steps}) \
         INSERT INTO case_events (case_id, at, action, from_status, to_status, department_id, \
         reply_due_at, actor, note) \
         SELECT c.id, CASE WHEN s.at_closing = 1 THEN c.closed_at ELSE c.submitted_at END, \
         s.action, s.from_status, s.to_status, \
         CASE WHEN s.names_department = 1 THEN c.department_id END, \
         CASE WHEN s.sets_deadline = 1 THEN c.first_reply_due_at END, '{ACTOR}', s.note \
         FROM cases c CROSS JOIN steps s \
         WHERE c.id IN ({placeholders}) AND (s.closed_only = 0 OR c.closed_at IS NOT NULL) \
         ORDER BY c.id, s.position",
        steps = steps.join(", "),
        placeholders = placeholders.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trail_statement_binds_only_the_case_ids() {
        let sql = trail_sql(DbBackend::Postgres, 3);
        assert!(sql.contains(
            "WHERE c.id IN ($1, $2, $3) AND (s.closed_only = 0 OR c.closed_at IS NOT NULL) \
             ORDER BY c.id, s.position"
        ));
        assert!(!sql.contains("$4"));
        assert!(
            sql.contains("(0, 'submit', NULL, 'submitted', 0, 0, 0, 'imported (GeoReport v2)', 0)")
        );
        assert!(sql.contains("(5, 'close', 'replied', 'closed', 1, 1, 0, NULL, 1)"));
        assert_eq!(trail_sql(DbBackend::Sqlite, 2).matches('?').count(), 2);
    }
}
