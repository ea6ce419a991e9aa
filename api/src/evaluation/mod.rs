//! Third-party evaluation panels (第三方评价): reviewer pools, reproducible draws of members
//! and samples of handled cases, rubric scores, and the panel results.
