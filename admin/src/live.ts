// One subscription to the change feed for the whole console, shared by the list and any open
// form. The feed needs the token, which a browser's EventSource cannot send: the SDK's
// followChanges reads the server-sent events over fetch and resumes after a dropped stream.
import { useEffect } from 'preact/hooks';
import { FeedError, followChanges, type StudentChange } from '../../clients/typescript/src/index.js';
import { client } from './api.js';

type Listener = (change: StudentChange) => void;
const listeners = new Set<Listener>();
let running: AbortController | null = null;

async function run(stop: AbortController) {
  while (!stop.signal.aborted) {
    try {
      for await (const change of followChanges({ client, after: 'now', signal: stop.signal })) {
        for (const listener of listeners) listener(change);
      }
    } catch (error) {
      // 401: the session is over (the API client's interceptor says so); 410 cannot happen
      // from "now" but is survived the same way: start again from now.
      if (error instanceof FeedError && (error.status === 401 || error.status === 403)) return;
      if (stop.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

export function startLive() {
  if (running) return;
  running = new AbortController();
  void run(running);
}

export function stopLive() {
  running?.abort();
  running = null;
}

/** Calls `listener` with every change while the component is shown. */
export function useChanges(listener: Listener, deps: unknown[]) {
  useEffect(() => {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
}
