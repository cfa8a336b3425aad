//! [`BatchSpanProcessor`]: a bounded, lock-free queue on the application's
//! side and an export thread of its own on the other.
//!
//! `on_end` pushes the finished span into a fixed-size array queue: no lock,
//! no allocation, no waiting. A full queue drops the span and counts it. The
//! worker thread exports a batch as soon as one is full (it is woken once
//! per batch, not per span) and everything queued when the schedule delay
//! expires. Once the queue has overflowed, the worker stops sleeping between
//! batches: while it holds a CPU it exports each batch as soon as it is
//! full, spinning briefly in between (then yielding), until the queue has
//! not overflowed for 20 ms. (A worker that sleeps until woken loses the
//! CPU to the application's busy threads, and the queue overflows while
//! the wake-up waits for the scheduler.) Partial batches still wait for the
//! schedule delay (or a flush), so the exporter never gets a stream of
//! small batches. Flush and shutdown are messages to the worker answered on
//! a channel the caller waits on with a deadline, so neither can deadlock,
//! whatever runtime (if any) the caller runs on. The channels are std's
//! `mpsc`: the worker sleeps on one doorbell (a channel of one slot) that
//! both a full batch and a request ring, so it needs no `select`.

use super::loss_report::{LossLine, LossReport};
use super::{sink_for, ExportSink, ProcessorError, SpanProcessor};
use crate::env::{parse_millis, parse_u64, EnvSource};
use crate::sync::Mutex;
use crate::trace::counters::{ExportCounters, SpanCounters};
use crate::trace::finished_span::FinishedSpan;
use crate::trace::self_metrics::{self, SPAN_UNIT};
use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;
use opentelemetry::metrics::{Histogram, Meter};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SpanExporter;
use opentelemetry_sdk::Resource;
use opentelemetry_semantic_conventions::metric::{
    OTEL_SDK_EXPORTER_OPERATION_DURATION, OTEL_SDK_EXPORTER_SPAN_EXPORTED,
    OTEL_SDK_EXPORTER_SPAN_INFLIGHT, OTEL_SDK_PROCESSOR_SPAN_PROCESSED,
    OTEL_SDK_PROCESSOR_SPAN_QUEUE_CAPACITY, OTEL_SDK_PROCESSOR_SPAN_QUEUE_SIZE,
};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The shortest delay between two scheduled exports; shorter ones,
/// zero included, are raised to it.
const MIN_SCHEDULED_DELAY: Duration = Duration::from_millis(1);

/// Batch processor settings, with the specification's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    /// Spans the queue holds before dropping (default 2048).
    pub max_queue_size: usize,
    /// Longest wait between two exports (default 5 s).
    pub scheduled_delay: Duration,
    /// Spans per export call (default 512; never more than the queue size).
    pub max_export_batch_size: usize,
    /// How long one export may take (default 30 s); also bounds how long
    /// dropping the processor waits for the final export.
    pub export_timeout: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_queue_size: 2048,
            scheduled_delay: Duration::from_millis(5000),
            max_export_batch_size: 512,
            export_timeout: Duration::from_millis(30000),
        }
    }
}

impl BatchConfig {
    /// Read `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_EXPORT_TIMEOUT`,
    /// `OTEL_BSP_MAX_QUEUE_SIZE` and `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`;
    /// invalid values warn and keep the default.
    pub fn from_env(env: &dyn EnvSource) -> Self {
        let d = BatchConfig::default();
        let positive = |var: &str, default: usize| match parse_u64(env, var, &default.to_string()) {
            Some(0) => {
                crate::env::warn_invalid(var, "0", "must be positive", &default.to_string());
                default
            }
            Some(v) => v.min(usize::MAX as u64) as usize,
            None => default,
        };
        BatchConfig {
            max_queue_size: positive("OTEL_BSP_MAX_QUEUE_SIZE", d.max_queue_size),
            scheduled_delay: parse_millis(env, "OTEL_BSP_SCHEDULE_DELAY", "5000")
                .unwrap_or(d.scheduled_delay),
            max_export_batch_size: positive(
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                d.max_export_batch_size,
            ),
            export_timeout: parse_millis(env, "OTEL_BSP_EXPORT_TIMEOUT", "30000")
                .unwrap_or(d.export_timeout),
        }
    }

