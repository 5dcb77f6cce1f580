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
/// | `seq` | `bigserial` | insertion order (unique index `<table>_seq`: reading walks it) |
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
    core: Arc<Core>,
    /// Batches waiting for the next grouped statement; `None` when grouping is off.
    group: Option<Arc<GroupQueue>>,
}

/// The connection and the tables: what a grouped store's task shares with the sink.
#[derive(Debug)]
struct Core {
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
    group_commit: bool,
}

impl std::fmt::Debug for PgSinkBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSinkBuilder")
            .field("url", &redact_url(&self.url))
            .field("schema", &self.schema)
            .field("table", &self.table)
            .field("group_commit", &self.group_commit)
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

    /// Whether concurrent [`store`](Sink::store) calls (webhook pushes, concurrent pages)
    /// share statements: while one batch's statements run, the batches that arrive queue
    /// up and go together as one `INSERT` (one commit, one WAL flush), deduplicated as if
    /// stored one after another in arrival order. Each caller still returns only once its
    /// own reports are committed. A failed statement fails every batch of its group, except
    /// data the database refuses ([`ErrorKind::Rejected`]): then each batch is stored
    /// again alone, so one batch's bad report never fails its companions. Default `true`;
    /// off, every batch runs its own statements.
    pub fn group_commit(mut self, on: bool) -> Self {
        self.group_commit = on;
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
        // Reading in pages (`for_each_report`) walks `seq`: without an index every page
        // would scan and sort the whole table.
        let seq_index = identifier(&format!("{}_seq", self.table))?;
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
             CREATE UNIQUE INDEX IF NOT EXISTS {seq_index} ON {reports_table} (seq);
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
            core: Arc::new(Core {
                connect,
                shown,
                reports_table,
                quarantine_table,
                client: Mutex::new(Arc::new(client)),
            }),
            group: self.group_commit.then(|| Arc::new(GroupQueue::default())),
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
            group_commit: true,
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
        &self.core.reports_table
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
            self.core.reports_table
        );
        let client = self.core.client().await?;
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
}

