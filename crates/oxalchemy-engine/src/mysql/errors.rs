//! MySQL / MariaDB errors, typed by the server's error number: integrity violations with
//! the key or constraint name the message carries, deadlocks and lock wait timeouts as
//! retryable [`Error::Serialization`], a broken connection as [`Error::ConnectionLost`].

use mysql_async::{DriverError, ServerError};

use crate::error::{Error, IntegrityError};

/// `ER_DUP_ENTRY`: "Duplicate entry 'x' for key 'uq_users_email'".
const DUP_ENTRY: u16 = 1062;
/// `ER_ROW_IS_REFERENCED_2`: a parent row still referenced (DELETE / UPDATE of the parent).
const ROW_IS_REFERENCED: u16 = 1451;
/// `ER_NO_REFERENCED_ROW_2`: a child row referring to no parent.
const NO_REFERENCED_ROW: u16 = 1452;
/// `ER_ROW_IS_REFERENCED` / `ER_NO_REFERENCED_ROW` (servers without the constraint text).
const ROW_IS_REFERENCED_OLD: u16 = 1217;
const NO_REFERENCED_ROW_OLD: u16 = 1216;
/// MySQL's `ER_CHECK_CONSTRAINT_VIOLATED`: "Check constraint 'ck' is violated."
const CHECK_VIOLATED: u16 = 3819;
/// MariaDB's `ER_CONSTRAINT_FAILED`: "CONSTRAINT `ck` failed for `db`.`t`".
const CONSTRAINT_FAILED: u16 = 4025;
/// `ER_BAD_NULL_ERROR`: "Column 'x' cannot be null".
const BAD_NULL: u16 = 1048;
/// `ER_NO_DEFAULT_FOR_FIELD`: "Field 'x' doesn't have a default value" (a NOT NULL column
/// left out of an INSERT, in strict mode).
const NO_DEFAULT: u16 = 1364;
/// `ER_LOCK_DEADLOCK`: the transaction was rolled back to break a deadlock.
const DEADLOCK: u16 = 1213;
/// `ER_LOCK_WAIT_TIMEOUT`: `innodb_lock_wait_timeout` passed waiting for a row lock.
const LOCK_WAIT_TIMEOUT: u16 = 1205;
/// Errors after which the server has closed the session: "server has gone away" (2006),
/// "lost connection" (2013), the connection killed (1927), server shutdown (1053), an idle
/// session closed (MySQL 4031).
const SESSION_ENDED: &[u16] = &[2006, 2013, 1927, 1053, 4031];

/// Types a driver error (see the module doc); the driver's error stays the `source()`.
pub(crate) fn map_error(e: mysql_async::Error) -> Error {
    match &e {
        mysql_async::Error::Server(s) => server_error(s.clone(), e),
        mysql_async::Error::Io(_)
        | mysql_async::Error::Driver(
            DriverError::ConnectionClosed | DriverError::PoolDisconnected,
        ) => Error::ConnectionLost {
            reason: e.to_string(),
            source: Box::new(e),
        },
        _ => Error::Database {
            code: None,
            message: e.to_string(),
            detail: None,
            hint: None,
            source: Some(Box::new(e)),
        },
    }
}

/// A failed connection attempt: the server's reason (access denied, unknown database) or
/// the network's.
pub(crate) fn connect_error(e: mysql_async::Error, url: &str) -> Error {
    let reason = match &e {
        mysql_async::Error::Server(s) => format!("{} (MySQL error {})", s.message, s.code),
        other => other.to_string(),
    };
    Error::Connect {
        url: url.to_owned(),
        reason,
        source: Some(Box::new(e)),
    }
}

