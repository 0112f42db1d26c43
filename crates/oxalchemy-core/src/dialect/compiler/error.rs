//! The error of compiling a statement.

/// A statement that cannot be turned into valid SQL. Raised before anything is sent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    #[error("text(): the SQL uses :{0} but no value was bound for it; add .bind(\"{0}\", value)")]
    MissingBind(String),
    #[error("text(): .bind(\"{0}\", …) was given but the SQL has no :{0} placeholder")]
    UnusedBind(String),
    #[error("INSERT into {table}: row {row} has {got} values but {expected} columns were named")]
    RowLength {
        table: String,
        row: usize,
        expected: usize,
        got: usize,
    },
    #[error("INSERT into {0} has no rows; add .values(…) at least once")]
    EmptyInsert(String),
    #[error("UPDATE of {0} sets no columns; add .set(column, value)")]
    EmptyUpdate(String),
    #[error("ON CONFLICT DO UPDATE needs conflict target columns")]
    MissingConflictTarget,
    #[error("{0} is not supported by the {1} dialect")]
    Unsupported(&'static str, &'static str),
    #[error("LIMIT/OFFSET value {0} is larger than i64::MAX")]
    OutOfRange(u64),
    #[error("a float server default must be finite, got {0}")]
    NonFiniteLiteral(f64),
}