impl Core {
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
        let fates = self.store_fates(origin, reports).await?;
        Ok(tally(reports, fates))
    }

    /// Stores `reports` (one batch, or the batches of a group one after another) with one
    /// `INSERT`; says what became of each report, in order.
    async fn store_fates(&self, origin: Origin, reports: &[AnyReport]) -> Result<Vec<Fate>, Error> {
        if reports.is_empty() {
            return Ok(Vec::new());
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
        let mut fates = Vec::with_capacity(n);
        for (index, id) in ids.iter().enumerate() {
            let first = seen.insert(id.as_str());
            if first && inserted.contains(id) {
                fates.push(Fate::New);
            } else if first && replaced_ids.contains(id) {
                fates.push(Fate::Replaced);
            } else {
                // A recovered report never conflicts; the others are duplicates unless
                // the comparison below finds them different.
                fates.push(Fate::Duplicate);
                if origin != Origin::Recovered {
                    others.push(index);
                }
            }
        }
        if others.is_empty() {
            return Ok(fates);
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
        for row in &rows {
            let read = |e| db("cannot compare reports with the stored ones", e);
            let ordinal: i64 = row.try_get(0).map_err(read)?;
            let g: i16 = row.try_get(1).map_err(read)?;
            let text: String = row.try_get(2).map_err(read)?;
            let stored = stored_report(g, &text)?;
            let fate = usize::try_from(ordinal - 1)
                .ok()
                .and_then(|k| others.get(k))
                .and_then(|&i| fates.get_mut(i))
                .ok_or_else(|| Error::new(ErrorKind::Database, "an unexpected row number"))?;
            *fate = Fate::Conflict(Box::new(stored));
        }
        Ok(fates)
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

/// What became of one report of a store.
#[derive(Debug)]
enum Fate {
    New,
    Replaced,
    Duplicate,
    /// Stored already with other content: the stored version (boxed: conflicts are rare
    /// and a report is large).
    Conflict(Box<AnyReport>),
}

/// The outcome of a batch from the fates of its reports.
fn tally(reports: &[AnyReport], fates: impl IntoIterator<Item = Fate>) -> Stored {
    let (mut new, mut duplicates, mut replaced, mut conflicts) = (0, 0, 0, Vec::new());
    for (report, fate) in reports.iter().zip(fates) {
        match fate {
            Fate::New => new += 1,
            Fate::Replaced => replaced += 1,
            Fate::Duplicate => duplicates += 1,
            Fate::Conflict(stored) => conflicts.push(Conflict::new(*stored, report.clone())),
        }
    }
    Stored::new(new, duplicates)
        .with_conflicts(conflicts)
        .with_replaced(replaced)
}

/// The batches waiting for the next grouped statement.
#[derive(Debug, Default)]
struct GroupQueue {
    pending: Mutex<GroupPending>,
}

#[derive(Debug, Default)]
struct GroupPending {
    batches: Vec<GroupBatch>,
    /// Whether a task is storing groups.
    leader: bool,
}

#[derive(Debug)]
struct GroupBatch {
    origin: Origin,
    reports: Vec<AnyReport>,
    done: tokio::sync::oneshot::Sender<Result<Stored, Error>>,
}

impl GroupQueue {
    fn pending(&self) -> std::sync::MutexGuard<'_, GroupPending> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues a batch; `true` when no task stores groups, so the caller must start one.
    fn enqueue(&self, batch: GroupBatch) -> bool {
        let mut pending = self.pending();
        pending.batches.push(batch);
        !std::mem::replace(&mut pending.leader, true)
    }

    /// Everything queued, or `None` (and no leader any more) when nothing is.
    fn take(&self) -> Option<Vec<GroupBatch>> {
        let mut pending = self.pending();
        if pending.batches.is_empty() {
            pending.leader = false;
            return None;
        }
        Some(std::mem::take(&mut pending.batches))
    }
}

/// Ends a leader task: when it is dropped early (its runtime shutting down), the batches
/// still queued are dropped too (their callers get an error, never a hang).
struct Resign<'a>(&'a GroupQueue);

impl Drop for Resign<'_> {
    fn drop(&mut self) {
        let mut pending = self.0.pending();
        if pending.leader {
            pending.batches.clear();
            pending.leader = false;
        }
    }
}

/// Stores queued groups until the queue is empty: each run of batches of one origin with
/// one `INSERT`.
async fn lead(core: Arc<Core>, queue: Arc<GroupQueue>) {
    let resign = Resign(&queue);
    while let Some(group) = queue.take() {
        let mut group = group.into_iter().peekable();
        while let Some(first) = group.next() {
            let origin = first.origin;
            let mut run = vec![first];
            while let Some(next) = group.next_if(|b| b.origin == origin) {
                run.push(next);
            }
            store_run(&core, origin, run).await;
        }
    }
    // The queue was empty and the leader flag is down: nothing to resign from.
    std::mem::forget(resign);
}

async fn store_run(core: &Core, origin: Origin, run: Vec<GroupBatch>) {
    if let [_] = run.as_slice() {
        for batch in run {
            let result = core.store_batch(origin, &batch.reports).await;
            let _ = batch.done.send(result);
        }
        return;
    }
    let all: Vec<AnyReport> = run.iter().flat_map(|b| b.reports.iter().cloned()).collect();
    match core.store_fates(origin, &all).await {
        Ok(fates) => {
            let mut fates = fates.into_iter();
            for batch in run {
                let stored = tally(&batch.reports, fates.by_ref().take(batch.reports.len()));
                // A caller that went away needs no answer: its reports are stored.
                let _ = batch.done.send(Ok(stored));
            }
        }
        Err(e) if e.kind() == ErrorKind::Rejected => {
            // Data the database refuses: each batch is stored alone, so a bad report
            // fails its own batch only (which the collector then splits), never its
            // companions.
            for batch in run {
                let result = core.store_batch(origin, &batch.reports).await;
                let _ = batch.done.send(result);
            }
        }
        Err(e) => {
            // The connection or the database failed: every batch of the group failed
            // with it, and its callers retry.
            let (kind, message) = (e.kind(), e.to_string());
            let mut source = Some(e);
            for batch in run {
                let err = source
                    .take()
                    .unwrap_or_else(|| Error::new(kind, message.clone()));
                let _ = batch.done.send(Err(err));
            }
        }
    }
}

impl PgSink {
    /// Stores through the group queue (or alone when grouping is off).
    async fn store_grouped(&self, origin: Origin, reports: &[AnyReport]) -> Result<Stored, Error> {
        let Some(queue) = &self.group else {
            return self.core.store_batch(origin, reports).await;
        };
        if reports.is_empty() {
            return Ok(Stored::default());
        }
        let (done, outcome) = tokio::sync::oneshot::channel();
        let batch = GroupBatch {
            origin,
            reports: reports.to_vec(),
            done,
        };
        if queue.enqueue(batch) {
            drop(tokio::spawn(lead(
                Arc::clone(&self.core),
                Arc::clone(queue),
            )));
        }
        outcome.await.map_err(|_| {
            Error::new(
                ErrorKind::Database,
                "the sink's store task ended without storing the batch",
            )
        })?
    }
}

impl Sink for PgSink {
    /// Stores with [`Origin::Unknown`] (`origin` `NULL`); the collector uses
    /// [`store_from`](Sink::store_from).
    fn store<'a>(&'a self, reports: &'a [AnyReport]) -> BoxFuture<'a, Result<Stored, Error>> {
        Box::pin(self.store_grouped(Origin::Unknown, reports))
    }

    fn store_from<'a>(
        &'a self,
        origin: Origin,
        reports: &'a [AnyReport],
    ) -> BoxFuture<'a, Result<Stored, Error>> {
        Box::pin(self.store_grouped(origin, reports))
    }

    fn stored(&self) -> BoxFuture<'_, Result<Vec<StoredReport>, Error>> {
        Box::pin(self.core.all_stored())
    }

    fn quarantine<'a>(&'a self, items: &'a [Quarantined]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.core.quarantine_items(items))
    }

    fn reports(&self) -> BoxFuture<'_, Result<Vec<AnyReport>, Error>> {
        Box::pin(self.core.all_reports())
    }

    fn quarantined(&self) -> BoxFuture<'_, Result<Vec<QuarantineEntry>, Error>> {
        Box::pin(self.core.all_quarantined())
    }

    fn release<'a>(&'a self, ids: &'a [u64]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.core.release_ids(ids))
    }

    fn describe(&self) -> String {
        format!("{} table {}", self.core.shown, self.core.reports_table)
    }

    /// The raw bytes of the quarantine table's items.
    fn quarantine_bytes(&self) -> BoxFuture<'_, Result<Option<u64>, Error>> {
        Box::pin(self.core.quarantine_size())
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
