// N subscribers to the change feed (GET /api/students/changes?after=now), for `bench/run --feed`.
// No npm dependencies: raw `node:net` sockets, so one process can take 100,000 events/s.
//
//   BENCH_TOKEN=T node bench/feed/subscribers.mjs --port 3000 --subscribers 500 --writes 2000
//
// Protocol (lines on stdout and stdin, so bench/run can drive it):
//   stdout `ready <ok> <failed>` once every connection has its 200 and the `retry:` line
//   stdin  `{"sends": [ms, ...], "grace_ms": 10000}` when the writer is done: the send time
//          of write i (CLOCK_MONOTONIC, ms; null if it was not sent)
//   stdout one JSON line: counts, a latency histogram, first/last receive time per write; exit
//
// Each write's student is named `feed 000123`: an event is recognised by a plain string search
// for `"name":"feed ` (the student's `name`; `changes.name.after` has key `after`), no JSON
// parsing. Receive times are CLOCK_MONOTONIC too (`performance.now()` plus its offset to
// `process.hrtime`), the clock Python's `time.monotonic_ns()` reads: the same clock on both sides.
// Chunked framing needs no decoding: the server sends each event as one chunk, so a chunk-size
// line never falls inside a marker; a marker split across two reads is caught by keeping a tail.
// Sockets read through `onread` into one shared buffer and are scanned as bytes: no strings, no
// stream events, so the client's CPU per event stays small beside the server's.

import net from "node:net";
import { performance } from "node:perf_hooks";
import readline from "node:readline";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith("--") ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const HOST = args.host ?? "127.0.0.1";
const PORT = Number(args.port);
const TOKEN = args.token ?? process.env.BENCH_TOKEN;
const SUBSCRIBERS = Number(args.subscribers ?? 100);
const WRITES = Number(args.writes ?? 0);
const OPENING = Number(args.opening ?? 100); // connections being opened at once
const PATH = args.path ?? "/api/students/changes?after=now";

const MARK = '"name":"feed ';
const DIGITS = 6;
const WHOLE = MARK.length + DIGITS;
const BUCKET_MS = 0.01; // the histogram's resolution: 10 µs

// One monotonic clock with process.hrtime (CLOCK_MONOTONIC), read cheaply.
const offset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
const now = () => performance.now() + offset;

const request =
  `GET ${PATH} HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
  "Accept: text/event-stream\r\nConnection: keep-alive\r\n\r\n";

const stats = {
  subscribers: SUBSCRIBERS,
  connected: 0,
  ready: 0,
  failed: 0,
  bad_status: {},
  closed_early: 0,
  errors: {},
  received: 0,
  duplicates: 0,
  unexpected: 0,
  chunks: 0,
  bytes: 0,
};

const subs = [];
let finishing = false;


// Every socket reads into this one buffer (`onread`: no stream machinery, no allocation per
// read); each read is handled before the next, so sharing it is safe.
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const MARK_BYTES = Buffer.from(MARK, "latin1");

function open(index) {
  return new Promise((resolve) => {
    const sub = { index, head: "", tail: null, ready: false, got: new Float64Array(WRITES), count: 0 };
    subs.push(sub);
    let settled = false;
    const settle = (ok) => {
      if (settled) return;
      settled = true;
      if (ok) stats.ready++;
      else stats.failed++;
      resolve();
    };
    const onRead = (length, buffer) => {
      const at = now();
      let from = 0;
      if (!sub.ready) {
        // The status line, the headers, then the `retry:` line: as text, once per stream.
        sub.head += buffer.toString("latin1", 0, length);
        if (sub.head.indexOf("\r\n") < 0) return true;
        const status = sub.head.slice(9, 12);
        if (status !== "200") {
          stats.bad_status[status] = (stats.bad_status[status] ?? 0) + 1;
          socket.destroy();
          settle(false);
          return false;
        }
        const retry = sub.head.indexOf("retry:");
        if (retry < 0) {
          if (sub.head.length > 65536) socket.destroy();
          return true;
        }
        sub.ready = true;
        // What followed `retry:` in this read (an event, maybe) is scanned below.
        from = Math.max(0, length - (sub.head.length - retry));
        sub.head = "";
        settle(true);
      }
      stats.chunks++;
      stats.bytes += length - from;
      scan(sub, buffer, from, length, at);
      return true;
    };
    const socket = net.connect({ host: HOST, port: PORT, noDelay: true, onread: { buffer: READ_BUFFER, callback: onRead } });
    sub.socket = socket;
    socket.on("connect", () => {
      stats.connected++;
      socket.write(request);
    });
    socket.on("error", (err) => {
      stats.errors[err.code ?? err.message] = (stats.errors[err.code ?? err.message] ?? 0) + 1;
      settle(false);
    });
    socket.on("close", () => {
      if (!finishing && sub.ready) stats.closed_early++;
      settle(false);
    });
  });
}

function record(sub, write, at) {
  if (write >= 0 && write < WRITES) {
    if (sub.got[write] !== 0) stats.duplicates++;
    else {
      sub.got[write] = at;
      sub.count++;
    }
    stats.received++;
  } else {
    stats.unexpected++;
  }
}

function digits(bytes, at) {
  let value = 0;
  for (let i = at; i < at + DIGITS; i++) {
    const digit = bytes[i] - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

// Whether bytes[at, end) could be the start of a marker (`"name":"feed ` then digits).
function couldStart(bytes, at, end) {
  for (let i = at; i < end; i++) {
    const k = i - at;
    if (k < MARK.length ? bytes[i] !== MARK_BYTES[k] : bytes[i] < 48 || bytes[i] > 57) return false;
  }
  return true;
}

