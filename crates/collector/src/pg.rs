//! `PgSink`: reports in a PostgreSQL table keyed by `message_id`, shared by many collectors.

use std::sync::{Arc, Mutex};

use ivr_reports::BoxFuture;
use tokio_postgres::{Client, NoTls};

use crate::error::{Error, ErrorKind};
use crate::pg_connect::{self, Connect};
use crate::quarantine::{self, QuarantineEntry, Quarantined, Scope, Source};
use crate::sink::{Conflict, Origin, Sink, Stored, StoredReport};
use ivr_reports_model::{AnyReport, Generation};
use ivr_reports_transport::redact_url;

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
/// | `origin` | `text` | `pulled`, `pushed`, `recovered` ([`Origin`]); `NULL` when unknown |
///
/// `origin` was added after the first release: connecting adds it to an existing table
/// (`ALTER TABLE ... ADD COLUMN IF NOT EXISTS`), its old rows `NULL` ([`Origin::Unknown`]).
/// A row recovered from logs is *updated in place* by a pulled or pushed report for the
/// same `messageId` (every column, `origin` and `stored_at` too; `seq` stays), so a
/// message is one row whatever happened.
///
/// and `ivr_reports_quarantine` (`id`, `source`, `format`, `generation`, `scope`, `reason`,
/// `raw bytea`, `received_at`). A batch is one `INSERT ... SELECT FROM UNNEST(...) ON
/// CONFLICT (message_id) DO NOTHING RETURNING message_id`: atomic, and the returned rows
/// say which reports were new.
///
/// **Connecting.** The URL is libpq's (`postgres://user:password@host:port/db?...`); when it
/// breaks, the next call reconnects. TLS is rustls (ring), chosen by `sslmode` as libpq does:
///
/// | `sslmode` | TLS | the server's certificate |
/// |---|---|---|
/// | `disable` | never | - |
/// | `prefer` (default) | when the server offers it | not checked (unless roots are given: chain) |
/// | `require` | always | not checked (unless roots are given: chain, as `verify-ca`) |
/// | `verify-ca` | always | chains to the roots, any host name |
/// | `verify-full` | always | chains to the roots and names the host |
///
/// The roots: `sslrootcert=PATH` (PEM, percent-encoded in the URL) or the `PGSSLROOTCERT`
/// variable; `sslrootcert=system` or none given means the bundled Mozilla roots
/// (webpki-roots, the same the HTTP client trusts: no dependency on the machine's store).
/// `PGSSLMODE` applies when the URL has no `sslmode`. The password, when the URL has none,
/// comes from `IVR_REPORTS_PG_PASSWORD`, else `PGPASSWORD`, so it need not sit in a URL
/// that shows up in process lists and shell history. To reach an address while checking
/// another name, add `hostaddr=IP`. Passwords never appear in messages ([`redact_url`]).
///
/// Known limit: `jsonb` cannot hold the NUL character, so a report with `\u0000` in a
/// string fails its batch with [`ErrorKind::Database`]; the collector keeps the body (spool
/// or the sender's retry) and keeps retrying, so nothing is lost, but it needs an operator.
#[derive(Debug)]
pub struct PgSink {
    connect: Connect,
    shown: String,
    reports_table: String,
    quarantine_table: String,
    client: Mutex<Arc<Client>>,
}

/// Configures a [`PgSink`]. Every setter documents its default. `Debug` shows the URL
/// redacted.
#[derive(Clone)]
#[must_use]
pub struct PgSinkBuilder {
    url: String,
    schema: Option<String>,
    table: String,
}

impl std::fmt::Debug for PgSinkBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSinkBuilder")
            .field("url", &redact_url(&self.url))
            .field("schema", &self.schema)
            .field("table", &self.table)
            .finish()
    }
}

fn db(message: impl Into<String>, e: tokio_postgres::Error) -> Error {
    Error::new(ErrorKind::Database, message).with_source(e)
}