    fn normalized(mut self) -> Self {
        self.max_queue_size = self.max_queue_size.max(1);
        // A zero delay (`OTEL_BSP_SCHEDULE_DELAY=0`, "export at once") would
        // make the worker's timed wait return at once, forever: a busy loop
        // holding a CPU. One millisecond exports as promptly and sleeps.
        self.scheduled_delay = self.scheduled_delay.max(MIN_SCHEDULED_DELAY);
        self.max_export_batch_size = self.max_export_batch_size.clamp(1, self.max_queue_size);
        self
    }
}

/// Requests to the worker, in a mailbox it reads whenever the doorbell
/// rings. The doorbell is a channel of one slot, rung with `try_send`: a
/// full slot means the worker has not woken yet and will read the mailbox
/// when it does. A full batch rings it too, so signalling a batch allocates
/// nothing on the application's thread (an unbounded channel allocates a
/// block of slots every few messages).
enum Control {
    Flush(Sender<Result<(), ProcessorError>>),
    Shutdown(Sender<Result<(), ProcessorError>>, Duration),
    SetResource(Resource),
}

struct Shared {
    queue: ArrayQueue<FinishedSpan>,
    counters: ExportCounters,
    wake_pending: AtomicBool,
    /// Set when `on_end` found the queue full: the worker is not keeping
    /// up, so it stays on the CPU instead of sleeping between batches. On a
    /// cache line of its own: the worker writes it while the producers read
    /// the fields around it on every span.
    overflowed: CachePadded<AtomicBool>,
    is_shutdown: AtomicBool,
    batch_size: usize,
    /// Spans taken from the queue and handed to the exporter whose export
    /// has not concluded. Whoever swaps it to zero counts them: the worker
    /// once the export returns, or a shutdown that ran out of time.
    inflight: AtomicU64,
    /// Held while a batch moves from the queue into `inflight` (by the
    /// worker, once per batch) and while a timed-out shutdown counts what
    /// is left: no span is then between the two, uncounted.
    accounting: Mutex<()>,
    /// `otel.sdk.exporter.operation.duration` and its attributes, once
    /// metrics are registered.
    export_duration: OnceLock<(Histogram<f64>, Vec<KeyValue>)>,
}

impl Shared {
    /// Count every span still queued or in an unfinished export as dropped
    /// at shutdown, and empty the queue.
    fn give_up_unexported(&self) {
        let _accounting = self.accounting.lock();
        let mut given_up = self.inflight.swap(0, Ordering::AcqRel);
        while let Some(span) = self.queue.pop() {
            span.discard();
            given_up += 1;
        }
        self.counters
            .dropped_at_shutdown
            .fetch_add(given_up, Ordering::Relaxed);
    }
}

/// Queues sampled spans and exports them in batches from its own thread.
pub struct BatchSpanProcessor {
    shared: Arc<Shared>,
    control: Sender<Control>,
    wake: SyncSender<()>,
    worker: Mutex<Option<JoinHandle<()>>>,
    config: BatchConfig,
}

