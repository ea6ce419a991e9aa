//! Rows copied out of a SQLite statement a batch at a time, so that stepping the
//! statement (SQLite's B-tree walk and record decoding) and turning its rows into CSV or
//! NDJSON run on two threads, two cores, instead of one after the other on one.
//!
//! A batch is a flat copy: each value's kind and number, and every text in one byte
//! arena; the decoding thread borrows from it exactly as it would borrow from the
//! statement's current row. Batches are reused, so a long export allocates a handful.

use rusqlite::types::ValueRef;
use rusqlite::Row;

/// A batch is handed over when it holds this many rows…
const ROWS: usize = 1024;
/// …or this many bytes of text, whichever comes first (bounds memory with long texts).
const BYTES: usize = 512 * 1024;

/// One copied value; text and blobs as a range of the batch's arena.
#[derive(Debug, Clone, Copy)]
enum RawValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(usize, usize),
    Blob(usize, usize),
}

/// Rows of `width` columns, copied.
#[derive(Debug)]
pub struct RawBatch {
    width: usize,
    values: Vec<RawValue>,
    bytes: Vec<u8>,
}

impl RawBatch {
    pub fn new(width: usize) -> Self {
        Self {
            width,
            values: Vec::with_capacity(width * ROWS),
            bytes: Vec::with_capacity(BYTES + 64 * 1024),
        }
    }

    /// Empties the batch, keeping its memory.
    pub fn clear(&mut self) {
        self.values.clear();
        self.bytes.clear();
    }

    pub fn len(&self) -> usize {
        self.values.len() / self.width.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether the batch should be handed over now.
    pub fn is_full(&self) -> bool {
        self.len() >= ROWS || self.bytes.len() >= BYTES
    }

    /// Copies the statement's current row.
    pub fn push(&mut self, row: &Row<'_>) -> rusqlite::Result<()> {
        for i in 0..self.width {
            let value = match row.get_ref(i)? {
                ValueRef::Null => RawValue::Null,
                ValueRef::Integer(n) => RawValue::Integer(n),
                ValueRef::Real(x) => RawValue::Real(x),
                ValueRef::Text(text) => {
                    let (start, end) = self.keep(text);
                    RawValue::Text(start, end)
                }
                ValueRef::Blob(blob) => {
                    let (start, end) = self.keep(blob);
                    RawValue::Blob(start, end)
                }
            };
            self.values.push(value);
        }
        Ok(())
    }

    fn keep(&mut self, bytes: &[u8]) -> (usize, usize) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        (start, self.bytes.len())
    }

    /// The rows, in the order they were pushed.
    pub fn rows(&self) -> impl Iterator<Item = RawRow<'_>> {
        self.values
            .chunks_exact(self.width.max(1))
            .map(|values| RawRow {
                values,
                bytes: &self.bytes,
            })
    }
}

/// One copied row, borrowed from its batch.
#[derive(Debug, Clone, Copy)]
pub struct RawRow<'b> {
    values: &'b [RawValue],
    bytes: &'b [u8],
}

impl<'b> RawRow<'b> {
    /// The `i`-th value, as SQLite's statement would have lent it.
    pub fn get(&self, i: usize) -> ValueRef<'b> {
        match self.values[i] {
            RawValue::Null => ValueRef::Null,
            RawValue::Integer(n) => ValueRef::Integer(n),
            RawValue::Real(x) => ValueRef::Real(x),
            RawValue::Text(start, end) => ValueRef::Text(&self.bytes[start..end]),
            RawValue::Blob(start, end) => ValueRef::Blob(&self.bytes[start..end]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn a_batch_gives_back_every_value_of_every_row_as_the_statement_lent_it() -> rusqlite::Result<()>
    {
        let conn = Connection::open_in_memory()?;
        let mut statement = conn.prepare(
            "SELECT 1, '路灯', NULL, 2.5, x'00ff' \
                 UNION ALL SELECT -7, '', 'b', NULL, x''",
        )?;
        let mut batch = RawBatch::new(5);
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            batch.push(row)?;
        }
        assert_eq!(batch.len(), 2);
        let copied: Vec<Vec<ValueRef<'_>>> = batch
            .rows()
            .map(|row| (0..5).map(|i| row.get(i)).collect())
            .collect();
        assert_eq!(
            copied,
            vec![
                vec![
                    ValueRef::Integer(1),
                    ValueRef::Text("路灯".as_bytes()),
                    ValueRef::Null,
                    ValueRef::Real(2.5),
                    ValueRef::Blob(&[0x00, 0xff]),
                ],
                vec![
                    ValueRef::Integer(-7),
                    ValueRef::Text(b""),
                    ValueRef::Text(b"b"),
                    ValueRef::Null,
                    ValueRef::Blob(&[]),
                ],
            ]
        );
        batch.clear();
        assert!(batch.is_empty());
        assert_eq!(batch.rows().count(), 0);
        Ok(())
    }
}
