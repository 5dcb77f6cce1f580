//! `PgSink`: reports in a PostgreSQL table keyed by `message_id`, shared by many collectors.

use std::sync::{Arc, Mutex};

use ivr_reports::BoxFuture;
use tokio_postgres::{Client, Config, NoTls};

use crate::error::{Error, ErrorKind};
use crate::quarantine::{self, QuarantineEntry, Quarantined, Scope, Source};
use crate::report::{Generation, StoredReport};
use crate::sink::{Sink, Stored, redact_url};

/// A PostgreSQL sink (feature `postgres`): several collectors on several machines can share
/// one database, and each report is stored once.
///
/// **Schema** (created with `CREATE ... IF NOT EXISTS` on connect, under an advisory lock
/// so collectors starting together do not race), table `ivr_reports` by default:
///
/// | column | type | from |
/// |---|---|---|
/// | `message_id` | `text` primary key | `messageId` |
/// | `generation` | `smallint` | 1 or 2 |
/// | `bulk_id`, `to_number` | `text` | `bulkId`, `to` |
/// | `status_id`, `status_group_id`, `error_id` | `bigint` | `status.id`, `status.groupId`, `error.id` |
/// | `duration_seconds` | `bigint` | `duration` (v2 `voiceCall.duration`) |
/// | `price_per_second` | `numeric` | `price.pricePerSecond`, exact |
/// | `currency` | `text` | `price.currency` |
/// | `sent_at`, `done_at` | `timestamptz` | `sentAt`, `doneAt` (v2 `voiceCall.endTime`) |
/// | `stored_at` | `timestamptz` | when it was inserted |
/// | `seq` | `bigserial` | insertion order |
/// | `report` | `jsonb` | the whole report, the codec's canonical JSON |
///
/// and `ivr_reports_quarantine` (`id`, `source`, `format`, `generation`, `scope`, `reason`,
/// `raw bytea`, `received_at`). A batch is one `INSERT ... SELECT FROM UNNEST(...) ON
/// CONFLICT (message_id) DO NOTHING RETURNING message_id`: atomic, and the returned rows
/// say which reports were new.
///
/// The connection is plain TCP or a Unix socket (no TLS in this build); when it breaks, the
/// next call reconnects.
///
/// Known limit: `jsonb` cannot hold the NUL character, so a report with `\u0000` in a
/// string fails its batch with [`ErrorKind::Database`]; the collector keeps the body (spool
/// or the sender's retry) and keeps retrying, so nothing is lost, but it needs an operator.
#[derive(Debug)]
pub struct PgSink {
    config: Config,
    shown: String,
    reports_table: String,
    quarantine_table: String,
    client: Mutex<Arc<Client>>,
}

/// Configures a [`PgSink`]. Every setter documents its default.
#[derive(Debug, Clone)]
#[must_use]
pub struct PgSinkBuilder {
    url: String,
    schema: Option<String>,
    table: String,
}

fn db(message: impl Into<String>, e: tokio_postgres::Error) -> Error {
    Error::new(ErrorKind::Database, message).with_source(e)
}

fn identifier(name: &str) -> Result<String, Error> {
    let ok = !name.is_empty()
        && name.len() <= 48
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(format!("\"{name}\""))
    } else {
        Err(Error::new(
            ErrorKind::InvalidConfig,
            format!("invalid table or schema name {name:?}: use lowercase letters, digits and _"),
        ))
    }
}

async fn open(config: &Config, shown: &str) -> Result<Client, Error> {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| db(format!("cannot connect to {shown}"), e))?;
    tokio::spawn(async move {
        // Ends when the client is dropped or the connection breaks; the next call reconnects.
        let _ = connection.await;
    });
    Ok(client)
}

