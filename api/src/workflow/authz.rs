//! Who may perform which mutation: the role matrix of docs/WORKFLOW.md as one pure
//! function, and the order in which refusals are decided.
//!
//! The order never reveals whether a case exists to someone who may not see it:
//! 1. UNAUTHENTICATED: no key, and the mutation is never open to keyless callers;
//! 2. FORBIDDEN: the caller's role may never perform this mutation (decided without
//!    looking at the case, so it says nothing about the case);
//! 3. NOT_FOUND: the case is outside the caller's scope, or does not exist;
//! 4. INVALID_TRANSITION / BAD_USER_INPUT / CONFLICT: about the case itself.

use super::state_machine::Action;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use entities::Role;

/// Every mutation of the schema, as the matrix sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Submit,
    Case(Action),
    /// Departments, deadline policies and API keys.
    Admin,
}

/// May a caller of `role` ever perform `op` (scope aside)?
pub fn allowed(role: Role, op: Operation) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        // Evaluators review samples; they never change a case.
        Role::Evaluator => false,
        // Citizens' front ends submit; the citizen rates with the token of their case.
        Role::Public => matches!(op, Operation::Submit | Operation::Case(Rate)),
        // The platform office of a region steers the cases of its subtree.
        Role::Leader => match op {
            Operation::Submit => true,
            Operation::Case(action) => matches!(
                action,
                Accept
                    | Reject
                    | Assign
                    | Transfer
                    | Remind
                    | Extend
                    | Close
                    | Rate
                    | Reopen
                    | Supervise
                    | MergeAsDuplicate
                    | Archive
                    | Publish
                    | Unpublish
            ),
            Operation::Admin => false,
        },
        // A department works the cases given to it.
        Role::Handler => match op {
            Operation::Submit => true,
            Operation::Case(action) => {
                matches!(action, Claim | Respond | Transfer | Reply | Close | Rate)
            }
            Operation::Admin => false,
        },
    }
}

/// Steps 1 and 2 of the order above.
pub fn require(principal: &Principal, op: Operation) -> ApiResult<()> {
    if allowed(principal.role, op) {
        return Ok(());
    }
    if principal.role == Role::Public {
        return Err(ApiError::Unauthenticated);
    }
    Err(ApiError::Forbidden(format!(
        "the {} role may not {}",
        principal.role.as_str(),
        match op {
            Operation::Submit => "submit cases",
            Operation::Case(action) => action.verb(),
            Operation::Admin => "administer the platform",
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            role,
            ..Principal::public()
        }
    }

    #[test]
    fn admins_may_do_everything_and_evaluators_nothing() {
        for action in Action::ALL {
            assert!(allowed(Role::Admin, Operation::Case(action)));
            assert!(!allowed(Role::Evaluator, Operation::Case(action)));
        }
        assert!(allowed(Role::Admin, Operation::Admin));
        assert!(!allowed(Role::Evaluator, Operation::Submit));
    }

    #[test]
    fn a_keyless_caller_is_told_to_authenticate_and_a_keyed_one_is_forbidden() {
        let public = require(&principal(Role::Public), Operation::Case(Action::Accept));
        assert!(matches!(public, Err(ApiError::Unauthenticated)));
        let handler = require(&principal(Role::Handler), Operation::Case(Action::Accept));
        assert!(matches!(handler, Err(ApiError::Forbidden(_))));
        assert!(require(&principal(Role::Public), Operation::Submit).is_ok());
        assert!(matches!(
            require(&principal(Role::Leader), Operation::Admin),
            Err(ApiError::Forbidden(_))
        ));
    }

    #[test]
    fn handlers_work_cases_and_leaders_steer_them() {
        for action in [
            Action::Claim,
            Action::Reply,
            Action::Transfer,
            Action::Close,
        ] {
            assert!(
                allowed(Role::Handler, Operation::Case(action)),
                "{action:?}"
            );
        }
        for action in [
            Action::Accept,
            Action::Assign,
            Action::Extend,
            Action::Archive,
        ] {
            assert!(
                !allowed(Role::Handler, Operation::Case(action)),
                "{action:?}"
            );
            assert!(allowed(Role::Leader, Operation::Case(action)), "{action:?}");
        }
        assert!(!allowed(Role::Leader, Operation::Case(Action::Reply)));
        assert!(!allowed(Role::Leader, Operation::Case(Action::Claim)));
        // Publishing is the platform office's decision, not the department's.
        for action in [Action::Publish, Action::Unpublish] {
            assert!(allowed(Role::Leader, Operation::Case(action)), "{action:?}");
            assert!(
                !allowed(Role::Handler, Operation::Case(action)),
                "{action:?}"
            );
        }
    }
}
