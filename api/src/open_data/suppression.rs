//! Small-cell suppression of public statistics at township/village level.