impl PgSinkBuilder {
    /// A schema for the tables, created if missing. Default none (the connection's
    /// `search_path`, usually `public`).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The reports table's name; the quarantine is `<table>_quarantine`. Default
    /// `ivr_reports`.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// Connects and creates the schema and tables if missing.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for a bad URL or name; [`ErrorKind::Database`] when the
    /// connection or a statement fails.
    pub async fn connect(self) -> Result<PgSink, Error> {
        let shown = redact_url(&self.url);
        let config: Config = self.url.parse().map_err(|e| {
            Error::new(
                ErrorKind::InvalidConfig,
                format!("invalid PostgreSQL URL {shown}"),
            )
            .with_source(e)
        })?;
        let prefix = match &self.schema {
            Some(s) => format!("{}.", identifier(s)?),
            None => String::new(),
        };
        let reports_table = format!("{prefix}{}", identifier(&self.table)?);
        let quarantine_table = format!(
            "{prefix}{}",
            identifier(&format!("{}_quarantine", self.table))?
        );
        let client = open(&config, &shown).await?;
        let create_schema = match &self.schema {
            Some(s) => format!("CREATE SCHEMA IF NOT EXISTS {};", identifier(s)?),
            None => String::new(),
        };
        let migration = format!(
            "BEGIN;
             SELECT pg_advisory_xact_lock(7305117011220461);
             {create_schema}
             CREATE TABLE IF NOT EXISTS {reports_table} (
               message_id text PRIMARY KEY,
               generation smallint NOT NULL,
               bulk_id text,
               to_number text NOT NULL,
               status_id bigint,
               status_group_id bigint,
               error_id bigint,
               duration_seconds bigint,
               price_per_second numeric,
               currency text,
               sent_at timestamptz,
               done_at timestamptz,
               stored_at timestamptz NOT NULL DEFAULT now(),
               seq bigserial,
               report jsonb NOT NULL
             );
             CREATE TABLE IF NOT EXISTS {quarantine_table} (
               id bigserial PRIMARY KEY,
               source text NOT NULL,
               format text NOT NULL,
               generation smallint,
               scope text NOT NULL,
               reason text NOT NULL,
               raw bytea NOT NULL,
               received_at timestamptz NOT NULL
             );
             COMMIT;"
        );
        client
            .batch_execute(&migration)
            .await
            .map_err(|e| db("cannot create the collector's tables", e))?;
        Ok(PgSink {
            config,
            shown,
            reports_table,
            quarantine_table,
            client: Mutex::new(Arc::new(client)),
        })
    }
}

impl PgSink {
    /// A builder for the database at `url` (`postgres://user:password@host:port/db`;
    /// `host` may be a Unix socket directory, URL-encoded).
    pub fn builder(url: impl Into<String>) -> PgSinkBuilder {
        PgSinkBuilder {
            url: url.into(),
            schema: None,
            table: "ivr_reports".into(),
        }
    }

