//! Open data for the public audience: what leaves minyi without an API key (see docs/OPEN_DATA.md).

pub mod redaction;