impl std::fmt::Debug for BatchSpanProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchSpanProcessor")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl BatchSpanProcessor {
    /// A processor exporting to `exporter` with the default settings.
    pub fn new<E: SpanExporter + 'static>(exporter: E) -> Self {
        Self::with_config(exporter, BatchConfig::default())
    }

    /// A processor exporting to `exporter` with `config`.
    pub fn with_config<E: SpanExporter + 'static>(exporter: E, config: BatchConfig) -> Self {
        Self::from_sink(sink_for(exporter), config)
    }

    pub(crate) fn from_sink(sink: Box<dyn ExportSink>, config: BatchConfig) -> Self {
        let config = config.normalized();
        let shared = Arc::new(Shared {
            queue: ArrayQueue::new(config.max_queue_size),
            counters: ExportCounters::default(),
            wake_pending: AtomicBool::new(false),
            overflowed: CachePadded::new(AtomicBool::new(false)),
            is_shutdown: AtomicBool::new(false),
            batch_size: config.max_export_batch_size,
            inflight: AtomicU64::new(0),
            accounting: Mutex::new(()),
            export_duration: OnceLock::new(),
        });
        let (tx, rx) = mpsc::channel();
        let (wake_tx, wake_rx) = mpsc::sync_channel(1);
        let worker_shared = shared.clone();
        let worker = std::thread::Builder::new()
            .name("tracekit-batch-export".into())
            .spawn(move || Worker::new(worker_shared, sink, config).run(rx, wake_rx))
            .ok();
        if worker.is_none() {
            // Without a thread nothing can be exported: behave as shut down
            // so spans are counted as dropped instead of piling up.
            shared.is_shutdown.store(true, Ordering::SeqCst);
        }
        BatchSpanProcessor {
            shared,
            control: tx,
            wake: wake_tx,
            worker: Mutex::new(worker),
            config,
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &BatchConfig {
        &self.config
    }

    fn request(
        &self,
        make: impl FnOnce(Sender<Result<(), ProcessorError>>) -> Control,
        timeout: Duration,
    ) -> Result<(), ProcessorError> {
        let (reply_tx, reply_rx) = mpsc::channel();
        if self.control.send(make(reply_tx)).is_err() {
            return Err(ProcessorError::AlreadyShutdown);
        }
        self.ring();
        match reply_rx.recv_timeout(timeout) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => Err(ProcessorError::Timeout),
            Err(RecvTimeoutError::Disconnected) => Err(ProcessorError::AlreadyShutdown),
        }
    }

    /// Wake the worker. A full slot means a ring is already waiting for it:
    /// the worker reads the mailbox after taking the ring, so a request
    /// sent before this call is seen either way.
    fn ring(&self) {
        let _ = self.wake.try_send(());
    }
}

impl SpanProcessor for BatchSpanProcessor {
    #[inline]
    fn on_end(&self, span: FinishedSpan) {
        if !span.span_context().is_sampled() {
            return;
        }
        let shared = &*self.shared;
        if shared.is_shutdown.load(Ordering::Relaxed) {
            shared
                .counters
                .dropped_at_shutdown
                .fetch_add(1, Ordering::Relaxed);
            span.discard();
            return;
        }
        if let Err(span) = shared.queue.push(span) {
            shared.counters.dropped_queue_full.incr();
            // A plain load first: no write to the shared line while the
            // flag is already up.
            if !shared.overflowed.load(Ordering::Relaxed) {
                shared.overflowed.store(true, Ordering::Relaxed);
            }
            span.discard();
            return;
        }
        if shared.queue.len() >= shared.batch_size
            && !shared.wake_pending.load(Ordering::Relaxed)
            && !shared.wake_pending.swap(true, Ordering::AcqRel)
        {
            self.ring();
        }
    }

    fn force_flush(&self, timeout: Duration) -> Result<(), ProcessorError> {
        if self.shared.is_shutdown.load(Ordering::SeqCst) {
            return Err(ProcessorError::AlreadyShutdown);
        }
        self.request(Control::Flush, timeout)
    }

    fn shutdown(&self, timeout: Duration) -> Result<(), ProcessorError> {
        if self.shared.is_shutdown.swap(true, Ordering::SeqCst) {
            return Err(ProcessorError::AlreadyShutdown);
        }
        let result = self.request(|tx| Control::Shutdown(tx, timeout), timeout);
        match result {
            Ok(()) => {
                if let Some(handle) = self.worker.lock().take() {
                    let _ = handle.join();
                }
            }
            // The worker is still busy (an export that does not return):
            // what it has not exported is given up and counted, so the
            // counters add up once shutdown returns.
            Err(ProcessorError::Timeout) => self.shared.give_up_unexported(),
            Err(_) => {}
        }
        result
    }

    fn set_resource(&self, resource: &Resource) {
        if self
            .control
            .send(Control::SetResource(resource.clone()))
            .is_ok()
        {
            self.ring();
        }
    }

    fn add_counters(&self, counters: &mut SpanCounters) {
        self.shared.counters.add_to(counters);
    }

    fn register_metrics(&self, meter: &Meter, index: usize) {
        register_metrics(meter, &self.shared, index);
    }
}

/// The counters of `shared`, if the processor still exists.
fn counters_of(shared: &Weak<Shared>) -> Option<(Arc<Shared>, SpanCounters)> {
    let shared = shared.upgrade()?;
    let mut counters = SpanCounters::default();
    shared.counters.add_to(&mut counters);
    Some((shared, counters))
}

