//! Reading an import file into rows of named cells (pure): size, encoding, the header
//! and the shape of every row. What the cells mean is [`super::sales`]' and
//! [`super::payments`]' business.

use super::{Errors, MAX_BYTES, MAX_ROWS, Reason, Rejected};

/// A column a kind of file may have.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
}

/// One data row: its line and its cells in the schema's column order (`None`: the
/// file has no such column; cells are trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub cells: Vec<Option<String>>,
}

impl Row {
    /// The cell of the schema's column `index`, `None` when absent or empty.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.cells
            .get(index)
            .and_then(|c| c.as_deref())
            .filter(|c| !c.is_empty())
    }
}

/// Reads `bytes` as a CSV file with the columns of `schema`; every problem of the file's
/// form (not of the cells' values) is reported.
pub fn read(bytes: &[u8], schema: &[Column]) -> Result<Vec<Row>, Rejected> {
    let mut errors = Errors::default();
    if bytes.len() > MAX_BYTES {
        errors.add(
            0,
            None,
            Reason::FileTooLarge {
                bytes: bytes.len() as u64,
                limit: MAX_BYTES as u64,
            },
        );
        return Err(errors.rejected());
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        errors.add(line, None, Reason::NotUtf8);
        return Err(errors.rejected());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.records();
    let header = match records.next() {
        None => {
            errors.add(
                0,
                None,
                Reason::FileEmpty {
                    columns: names(schema),
                },
            );
            return Err(errors.rejected());
        }
        Some(Err(e)) => {
            errors.add(error_line(&e), None, Reason::HeaderUnreadable);
            return Err(errors.rejected());
        }
        Some(Ok(header)) => header,
    };
    let mut lines = LineCounter::new(bytes);
    let header_line = lines.at(header.position());
    // For every cell of the header, the schema column it is.
    let mut positions: Vec<Option<usize>> = Vec::with_capacity(header.len());
    let mut seen = vec![false; schema.len()];
    for cell in header.iter() {
        let name = cell.trim().to_ascii_lowercase();
        match schema.iter().position(|c| c.name == name) {
            Some(i) if seen[i] => {
                errors.add(header_line, Some(schema[i].name), Reason::ColumnTwice);
                positions.push(None);
            }
            Some(i) => {
                seen[i] = true;
                positions.push(Some(i));
            }
            None => {
                let shown: String = cell.trim().chars().take(40).collect();
                errors.add(
                    header_line,
                    None,
                    Reason::ColumnUnknown {
                        name: shown,
                        columns: names(schema),
                    },
                );
                positions.push(None);
            }
        }
    }
    for (i, column) in schema.iter().enumerate() {
        if column.required && !seen[i] {
            errors.add(header_line, Some(column.name), Reason::ColumnRequired);
        }
    }
    if !errors.is_empty() {
        return Err(errors.rejected());
    }
    let mut rows = Vec::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.add(error_line(&e), None, Reason::LineUnreadable);
                continue;
            }
        };
        let line = lines.at(record.position());
        // A row of empty cells (a spreadsheet's trailing ",,,") is no row.
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            errors.add(
                line,
                None,
                Reason::TooManyRows {
                    limit: MAX_ROWS as u64,
                },
            );
            return Err(errors.rejected());
        }
        if record.len() != header.len() {
            errors.add(
                line,
                None,
                Reason::CellCount {
                    cells: record.len() as u64,
                    expected: header.len() as u64,
                },
            );
            continue;
        }
        let mut cells = vec![None; schema.len()];
        for (cell, position) in record.iter().zip(&positions) {
            if let Some(i) = position {
                cells[*i] = Some(cell.trim().to_string());
            }
        }
        rows.push(Row { line, cells });
    }
    errors.into_result(rows)
}