fn server_error(s: ServerError, e: mysql_async::Error) -> Error {
    if let Some(i) = integrity_error(&s) {
        return Error::Integrity(i);
    }
    if s.code == DEADLOCK || s.code == LOCK_WAIT_TIMEOUT {
        return Error::Serialization {
            // 1213 is SQLSTATE 40001; 1205 reports HY000, which says nothing: name it.
            code: if s.code == DEADLOCK {
                s.state.clone()
            } else {
                crate::database::retry::MYSQL_LOCK_WAIT_TIMEOUT.to_owned()
            },
            message: s.message.clone(),
            source: Some(Box::new(e)),
        };
    }
    if SESSION_ENDED.contains(&s.code) {
        return Error::ConnectionLost {
            reason: format!("{} (MySQL error {})", s.message, s.code),
            source: Box::new(e),
        };
    }
    Error::Database {
        code: Some(s.state.clone()),
        message: s.message.clone(),
        detail: Some(format!("MySQL error {}", s.code)),
        hint: None,
        source: Some(Box::new(e)),
    }
}

/// The table an INSERT, UPDATE or DELETE writes: the first name after `INSERT INTO`,
/// `UPDATE` or `DELETE FROM` (backticked, as the dialect writes it, or bare).
pub(crate) fn statement_table(sql: &str) -> Option<String> {
    let sql = sql.trim_start();
    let upper = sql.get(..12)?.to_ascii_uppercase();
    let rest = ["INSERT INTO ", "UPDATE ", "DELETE FROM "]
        .iter()
        .find(|p| upper.starts_with(*p))
        .map(|p| sql[p.len()..].trim_start())?;
    let name = match rest.strip_prefix('`') {
        Some(r) => r.split('`').next()?,
        None => rest.split(|c: char| c.is_whitespace() || c == '(').next()?,
    };
    Some(name.to_owned()).filter(|n| !n.is_empty())
}

/// The text between the first `open` after `after` and the next `close`.
fn between<'a>(text: &'a str, after: &str, open: char, close: char) -> Option<&'a str> {
    let rest = &text[text.find(after)? + after.len()..];
    let start = rest.find(open)? + open.len_utf8();
    let len = rest[start..].find(close)?;
    Some(&rest[start..start + len])
}

/// `(`db`.`table`, CONSTRAINT `name` …` in a foreign key message: (table, constraint).
fn fk_names(message: &str) -> (Option<String>, Option<String>) {
    let table = message
        .find("fails (")
        .and_then(|i| message[i..].split_once(", CONSTRAINT").map(|(t, _)| t))
        .and_then(|t| t.rsplit('.').next())
        .map(|t| {
            t.trim_matches(|c| c == '`' || c == '(' || c == ' ')
                .to_owned()
        })
        .filter(|t| !t.is_empty());
    let constraint = between(message, "CONSTRAINT", '`', '`').map(str::to_owned);
    (table, constraint)
}

