//! `Codec`: one format's decoders and encoders behind one value, for every report
//! generation (the model's [`Report`] trait).

use ivr_reports_model::{AnyReport, ApiError, Generation, LogEntry, Report, ReportRef};
#[cfg(any(feature = "json", feature = "xml"))]
use ivr_reports_model::{CallReport, VoiceReport};

#[cfg(any(feature = "json", feature = "xml"))]
use crate::schema::Schema;
use crate::{Batch, Error, ErrorKind, Format};

/// Reads one report of `R`'s generation from an entered object, whichever the format.
#[cfg(any(feature = "json", feature = "xml"))]
fn read<'a, R: Report, S: crate::schema::Source<'a>>(src: &mut S) -> Result<R, Error> {
    let any = match R::GENERATION {
        Generation::V1 => AnyReport::V1(Schema::read(src)?),
        Generation::V2 => AnyReport::V2(Schema::read(src)?),
    };
    // `from_any` gives back another generation only if `R::GENERATION` lied (it cannot: the
    // trait is sealed); say so rather than panic.
    R::from_any(any).map_err(|any| {
        Error::new(
            ErrorKind::Unsupported,
            format!("a {} report is not a {}", any.generation(), R::GENERATION),
        )
    })
}

/// A batch decoded as `T`, as the `Batch<R>` it is: `R::GENERATION` chose `T`, and the
/// model's trait is sealed, so this only fails if a generation lied (it cannot; said rather
/// than panicked on).
#[cfg(any(feature = "json", feature = "xml"))]
fn as_batch<R: Report, T: Report>(batch: Batch<T>) -> Result<Batch<R>, Error> {
    let mut batch = Some(batch);
    (&mut batch as &mut dyn std::any::Any)
        .downcast_mut::<Option<Batch<R>>>()
        .and_then(Option::take)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                format!("a {} report is not a {}", T::GENERATION, R::GENERATION),
            )
        })
}

#[cfg(feature = "json")]
fn read_json<R: Report>(src: &mut crate::json::JsonSource<'_>) -> Result<R, Error> {
    read(src)
}

#[cfg(feature = "xml")]
fn read_xml<R: Report>(src: &mut crate::xml::XmlSource<'_>) -> Result<R, Error> {
    read(src)
}

#[cfg(feature = "json")]
fn write_json(report: ReportRef<'_>, out: &mut Vec<u8>) {
    match report {
        ReportRef::V1(r) => crate::json::write_report(out, r),
        ReportRef::V2(r) => crate::json::write_report(out, r),
    }
}

#[cfg(feature = "xml")]
fn write_xml(report: ReportRef<'_>, out: &mut Vec<u8>, price_name: Option<PriceName>) {
    let price_name = price_name.unwrap_or(PriceName::documented(report.generation()));
    match report {
        ReportRef::V1(r) => crate::xml::write_report(out, r, price_name),
        ReportRef::V2(r) => crate::xml::write_report(out, r, price_name),
    }
}

/// The name of the price amount element in XML. JSON always says `pricePerSecond`; decoding
/// accepts both names in both formats.
///
/// Unless told otherwise ([`Codec::price_name`]), the XML writer uses each generation's
/// documented name ([`PriceName::documented`]): `pricePerMessage` for v1 (the v1 page's XML
/// example), `pricePerSecond` for v2 (the OpenAPI specification's XML).
///
/// ```
/// use ivr_reports_codec::{Codec, Format, PriceName};
/// use ivr_reports_codec::model::{CallReport, Decimal, Price, VoiceReport};
///
/// let price = Price::new(Decimal::new(1, 2), "EUR");
/// let xml = Codec::new(Format::Xml)?;
/// let mut v1 = VoiceReport::new("m1", "385981178");
/// v1.price = Some(price.clone());
/// let page = String::from_utf8(xml.encode_page(&[v1.clone()])).unwrap();
/// assert!(page.contains("<price><pricePerMessage>0.01</pricePerMessage><currency>EUR</currency></price>"));
///
/// let mut v2 = CallReport::new("m2", "385981178");
/// v2.price = Some(price);
/// let page = String::from_utf8(xml.encode_page(&[v2])).unwrap();
/// assert!(page.contains("<price><pricePerSecond>0.01</pricePerSecond><currency>EUR</currency></price>"));
///
/// let page = xml.price_name(PriceName::PricePerSecond).encode_page(&[v1]);
/// assert!(String::from_utf8(page).unwrap().contains("<pricePerSecond>0.01</pricePerSecond>"));
/// # Ok::<(), ivr_reports_codec::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PriceName {
    /// `<pricePerMessage>`, as in the v1 page's XML example (v1's documented name, and
    /// `PriceName::default()`).
    #[default]
    PricePerMessage,
    /// `<pricePerSecond>`, as in the OpenAPI specification's XML.
    PricePerSecond,
}