/// The processor's and its exporter's instruments (see
/// `self_metrics`): queue size and capacity, spans processed (`error.type`
/// `queue_full` or `already_shutdown` for the dropped ones), spans in
/// flight and exported (`error.type` on failed exports), and each export's
/// duration.
fn register_metrics(meter: &Meter, shared: &Arc<Shared>, index: usize) {
    let processor = self_metrics::component("batching_span_processor", index);
    let exporter = self_metrics::component("span_exporter", index);
    let up_down = |name: &'static str, attributes: &[KeyValue], read: fn(&Shared) -> usize| {
        let (weak, attributes) = (Arc::downgrade(shared), attributes.to_vec());
        meter
            .i64_observable_up_down_counter(name)
            .with_unit(SPAN_UNIT)
            .with_callback(move |observer| {
                if let Some(shared) = weak.upgrade() {
                    observer.observe(
                        i64::try_from(read(&shared)).unwrap_or(i64::MAX),
                        &attributes,
                    );
                }
            })
            .build()
    };
    up_down(OTEL_SDK_PROCESSOR_SPAN_QUEUE_SIZE, &processor, |s| {
        s.queue.len()
    });
    up_down(OTEL_SDK_PROCESSOR_SPAN_QUEUE_CAPACITY, &processor, |s| {
        s.queue.capacity()
    });
    up_down(OTEL_SDK_EXPORTER_SPAN_INFLIGHT, &exporter, |s| {
        s.inflight.load(Ordering::Relaxed) as usize
    });

    let (weak, attributes) = (Arc::downgrade(shared), processor.to_vec());
    let queue_full = self_metrics::with_error(&processor, "queue_full");
    let already_shutdown = self_metrics::with_error(&processor, "already_shutdown");
    meter
        .u64_observable_counter(OTEL_SDK_PROCESSOR_SPAN_PROCESSED)
        .with_unit(SPAN_UNIT)
        .with_callback(move |observer| {
            let Some((shared, c)) = counters_of(&weak) else {
                return;
            };
            // Processed: handed to the exporter, whatever came of it.
            let submitted =
                c.exported + c.dropped_export_failed + shared.inflight.load(Ordering::Relaxed);
            observer.observe(submitted, &attributes);
            observer.observe(c.dropped_queue_full, &queue_full);
            observer.observe(c.dropped_at_shutdown, &already_shutdown);
        })
        .build();

    let (weak, attributes) = (Arc::downgrade(shared), exporter.to_vec());
    let failed = self_metrics::with_error(&exporter, self_metrics::EXPORT_FAILED_ERROR_TYPE);
    meter
        .u64_observable_counter(OTEL_SDK_EXPORTER_SPAN_EXPORTED)
        .with_unit(SPAN_UNIT)
        .with_callback(move |observer| {
            let Some((_, c)) = counters_of(&weak) else {
                return;
            };
            observer.observe(c.exported, &attributes);
            observer.observe(c.dropped_export_failed, &failed);
        })
        .build();

    let histogram = meter
        .f64_histogram(OTEL_SDK_EXPORTER_OPERATION_DURATION)
        .with_unit("s")
        .build();
    let _ = shared.export_duration.set((histogram, exporter.to_vec()));
}

impl Drop for BatchSpanProcessor {
    fn drop(&mut self) {
        if !self.shared.is_shutdown.load(Ordering::SeqCst) {
            let _ = self.shutdown(self.config.export_timeout);
        }
    }
}

/// How long the worker, once the queue has overflowed, spins waiting for
/// the next batch to fill before it yields the CPU instead. A full batch
/// from one busy thread takes about 100 µs; a wait that long means the
/// producers are not running, and spinning on would only hold their CPU.
const SPIN_FOR: Duration = Duration::from_micros(200);

/// How the worker waits between batches while the queue overflows.
///
/// A `sched_yield` per poll (what this used to do) costs a system call
/// each time and rarely gives the CPU away: the scheduler keeps running
/// the worker while the producer sharing its CPU is not yet due, so the
/// worker spun through hundreds of thousands of system calls a second. A
/// spin on the queue length for up to [`SPIN_FOR`] waits as long for the
/// producers on the other CPUs without leaving user space; after that the
/// worker yields. On a single CPU nobody else can fill the queue while
/// the worker spins, so there it only yields.
struct BatchWait {
    spin: bool,
    since: Option<Instant>,
}

impl BatchWait {
    /// A wait that starts now; `spin` when other CPUs can fill the queue.
    fn new(spin: bool) -> Self {
        BatchWait { spin, since: None }
    }

