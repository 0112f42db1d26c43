//! [`Config`]: what a project's own `migrate` binary hands the command line (the analog of
//! Alembic's `env.py`).

use std::path::PathBuf;

use oxalchemy_core::schema::MetaData;
use oxalchemy_core::Dialect;
use oxalchemy_migrate::diff::ObjectRef;
use oxalchemy_migrate::migration::Migration;

/// A filter of autogenerate's objects ([`Config::include_name`], [`Config::include_object`]):
/// `true` keeps the object in the comparison. `Send + Sync` for the same reason as
/// [`Config::include_table`].
pub type ObjectPredicate<'a> = Box<dyn Fn(&ObjectRef<'_>) -> bool + Send + Sync + 'a>;

/// What a project's `migrate` binary provides.
///
/// Built with [`Config::new`] and the chaining setters below (the fields stay public, so a
/// field can also be set in place); `#[non_exhaustive]`, so a new setting is not a breaking
/// change:
///
/// ```
/// # use oxalchemy_cli::Config;
/// # use oxalchemy_core::schema::MetaData;
/// let config = Config::new("sqlite:///app.db", MetaData::new(), &[])
///     .with_versions_dir("db/migrations")
///     .with_include_table(|table| !table.starts_with("tmp_"))
///     .with_progress(true);
/// assert_eq!(config.versions_dir, std::path::Path::new("db/migrations"));
/// ```
#[non_exhaustive]
pub struct Config<'a> {
    /// Database URL (e.g. from `DATABASE_URL`).
    pub url: String,
    /// The models' metadata (`Registry::new().model::<User>()…metadata()`).
    pub metadata: MetaData,
    /// The project's migrations (the generated `migrations::ALL`).
    pub migrations: &'a [Migration],
    /// Where migration files live (`src/migrations`).
    pub versions_dir: PathBuf,
    /// Which tables autogenerate may touch (default: all). `Send + Sync` so the future of
    /// [`run`](crate::run) is `Send` (migrations can run in `tokio::spawn` at start-up).
    pub include_table: Box<dyn Fn(&str) -> bool + Send + Sync + 'a>,
    /// Alembic's `include_schemas`: also compare every schema of the database, not only the
    /// default one and those the models name (PostgreSQL). Default: off. Leave out schemas
    /// the application does not own with [`include_name`](Self::include_name), or autogenerate
    /// drops their tables.
    pub include_schemas: bool,
    /// Alembic's `include_name`: asked about each reflected schema, table, column, index and
    /// constraint by name before the comparison; `false` leaves it unread where it can.
    pub include_name: Option<ObjectPredicate<'a>>,
    /// Alembic's `include_object`: asked about every object of both sides; `false` leaves it
    /// out of the comparison (neither created, dropped nor altered).
    pub include_object: Option<ObjectPredicate<'a>>,
    /// Show a progress line on stderr while migrations run for more than a second (default:
    /// off; [`main`](crate::main) turns it on when stderr is a terminal).
    pub progress: bool,
}

impl<'a> Config<'a> {
    /// A configuration with migration files in `src/migrations` and every table included in
    /// autogenerate; set the fields to change either.
    pub fn new(url: impl Into<String>, metadata: MetaData, migrations: &'a [Migration]) -> Self {
        Config {
            url: url.into(),
            metadata,
            migrations,
            versions_dir: PathBuf::from("src/migrations"),
            include_table: Box::new(|_| true),
            include_schemas: false,
            include_name: None,
            include_object: None,
            progress: false,
        }
    }

    /// Where migration files live ([`versions_dir`](Self::versions_dir)).
    pub fn with_versions_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.versions_dir = dir.into();
        self
    }

    /// Which tables autogenerate may touch ([`include_table`](Self::include_table)).
    pub fn with_include_table(mut self, f: impl Fn(&str) -> bool + Send + Sync + 'a) -> Self {
        self.include_table = Box::new(f);
        self
    }

    /// Compare every schema of the database ([`include_schemas`](Self::include_schemas)).
    pub fn with_include_schemas(mut self, on: bool) -> Self {
        self.include_schemas = on;
        self
    }

    /// Alembic's `include_name` ([`include_name`](Self::include_name)).
    pub fn with_include_name(
        mut self,
        f: impl Fn(&ObjectRef<'_>) -> bool + Send + Sync + 'a,
    ) -> Self {
        self.include_name = Some(Box::new(f));
        self
    }

    /// Alembic's `include_object` ([`include_object`](Self::include_object)).
    pub fn with_include_object(
        mut self,
        f: impl Fn(&ObjectRef<'_>) -> bool + Send + Sync + 'a,
    ) -> Self {
        self.include_object = Some(Box::new(f));
        self
    }

    /// Show a progress line while migrations run ([`progress`](Self::progress)).
    pub fn with_progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// The dialect an offline (`--sql`) script is written for, from the URL alone: no
    /// connection is made.
    pub(crate) fn offline_dialect(&self) -> &'static dyn Dialect {
        let scheme = self.url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => &oxalchemy_core::Sqlite,
            "mariadb" => &oxalchemy_core::MySql::MARIADB,
            "mysql" => &oxalchemy_core::MySql::MYSQL,
            _ => &oxalchemy_core::Postgres,
        }
    }
}

impl std::fmt::Debug for Config<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: not printed.
        f.debug_struct("Config")
            .field("migrations", &self.migrations.len())
            .field("versions_dir", &self.versions_dir)
            .field("include_schemas", &self.include_schemas)
            .finish_non_exhaustive()
    }
}
