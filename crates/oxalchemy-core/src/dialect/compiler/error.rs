//! [`CompileError`]: why a statement tree cannot become SQL. Every case is found before
//! anything is sent to a database, and each message says how to fix the statement.

/// A statement that cannot be turned into valid SQL for the chosen dialect.
///
/// Returned by [`crate::compile`] (and [`crate::dialect::column_definition`]) before anything
/// is sent to a database. Every case is a mistake in how the statement was built, so the
/// message names the statement part at fault and what to change.
///
/// ```
/// use oxalchemy_core::{compile, insert, table, CompileError, Sqlite};
///
/// let stmt = insert(table("users")).columns(["name"]).into();
/// let err = compile(&Sqlite, &stmt).unwrap_err();
/// assert_eq!(err, CompileError::EmptyInsert("users".into()));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CompileError {
    /// A statement with [`param`](crate::expr::param) placeholders was compiled as an
    /// ordinary statement, which has no values for them.
    #[error(
        "the statement has param() placeholders: prepare it (Query::prepare, or \
         dialect::compile_prepared) and give their values at each execution, or bind the \
         values directly instead of param()"
    )]
    UnpreparedParam,
    /// A prepared statement was run with a different number of values than it has
    /// placeholders.
    #[error(
        "the prepared statement has {expected} param() placeholders but {got} values were \
         given; pass one value per placeholder, in the order they appear in the SQL"
    )]
    ParamCount {
        /// The placeholders in the statement.
        expected: usize,
        /// The values given.
        got: usize,
    },
    /// A `text()` statement uses `:name` but no value was bound under that name.
    #[error(
        "text(): the SQL uses :{0} but no value was bound for it; add .bind(\"{0}\", value) \
         (or write \\:{0} for a literal colon)"
    )]
    MissingBind(
        /// The placeholder's name, without the colon.
        String,
    ),
    /// A `text()` statement was given a value for a name its SQL never uses (usually a typo
    /// in one of the two).
    #[error(
        "text(): .bind(\"{0}\", …) was given but the SQL has no :{0} placeholder; \
         remove the bind or fix the placeholder's spelling"
    )]
    UnusedBind(
        /// The name the unused value was bound under.
        String,
    ),
    /// An INSERT row has a different number of values than the INSERT names columns.
    #[error(
        "INSERT into {table}: row {row} has {got} values but {expected} columns were named; \
         give every row one value per column, in column order"
    )]
    RowLength {
        /// The table inserted into.
        table: String,
        /// The 0-based position of the first row whose length is wrong.
        row: usize,
        /// How many columns the INSERT names (the values each row needs).
        expected: usize,
        /// How many values that row has.
        got: usize,
    },
    /// An INSERT names columns but has no rows of values.
    #[error("INSERT into {0} has no rows; add .values(…) at least once")]
    EmptyInsert(
        /// The table inserted into.
        String,
    ),
    /// An UPDATE (or an `ON CONFLICT DO UPDATE`) that sets no column.
    #[error("UPDATE of {0} sets no columns; add .set(column, value)")]
    EmptyUpdate(
        /// The table updated.
        String,
    ),
    /// `ON CONFLICT DO UPDATE` without the columns whose unique constraint conflicts; both
    /// SQLite and PostgreSQL require them.
    #[error(
        "ON CONFLICT DO UPDATE needs conflict target columns; pass the columns of the unique \
         constraint that conflicts as on_conflict_do_update's first argument"
    )]
    MissingConflictTarget,
    /// The statement uses something the dialect does not have.
    #[error("{0} is not supported by the {1} dialect")]
    Unsupported(
        /// What is unsupported, and what to write instead.
        &'static str,
        /// The dialect's [`crate::Dialect::name`].
        &'static str,
    ),
    /// A LIMIT or OFFSET larger than any database accepts (they take a signed 64-bit
    /// count).
    #[error(
        "LIMIT/OFFSET value {0} is larger than i64::MAX, the largest count databases accept; \
         pass a smaller value, or no limit at all"
    )]
    OutOfRange(
        /// The count given.
        u64,
    ),
    /// A float server default of NaN or infinity: SQL has no literal for them.
    #[error(
        "a float server default must be finite, got {0}; SQL has no literal for it \
         (write the database's own spelling with .server_default(sql) instead)"
    )]
    NonFiniteLiteral(
        /// The value given.
        f64,
    ),
}