    /// Connects with the defaults (see [`PgSinkBuilder::connect`]).
    ///
    /// # Errors
    /// As [`PgSinkBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::builder(url).connect().await
    }

    /// The reports table, as used in SQL (quoted, with its schema).
    #[must_use]
    pub fn reports_table(&self) -> &str {
        &self.reports_table
    }

    /// The live client, reconnecting when the connection broke.
    async fn client(&self) -> Result<Arc<Client>, Error> {
        let current = Arc::clone(
            &self
                .client
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if !current.is_closed() {
            return Ok(current);
        }
        let fresh = Arc::new(open(&self.config, &self.shown).await?);
        *self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::clone(&fresh);
        Ok(fresh)
    }

    async fn store_batch(&self, reports: &[StoredReport]) -> Result<Stored, Error> {
        if reports.is_empty() {
            return Ok(Stored::default());
        }
        let n = reports.len();
        let mut ids = Vec::with_capacity(n);
        let mut generations = Vec::with_capacity(n);
        let mut bulk_ids = Vec::with_capacity(n);
        let mut tos = Vec::with_capacity(n);
        let mut status_ids = Vec::with_capacity(n);
        let mut status_groups = Vec::with_capacity(n);
        let mut error_ids = Vec::with_capacity(n);
        let mut durations = Vec::with_capacity(n);
        let mut prices = Vec::with_capacity(n);
        let mut currencies = Vec::with_capacity(n);
        let mut sent = Vec::with_capacity(n);
        let mut done = Vec::with_capacity(n);
        let mut json = Vec::with_capacity(n);
        for r in reports {
            ids.push(r.message_id().to_string());
            generations.push(i16::from(r.generation().number()));
            bulk_ids.push(r.bulk_id().map(str::to_string));
            tos.push(r.to().to_string());
            status_ids.push(r.status().map(|s| i64::from(s.id)));
            status_groups.push(r.status().map(|s| i64::from(s.group.id())));
            error_ids.push(r.error().map(|e| i64::from(e.id)));
            durations.push(r.duration().map(i64::from));
            prices.push(r.price().map(|p| p.per_second.to_string()));
            currencies.push(r.price().map(|p| p.currency.clone()));
            sent.push(r.sent_at().map(|t| t.unix_millis()));
            done.push(r.done_at().map(|t| t.unix_millis()));
            json.push(String::from_utf8_lossy(&r.to_json()).into_owned());
        }
        let sql = format!(
            "INSERT INTO {} (message_id, generation, bulk_id, to_number, status_id,
               status_group_id, error_id, duration_seconds, price_per_second, currency,
               sent_at, done_at, report)
             SELECT m, g, b, t, s, sg, e, d, p::numeric, c,
               timestamptz 'epoch' + sa * interval '1 millisecond',
               timestamptz 'epoch' + da * interval '1 millisecond',
               r::jsonb
             FROM UNNEST($1::text[], $2::int2[], $3::text[], $4::text[], $5::int8[],
               $6::int8[], $7::int8[], $8::int8[], $9::text[], $10::text[], $11::int8[],
               $12::int8[], $13::text[]) AS u(m, g, b, t, s, sg, e, d, p, c, sa, da, r)
             ON CONFLICT (message_id) DO NOTHING
             RETURNING message_id",
            self.reports_table
        );
        let client = self.client().await?;
        let rows = client
            .query(
                &sql,
                &[
                    &ids,
                    &generations,
                    &bulk_ids,
                    &tos,
                    &status_ids,
                    &status_groups,
                    &error_ids,
                    &durations,
                    &prices,
                    &currencies,
                    &sent,
                    &done,
                    &json,
                ],
            )
            .await
            .map_err(|e| db("cannot store reports", e))?;
        let new = rows.len() as u64;
        Ok(Stored::new(new, n as u64 - new))
    }

    async fn quarantine_items(&self, items: &[Quarantined]) -> Result<(), Error> {
        if items.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO {} (source, format, generation, scope, reason, raw, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, timestamptz 'epoch' + $7::int8 * interval '1 millisecond')",
            self.quarantine_table
        );
        let client = self.client().await?;
        for item in items {
            client
                .execute(
                    &sql,
                    &[
                        &item.source.as_str(),
                        &quarantine::format_str(item.format),
                        &item.generation.map(|g| i16::from(g.number())),
                        &item.scope.as_str(),
                        &item.reason,
                        &item.raw,
                        &item.received_at_millis(),
                    ],
                )
                .await
                .map_err(|e| db("cannot quarantine an item", e))?;
        }
        Ok(())
    }

    async fn all_reports(&self) -> Result<Vec<StoredReport>, Error> {
        let sql = format!(
            "SELECT generation, report::text FROM {} ORDER BY seq",
            self.reports_table
        );
        let client = self.client().await?;
        let rows = client
            .query(&sql, &[])
            .await
            .map_err(|e| db("cannot read reports", e))?;
        rows.iter()
            .map(|row| {
                let g: i16 = row.try_get(0).map_err(|e| db("cannot read reports", e))?;
                let text: String = row.try_get(1).map_err(|e| db("cannot read reports", e))?;
                let generation = u8::try_from(g)
                    .ok()
                    .and_then(Generation::from_number)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::Corrupt,
                            format!("unknown generation {g} in the reports table"),
                        )
                    })?;
                StoredReport::from_json(generation, text.as_bytes()).map_err(|e| {
                    Error::new(ErrorKind::Corrupt, "a stored report does not decode").with_source(e)
                })
            })
            .collect()
    }

    async fn quarantine_size(&self) -> Result<Option<u64>, Error> {
        let sql = format!(
            "SELECT COALESCE(SUM(octet_length(raw)), 0)::int8 FROM {}",
            self.quarantine_table
        );
        let client = self.client().await?;
        let row = client
            .query_one(&sql, &[])
            .await
            .map_err(|e| db("cannot measure the quarantine", e))?;
        let bytes: i64 = row
            .try_get(0)
            .map_err(|e| db("cannot measure the quarantine", e))?;
        Ok(Some(u64::try_from(bytes).unwrap_or(0)))
    }

    async fn all_quarantined(&self) -> Result<Vec<QuarantineEntry>, Error> {
        let sql = format!(
            "SELECT id, source, format, generation, scope, reason, raw,
               (extract(epoch from received_at) * 1000)::int8
             FROM {} ORDER BY id",
            self.quarantine_table
        );
        let client = self.client().await?;
        let rows = client
            .query(&sql, &[])
            .await
            .map_err(|e| db("cannot read the quarantine", e))?;
        let bad = |what: &str| {
            Error::new(
                ErrorKind::Corrupt,
                format!("bad {what} in the quarantine table"),
            )
        };
        rows.iter()
            .map(|row| {
                let read = |e| db("cannot read the quarantine", e);
                let id: i64 = row.try_get(0).map_err(read)?;
                let source: String = row.try_get(1).map_err(read)?;
                let format: String = row.try_get(2).map_err(read)?;
                let generation: Option<i16> = row.try_get(3).map_err(read)?;
                let scope: String = row.try_get(4).map_err(read)?;
                let reason: String = row.try_get(5).map_err(read)?;
                let raw: Vec<u8> = row.try_get(6).map_err(read)?;
                let millis: i64 = row.try_get(7).map_err(read)?;
                let mut item = Quarantined::new(
                    raw,
                    reason,
                    Source::parse(&source).ok_or_else(|| bad("source"))?,
                    quarantine::parse_format(&format).ok_or_else(|| bad("format"))?,
                    match generation {
                        None => None,
                        Some(g) => Some(
                            u8::try_from(g)
                                .ok()
                                .and_then(Generation::from_number)
                                .ok_or_else(|| bad("generation"))?,
                        ),
                    },
                    Scope::parse(&scope).ok_or_else(|| bad("scope"))?,
                );
                item.received_at = Quarantined::from_millis(millis);
                Ok(QuarantineEntry {
                    id: u64::try_from(id).map_err(|_| bad("id"))?,
                    item,
                })
            })
            .collect()
    }

    async fn release_ids(&self, ids: &[u64]) -> Result<(), Error> {
        let ids: Vec<i64> = ids
            .iter()
            .filter_map(|&id| i64::try_from(id).ok())
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!("DELETE FROM {} WHERE id = ANY($1)", self.quarantine_table);
        self.client()
            .await?
            .execute(&sql, &[&ids])
            .await
            .map_err(|e| db("cannot release quarantine entries", e))?;
        Ok(())
    }
}

