// Messages at the foot of the page ("Deleted Ada Lovelace. Undo"), read out by screen readers.
// An action's work is done on the server when it is clicked, never later: the delete has
// happened and Undo restores it, so closing the tab in between loses nothing and sends nothing.
import { useEffect, useState } from 'preact/hooks';

export interface Notice {
  id: number;
  message: string;
  tone: 'info' | 'error';
  action?: { label: string; run: () => Promise<void> | void };
}

let nextId = 1;
let notices: Notice[] = [];
const listeners = new Set<() => void>();

function publish(next: Notice[]) {
  notices = next;
  for (const listener of listeners) listener();
}

export function dismiss(id: number) {
  publish(notices.filter((notice) => notice.id !== id));
}

/** Shows a message for `seconds` (an undo's window), or until dismissed. */
export function notify(message: string, options: { tone?: Notice['tone']; action?: Notice['action']; seconds?: number } = {}) {
  const notice: Notice = { id: nextId++, message, tone: options.tone ?? 'info', action: options.action };
  publish([...notices, notice].slice(-4));
  setTimeout(() => dismiss(notice.id), (options.seconds ?? (options.action ? 10 : 5)) * 1000);
  return notice.id;
}

export function Notices() {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const update = () => setVersion((v) => v + 1);
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  return (
    <div class="notices" role="status" aria-live="polite">
      {notices.map((notice) => (
        <div key={notice.id} class={`notice notice-${notice.tone}`}>
          <span>{notice.message}</span>
          {notice.action && (
            <button
              type="button"
              class="link-button"
              onClick={async () => {
                const action = notice.action;
                dismiss(notice.id);
                await action?.run();
              }}
            >
              {notice.action.label}
            </button>
          )}
          <button type="button" class="icon-button" aria-label="Dismiss" onClick={() => dismiss(notice.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
