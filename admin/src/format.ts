// How numbers, times and people are written for people.
import type { ChangeActor, Student } from '../../clients/typescript/src/index.js';

const compact = new Intl.NumberFormat('en', { notation: 'compact', compactDisplay: 'long', maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat('en');
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "about 1.2 million", "about 250": the planner's estimate, never presented as exact. */
export function aboutCount(estimate: number): string {
  return `about ${compact.format(estimate)}`;
}

export function exactCount(count: number): string {
  return whole.format(count);
}

export function when(iso: string): string {
  return dateTime.format(new Date(iso));
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
export function ago(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (Math.abs(seconds) < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (Math.abs(minutes) < 60) return relative.format(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 24) return relative.format(hours, 'hour');
  return when(iso);
}

/** Who made a change: the person, the API token, or the database role (psql). */
export function actorName(actor: ChangeActor): string {
  if (actor.account) return actor.account.username;
  if (actor.token_id !== null) return `API token “${actor.name}”`;
  return `${actor.name} (database)`;
}

const CSV_COLUMNS = ['id', 'name', 'grade', 'email', 'created_at', 'updated_at'] as const;

// As the server's export writes a cell (src/api/students/spreadsheet.rs): a cell a spreadsheet
// would run as a formula gets a leading `'`, so the import gives the value back exactly. The
// browser suite compares a selection's file with the server's export of the same students.
function neutralise(text: string): string {
  return /^'*[=+\-@]/.test(text) ? `'${text}` : text;
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : neutralise(String(value));
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The selected students as the export's CSV or NDJSON would have them. */
export function studentsFile(students: Student[], format: 'csv' | 'ndjson'): Blob {
  if (format === 'ndjson') {
    return new Blob(students.map((s) => `${JSON.stringify(s)}\n`), { type: 'application/x-ndjson' });
  }
  const lines = [CSV_COLUMNS.join(','), ...students.map((s) => CSV_COLUMNS.map((c) => csvCell(s[c])).join(','))];
  return new Blob([`${lines.join('\n')}\n`], { type: 'text/csv' });
}

export function download(file: Blob, name: string) {
  const url = URL.createObjectURL(file);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