/// Like [`db`], but a data error (SQLSTATE class 22, data exception: e.g. a `\u0000` in
/// text or jsonb; class 23, integrity constraint) is [`ErrorKind::Rejected`]: the data is
/// at fault, not the connection, and retrying it cannot help.
fn db_data(message: impl Into<String>, e: tokio_postgres::Error) -> Error {
    let refused = e
        .code()
        .is_some_and(|c| c.code().starts_with("22") || c.code().starts_with("23"));
    let kind = if refused {
        ErrorKind::Rejected
    } else {
        ErrorKind::Database
    };
    Error::new(kind, message).with_source(e)
}

/// A report as read back from the table: its generation and its canonical JSON.
fn stored_report(g: i16, text: &str) -> Result<AnyReport, Error> {
    let generation = u8::try_from(g)
        .ok()
        .and_then(Generation::from_number)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Corrupt,
                format!("unknown generation {g} in the reports table"),
            )
        })?;
    crate::report::from_json(generation, text.as_bytes()).map_err(|e| {
        Error::new(ErrorKind::Corrupt, "a stored report does not decode").with_source(e)
    })
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

async fn open(connect: &Connect, shown: &str) -> Result<Client, Error> {
    let failed = |e| db(format!("cannot connect to {shown}"), e);
    // The connection task ends when the client is dropped or the connection breaks; the
    // next call reconnects.
    match &connect.tls {
        None => {
            let (client, connection) = connect.config.connect(NoTls).await.map_err(failed)?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok(client)
        }
        Some(tls) => {
            let (client, connection) = connect.config.connect(tls.clone()).await.map_err(failed)?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok(client)
        }
    }
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
    /// [`ErrorKind::InvalidConfig`] for a bad URL, `sslmode`, `sslrootcert` file or name;
    /// [`ErrorKind::Database`] when the connection (TLS included: a server without TLS under
    /// `require`, a certificate that does not verify) or a statement fails.
    pub async fn connect(self) -> Result<PgSink, Error> {
        let shown = redact_url(&self.url);
        let connect = pg_connect::configure(&self.url, &shown)?;
        let prefix = match &self.schema {
            Some(s) => format!("{}.", identifier(s)?),
            None => String::new(),
        };
        let reports_table = format!("{prefix}{}", identifier(&self.table)?);
        let quarantine_table = format!(
            "{prefix}{}",
            identifier(&format!("{}_quarantine", self.table))?
        );
        let client = open(&connect, &shown).await?;
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
             ALTER TABLE {reports_table} ADD COLUMN IF NOT EXISTS origin text;
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
            connect,
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

    /// Calls `each` with every stored report, in storage order, reading `page` rows at a
    /// time (keyset pagination on the insertion sequence): memory stays that of one page
    /// however many reports the table holds, where [`Sink::reports`] loads them all.
    /// Returns how many reports it read.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the database cannot be read, [`ErrorKind::Corrupt`] for a row
    /// that is not a report.
    pub async fn for_each_report(
        &self,
        page: u32,
        mut each: impl FnMut(AnyReport) + Send,
    ) -> Result<u64, Error> {
        let sql = format!(
            "SELECT seq, generation, report::text FROM {} WHERE seq > $1 ORDER BY seq LIMIT $2",
            self.reports_table
        );
        let client = self.client().await?;
        let (mut after, mut read) = (0_i64, 0_u64);
        loop {
            let rows = client
                .query(&sql, &[&after, &i64::from(page.max(1))])
                .await
                .map_err(|e| db("cannot read reports", e))?;
            let Some(last) = rows.last() else {
                return Ok(read);
            };
            after = last.try_get(0).map_err(|e| db("cannot read reports", e))?;
            for row in &rows {
                let g: i16 = row.try_get(1).map_err(|e| db("cannot read reports", e))?;
                let text: String = row.try_get(2).map_err(|e| db("cannot read reports", e))?;
                each(stored_report(g, &text)?);
                read += 1;
            }
        }
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
        let fresh = Arc::new(open(&self.connect, &self.shown).await?);
        *self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::clone(&fresh);
        Ok(fresh)
    }

    async fn store_batch(&self, origin: Origin, reports: &[AnyReport]) -> Result<Stored, Error> {
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
            json.push(String::from_utf8_lossy(&crate::report::canonical_json(r)).into_owned());
        }
        let origin_text: Option<&str> = (origin != Origin::Unknown).then(|| origin.as_str());
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 14] = [
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
            &origin_text,
        ];
        let unnest = "UNNEST($1::text[], $2::int2[], $3::text[], $4::text[], $5::int8[],
               $6::int8[], $7::int8[], $8::int8[], $9::text[], $10::text[], $11::int8[],
               $12::int8[], $13::text[])";
        let client = self.client().await?;
        let sql = format!(
            "INSERT INTO {} (message_id, generation, bulk_id, to_number, status_id,
               status_group_id, error_id, duration_seconds, price_per_second, currency,
               sent_at, done_at, report, origin)
             SELECT m, g, b, t, s, sg, e, d, p::numeric, c,
               timestamptz 'epoch' + sa * interval '1 millisecond',
               timestamptz 'epoch' + da * interval '1 millisecond',
               r::jsonb, $14::text
             FROM {unnest} AS u(m, g, b, t, s, sg, e, d, p, c, sa, da, r)
             ON CONFLICT (message_id) DO NOTHING
             RETURNING message_id",
            self.reports_table
        );
        let rows = client
            .query(&sql, &params)
            .await
            .map_err(|e| db_data("cannot store reports", e))?;
        let inserted: std::collections::HashSet<String> = rows
            .iter()
            .filter_map(|row| row.try_get::<_, String>(0).ok())
            .collect();
        // A report recovered from logs is replaced by one pulled or pushed (the rule
        // recovered-replaced): update those rows, with each id's first report. After the
        // insert, so that a recovered report inserted meanwhile by another writer is
        // replaced too (never left to make the pulled one look like a conflict).
        let mut replaced_ids = std::collections::HashSet::new();
        if origin != Origin::Recovered {
            let sql = format!(
                "UPDATE {} AS k SET generation = u.g, bulk_id = u.b, to_number = u.t,
                   status_id = u.s, status_group_id = u.sg, error_id = u.e,
                   duration_seconds = u.d, price_per_second = u.p::numeric, currency = u.c,
                   sent_at = timestamptz 'epoch' + u.sa * interval '1 millisecond',
                   done_at = timestamptz 'epoch' + u.da * interval '1 millisecond',
                   report = u.r::jsonb, origin = $14::text, stored_at = now()
                 FROM (SELECT DISTINCT ON (m) * FROM {unnest} WITH ORDINALITY
                   AS x(m, g, b, t, s, sg, e, d, p, c, sa, da, r, i) ORDER BY m, i) AS u
                 WHERE k.message_id = u.m AND k.origin = 'recovered'
                 RETURNING k.message_id",
                self.reports_table
            );
            let rows = client
                .query(&sql, &params)
                .await
                .map_err(|e| db_data("cannot replace recovered reports", e))?;
            replaced_ids = rows
                .iter()
                .filter_map(|row| row.try_get::<_, String>(0).ok())
                .collect();
        }
        // The first occurrence of an inserted (or replacing) id is new (or replaced);
        // every other report had its id stored already (before, or earlier in this
        // batch): compare the contents, except a recovered one, which never conflicts.
        let mut seen = std::collections::HashSet::new();
        let mut others: Vec<usize> = Vec::new();
        let mut replaced = 0u64;
        let mut recovered_duplicates = 0u64;
        for (index, id) in ids.iter().enumerate() {
            let first = seen.insert(id.as_str());
            if first && inserted.contains(id) {
                continue;
            }
            if first && replaced_ids.contains(id) {
                replaced += 1;
                continue;
            }
            if origin == Origin::Recovered {
                recovered_duplicates += 1;
            } else {
                others.push(index);
            }
        }
        let new = (n - others.len()) as u64 - replaced - recovered_duplicates;
        if others.is_empty() {
            return Ok(Stored::new(new, recovered_duplicates).with_replaced(replaced));
        }
        let other_ids: Vec<&str> = others.iter().map(|&i| ids[i].as_str()).collect();
        let other_json: Vec<&str> = others.iter().map(|&i| json[i].as_str()).collect();
        let sql = format!(
            "SELECT u.i, t.generation, t.report::text
             FROM UNNEST($1::text[], $2::text[]) WITH ORDINALITY AS u(m, r, i)
             JOIN {} t ON t.message_id = u.m
             WHERE t.report <> u.r::jsonb
             ORDER BY u.i",
            self.reports_table
        );
        let rows = client
            .query(&sql, &[&other_ids, &other_json])
            .await
            .map_err(|e| db_data("cannot compare reports with the stored ones", e))?;
        let mut conflicts = Vec::with_capacity(rows.len());
        for row in &rows {
            let read = |e| db("cannot compare reports with the stored ones", e);
            let ordinal: i64 = row.try_get(0).map_err(read)?;
            let g: i16 = row.try_get(1).map_err(read)?;
            let text: String = row.try_get(2).map_err(read)?;
            let stored = stored_report(g, &text)?;
            let incoming = usize::try_from(ordinal - 1)
                .ok()
                .and_then(|k| others.get(k))
                .and_then(|&i| reports.get(i))
                .ok_or_else(|| Error::new(ErrorKind::Database, "an unexpected row number"))?;
            conflicts.push(Conflict::new(stored, incoming.clone()));
        }
        let duplicates = (others.len() - conflicts.len()) as u64;
        Ok(Stored::new(new, duplicates)
            .with_conflicts(conflicts)
            .with_replaced(replaced))
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

    async fn all_stored(&self) -> Result<Vec<StoredReport>, Error> {
        let sql = format!(
            "SELECT generation, report::text, origin FROM {} ORDER BY seq",
            self.reports_table
        );
        let client = self.client().await?;
        let rows = client
            .query(&sql, &[])
            .await
            .map_err(|e| db("cannot read reports", e))?;
        rows.iter()
            .map(|row| {
                let read = |e| db("cannot read reports", e);
                let g: i16 = row.try_get(0).map_err(read)?;
                let text: String = row.try_get(1).map_err(read)?;
                let origin: Option<String> = row.try_get(2).map_err(read)?;
                let origin = match origin.as_deref() {
                    None => Origin::Unknown,
                    Some(o) => Origin::parse(o).ok_or_else(|| {
                        Error::new(
                            ErrorKind::Corrupt,
                            format!("unknown origin {o:?} in the reports table"),
                        )
                    })?,
                };
                Ok(StoredReport::new(stored_report(g, &text)?, origin))
            })
            .collect()
    }

    async fn all_reports(&self) -> Result<Vec<AnyReport>, Error> {
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
                stored_report(g, &text)
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
    /// Stores with [`Origin::Unknown`] (`origin` `NULL`); the collector uses
    /// [`store_from`](Sink::store_from).
    fn store<'a>(&'a self, reports: &'a [AnyReport]) -> BoxFuture<'a, Result<Stored, Error>> {
        Box::pin(self.store_batch(Origin::Unknown, reports))
    }

    fn store_from<'a>(
        &'a self,
        origin: Origin,
        reports: &'a [AnyReport],
    ) -> BoxFuture<'a, Result<Stored, Error>> {
        Box::pin(self.store_batch(origin, reports))
    }

    fn stored(&self) -> BoxFuture<'_, Result<Vec<StoredReport>, Error>> {
        Box::pin(self.all_stored())
    }

    fn quarantine<'a>(&'a self, items: &'a [Quarantined]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.quarantine_items(items))
    }

    fn reports(&self) -> BoxFuture<'_, Result<Vec<AnyReport>, Error>> {
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
    fn the_builder_hides_the_password() {
        let b = PgSink::builder("postgres://ivr:pa/SECRET@h/db?password=SECRET2");
        let shown = format!("{b:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("postgres://ivr:***@h/db"), "{shown}");
    }

    #[test]
    fn identifiers_are_checked() {
        assert_eq!(identifier("ivr_reports").unwrap(), "\"ivr_reports\"");
        for bad in ["", "Bad", "a-b", "x;drop", "1a"] {
            assert!(identifier(bad).is_err(), "{bad}");
        }
    }
}