impl PriceName {
    /// The name the documentation of `generation` uses in XML: `pricePerMessage` for v1,
    /// `pricePerSecond` for v2. What the XML writer uses unless [`Codec::price_name`] says
    /// otherwise.
    ///
    /// ```
    /// use ivr_reports_codec::{Generation, PriceName};
    ///
    /// assert_eq!(PriceName::documented(Generation::V1), PriceName::PricePerMessage);
    /// assert_eq!(PriceName::documented(Generation::V2), PriceName::PricePerSecond);
    /// ```
    #[must_use]
    pub const fn documented(generation: Generation) -> Self {
        match generation {
            Generation::V1 => Self::PricePerMessage,
            Generation::V2 => Self::PricePerSecond,
        }
    }
}

/// The decoders and encoders of one wire [`Format`].
///
/// Decoding is lenient (unknown fields ignored, numbers as strings and back, every date form
/// [`Timestamp`](ivr_reports_model::Timestamp) accepts, `pricePerMessage` or
/// `pricePerSecond`, XML items named `result` or `results`) and isolates reports: a page
/// decodes to a [`Batch`] whose malformed items are kept aside with their raw bytes.
///
/// Encoding writes the API's shape, compactly: JSON `{"results":[...]}`, XML
/// `<reportResponse><results><result>...` (v2 reports use the same envelope); absent fields
/// are omitted; dates in the documented form; decimals written from their exact text
/// (`"pricePerSecond":0.01`).
///
/// # What decoding accepts
/// - **Absent values.** JSON `null` and a missing field are `None`. An empty XML element is
///   `Some("")` for string fields and absent for everything else (numbers, dates, decimals,
///   booleans, objects); likewise an empty or blank string sent for a number or a date. So
///   `Some("")` and `None` both survive a round trip in either format. An object with no
///   fields (`{}`, `<voiceCall/>`) is absent; a price without an amount is absent.
/// - **Types.** Numbers sent as strings (`"duration":"10"`, `"15.0"`) and strings sent as
///   numbers (`"to":385981178`); whole numbers written with a zero fraction (`10.0`);
///   booleans as `true`/`false`/`1`/`0`; dates in every form
///   [`Timestamp::parse`](ivr_reports_model::Timestamp::parse) accepts, epoch milliseconds
///   included. Decimals are read from their text; more than 28 significant digits are
///   rounded, never routed through `f64`.
/// - **Codes.** A status or error with only its `id` is completed from the code tables
///   (names borrowed, not allocated); names that were sent are kept as sent; unknown ids and
///   groups are kept. A status or error object without an `id` is an error.
/// - **Reports.** `messageId` is required (it is the key reports are deduplicated by): a
///   report without it is rejected. A missing `to` decodes as `""`.
/// - **XML.** Any root name; the list `results` under the root (or as the root); items named
///   `result` or `results`; `pricePerMessage` or `pricePerSecond`; XML declaration, BOM,
///   comments, CDATA, the predefined and character entities. Doctypes and other entities
///   are refused.
///
/// ```
/// use ivr_reports_codec::{Codec, Format};
/// use ivr_reports_codec::model::{Decimal, Price, Status, VoiceReport};
///
/// let mut report = VoiceReport::new("ff4804ef", "385981178");
/// report.price = Some(Price::new(Decimal::new(1, 2), "EUR"));
/// report.status = Status::known(5);
///
/// for format in [Format::Json, Format::Xml] {
///     let codec = Codec::new(format)?;
///     let page = codec.encode_page(std::slice::from_ref(&report));
///     let batch = codec.decode_page::<VoiceReport>(&page)?;
///     assert_eq!(batch.reports, [report.clone()]);
/// }
/// let json = Codec::new(Format::Json)?.encode_page(&[report]);
/// assert!(std::str::from_utf8(&json).unwrap().contains(r#""pricePerSecond":0.01"#));
/// # Ok::<(), ivr_reports_codec::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub struct Codec {
    format: Format,
    /// `None`: each generation's documented name.
    price_name: Option<PriceName>,
}

