use super::*;
use proptest::prelude::*;
use CaseStatus::*;

#[test]
fn the_happy_path_walks_the_whole_lifecycle() {
    let mut status = Submitted;
    for (action, expected) in [
        (Action::Accept, Accepted),
        (Action::Assign, Assigned),
        (Action::Claim, InProgress),
        (Action::Reply, Replied),
        (Action::Close, Closed),
        (Action::Archive, Archived),
    ] {
        status = transition(status, action).expect("legal step");
        assert_eq!(status, expected);
    }
}

#[test]
fn a_submitted_case_can_be_rejected_and_a_rejected_case_goes_nowhere() {
    assert_eq!(transition(Submitted, Action::Reject), Ok(Rejected));
    for action in Action::ALL {
        assert_eq!(
            transition(Rejected, action),
            Err(Refusal {
                action,
                status: Rejected
            }),
            "{action:?}"
        );
    }
}

#[test]
fn an_archived_case_is_frozen_but_can_still_be_taken_off_the_public_site() {
    for action in Action::ALL {
        if action == Action::Unpublish {
            assert_eq!(transition(Archived, action), Ok(Archived));
        } else {
            assert!(transition(Archived, action).is_err(), "{action:?}");
        }
    }
}

#[test]
fn only_a_replied_or_closed_case_is_published_and_unpublishing_keeps_the_status() {
    assert_eq!(transition(Replied, Action::Publish), Ok(Replied));
    assert_eq!(transition(Closed, Action::Publish), Ok(Closed));
    for status in [
        Submitted, Accepted, Assigned, InProgress, Rejected, Archived,
    ] {
        assert!(transition(status, Action::Publish).is_err(), "{status:?}");
    }
    for status in [
        Submitted, Accepted, Assigned, InProgress, Replied, Closed, Archived,
    ] {
        assert_eq!(transition(status, Action::Unpublish), Ok(status));
    }
    assert!(transition(Rejected, Action::Unpublish).is_err());
}

#[test]
fn a_transfer_keeps_or_returns_to_assigned() {
    assert_eq!(transition(Assigned, Action::Transfer), Ok(Assigned));
    assert_eq!(transition(InProgress, Action::Transfer), Ok(Assigned));
    assert!(transition(Accepted, Action::Transfer).is_err());
    assert!(transition(Replied, Action::Transfer).is_err());
}

#[test]
fn reopen_brings_a_replied_or_closed_case_back_to_in_progress() {
    assert_eq!(transition(Replied, Action::Reopen), Ok(InProgress));
    assert_eq!(transition(Closed, Action::Reopen), Ok(InProgress));
    assert!(transition(InProgress, Action::Reopen).is_err());
    assert!(transition(Archived, Action::Reopen).is_err());
}

#[test]
fn events_keep_the_status_and_are_legal_only_on_open_cases() {
    assert_eq!(transition(Assigned, Action::Remind), Ok(Assigned));
    assert_eq!(transition(Accepted, Action::Extend), Ok(Accepted));
    assert_eq!(transition(Replied, Action::Supervise), Ok(Replied));
    assert_eq!(transition(Submitted, Action::Supervise), Ok(Submitted));
    for closed in [Rejected, Closed, Archived] {
        for action in [Action::Remind, Action::Extend, Action::Supervise] {
            assert!(
                transition(closed, action).is_err(),
                "{action:?} on {closed:?}"
            );
        }
    }
    assert!(transition(Replied, Action::Extend).is_err());
    assert!(transition(Accepted, Action::Remind).is_err());
}

#[test]
fn rating_is_legal_only_after_a_reply() {
    assert_eq!(transition(Replied, Action::Rate), Ok(Replied));
    assert_eq!(transition(Closed, Action::Rate), Ok(Closed));
    for status in [
        Submitted, Accepted, Assigned, InProgress, Rejected, Archived,
    ] {
        assert!(transition(status, Action::Rate).is_err(), "{status:?}");
    }
}

