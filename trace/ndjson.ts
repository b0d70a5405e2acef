/**
 * NDJSON trace files: one TraceEvent per line. The writer buffers a bounded number of bytes and appends them
 * synchronously, so memory stays flat however long the run is and a crash loses at most one buffer.
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { subscribe as busSubscribe } from './bus.ts';
import type { TraceEvent } from './events.ts';

export class TraceFormatError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'TraceFormatError';
  }
}

export interface TraceWriterOptions {
  /** Keep only matching events. */
  filter?: (event: TraceEvent) => boolean;
  /** Rewrite an event before it is written (e.g. key redaction). */
  transform?: (event: TraceEvent) => TraceEvent;
  /** Bytes buffered before a synchronous append (default 64 KiB). */
  bufferBytes?: number;
  /** Flush at least this often while events keep arriving (default 250 ms). */
  flushIntervalMs?: number;
  /** Append to an existing file instead of truncating it. */
  append?: boolean;
}

/** Bytes as upper-case hex, bigints as decimal strings: trace bodies are free-form and must stay JSON. */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex').toUpperCase();
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** One event as one JSON line; an event that cannot be serialized keeps its envelope and loses its body. */
export function serializeEvent(event: TraceEvent): string {
  try {
    return JSON.stringify(event, replacer);
  } catch (e) {
    const { seq, time, corr, kind } = event;
    return JSON.stringify({ seq, time, corr, kind, from: event.from, to: event.to, unserializable: String(e) });
  }
}

export class NdjsonTraceWriter {
  private fd: number | undefined;
  private chunks: string[] = [];
  private pending = 0;
  private lastFlush = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private written = 0;
  private failure: Error | undefined;
  private readonly bufferBytes: number;
  private readonly flushIntervalMs: number;

  constructor(
    readonly file: string,
    private readonly opts: TraceWriterOptions = {},
  ) {
    this.bufferBytes = opts.bufferBytes ?? 64 * 1024;
    this.flushIntervalMs = opts.flushIntervalMs ?? 250;
    this.fd = openSync(file, opts.append ? 'a' : 'w');
  }

  /** Events written so far (buffered ones included). */
  get count(): number {
    return this.written;
  }

  /** Bytes waiting in memory; never more than bufferBytes plus one line. */
  get pendingBytes(): number {
    return this.pending;
  }

  /** The first write error, if any (the writer stops writing after it; tracing never breaks the run). */
  get error(): Error | undefined {
    return this.failure;
  }

  write(event: TraceEvent): void {
    if (this.fd === undefined || this.failure) return;
    if (this.opts.filter && !this.opts.filter(event)) return;
    const line = serializeEvent(this.opts.transform ? this.opts.transform(event) : event) + '\n';
    this.chunks.push(line);
    this.pending += Buffer.byteLength(line);
    this.written++;
    if (this.pending >= this.bufferBytes || Date.now() - this.lastFlush >= this.flushIntervalMs) this.flush();
    else if (!this.timer) {
      // A quiet period after a burst must still reach the disk (the viewer may be tailing the file).
      this.timer = setTimeout(() => this.flush(), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.lastFlush = Date.now();
    if (this.fd === undefined || this.chunks.length === 0) return;
    const data = this.chunks.join('');
    this.chunks = [];
    this.pending = 0;
    try {
      writeSync(this.fd, data);
    } catch (e) {
      this.failure = e as Error;
    }
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

export interface TraceRecorder {
  readonly file: string;
  readonly count: number;
  readonly error: Error | undefined;
  flush(): void;
  /** Unsubscribes and closes the file. */
  close(): void;
}

/**
 * Records every bus event of this process to `file` until closed. In parallel Cucumber runs each worker
 * records its own file (the bus is per process); the reports merge them.
 */
export function recordTrace(
  file: string,
  opts: TraceWriterOptions = {},
  subscribe: (l: (e: TraceEvent) => void) => () => void = busSubscribe,
): TraceRecorder {
  const writer = new NdjsonTraceWriter(file, opts);
  const unsubscribe = subscribe((e) => writer.write(e));
  const onExit = () => writer.flush();
  process.on('exit', onExit);
  return {
    file,
    get count() {
      return writer.count;
    },
    get error() {
      return writer.error;
    },
    flush: () => writer.flush(),
    close: () => {
      unsubscribe();
      process.off('exit', onExit);
      writer.close();
    },
  };
}

/** Parses one NDJSON line; checks the envelope every reader relies on. */
export function parseTraceLine(line: string, file = '<trace>', lineNo = 0): TraceEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new TraceFormatError(`not JSON: ${(e as Error).message}`, file, lineNo);
  }
  const o = v as Partial<TraceEvent>;
  if (!o || typeof o !== 'object' || typeof o.kind !== 'string' || typeof o.seq !== 'number' || typeof o.time !== 'number') {
    throw new TraceFormatError('not a trace event (needs kind, seq, time)', file, lineNo);
  }
  if (!o.corr || typeof o.corr !== 'object') (o as { corr: object }).corr = {};
  return o as TraceEvent;
}

/** Streams the events of an NDJSON trace file (blank lines ignored). */
export async function* readTrace(file: string): AsyncGenerator<TraceEvent> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (line.trim() === '') continue;
    yield parseTraceLine(line, file, n);
  }
}

/** Reads several trace files (e.g. one per worker) into one list ordered by time, then file order. */
export async function readTraceFiles(files: string[]): Promise<TraceEvent[]> {
  const all: { e: TraceEvent; f: number; i: number }[] = [];
  for (const [f, file] of files.entries()) {
    let i = 0;
    for await (const e of readTrace(file)) all.push({ e, f, i: i++ });
  }
  all.sort((a, b) => a.e.time - b.e.time || a.f - b.f || a.i - b.i);
  return all.map((x) => x.e);
}
