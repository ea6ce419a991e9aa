//! sea-orm entities of minyi: one module a table, enums as `DeriveActiveEnum`.
//! No logic lives here beyond the model itself.

pub mod api_key;
pub mod case;
pub mod case_event;
pub mod category;
pub mod citizen;
pub mod deadline_policy;
pub mod department;
pub mod enums;
pub mod evaluation_panel;
pub mod holiday;
pub mod panel_criterion;
pub mod panel_department_result;
pub mod panel_member;
pub mod panel_sample;
pub mod panel_score;
pub mod rating;
pub mod region;
pub mod release;
pub mod release_file;
pub mod reviewer;

pub use enums::*;