    /// Wait a little (`now` is the current time) before looking at the
    /// queue again; says how.
    #[inline]
    fn pause(&mut self, now: Instant) -> Pause {
        let since = *self.since.get_or_insert(now);
        if self.spin && now.duration_since(since) < SPIN_FOR {
            for _ in 0..SPIN_PAUSES {
                std::hint::spin_loop();
            }
            Pause::Spun
        } else {
            std::thread::yield_now();
            Pause::Yielded
        }
    }
}

/// What one [`BatchWait::pause`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pause {
    /// Spun on the CPU.
    Spun,
    /// Yielded the CPU to the scheduler.
    Yielded,
}

/// Pause instructions between two looks at the queue while spinning: a few
/// hundred nanoseconds to a few microseconds, depending on the CPU.
const SPIN_PAUSES: u32 = 64;

/// How long after the queue last overflowed the worker keeps the CPU,
/// exporting each batch as it fills, before it goes back to sleeping until
/// woken. Longer than a scheduler time slice, so that the overflows which
/// happen while the worker waits for the CPU keep it in that mode.
const KEEP_UP_WINDOW: Duration = Duration::from_millis(20);

struct Worker {
    shared: Arc<Shared>,
    sink: Box<dyn ExportSink>,
    config: BatchConfig,
    /// Spans dropped on a full queue, as told on standard error.
    queue_losses: LossReport,
    /// Failed exports, as told on standard error (a run ends when an
    /// export succeeds).
    export_losses: LossReport,
    /// The last export error, for the summaries.
    last_error: String,
    /// Whether the machine has more than one CPU (see [`BatchWait`]).
    spin: bool,
    /// The batch being exported (its allocation kept from batch to batch).
    batch: Vec<FinishedSpan>,
}

impl Worker {
    fn new(shared: Arc<Shared>, sink: Box<dyn ExportSink>, config: BatchConfig) -> Self {
        Worker {
            shared,
            sink,
            config,
            queue_losses: LossReport::default(),
            export_losses: LossReport::default(),
            last_error: String::new(),
            spin: std::thread::available_parallelism().is_ok_and(|n| n.get() > 1),
            batch: Vec::new(),
        }
    }

    fn run(mut self, control: Receiver<Control>, wake: Receiver<()>) {
        // Telemetry produced while exporting (an HTTP client's own spans,
        // say) must not feed back into the pipeline.
        let _suppressed = opentelemetry::Context::enter_telemetry_suppressed_scope();
        let mut deadline = Instant::now() + self.config.scheduled_delay;
        let mut pending = None;
        loop {
            let event = match pending.take() {
                Some(message) => Ok(Some(message)),
                None => {
                    let timeout = deadline.saturating_duration_since(Instant::now());
                    // The mailbox first: one ring may stand for several
                    // requests, and a ring taken below may have brought one,
                    // read on the next turn. The doorbell disconnects only
                    // with the processor, which sends nothing after it.
                    match control.try_recv() {
                        Ok(message) => Ok(Some(message)),
                        Err(_) => wake.recv_timeout(timeout).map(|()| None),
                    }
                }
            };
            match event {
                Ok(None) => {
                    self.shared.wake_pending.store(false, Ordering::Release);
                    while self.has_full_batch() {
                        self.export_one_batch();
                    }
                    if self.shared.overflowed.swap(false, Ordering::Relaxed) {
                        pending = self.keep_up(&control, &wake);
                    }
                }
                Ok(Some(Control::Flush(reply))) => {
                    self.drain();
                    let result = self
                        .sink
                        .force_flush()
                        .map_err(|e| ProcessorError::Export(e.to_string()));
                    let _ = reply.send(result);
                }
                Ok(Some(Control::Shutdown(reply, timeout))) => {
                    self.drain();
                    let result = self
                        .sink
                        .shutdown(timeout)
                        .map_err(|e| ProcessorError::Export(e.to_string()));
                    let _ = reply.send(result);
                    return;
                }
                Ok(Some(Control::SetResource(resource))) => self.sink.set_resource(&resource),
                Err(RecvTimeoutError::Timeout) => {
                    self.drain();
                    self.report_losses();
                    deadline = Instant::now() + self.config.scheduled_delay;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.drain();
                    let _ = self.sink.shutdown(self.config.export_timeout);
                    return;
                }
            }
        }
    }

