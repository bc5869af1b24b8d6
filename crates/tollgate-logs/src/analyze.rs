//! The pipeline: read an input in batches, split each batch into chunks on line boundaries, parse,
//! attribute, aggregate and classify the chunks on all cores, then merge their aggregates and feed
//! their detector events to the (sequential) detectors in input order.
//!
//! Memory stays bounded by the batch size, the bounded aggregates and the bounded detector state,
//! whatever the input size. Files are read with ordinary reads, not mmap: the workspace forbids
//! `unsafe`, and a batch read costs little next to parsing.

use std::io::{self, BufRead, BufReader, Read};

use flate2::read::MultiGzDecoder;
use memchr::{memchr, memrchr};
use rayon::prelude::*;

use crate::aggregate::Aggregate;
use crate::detectors::{Alert, Classifier, Detectors, Event, MinuteStats, Request};
use crate::format::Format;
use crate::record::Record;
use crate::routes::{Attribution, RouteTable};
use crate::sketch::Distinct;
use crate::time::TimeCache;
use crate::wrap::{self, Unwrapped, Unwrapper, Wrapper};

/// Lines longer than this are reported malformed and skipped (a line is held whole in memory).
pub const MAX_LINE: usize = 16 << 20;

/// Precision of the per-route union of addresses seen: the per-minute counters' (sketches merge
/// only at one precision).
const SEEN_PRECISION: u8 = crate::aggregate::MINUTE_PRECISION;

/// Sources a chunk's aggregate keeps (see [`Settings::source_capacity`] for the run's).
const CHUNK_SOURCES: usize = 16_384;

/// How to read the inputs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The format, or `None` to detect it per input (and per line where inputs are mixed).
    pub format: Option<Format>,
    /// Sources kept in the per-source table.
    pub source_capacity: usize,
    /// Bytes read per batch; split into chunks for the cores.
    pub batch_bytes: usize,
    /// Write every parsed request as a JSON line to [`Run::records`].
    pub records: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            format: None,
            source_capacity: 65_536,
            batch_bytes: 16 << 20,
            records: false,
        }
    }
}

/// Looks up a client's country (ISO code), when GeoIP is configured.
pub trait CountryLookup: Sync {
    /// The ISO country code of `ip`, if known.
    fn country(&self, ip: std::net::IpAddr) -> Option<&str>;
}

/// What stays fixed during a run.
pub struct Analyzer<'t> {
    table: &'t RouteTable,
    authenticated: Vec<bool>,
    classifier: Classifier,
    countries: Option<&'t dyn CountryLookup>,
    settings: Settings,
}

/// What accumulates during a run: over every input, in order.
pub struct Run {
    /// Everything counted.
    pub aggregate: Aggregate,
    /// Detector state.
    pub detectors: Detectors,
    /// Inputs that could not be read to the end (name, error); what was read before still counts.
    pub input_errors: Vec<(String, String)>,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Requests and 5xx per unix minute, over all targets (filled as minutes are flushed).
    pub timeline: std::collections::BTreeMap<i64, (u64, u64)>,
    /// Where `--records` output goes (with [`Settings::records`]).
    pub records: Option<Box<dyn io::Write>>,
    /// The first error writing records (the rest of the run still counts).
    pub records_error: Option<io::Error>,
    /// Per target: every address seen in minutes already handed to the rate detectors.
    seen: std::collections::HashMap<Option<u32>, Distinct>,
}

impl Run {
    /// A fresh run.
    pub fn new(analyzer: &Analyzer<'_>, detectors: Detectors) -> Self {
        Self {
            aggregate: Aggregate::new(analyzer.settings.source_capacity),
            detectors,
            input_errors: Vec::new(),
            bytes: 0,
            timeline: std::collections::BTreeMap::new(),
            records: None,
            records_error: None,
            seen: std::collections::HashMap::new(),
        }
    }