impl Sink for PgSink {
    fn store<'a>(&'a self, reports: &'a [StoredReport]) -> BoxFuture<'a, Result<Stored, Error>> {
        Box::pin(self.store_batch(reports))
    }

    fn quarantine<'a>(&'a self, items: &'a [Quarantined]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.quarantine_items(items))
    }

    fn reports(&self) -> BoxFuture<'_, Result<Vec<StoredReport>, Error>> {
        Box::pin(self.all_reports())
    }

    fn quarantined(&self) -> BoxFuture<'_, Result<Vec<QuarantineEntry>, Error>> {
        Box::pin(self.all_quarantined())
    }

    fn release<'a>(&'a self, ids: &'a [u64]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.release_ids(ids))
    }

    fn describe(&self) -> String {
        format!("{} table {}", self.shown, self.reports_table)
    }

    /// The raw bytes of the quarantine table's items.
    fn quarantine_bytes(&self) -> BoxFuture<'_, Result<Option<u64>, Error>> {
        Box::pin(self.quarantine_size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked() {
        assert_eq!(identifier("ivr_reports").unwrap(), "\"ivr_reports\"");
        for bad in ["", "Bad", "a-b", "x;drop", "1a"] {
            assert!(identifier(bad).is_err(), "{bad}");
        }
    }
}