    /// The queue overflowed: spans arrive faster than a sleeping worker
    /// drains them (each wake-up waits for the scheduler while the
    /// application's threads hold the CPUs, and the queue overflows in the
    /// meantime). While the CPU is ours, keep it: export each batch as soon
    /// as it is full, and between batches wait on the CPU ([`BatchWait`])
    /// rather than sleep. A partial batch waits for the timer (or a flush)
    /// as in the normal mode, so the exporter only ever gets full batches
    /// from here, as the specification's batch processor sends them. Go
    /// back to sleeping until woken once the queue has not overflowed for
    /// [`KEEP_UP_WINDOW`], so a burst does not leave the worker spinning. A
    /// flush, shutdown or resource message ends the loop and is returned for
    /// the main loop to handle. Only ever entered after spans were dropped,
    /// so a worker that keeps up sleeps as usual.
    fn keep_up(&mut self, control: &Receiver<Control>, wake: &Receiver<()>) -> Option<Control> {
        let mut last_overflow = Instant::now();
        let mut waiting = BatchWait::new(self.spin);
        loop {
            if let Ok(message) = control.try_recv() {
                return Some(message);
            }
            // Wake-ups are what this loop does anyway.
            if wake.try_recv().is_ok() {
                self.shared.wake_pending.store(false, Ordering::Release);
            }
            if self.has_full_batch() {
                self.export_one_batch();
                waiting = BatchWait::new(self.spin);
                continue;
            }
            // Less than a batch. The flag is looked at only here, so the
            // line the producers write stays quiet while there is work.
            let now = Instant::now();
            if self.shared.overflowed.load(Ordering::Relaxed)
                && self.shared.overflowed.swap(false, Ordering::Relaxed)
            {
                last_overflow = now;
            } else if now.duration_since(last_overflow) >= KEEP_UP_WINDOW {
                return None;
            }
            let _ = waiting.pause(now);
        }
    }

    /// Whether a whole batch is queued.
    #[inline]
    fn has_full_batch(&self) -> bool {
        self.shared.queue.len() >= self.config.max_export_batch_size
    }

    /// Export everything queued right now, batch by batch.
    fn drain(&mut self) {
        while !self.shared.queue.is_empty() {
            self.export_one_batch();
        }
    }

    fn export_one_batch(&mut self) {
        {
            let _accounting = self.shared.accounting.lock();
            while self.batch.len() < self.config.max_export_batch_size {
                match self.shared.queue.pop() {
                    Some(span) => self.batch.push(span),
                    None => break,
                }
            }
            self.shared
                .inflight
                .store(self.batch.len() as u64, Ordering::Release);
        }
        if self.batch.is_empty() {
            return;
        }
        let started = self.shared.export_duration.get().map(|_| Instant::now());
        let result = self.sink.export(&mut self.batch);
        // Every sink empties the batch; should one not, its spans go now.
        self.batch.clear();
        if let (Some((histogram, attributes)), Some(started)) =
            (self.shared.export_duration.get(), started)
        {
            let seconds = started.elapsed().as_secs_f64();
            match result {
                Ok(()) => histogram.record(seconds, attributes),
                Err(_) => histogram.record(
                    seconds,
                    &self_metrics::with_error(attributes, self_metrics::EXPORT_FAILED_ERROR_TYPE),
                ),
            }
        }
        // Zero: a shutdown that ran out of time counted these already.
        let n = self.shared.inflight.swap(0, Ordering::AcqRel) as usize;
        if n == 0 {
            return;
        }
        self.shared.counters.record_export(n, result.is_ok());
        match result {
            // The exporter's own words: `InternalFailure`'s Display would
            // put "Operation failed: " before every one of them.
            Err(opentelemetry_sdk::error::OTelSdkError::InternalFailure(message)) => {
                self.last_error = message
            }
            Err(e) => self.last_error = e.to_string(),
            Ok(()) => {
                if let Some(LossLine::Stopped { total, .. }) = self.export_losses.stop() {
                    eprintln!(
                        "tracekit: span export succeeded again ({total} failed exports in all)"
                    );
                }
            }
        }
        self.report_losses();
    }