impl Codec {
    /// The codec of `format`.
    ///
    /// # Errors
    /// [`ErrorKind::Unsupported`] when the format's cargo feature (`json`, `xml`) is off.
    pub fn new(format: Format) -> Result<Self, Error> {
        if format.is_supported() {
            Ok(Self {
                format,
                price_name: None,
            })
        } else {
            Err(Error::new(
                ErrorKind::Unsupported,
                format!("the {format} format is not compiled in (cargo feature `{format}`)"),
            ))
        }
    }

    /// The XML name of the price amount, for reports of both generations. Default: each
    /// generation's documented name ([`PriceName::documented`]). No effect on JSON.
    pub fn price_name(mut self, price_name: PriceName) -> Self {
        self.price_name = Some(price_name);
        self
    }

    /// The error of a format this build lacks (unreachable: `new` refuses such codecs).
    fn unsupported(&self, _input: Option<&[u8]>) -> Error {
        Error::new(
            ErrorKind::Unsupported,
            format!("the {} format is not compiled in", self.format),
        )
    }

    /// The codec's format.
    #[must_use]
    pub fn format(&self) -> Format {
        self.format
    }

    /// Decodes a page of reports (`GET /tts/3/reports` or `/voice/1/reports`, or a webhook
    /// body): JSON `{"results":[...]}`, XML `<reportResponse><results><result>...` (any root
    /// name; items `result` or `results`).
    ///
    /// A report without `messageId`, or with a value that cannot be read, becomes a
    /// [`Rejected`](crate::Rejected) item holding its raw bytes; a missing `to` decodes as
    /// `""`. When the input breaks off inside `results`, the reports before the break are
    /// kept and the rest is one rejected item; content after `results` is kept the same way
    /// (see [`Batch`]).
    ///
    /// # Errors
    /// When the envelope is broken before any item could be read: [`ErrorKind::Envelope`]
    /// (not an object/element, no `results`), [`ErrorKind::Syntax`],
    /// [`ErrorKind::Forbidden`] (an XML doctype), [`ErrorKind::TooDeep`].
    pub fn decode_page<R: Report>(&self, body: &[u8]) -> Result<Batch<R>, Error> {
        // Each generation's page is decoded as its own type, and the batch handed back as
        // `Batch<R>` once: no conversion through `AnyReport` (three moves of a large
        // struct) per report.
        match (self.format, R::GENERATION) {
            #[cfg(feature = "json")]
            (Format::Json, Generation::V1) => {
                as_batch(crate::json::decode_page(body, |s| VoiceReport::read(s))?)
            }
            #[cfg(feature = "json")]
            (Format::Json, Generation::V2) => {
                as_batch(crate::json::decode_page(body, |s| CallReport::read(s))?)
            }
            #[cfg(feature = "xml")]
            (Format::Xml, Generation::V1) => {
                as_batch(crate::xml::decode_page(body, |s| VoiceReport::read(s))?)
            }
            #[cfg(feature = "xml")]
            (Format::Xml, Generation::V2) => {
                as_batch(crate::xml::decode_page(body, |s| CallReport::read(s))?)
            }
            #[allow(unreachable_patterns)]
            _ => Err(self.unsupported(Some(body))),
        }
    }