// Every complete marker in buffer[from, end) (read at `at`), and the one the previous reads'
// last bytes began (`sub.tail`); keeps this read's last bytes if a marker may start in them.
// Reads are whole events in practice, so the tail is rare.
function scan(sub, buffer, from, end, at) {
  if (sub.tail !== null) {
    const joined = Buffer.concat([sub.tail, buffer.subarray(from, Math.min(end, from + WHOLE))]);
    sub.tail = null;
    if (joined.length < WHOLE) {
      if (couldStart(joined, 0, joined.length)) {
        sub.tail = joined; // still short of a whole marker: all of this read is in it
        return;
      }
    } else if (couldStart(joined, 0, WHOLE)) {
      record(sub, digits(joined, MARK.length), at);
    }
  }
  const view = buffer.subarray(0, end); // the shared buffer holds older reads past `end`
  let position = from;
  for (;;) {
    const found = view.indexOf(MARK_BYTES, position);
    if (found < 0 || found + WHOLE > end) break;
    record(sub, digits(view, found + MARK.length), at);
    position = found + WHOLE;
  }
  // A marker this read cuts: it starts with a quote in the last WHOLE - 1 bytes (a marker has
  // one place only where a quote can begin it, so the first such place is the one).
  for (let i = Math.max(position, end - (WHOLE - 1)); i < end; i++) {
    if (view[i] === 34 && couldStart(view, i, end)) {
      sub.tail = Buffer.from(view.subarray(i, end));
      return;
    }
  }
}

async function openAll() {
  let next = 0;
  const worker = async () => {
    while (next < SUBSCRIBERS) await open(next++);
  };
  await Promise.all(Array.from({ length: Math.min(OPENING, SUBSCRIBERS) }, worker));
}

function finish(sends, graceMs) {
  const expected = sends.reduce((n, t) => n + (t === null ? 0 : 1), 0);
  const deadline = now() + graceMs;
  const complete = () => subs.every((s) => !s.ready || s.count >= expected);
  const report = () => {
    finishing = true;
    const histogram = new Map();
    let max = 0;
    let missing = 0;
    let negative = 0;
    const first = sends.map(() => null);
    const last = sends.map(() => null);
    for (const sub of subs) {
      if (!sub.ready) continue;
      for (let write = 0; write < sends.length; write++) {
        const sent = sends[write];
        if (sent === null) continue;
        const at = sub.got[write];
        if (at === 0) {
          missing++;
          continue;
        }
        let latency = at - sent;
        if (latency < 0) {
          negative++;
          latency = 0;
        }
        if (latency > max) max = latency;
        const bucket = Math.floor(latency / BUCKET_MS);
        histogram.set(bucket, (histogram.get(bucket) ?? 0) + 1);
        if (first[write] === null || at < first[write]) first[write] = at;
        if (last[write] === null || at > last[write]) last[write] = at;
      }
    }
    // Subscribers that never became ready miss every write too.
    missing += subs.filter((s) => !s.ready).length * expected;
    for (const sub of subs) sub.socket.destroy();
    const out = {
      ...stats,
      expected_per_subscriber: expected,
      missing,
      negative,
      max_ms: max,
      bucket_ms: BUCKET_MS,
      histogram: [...histogram.entries()],
      first,
      last,
      cpu_us: process.cpuUsage(),
      rss_kib: Math.round(process.memoryUsage().rss / 1024),
    };
    process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(0));
  };
  const wait = () => (complete() || now() > deadline ? report() : setTimeout(wait, 20));
  wait();
}

await openAll();
process.stdout.write(`ready ${stats.ready} ${stats.failed}\n`);
const input = readline.createInterface({ input: process.stdin });
input.on("line", (line) => {
  const message = JSON.parse(line);
  finish(message.sends, message.grace_ms ?? 10000);
});
input.on("close", () => {
  if (!finishing) process.exit(1);
});
