// followChanges: every change to the students, in order, for as long as you iterate, over the
// server-sent events of `streamChanges`. The generated `streamChanges` stops when the server
// ends a stream (a subscriber that fell behind, a server shutting down) and retries refusals such
// as a 410 forever; this resumes from the last position the server gave (with a change, or
// alone before any change and with each keep-alive), and stops with a `FeedError` on a refusal
// that retrying cannot fix.
import type { Client } from './generated/client/index.js';
import { streamChanges } from './generated/sdk.gen.js';
import type { Grade, StudentChange } from './generated/types.gen.js';

export interface FollowOptions {
  client: Client;
  /** Start after this position (a change's `position`), or `'now'`; by default from the oldest change kept. */
  after?: string;
  /** Only changes to students in these grades (before or after the change). */
  grade?: Array<Grade>;
  /** Only changes to this student. */
  studentId?: number;
  /** Stops following (the iteration ends). */
  signal?: AbortSignal;
  /** Wait before reconnecting after a dropped stream or a 5xx, in ms (doubling up to 30 s). */
  retryDelayMs?: number;
}

/** The feed refused to continue: `status` 410 (the position is older than the changes kept:
 * resync — take the feed's position with `pollChanges({ query: { after: 'now', wait: 0 } })`,
 * list the students, then follow from that position), 401/403 (the token), 422 (a bad
 * position). */
export class FeedError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'FeedError';
  }
}

/** Every change after `after`, oldest first, then live: nothing skipped, nothing twice, across
 * reconnects. Each change's `position` is where to resume if you stop. */
export async function* followChanges(options: FollowOptions): AsyncGenerator<StudentChange> {
  const { client, grade, studentId } = options;
  const firstDelay = options.retryDelayMs ?? 1000;
  // Aborted when the caller's signal is, and when the caller stops iterating (a `break` or
  // `return()`), so no connection outlives the loop.
  const stop = new AbortController();
  const signal = stop.signal;
  const forward = () => stop.abort();
  options.signal?.addEventListener('abort', forward);
  try {
    yield* follow(client, options.after, grade, studentId, signal, firstDelay);
  } finally {
    options.signal?.removeEventListener('abort', forward);
    stop.abort();
  }
}

async function* follow(
  client: Client,
  after: string | undefined,
  grade: Array<Grade> | undefined,
  studentId: number | undefined,
  signal: AbortSignal,
  firstDelay: number,
): AsyncGenerator<StudentChange> {
  let position: string | undefined;
  let delay = firstDelay;
  while (!signal.aborted) {
    let refused: FeedError | undefined;
    let failed = false;
    const { stream } = await streamChanges({
      client,
      query: { after: position === undefined ? after : undefined, grade, student_id: studentId },
      headers: position === undefined ? undefined : { 'Last-Event-ID': position },
      signal,
      // One attempt per connection: this loop decides whether and where to resume.
      sseMaxRetryAttempts: 1,
      // Every `id:`, with a change or alone (the server sends the position before any change
      // and with each keep-alive): where to resume, even if no change came yet.
      onSseEvent: (event) => {
        if (event.id) position = event.id;
      },
      onSseError: (error: unknown) => {
        failed = true;
        const status = Number(/SSE failed: (\d{3})/.exec(String(error))?.[1]);
        if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
          refused = new FeedError(status, String(error));
        }
      },
    });
    for await (const change of stream as AsyncGenerator<StudentChange>) {
      delay = firstDelay;
      yield change;
    }
    if (refused) throw refused;
    if (signal.aborted) return;
    // Ended by the server (behind, or shutting down) or lost: resume after the last change.
    if (failed) {
      await pause(delay, signal);
      delay = Math.min(delay * 2, 30_000);
    }
  }
}

/** Waits `ms`, or less if `signal` aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
