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
pub mod holiday;
pub mod rating;
pub mod region;

pub use enums::*;