    /// Decodes one report: a JSON object or an XML element (of any name), e.g. the `raw`
    /// bytes of a [`Rejected`](crate::Rejected) item, for a later retry.
    ///
    /// # Errors
    /// Any decoding error: syntax, a missing `messageId`, an unreadable value; the path is
    /// relative to the report (`price.pricePerSecond`).
    pub fn decode_report<R: Report>(&self, raw: &[u8]) -> Result<R, Error> {
        match self.format {
            #[cfg(feature = "json")]
            Format::Json => crate::json::decode_one(raw, read_json::<R>),
            #[cfg(feature = "xml")]
            Format::Xml => crate::xml::decode_one(raw, read_xml::<R>),
            #[allow(unreachable_patterns)]
            _ => Err(self.unsupported(Some(raw))),
        }
    }

    /// Decodes one report of a generation known only at run time (e.g. read from a store
    /// that keeps both): [`decode_report`](Self::decode_report) of that generation.
    ///
    /// ```
    /// use ivr_reports_codec::{Codec, Format, Generation};
    ///
    /// let codec = Codec::new(Format::Json)?;
    /// let report = codec.decode_any(Generation::V2, br#"{"messageId":"m1","voiceCall":{"duration":3}}"#)?;
    /// assert_eq!((report.generation(), report.duration()), (Generation::V2, Some(3)));
    /// let mut json = Vec::new();
    /// codec.encode_any(report.as_ref(), &mut json);
    /// assert_eq!(json, br#"{"messageId":"m1","to":"","voiceCall":{"duration":3}}"#);
    /// # Ok::<(), ivr_reports_codec::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`decode_report`](Self::decode_report).
    pub fn decode_any(&self, generation: Generation, raw: &[u8]) -> Result<AnyReport, Error> {
        Ok(match generation {
            Generation::V1 => AnyReport::V1(self.decode_report(raw)?),
            Generation::V2 => AnyReport::V2(self.decode_report(raw)?),
        })
    }

    /// Decodes the API's error body: JSON
    /// `{"requestError":{"serviceException":{...}}}`, XML `<ApiException>` around the same
    /// tree.
    ///
    /// ```
    /// use ivr_reports_codec::{Codec, Format};
    ///
    /// let body = br#"{"requestError":{"serviceException":{"messageId":"BAD_REQUEST","text":"Bad request","validationErrors":{"limit":["must be between 1 and 1000"]}}}}"#;
    /// let e = Codec::new(Format::Json)?.decode_api_error(body)?;
    /// assert_eq!(e.to_string(), "BAD_REQUEST: Bad request (limit: must be between 1 and 1000)");
    /// # Ok::<(), ivr_reports_codec::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::Envelope`] when there is no `requestError.serviceException`; syntax and
    /// value errors as for reports.
    pub fn decode_api_error(&self, body: &[u8]) -> Result<ApiError, Error> {
        match self.format {
            #[cfg(feature = "json")]
            Format::Json => crate::json::decode_api_error(body),
            #[cfg(feature = "xml")]
            Format::Xml => crate::xml::decode_api_error(body),
            #[allow(unreachable_patterns)]
            _ => Err(self.unsupported(Some(body))),
        }
    }