fn integrity_error(s: &ServerError) -> Option<IntegrityError> {
    let message = s.message.clone();
    // Under ANSI_QUOTES (every connection's sql_mode) the server quotes names in messages
    // with `"`, otherwise with backticks: read both the same way.
    let quoted = message.replace('"', "`");
    Some(match s.code {
        DUP_ENTRY => {
            // MySQL 8 writes `for key 'table.key'`, MariaDB `for key 'key'`.
            let key = message
                .rfind("for key '")
                .map(|i| &message[i + "for key '".len()..])
                .and_then(|k| k.strip_suffix('\''))
                .map(str::to_owned);
            let (table, constraint) = match key {
                Some(k) => match k.split_once('.') {
                    Some((t, name)) => (Some(t.to_owned()), Some(name.to_owned())),
                    None => (None, Some(k)),
                },
                None => (None, None),
            };
            IntegrityError::UniqueViolation {
                constraint,
                table,
                columns: Vec::new(),
                message,
            }
        }
        ROW_IS_REFERENCED | NO_REFERENCED_ROW | ROW_IS_REFERENCED_OLD | NO_REFERENCED_ROW_OLD => {
            let (table, constraint) = fk_names(&quoted);
            IntegrityError::ForeignKeyViolation {
                constraint,
                table,
                message,
            }
        }
        CHECK_VIOLATED => IntegrityError::CheckViolation {
            constraint: between(&message, "constraint", '\'', '\'').map(str::to_owned),
            table: None,
            message,
        },
        CONSTRAINT_FAILED => IntegrityError::CheckViolation {
            constraint: between(&quoted, "CONSTRAINT", '`', '`').map(str::to_owned),
            table: quoted
                .rsplit('.')
                .next()
                .map(|t| t.trim_matches('`').to_owned())
                .filter(|t| !t.is_empty()),
            message,
        },
        BAD_NULL | NO_DEFAULT => IntegrityError::NotNullViolation {
            table: None,
            column: between(&message, "", '\'', '\'').map(str::to_owned),
            message,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: u16, state: &str, message: &str) -> Error {
        let s = ServerError {
            code,
            message: message.to_owned(),
            state: state.to_owned(),
        };
        map_error(mysql_async::Error::Server(s))
    }

    #[test]
    fn integrity_errors_carry_the_key_or_constraint() {
        let e = server(
            1062,
            "23000",
            "Duplicate entry 'a@b.c' for key 'uq_users_email'",
        );
        let Error::Integrity(i @ IntegrityError::UniqueViolation { .. }) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(i.constraint(), Some("uq_users_email"));
        let e = server(
            1062,
            "23000",
            "Duplicate entry 'x' for key 'users.uq_users_email'",
        );
        let Error::Integrity(IntegrityError::UniqueViolation {
            constraint, table, ..
        }) = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(
            (constraint.as_deref(), table.as_deref()),
            (Some("uq_users_email"), Some("users"))
        );
        let e = server(
            1452,
            "23000",
            "Cannot add or update a child row: a foreign key constraint fails (`test`.`posts`, \
             CONSTRAINT `fk_posts_user_id_users` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`))",
        );
        let Error::Integrity(IntegrityError::ForeignKeyViolation {
            constraint, table, ..
        }) = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(constraint.as_deref(), Some("fk_posts_user_id_users"));
        assert_eq!(table.as_deref(), Some("posts"));
        let e = server(
            3819,
            "HY000",
            "Check constraint 'ck_users_age' is violated.",
        );
        assert!(
            matches!(&e, Error::Integrity(i) if i.constraint() == Some("ck_users_age")),
            "{e:?}"
        );
        let e = server(
            4025,
            "23000",
            "CONSTRAINT `ck_users_age` failed for `test`.`users`",
        );
        let Error::Integrity(IntegrityError::CheckViolation {
            constraint, table, ..
        }) = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(
            (constraint.as_deref(), table.as_deref()),
            (Some("ck_users_age"), Some("users"))
        );
        let e = server(1048, "23000", "Column 'name' cannot be null");
        assert!(
            matches!(&e, Error::Integrity(IntegrityError::NotNullViolation { column: Some(c), .. }) if c == "name"),
            "{e:?}"
        );
    }

    #[test]
    fn the_table_a_statement_writes() {
        assert_eq!(
            statement_table("INSERT INTO `users` (`a`) VALUES (?)").as_deref(),
            Some("users")
        );
        assert_eq!(statement_table("UPDATE t SET a = 1").as_deref(), Some("t"));
        assert_eq!(
            statement_table("DELETE FROM `x` WHERE 1").as_deref(),
            Some("x")
        );
        assert_eq!(statement_table("SELECT 1"), None);
    }

    #[test]
    fn deadlocks_and_lock_waits_are_retryable_and_gone_servers_lost() {
        let e = server(1213, "40001", "Deadlock found when trying to get lock");
        assert!(
            matches!(e, Error::Serialization { ref code, .. } if code == "40001"),
            "{e:?}"
        );
        let e = server(1205, "HY000", "Lock wait timeout exceeded");
        assert!(matches!(e, Error::Serialization { .. }), "{e:?}");
        for code in [2006, 2013] {
            let e = server(code, "HY000", "MySQL server has gone away");
            assert!(matches!(e, Error::ConnectionLost { .. }), "{e:?}");
        }
        let e = server(1146, "42S02", "Table 'test.nope' doesn't exist");
        assert!(
            matches!(&e, Error::Database { code: Some(c), detail: Some(d), .. } if c == "42S02" && d.contains("1146")),
            "{e:?}"
        );
        use std::error::Error as _;
        assert!(e.source().is_some());
    }
}