    /// Hands every minute up to and including `last_minute` (all of them with `None`) to the rate
    /// detectors, per target in time order, and returns the alerts they fire.
    pub fn flush_minutes(&mut self, last_minute: Option<i64>) -> Vec<Alert> {
        let mut keys: Vec<(Option<u32>, i64)> = self
            .aggregate
            .minutes
            .keys()
            .filter(|(_, minute)| last_minute.is_none_or(|last| *minute <= last))
            .copied()
            .collect();
        keys.sort_unstable();
        let mut alerts = Vec::new();
        for key in keys {
            let Some(slot) = self.aggregate.minutes.remove(&key) else {
                continue;
            };
            let point = self.timeline.entry(key.1).or_default();
            point.0 += slot.requests;
            point.1 += slot.errors_5xx;
            // Addresses new to the route: the growth of the union of every earlier minute's
            // addresses. Both counts are sketches; growth within their noise is not counted, so
            // a route with a million clients does not "surge" by estimation error.
            let seen = self
                .seen
                .entry(key.0)
                .or_insert_with(|| Distinct::new(SEEN_PRECISION));
            let before = seen.count();
            seen.merge(&slot.sources);
            let new_sources = seen
                .count()
                .saturating_sub(before)
                .saturating_sub(seen.noise());
            let stats = MinuteStats {
                route: key.0,
                minute: key.1,
                requests: slot.requests,
                errors_5xx: slot.errors_5xx,
                new_sources,
                top_source: slot.top.top(),
            };
            alerts.extend(self.detectors.observe_minute(&stats));
        }
        alerts
    }
}

/// One input being read: its detected format and wrapper, the lines read so far and the
/// incomplete tail.
#[derive(Debug)]
pub struct Stream {
    name: String,
    format: Option<Format>,
    wrapper: Option<Wrapper>,
    line_base: u64,
    pending: Vec<u8>,
    skipping_long_line: bool,
}

/// The result of one chunk.
struct ChunkOut {
    aggregate: Aggregate,
    events: Vec<Event>,
    lines: u64,
    records: Vec<u8>,
}

impl<'t> Analyzer<'t> {
    /// An analyzer over this route table (call [`RouteTable::prepare`] first).
    pub fn new(
        table: &'t RouteTable,
        classifier: Classifier,
        countries: Option<&'t dyn CountryLookup>,
        settings: Settings,
    ) -> Self {
        let routes = table.routes();
        let authenticated = (0..table.targets().len())
            .map(|id| routes.get(id).is_some_and(|route| route.authenticated))
            .collect();
        Self {
            table,
            authenticated,
            classifier,
            countries,
            settings,
        }
    }

    /// The route table.
    pub fn table(&self) -> &RouteTable {
        self.table
    }

    /// Reads one input to its end (plain or gzip, detected by its magic bytes). `progress` is
    /// called with the bytes read so far; `alert` with each alert as it fires. A read error stops
    /// this input only: what was read before it is counted, and the error is kept in the run.
    pub fn read(
        &self,
        name: &str,
        input: impl Read,
        run: &mut Run,
        progress: &mut dyn FnMut(u64),
        alert: &mut dyn FnMut(&Alert),
    ) {
        let mut buffered = BufReader::with_capacity(1 << 16, input);
        let gzip = matches!(buffered.fill_buf(), Ok([0x1f, 0x8b, ..]));
        let mut stream = self.start(name);
        let result = if gzip {
            self.read_to_end(
                &mut stream,
                MultiGzDecoder::new(buffered),
                run,
                progress,
                alert,
            )
        } else {
            self.read_to_end(&mut stream, buffered, run, progress, alert)
        };
        self.finish(&mut stream, run, alert);
        if let Err(error) = result {
            run.input_errors.push((
                name.to_string(),
                format!("after {} lines: {error}", stream.line_base),
            ));
        }
    }

