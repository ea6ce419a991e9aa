//! GeoReport v2 knows two statuses, `open` and `closed`. A case is closed once its
//! handling is over from the citizen's side: closed (办结), archived (归档), or rejected
//! (不予受理, which the `status_notes` say). Everything before that is open, including a
//! case whose reply is out but which may still be rated or reopened.

use entities::CaseStatus;

/// An Open311 status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicStatus {
    Open,
    Closed,
}

impl PublicStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    /// `open` or `closed`, in any letter case (clients differ).
    pub fn parse(value: &str) -> Option<Self> {
        if value.eq_ignore_ascii_case("open") {
            Some(Self::Open)
        } else if value.eq_ignore_ascii_case("closed") {
            Some(Self::Closed)
        } else {
            None
        }
    }

    /// The public status of a case status.
    pub fn of(status: CaseStatus) -> Self {
        match status {
            CaseStatus::Rejected | CaseStatus::Closed | CaseStatus::Archived => Self::Closed,
            CaseStatus::Submitted
            | CaseStatus::Accepted
            | CaseStatus::Assigned
            | CaseStatus::InProgress
            | CaseStatus::Replied => Self::Open,
        }
    }

    /// Every case status shown as this public status (for the SQL filter).
    pub fn case_statuses(self) -> Vec<CaseStatus> {
        CaseStatus::ALL
            .iter()
            .copied()
            .filter(|status| Self::of(*status) == self)
            .collect()
    }
}

/// `status_notes`: the department's public (redacted) reply when there is one; without
/// it, what a closed status means, so a rejection is not mistaken for a resolution.
pub fn status_notes(status: CaseStatus, public_reply: Option<&str>) -> Option<String> {
    if let Some(reply) = public_reply {
        return Some(reply.to_string());
    }
    match status {
        CaseStatus::Rejected => Some("不予受理".to_string()),
        CaseStatus::Closed => Some("已办结".to_string()),
        CaseStatus::Archived => Some("已办结归档".to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_status_is_open_or_closed_and_the_filters_partition_them() {
        let open = PublicStatus::Open.case_statuses();
        let closed = PublicStatus::Closed.case_statuses();
        assert_eq!(
            closed,
            vec![
                CaseStatus::Rejected,
                CaseStatus::Closed,
                CaseStatus::Archived
            ]
        );
        assert_eq!(open.len() + closed.len(), CaseStatus::ALL.len());
        assert!(open.contains(&CaseStatus::Replied));
    }

    #[test]
    fn statuses_parse_in_any_case_and_nothing_else_parses() {
        assert_eq!(PublicStatus::parse("Closed"), Some(PublicStatus::Closed));
        assert_eq!(PublicStatus::parse("OPEN"), Some(PublicStatus::Open));
        assert_eq!(PublicStatus::parse("pending"), None);
    }

    #[test]
    fn a_rejection_without_a_reply_says_so_and_a_reply_wins() {
        assert_eq!(
            status_notes(CaseStatus::Rejected, None).as_deref(),
            Some("不予受理")
        );
        assert_eq!(
            status_notes(CaseStatus::Closed, Some("已修复")).as_deref(),
            Some("已修复")
        );
        assert_eq!(status_notes(CaseStatus::InProgress, None), None);
    }
}
