// importStudentsFile: create a student of every row of a CSV or NDJSON file (`importStudents`).
// The operation takes two media types, told apart by the `Content-Type`; the generated
// `importStudents` sends `text/csv` unless told otherwise in `headers`. This names the format
// once, takes the file as text, bytes or a Blob, and returns what `importStudents` returns:
// `data`, the `ImportReport` (201 created, 200 a dry run), or `error`, the problem (a 422 of type
// `urn:students-api:problem:invalid-rows` names each bad row and field, `/rows/2/grade`, with its
// `line`; nothing was written).
import type { Client } from './generated/client/index.js';
import { importStudents } from './generated/sdk.gen.js';
import type { OnError } from './generated/types.gen.js';

export type ImportFormat = 'csv' | 'ndjson';

const contentTypes: Record<ImportFormat, string> = {
  csv: 'text/csv',
  ndjson: 'application/x-ndjson',
};

export interface ImportOptions {
  client?: Client;
  /** CSV with a header row (`name,grade,email`), or NDJSON: one `{name, grade, email}` object a line. */
  file: string | Uint8Array<ArrayBuffer> | ArrayBuffer | Blob;
  /** The file's format; by default the Blob's own type when it is one of the two, else `'csv'`. */
  format?: ImportFormat;
  /** Check every row and report what an import would do (200), writing nothing. */
  dryRun?: boolean;
  /** `'reject'` (the server's default): one bad row writes nothing (422); `'skip'`: write the others. */
  onError?: OnError;
  /** Makes the import safe to retry: the same key and file within 24 hours gets the first answer. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export function importStudentsFile(options: ImportOptions) {
  const { file } = options;
  const blobFormat = (Object.keys(contentTypes) as ImportFormat[]).find(
    (format) => file instanceof Blob && file.type === contentTypes[format],
  );
  const format = options.format ?? blobFormat ?? 'csv';
  const headers: Record<string, string> = { 'Content-Type': contentTypes[format] };
  if (options.idempotencyKey !== undefined) headers['Idempotency-Key'] = options.idempotencyKey;
  return importStudents({
    client: options.client,
    body: file instanceof Blob ? file : new Blob([file]),
    query: { dry_run: options.dryRun, on_error: options.onError },
    headers,
    signal: options.signal,
  });
}