    fn read_to_end(
        &self,
        stream: &mut Stream,
        mut input: impl Read,
        run: &mut Run,
        progress: &mut dyn FnMut(u64),
        alert: &mut dyn FnMut(&Alert),
    ) -> io::Result<()> {
        // Read straight into the pending buffer (no copy, no zeroing of the space read into).
        const BLOCK: u64 = 1 << 20;
        loop {
            let start = stream.pending.len();
            let result = input.by_ref().take(BLOCK).read_to_end(&mut stream.pending);
            let n = stream.pending.len() - start;
            match result {
                Ok(0) => return Ok(()),
                Ok(_) => {
                    run.bytes += n as u64;
                    self.feed(stream, &[], run, alert);
                    progress(run.bytes);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// Starts reading an input called `name` (for `--follow`, feed it as bytes arrive).
    pub fn start(&self, name: &str) -> Stream {
        Stream {
            name: name.to_string(),
            format: self.settings.format,
            wrapper: None,
            line_base: 0,
            pending: Vec::new(),
            skipping_long_line: false,
        }
    }

    /// Starts reading an input whose lines are in `format` (detected per line when `None` and
    /// the settings name none): the service's log intake is told the format per request.
    pub fn start_as(&self, name: &str, format: Option<Format>) -> Stream {
        let mut stream = self.start(name);
        stream.format = format.or(self.settings.format);
        stream
    }

    /// Adds bytes of an input; whole lines are processed a batch at a time.
    pub fn feed(
        &self,
        stream: &mut Stream,
        bytes: &[u8],
        run: &mut Run,
        alert: &mut dyn FnMut(&Alert),
    ) {
        stream.pending.extend_from_slice(bytes);
        if stream.skipping_long_line {
            // The rest of an over-long line: drop it through its newline.
            match memchr(b'\n', &stream.pending) {
                Some(end) => {
                    stream.pending.drain(..=end);
                    stream.skipping_long_line = false;
                }
                None => {
                    stream.pending.clear();
                    return;
                }
            }
        }
        if stream.pending.len() >= self.settings.batch_bytes.max(1 << 16) {
            self.flush(stream, run, alert);
        }
        if stream.pending.len() >= MAX_LINE && memchr(b'\n', &stream.pending).is_none() {
            let head = stream.pending[..200].to_vec();
            run.aggregate.add_malformed(
                &stream.name,
                stream.line_base + 1,
                "line longer than 16 MiB",
                &head,
            );
            stream.line_base += 1;
            stream.pending.clear();
            stream.skipping_long_line = true;
        }
    }

    /// Processes every whole line fed so far (`--follow` calls it when it has caught up).
    pub fn flush(&self, stream: &mut Stream, run: &mut Run, alert: &mut dyn FnMut(&Alert)) {
        let mut cut = cut_point(&stream.pending, stream.pending.len());
        if cut == 0 && stream.pending.len() >= MAX_LINE {
            // An endless run of partial lines: cut at the last newline anyway, to bound memory.
            cut = memrchr(b'\n', &stream.pending).map_or(0, |n| n + 1);
        }
        self.process_pending(stream, cut, run, alert);
    }

    /// Processes the rest of an input, including a last line without a newline.
    pub fn finish(&self, stream: &mut Stream, run: &mut Run, alert: &mut dyn FnMut(&Alert)) {
        let cut = stream.pending.len();
        self.process_pending(stream, cut, run, alert);
    }

    fn process_pending(
        &self,
        stream: &mut Stream,
        cut: usize,
        run: &mut Run,
        alert: &mut dyn FnMut(&Alert),
    ) {
        if cut == 0 {
            return;
        }
        let pending = std::mem::take(&mut stream.pending);
        if stream.wrapper.is_none() {
            let (wrapper, format) = sniff_input(&pending[..cut], stream.format);
            stream.wrapper = Some(wrapper);
            stream.format = stream.format.or(format);
        }
        let wrapper = stream.wrapper.unwrap_or(Wrapper::None);
        let lines = self.process_batch(
            &stream.name,
            &pending[..cut],
            stream.line_base,
            stream.format,
            wrapper,
            run,
            alert,
        );
        stream.line_base += lines;
        stream.pending = pending;
        stream.pending.drain(..cut);
    }

    #[allow(clippy::too_many_arguments)]
    fn process_batch(
        &self,
        name: &str,
        batch: &[u8],
        line_base: u64,
        format: Option<Format>,
        wrapper: Wrapper,
        run: &mut Run,
        alert: &mut dyn FnMut(&Alert),
    ) -> u64 {
        if batch.is_empty() {
            return 0;
        }
        // One chunk per thread: every chunk's aggregate is merged on this thread, so fewer,
        // larger chunks keep the sequential part small.
        let pieces = rayon::current_num_threads().max(1);
        let chunks = split_chunks(batch, pieces);
        let outs: Vec<ChunkOut> = chunks
            .par_iter()
            .map(|chunk| self.process_chunk(name, chunk, format, wrapper))
            .collect();
        let mut lines = 0;
        for mut out in outs {
            for sample in &mut out.aggregate.malformed_samples {
                sample.line += line_base + lines;
            }
            lines += out.lines;
            run.aggregate.merge(out.aggregate);
            if let (Some(sink), None) = (run.records.as_mut(), run.records_error.as_ref())
                && let Err(error) = sink.write_all(&out.records)
            {
                run.records_error = Some(error);
            }
            for event in &out.events {
                for fired in run.detectors.observe(event) {
                    alert(&fired);
                }
            }
        }
        lines
    }

    /// Parses one chunk (whole lines). Line numbers in its malformed samples are chunk-relative.
    fn process_chunk(
        &self,
        name: &str,
        chunk: &[u8],
        format: Option<Format>,
        wrapper: Wrapper,
    ) -> ChunkOut {
        let mut out = ChunkOut {
            // A chunk keeps fewer sources than the run: its table stays in cache and merges
            // quickly, and the busy sources that matter survive its trimming as they survive
            // the run's (a source trimmed from a chunk has fewer requests there than
            // `dropped_max`, which the report carries as the error bound).
            aggregate: Aggregate::new(self.settings.source_capacity.min(CHUNK_SOURCES)),
            events: Vec::new(),
            lines: 0,
            records: Vec::new(),
        };
        let mut clock = TimeCache::new();
        let mut unwrapper = Unwrapper::new();
        let mut rest = chunk;
        while !rest.is_empty() {
            let end = memchr(b'\n', rest).unwrap_or(rest.len());
            let mut raw = &rest[..end];
            rest = rest.get(end + 1..).unwrap_or(&[]);
            out.lines += 1;
            if let [head @ .., b'\r'] = raw {
                raw = head;
            }
            if raw.is_empty() {
                continue;
            }
            let line_no = out.lines;
            let Ok(text) = std::str::from_utf8(raw) else {
                out.aggregate
                    .add_malformed(name, line_no, "not valid UTF-8", raw);
                continue;
            };
            if wrapper == Wrapper::None {
                self.handle_line(name, line_no, text, format, &mut clock, &mut out);
                continue;
            }
            match unwrapper.feed(text) {
                Unwrapped::Plain(payload) => {
                    self.handle_line(name, line_no, payload, format, &mut clock, &mut out)
                }
                Unwrapped::Line(payload) => {
                    self.handle_line(
                        name,
                        line_no,
                        payload.trim_end_matches('\n'),
                        format,
                        &mut clock,
                        &mut out,
                    );
                }
                Unwrapped::Pending => {}
                Unwrapped::Malformed(reason) => {
                    out.aggregate.add_malformed(name, line_no, reason, raw)
                }
            }
        }
        while let Some(partial) = unwrapper.finish() {
            self.handle_line(name, out.lines, &partial, format, &mut clock, &mut out);
        }
        out
    }

    fn handle_line(
        &self,
        name: &str,
        line_no: u64,
        line: &str,
        format: Option<Format>,
        clock: &mut TimeCache,
        out: &mut ChunkOut,
    ) {
        if line.trim().is_empty() {
            return;
        }
        let parsed = match format {
            Some(format) => match format.parse(line, clock) {
                Ok(record) => Ok((format, record)),
                // Mixed inputs: a line of another format is still read when auto-detecting.
                Err(error) => match self.settings.format {
                    None => Format::sniff(line, clock).ok_or(error),
                    Some(_) => Err(error),
                },
            },
            None => Format::sniff(line, clock)
                .ok_or(crate::format::Malformed::new("no known access-log format")),
        };
        match parsed {
            Ok((format, record)) => self.handle_record(format, &record, line, out),
            Err(error) => out
                .aggregate
                .add_malformed(name, line_no, error.reason, line.as_bytes()),
        }
    }

    fn handle_record(&self, format: Format, record: &Record<'_>, line: &str, out: &mut ChunkOut) {
        let attribution = self.table.attribute(record);
        let (target, unrouted_host, unrouted) = match attribution {
            Attribution::Target(id) => (Some(id), None, false),
            Attribution::Unrouted(host) => (
                None,
                Some(host.unwrap_or("(not logged: default backend)")),
                true,
            ),
            Attribution::Unknown => (None, None, false),
        };
        let authenticated = target.is_some_and(|id| {
            self.authenticated
                .get(id as usize)
                .copied()
                .unwrap_or(false)
        });
        out.aggregate
            .add(format, record, target, unrouted, authenticated);
        if self.settings.records {
            let route = target.and_then(|id| self.table.targets().get(id as usize));
            crate::record::write_json(record, route, &mut out.records);
        }
        let country = match (self.countries, record.client_ip) {
            (Some(lookup), Some(ip)) => lookup.country(ip),
            _ => None,
        };
        let request = Request {
            record,
            line,
            route: target,
            unrouted_host,
            country,
        };
        if let Some(event) = self.classifier.classify(&request) {
            out.events.push(event);
        }
    }
}

/// Where to cut `buffer` so that it ends on a whole line and does not split a CRI or Docker
/// partial line from its continuation: after the last newline whose line is not a partial.
/// 0 when there is no such newline.
fn cut_point(buffer: &[u8], limit: usize) -> usize {
    let mut end = limit;
    while let Some(newline) = memrchr(b'\n', &buffer[..end]) {
        let start = memrchr(b'\n', &buffer[..newline]).map_or(0, |n| n + 1);
        if !wrap::is_partial(&buffer[start..newline]) {
            return newline + 1;
        }
        end = newline;
    }
    0
}

/// Where to cut `buffer` at or after `from`: after the first line ending there that is not a
/// partial line; the buffer's length when none is.
fn cut_forward(buffer: &[u8], from: usize) -> usize {
    let mut start = memrchr(b'\n', &buffer[..from]).map_or(0, |n| n + 1);
    while let Some(n) = memchr(b'\n', &buffer[start..]) {
        let newline = start + n;
        if !wrap::is_partial(&buffer[start..newline]) {
            return newline + 1;
        }
        start = newline + 1;
    }
    buffer.len()
}

/// Splits a batch of whole lines into about `pieces` chunks of whole lines.
fn split_chunks(batch: &[u8], pieces: usize) -> Vec<&[u8]> {
    let target = batch.len().div_ceil(pieces).max(1 << 16);
    let mut chunks = Vec::with_capacity(pieces);
    let mut rest = batch;
    while !rest.is_empty() {
        if rest.len() <= target {
            chunks.push(rest);
            break;
        }
        let cut = match cut_point(rest, target) {
            // No whole line before `target`: cut after the line that crosses it.
            0 => cut_forward(rest, target),
            cut => cut,
        };
        chunks.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    chunks
}

/// The wrapper and the format of an input, from its first lines: the format most of them parse
/// as (the first in [`Format::ALL`] order on a tie).
fn sniff_input(head: &[u8], format: Option<Format>) -> (Wrapper, Option<Format>) {
    let mut wrapper = Wrapper::None;
    let mut votes: std::collections::BTreeMap<Format, usize> = std::collections::BTreeMap::new();
    let mut clock = TimeCache::new();
    let mut unwrapper = Unwrapper::new();
    let mut seen = 0;
    for raw in head.split(|b| *b == b'\n') {
        let Ok(text) = std::str::from_utf8(raw) else {
            continue;
        };
        let text = text.trim_end_matches('\r');
        if text.trim().is_empty() {
            continue;
        }
        if seen == 0 {
            wrapper = wrap::detect(text);
        }
        seen += 1;
        if seen > 100 {
            break;
        }
        if format.is_some() {
            if seen > 1 {
                break;
            }
            continue;
        }
        let payload: std::borrow::Cow<'_, str> = match wrapper {
            Wrapper::None => text.into(),
            _ => match unwrapper.feed(text) {
                Unwrapped::Plain(payload) => payload.into(),
                Unwrapped::Line(payload) => payload.into_owned().into(),
                _ => continue,
            },
        };
        if let Some((detected, _)) = Format::sniff(payload.trim_end_matches('\n'), &mut clock) {
            *votes.entry(detected).or_default() += 1;
        }
    }
    let best = votes
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(format, _)| *format);
    (wrapper, format.or(best))
}
