//! Third-party evaluation panels (第三方评价, docs/EVALUATION.md): a panel drawn at
//! random from the reviewer pool scores a stratified random sample of handled cases on
//! a rubric; its close yields per-department scores with confidence intervals,
//! per-criterion means and Krippendorff's alpha, which feed the third-party component
//! of department rankings.
//!
//! `rng`, `draw`, `sampling`, `statistics` and `scoring` are pure functions with unit
//! tests; `store` is the transactional database layer.

pub mod draw;
pub mod rng;
pub mod sampling;
pub mod scoring;
pub mod statistics;
pub mod store;