#[test]
fn merging_closes_an_open_duplicate_only() {
    for status in [Submitted, Accepted, Assigned, InProgress, Replied] {
        assert_eq!(transition(status, Action::MergeAsDuplicate), Ok(Closed));
    }
    for status in [Rejected, Closed, Archived] {
        assert!(transition(status, Action::MergeAsDuplicate).is_err());
    }
    assert!(validate_merge(1, 1, None, Accepted).is_err());
    assert!(validate_merge(1, 2, Some(3), Accepted).is_err());
    assert!(validate_merge(1, 2, None, Rejected).is_err());
    assert!(validate_merge(1, 2, None, Closed).is_ok());
}

#[test]
fn a_refusal_becomes_invalid_transition_with_the_current_status() {
    let err: crate::error::ApiError = Refusal {
        action: Action::Reply,
        status: Closed,
    }
    .into();
    assert_eq!(err.code(), "INVALID_TRANSITION");
    assert!(err.message().contains("CLOSED"), "{}", err.message());
}

#[test]
fn every_action_maps_to_its_event_and_back() {
    for action in Action::ALL {
        assert_eq!(Action::from_event(action.event()), Some(action));
    }
    assert_eq!(Action::from_event(CaseAction::Submit), None);
}

#[test]
fn replay_refuses_a_trail_that_skips_a_step() {
    let trail = [
        (CaseAction::Submit, Some(Submitted)),
        (CaseAction::Reply, Some(Replied)),
    ];
    assert!(matches!(
        replay(trail),
        Err(ReplayError::Illegal { index: 1, .. })
    ));
    assert_eq!(replay([]), Err(ReplayError::NotSubmittedFirst));
    let lying = [
        (CaseAction::Submit, Some(Submitted)),
        (CaseAction::Accept, Some(Assigned)),
    ];
    assert!(matches!(
        replay(lying),
        Err(ReplayError::Mismatch { index: 1, .. })
    ));
}

/// Every (from, to) edge the lifecycle of domain.md draws, events included.
fn allowed_edge(from: CaseStatus, to: CaseStatus) -> bool {
    matches!(
        (from, to),
        (Submitted, Accepted | Rejected | Submitted | Closed)
            | (Accepted, Assigned | Accepted | Closed)
            | (Assigned, InProgress | Assigned | Closed)
            | (InProgress, Replied | Assigned | InProgress | Closed)
            | (Replied, Closed | InProgress | Replied)
            | (Closed, Archived | InProgress | Closed)
            | (Archived, Archived)
    )
}

fn any_action() -> impl Strategy<Value = Action> {
    prop::sample::select(Action::ALL.to_vec())
}

proptest! {
    #[test]
    fn random_action_sequences_stay_on_the_lifecycle_and_replay_to_the_current_status(
        actions in prop::collection::vec(any_action(), 0..60)
    ) {
        let mut status = Submitted;
        let mut trail = vec![(CaseAction::Submit, Some(Submitted))];
        for action in actions {
            match transition(status, action) {
                Ok(next) => {
                    prop_assert!(allowed_edge(status, next), "{status:?} -{action:?}-> {next:?}");
                    trail.push((action.event(), Some(next)));
                    status = next;
                }
                // A refusal changes nothing and records nothing.
                Err(refusal) => prop_assert_eq!(refusal, Refusal { action, status }),
            }
            prop_assert!(status != Submitted || trail.iter().skip(1).all(|(_, to)| *to == Some(Submitted)));
        }
        prop_assert_eq!(replay(trail.clone()), Ok(status));
    }

    #[test]
    fn terminal_statuses_are_never_left_except_closed_by_archive_or_reopen(
        actions in prop::collection::vec(any_action(), 0..60)
    ) {
        let mut status = Submitted;
        for action in actions {
            let before = status;
            status = transition(status, action).unwrap_or(status);
            if matches!(before, Rejected | Archived) {
                prop_assert_eq!(status, before);
            }
            if before == Closed && status != Closed {
                prop_assert!(matches!(status, Archived | InProgress));
            }
        }
    }
}