    /// Tell standard error about spans lost since the last look: the
    /// first loss of a run at once, then at most one summary a minute,
    /// and one line when the run ends (see `loss_report`).
    fn report_losses(&mut self) {
        let now = Instant::now();
        let mut counters = SpanCounters::default();
        self.shared.counters.add_to(&mut counters);
        let queue = self
            .queue_losses
            .observe(now, counters.dropped_queue_full)
            .or_else(|| self.queue_losses.stop_if_quiet(now));
        match queue {
            Some(LossLine::First { new, .. }) => eprintln!(
                "tracekit: the span queue is full ({} spans, OTEL_BSP_MAX_QUEUE_SIZE): {new} \
                 spans dropped. Raise OTEL_BSP_MAX_QUEUE_SIZE or sample fewer spans \
                 (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG); TracerProvider::counters() \
                 counts them, and further drops are summarised at most once a minute",
                self.config.max_queue_size
            ),
            Some(LossLine::Summary { new, total, since }) => eprintln!(
                "tracekit: {new} more spans dropped on a full queue in the last {} s \
                 ({total} in all)",
                since.as_secs()
            ),
            Some(LossLine::Stopped { total, .. }) => eprintln!(
                "tracekit: the span queue keeps up again ({total} spans dropped on a full \
                 queue in all)"
            ),
            None => {}
        }
        let error = &self.last_error;
        let failed_spans = counters.dropped_export_failed;
        match self.export_losses.observe(now, counters.export_failures) {
            Some(LossLine::First { .. }) => eprintln!(
                "tracekit: span export failed ({error}); {failed_spans} spans dropped. \
                 Further failures are summarised at most once a minute until an export \
                 succeeds (TracerProvider::counters() counts them)"
            ),
            Some(LossLine::Summary { new, total, since }) => eprintln!(
                "tracekit: {new} more span exports failed in the last {} s ({total} in all, \
                 {failed_spans} spans dropped); last error: {error}",
                since.as_secs()
            ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn between_batches_the_worker_spins_for_a_while_then_yields() {
        let start = Instant::now();
        let mut wait = BatchWait::new(true);
        assert_eq!(wait.pause(start), Pause::Spun);
        assert_eq!(wait.pause(start + SPIN_FOR / 2), Pause::Spun);
        assert_eq!(wait.pause(start + SPIN_FOR), Pause::Yielded);
        assert_eq!(wait.pause(start + SPIN_FOR * 3), Pause::Yielded);
        // A new wait (after an export) spins again, counted from its own
        // first pause.
        let later = start + SPIN_FOR * 10;
        let mut wait = BatchWait::new(true);
        assert_eq!(wait.pause(later), Pause::Spun);
        // One CPU: nobody can fill the queue while the worker spins.
        let mut single = BatchWait::new(false);
        assert_eq!(single.pause(start), Pause::Yielded);
    }

    #[test]
    fn config_defaults_and_env() {
        let env: [(&str, &str); 0] = [];
        assert_eq!(BatchConfig::from_env(&env), BatchConfig::default());
        let env = [
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "200"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "10"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "20"),
        ];
        let config = BatchConfig::from_env(&env);
        assert_eq!(config.scheduled_delay, Duration::from_millis(100));
        assert_eq!(config.export_timeout, Duration::from_millis(200));
        assert_eq!(config.max_queue_size, 10);
        // A batch larger than the queue is clamped to it.
        assert_eq!(config.normalized().max_export_batch_size, 10);
    }

    #[test]
    fn a_zero_schedule_delay_becomes_a_millisecond() {
        let env = [("OTEL_BSP_SCHEDULE_DELAY", "0")];
        let config = BatchConfig::from_env(&env).normalized();
        assert_eq!(config.scheduled_delay, MIN_SCHEDULED_DELAY);
        let given = BatchConfig {
            scheduled_delay: Duration::ZERO,
            ..BatchConfig::default()
        };
        assert_eq!(given.normalized().scheduled_delay, MIN_SCHEDULED_DELAY);
        let long = BatchConfig::default().normalized();
        assert_eq!(long.scheduled_delay, Duration::from_secs(5));
    }

    #[test]
    fn invalid_env_values_keep_defaults() {
        let env = [
            ("OTEL_BSP_SCHEDULE_DELAY", "soon"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "-5"),
        ];
        assert_eq!(BatchConfig::from_env(&env), BatchConfig::default());
    }
}