/// The file's line where a record starts. The reader's own line count lags by one after
/// a CRLF (it ends a record at the `\r` and counts the `\n` with the next record), so
/// lines are counted here from the record's byte offset, past any line breaks.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> LineCounter<'a> {
        LineCounter {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The line of a record starting at `position` (records come in file order).
    fn at(&mut self, position: Option<&csv::Position>) -> u64 {
        let mut start = position.map_or(self.offset, |p| p.byte() as usize);
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let start = start.min(self.bytes.len()).max(self.offset);
        self.line += self.bytes[self.offset..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        self.offset = start;
        self.line
    }
}

fn error_line(e: &csv::Error) -> u64 {
    e.position().map_or(0, |p| p.line())
}

/// The schema's column names, for messages.
pub fn names(schema: &[Column]) -> String {
    schema
        .iter()
        .map(|c| {
            if c.required {
                c.name.to_string()
            } else {
                format!("{} (optional)", c.name)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &[Column] = &[
        Column {
            name: "a",
            required: true,
        },
        Column {
            name: "b",
            required: false,
        },
    ];

    fn reasons(r: Rejected) -> Vec<(u64, Option<String>, String)> {
        r.errors
            .into_iter()
            .map(|e| (e.line, e.column, e.reason))
            .collect()
    }

    #[test]
    fn header_names_are_case_insensitive_in_any_order_with_bom_and_crlf() {
        let rows = read(b"\xEF\xBB\xBFB , A\r\nx,1\r\n\r\ny,\"2\"\r\n", SCHEMA).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].get(0), Some("1"));
        assert_eq!(rows[0].get(1), Some("x"));
        // The blank line is a line of the file: the next row is line 4.
        assert_eq!(rows[1].line, 4);
    }

    #[test]
    fn a_missing_required_column_is_named() {
        let r = reasons(read(b"b\nx\n", SCHEMA).unwrap_err());
        assert_eq!(
            r,
            vec![(1, Some("a".into()), "this column is required".into())]
        );
    }

    #[test]
    fn an_unknown_or_repeated_column_is_refused() {
        let r = reasons(read(b"a,c\n1,2\n", SCHEMA).unwrap_err());
        assert_eq!(r.len(), 1);
        assert!(r[0].2.starts_with("unknown column \"c\""), "{r:?}");
        let r = reasons(read(b"a,A\n1,2\n", SCHEMA).unwrap_err());
        assert_eq!(
            r,
            vec![(1, Some("a".into()), "this column appears twice".into())]
        );
    }

    #[test]
    fn a_row_with_another_number_of_cells_is_named() {
        let r = reasons(read(b"a,b\n1,2\n1,2,3\n4\n", SCHEMA).unwrap_err());
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].0, r[1].0), (3, 4));
    }

    #[test]
    fn empty_not_utf8_and_too_large_files_are_refused() {
        assert_eq!(reasons(read(b"", SCHEMA).unwrap_err())[0].0, 0);
        let r = reasons(read(b"a\n1\n\xff\n", SCHEMA).unwrap_err());
        assert_eq!(r[0].0, 3);
        let big = vec![b'1'; MAX_BYTES + 1];
        let r = reasons(read(&big, SCHEMA).unwrap_err());
        assert!(r[0].2.contains("2 MiB"), "{r:?}");
    }

    #[test]
    fn at_most_10000_rows() {
        let mut text = String::from("a\n");
        for i in 0..MAX_ROWS {
            text.push_str(&format!("{i}\n"));
        }
        assert_eq!(read(text.as_bytes(), SCHEMA).unwrap().len(), MAX_ROWS);
        text.push_str("x\n");
        let r = reasons(read(text.as_bytes(), SCHEMA).unwrap_err());
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, MAX_ROWS as u64 + 2);
        assert!(r[0].2.contains("more than 10000 rows"));
    }

    #[test]
    fn formula_looking_cells_are_text() {
        let rows = read(b"a\n=1+2\n\"@SUM(A1)\"\n", SCHEMA).unwrap();
        assert_eq!(rows[0].get(0), Some("=1+2"));
        assert_eq!(rows[1].get(0), Some("@SUM(A1)"));
    }
}