    /// Appends one report, encoded as a page item (a JSON object, an XML `<result>`
    /// element): a fragment to keep and later join with
    /// [`encode_page_from_fragments`](Self::encode_page_from_fragments).
    pub fn encode_report<R: Report>(&self, report: &R, out: &mut Vec<u8>) {
        match self.format {
            #[cfg(feature = "json")]
            Format::Json => write_json(report.as_any(), out),
            #[cfg(feature = "xml")]
            Format::Xml => write_xml(report.as_any(), out, self.price_name),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = (report, out);
            }
        }
    }

    /// Appends one report of either generation, as [`encode_report`](Self::encode_report)
    /// does for one of a known generation.
    pub fn encode_any(&self, report: ReportRef<'_>, out: &mut Vec<u8>) {
        match report {
            ReportRef::V1(r) => self.encode_report(r, out),
            ReportRef::V2(r) => self.encode_report(r, out),
        }
    }

    /// Appends a page envelope around already-encoded report fragments (from
    /// [`encode_report`](Self::encode_report) with a codec of the same format).
    ///
    /// ```
    /// use ivr_reports_codec::{Codec, Format};
    /// use ivr_reports_codec::model::VoiceReport;
    ///
    /// let codec = Codec::new(Format::Json)?;
    /// let mut fragment = Vec::new();
    /// codec.encode_report(&VoiceReport::new("m1", "385"), &mut fragment);
    /// let mut page = Vec::new();
    /// codec.encode_page_from_fragments([fragment.as_slice(), fragment.as_slice()], &mut page);
    /// assert_eq!(codec.decode_page::<VoiceReport>(&page)?.reports.len(), 2);
    /// # Ok::<(), ivr_reports_codec::Error>(())
    /// ```
    pub fn encode_page_from_fragments<'f>(
        &self,
        fragments: impl IntoIterator<Item = &'f [u8]>,
        out: &mut Vec<u8>,
    ) {
        match self.format {
            #[cfg(feature = "json")]
            Format::Json => crate::json::write_page(out, fragments),
            #[cfg(feature = "xml")]
            Format::Xml => crate::xml::write_page(out, fragments),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = (fragments.into_iter(), out);
            }
        }
    }

    /// Encodes a page of reports.
    #[must_use]
    pub fn encode_page<R: Report>(&self, reports: &[R]) -> Vec<u8> {
        #[allow(unused_mut)] // with no format compiled in, nothing writes
        let mut out = Vec::with_capacity(64 + reports.len() * 512);
        match self.format {
            #[cfg(feature = "json")]
            Format::Json => {
                out.extend_from_slice(b"{\"results\":[");
                for (i, r) in reports.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json(r.as_any(), &mut out);
                }
                out.extend_from_slice(b"]}");
            }
            #[cfg(feature = "xml")]
            Format::Xml => {
                out.extend_from_slice(b"<reportResponse><results>");
                for r in reports {
                    write_xml(r.as_any(), &mut out, self.price_name);
                }
                out.extend_from_slice(b"</results></reportResponse>");
            }
            #[allow(unreachable_patterns)]
            _ => {
                let _ = reports;
            }
        }
        out
    }

    /// Decodes a page of voice logs (`GET /tts/3/logs`): JSON `{"results":[...]}`, XML
    /// `<logsResponse><results><result>...` (any root name; items `result` or `results`),
    /// with the same leniency and per-item isolation as
    /// [`decode_page`](Self::decode_page): an entry without `messageId`, or with a value
    /// that cannot be read, becomes a [`Rejected`](crate::Rejected) item with its raw bytes.
    ///
    /// ```
    /// use ivr_reports_codec::{Codec, Format};
    ///
    /// let body = br#"{"results":[
    ///   {"bulkId":"b1","messageId":"m1","to":"385981178","from":"41793026727","text":"Hi",
    ///    "sentAt":"2026-12-01T10:00:00.000+0100","duration":4,"status":{"id":5}},
    ///   {"messageId":"m2","duration":"four"}
    /// ]}"#;
    /// let batch = Codec::new(Format::Json)?.decode_logs(body)?;
    /// assert!(batch.reports[0].is_final());
    /// assert_eq!(batch.reports[0].text.as_deref(), Some("Hi"));
    /// assert_eq!(
    ///     batch.rejected[0].error.to_string(),
    ///     "results[1].duration: expected a whole number of seconds, found \"four\" (line 4, column 32)"
    /// );
    /// # Ok::<(), ivr_reports_codec::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`decode_page`](Self::decode_page): only a broken envelope fails the whole call.
    pub fn decode_logs(&self, body: &[u8]) -> Result<Batch<LogEntry>, Error> {
        match self.format {
            #[cfg(feature = "json")]
            Format::Json => crate::json::decode_page(body, |src| Schema::read(src)),
            #[cfg(feature = "xml")]
            Format::Xml => crate::xml::decode_page(body, |src| Schema::read(src)),
            #[allow(unreachable_patterns)]
            _ => Err(self.unsupported(Some(body))),
        }
    }

    /// Decodes one log entry: a JSON object or an XML element (of any name), e.g. the `raw`
    /// bytes of a [`Rejected`](crate::Rejected) item of [`decode_logs`](Self::decode_logs).
    ///
    /// # Errors
    /// As [`decode_report`](Self::decode_report).
    pub fn decode_log(&self, raw: &[u8]) -> Result<LogEntry, Error> {
        match self.format {
            #[cfg(feature = "json")]
            Format::Json => crate::json::decode_one(raw, |src| Schema::read(src)),
            #[cfg(feature = "xml")]
            Format::Xml => crate::xml::decode_one(raw, |src| Schema::read(src)),
            #[allow(unreachable_patterns)]
            _ => Err(self.unsupported(Some(raw))),
        }
    }

    /// Encodes a page of voice logs: JSON `{"results":[...]}`, XML
    /// `<logsResponse><results><result>...` (the price amount named as
    /// [`price_name`](Self::price_name) says), absent fields left out.
    ///
    /// ```
    /// use ivr_reports_codec::{Codec, Format};
    /// use ivr_reports_codec::model::LogEntry;
    ///
    /// let mut log = LogEntry::new("m1", "385981178");
    /// log.from = Some("41793026727".into());
    /// let xml = Codec::new(Format::Xml)?.encode_logs(std::slice::from_ref(&log));
    /// assert_eq!(
    ///     String::from_utf8(xml).unwrap(),
    ///     "<logsResponse><results><result><messageId>m1</messageId><to>385981178</to>\
    ///      <from>41793026727</from></result></results></logsResponse>"
    /// );
    /// let json = Codec::new(Format::Json)?.encode_logs(&[log]);
    /// assert_eq!(json, br#"{"results":[{"messageId":"m1","to":"385981178","from":"41793026727"}]}"#);
    /// # Ok::<(), ivr_reports_codec::Error>(())
    /// ```
    #[must_use]
    pub fn encode_logs(&self, logs: &[LogEntry]) -> Vec<u8> {
        #[allow(unused_mut)] // with no format compiled in, nothing writes
        let mut out = Vec::with_capacity(64 + logs.len() * 384);
        match self.format {
            #[cfg(feature = "json")]
            Format::Json => {
                out.extend_from_slice(b"{\"results\":[");
                for (i, log) in logs.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    crate::json::write_report(&mut out, log);
                }
                out.extend_from_slice(b"]}");
            }
            #[cfg(feature = "xml")]
            Format::Xml => {
                out.extend_from_slice(b"<logsResponse><results>");
                // Logs are of the /tts/3 family: their XML is "as for reports", i.e. v1's.
                let price_name = self
                    .price_name
                    .unwrap_or(PriceName::documented(Generation::V1));
                for log in logs {
                    crate::xml::write_report(&mut out, log, price_name);
                }
                out.extend_from_slice(b"</results></logsResponse>");
            }
            #[allow(unreachable_patterns)]
            _ => {
                let _ = logs;
            }
        }
        out
    }

    /// Encodes the API's error body.
    #[must_use]
    pub fn encode_api_error(&self, error: &ApiError) -> Vec<u8> {
        #[allow(unused_mut)] // with no format compiled in, nothing writes
        let mut out = Vec::with_capacity(128);
        match self.format {
            #[cfg(feature = "json")]
            Format::Json => crate::json::write_api_error(&mut out, error),
            #[cfg(feature = "xml")]
            Format::Xml => crate::xml::write_api_error(&mut out, error),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = error;
            }
        }
        out
    }
}
