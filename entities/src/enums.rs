//! The enumerations shared by the tables. Stored as short lowercase strings so that
//! SQLite and PostgreSQL hold the same values; exposed to GraphQL in SCREAMING_CASE
//! when the `graphql` feature is on.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name {
            $(#[sea_orm(string_value = $value)] $variant,)+
        }

        impl $name {
            /// The value stored in the database.
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$variant => $value,)+ }
            }

            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// Parses the stored database value.
            pub fn from_db(value: &str) -> Option<Self> {
                match value { $($value => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

string_enum!(
    /// Administrative level of a region (行政区划级别).
    RegionLevel { Province = "province", City = "city", County = "county", Township = "township", Village = "village" }
);

string_enum!(
    /// Where a case came in (渠道).
    Channel {
        LeaderBoard = "leader_board",
        Mailbox = "mailbox",
        Hotline = "hotline",
        Website = "website",
        Wechat = "wechat",
        Weibo = "weibo",
        Alipay = "alipay",
        App = "app",
        Video = "video",
        Visit = "visit",
    }
);

string_enum!(
    /// The kind of request (诉求类型).
    CaseKind {
        Complaint = "complaint",
        HelpRequest = "help_request",
        Consultation = "consultation",
        Suggestion = "suggestion",
        Report = "report",
        Praise = "praise",
    }
);

string_enum!(
    /// Lifecycle state of a case (see docs/domain lifecycle).
    CaseStatus {
        Submitted = "submitted",
        Accepted = "accepted",
        Rejected = "rejected",
        Assigned = "assigned",
        InProgress = "in_progress",
        Replied = "replied",
        Closed = "closed",
        Archived = "archived",
    }
);

string_enum!(
    /// What a case event records.
    CaseAction {
        Submit = "submit",
        Accept = "accept",
        Reject = "reject",
        Assign = "assign",
        Transfer = "transfer",
        Claim = "claim",
        Respond = "respond",
        Remind = "remind",
        Extend = "extend",
        Reply = "reply",
        Close = "close",
        Rate = "rate",
        Reopen = "reopen",
        Supervise = "supervise",
        Merge = "merge",
        Archive = "archive",
        Publish = "publish",
        Unpublish = "unpublish",
        Edit = "edit",
    }
);

string_enum!(
    /// A citizen's satisfaction rating (满意度).
    RatingLevel { Satisfied = "satisfied", BasicallySatisfied = "basically_satisfied", Dissatisfied = "dissatisfied" }
);

string_enum!(
    /// The kind of unit a department is.
    DepartmentKind {
        LeaderOffice = "leader_office",
        Party = "party",
        Government = "government",
        PublicInstitution = "public_institution",
        Utility = "utility",
    }
);

string_enum!(
    /// Who an API key speaks for.
    Role { Public = "public", Leader = "leader", Handler = "handler", Evaluator = "evaluator", Admin = "admin" }
);
