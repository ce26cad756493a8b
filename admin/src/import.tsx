// Import a CSV or NDJSON file: a dry run first, which lists every refused row by its line and
// field; then the import itself, all or nothing (or the valid rows only, when asked).
import { useState } from 'preact/hooks';
import { type FieldError, type ImportReport, importStudentsFile } from '../../clients/typescript/src/index.js';
import { client, isProblem, problemMessage } from './api.js';
import { exactCount } from './format.js';
import { notify } from './notices.js';
import { BASE, navigate } from './route.js';

interface Checked {
  file: File;
  rows: number;
  valid: number;
  errors: FieldError[];
  key: string;
}

function formatOf(file: File): 'csv' | 'ndjson' {
  return /\.(nd)?jsonl?$/i.test(file.name) || file.type === 'application/x-ndjson' ? 'ndjson' : 'csv';
}

function rowAndField(error: FieldError): { row: string; field: string } {
  const match = /^\/rows\/(\d+)(?:\/(.+))?$/.exec(error.location);
  return { row: match?.[1] ?? '', field: match?.[2] ?? '—' };
}

function megabytes(bytes: number) {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function ImportPage() {
  const [file, setFile] = useState<File | null>(null);
  const [checked, setChecked] = useState<Checked | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function dryRun(event: Event) {
    event.preventDefault();
    if (!file) return setError('Choose a file first.');
    setError(null);
    setChecked(null);
    setBusy(`Checking ${file.name} (${megabytes(file.size)})…`);
    const { data, error: refusal } = await importStudentsFile({ client, file, format: formatOf(file), dryRun: true });
    setBusy(null);
    const key = crypto.randomUUID();
    if (data) return setChecked({ file, rows: data.rows, valid: data.valid, errors: data.errors, key });
    if (isProblem(refusal) && refusal.errors.some((e) => e.location.startsWith('/rows/'))) {
      const rows = Number(/(\d[\d,]*) rows?/.exec(refusal.detail)?.[1]?.replace(/,/g, '') ?? 0);
      const bad = new Set(refusal.errors.map((e) => rowAndField(e).row)).size;
      return setChecked({ file, rows, valid: Math.max(0, rows - bad), errors: refusal.errors, key });
    }
    setError(problemMessage(refusal, 'The file could not be checked.'));
  }

  async function runImport(skipInvalid: boolean) {
    if (!checked) return;
    setBusy(`Importing ${checked.file.name}…`);
    const { data, error: refusal } = await importStudentsFile({
      client,
      file: checked.file,
      format: formatOf(checked.file),
      onError: skipInvalid ? 'skip' : 'reject',
      idempotencyKey: checked.key,
    });
    setBusy(null);
    if (!data) return setError(problemMessage(refusal, 'The import failed; nothing was written.'));
    notify(`Imported ${exactCount((data as ImportReport).created)} students.`);
    navigate(BASE);
  }

  return (
    <section aria-labelledby="import-title">
      <h1 id="import-title">Import students</h1>
      <p>
        A CSV file with a header row naming <code>name</code>, <code>grade</code> and <code>email</code> (an export works as it is), or
        NDJSON: one JSON object a line. The file is checked first; nothing is written until you confirm.
      </p>
      <form class="card" onSubmit={dryRun}>
        <label for="import-file">File</label>
        <input
          id="import-file"
          type="file"
          accept=".csv,.ndjson,.jsonl,text/csv,application/x-ndjson"
          onChange={(e) => {
            setFile(e.currentTarget.files?.[0] ?? null);
            setChecked(null);
            setError(null);
          }}
        />
        <div class="actions">
          <button type="submit" class="primary" disabled={!file || busy !== null}>
            Check the file
          </button>
        </div>
      </form>
      {busy && (
        <div class="progress" role="status">
          <label>
            {busy}
            <progress />
          </label>
        </div>
      )}
      {error && (
        <p class="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {checked && (
        <div class="card import-result" aria-live="polite">
          <h2>Dry run: nothing written</h2>
          <p class="import-summary">
            {exactCount(checked.rows)} rows: {exactCount(checked.valid)} valid, {exactCount(checked.rows - checked.valid)} refused.
          </p>
          {checked.errors.length > 0 && (
            <div class="table-wrap">
              <table class="import-errors">
                <caption>Refused rows</caption>
                <thead>
                  <tr>
                    <th scope="col">Line</th>
                    <th scope="col">Row</th>
                    <th scope="col">Field</th>
                    <th scope="col">Problem</th>
                  </tr>
                </thead>
                <tbody>
                  {checked.errors.map((e) => {
                    const where = rowAndField(e);
                    return (
                      <tr key={`${e.location}-${e.code}`}>
                        <td>{e.line ?? ''}</td>
                        <td>{where.row}</td>
                        <td>{where.field}</td>
                        <td>{e.message}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          <div class="actions">
            {checked.errors.length === 0 ? (
              <button type="button" class="primary" disabled={busy !== null} onClick={() => runImport(false)}>
                Import {exactCount(checked.rows)} students
              </button>
            ) : (
              checked.valid > 0 && (
                <button type="button" disabled={busy !== null} onClick={() => runImport(true)}>
                  Import the {exactCount(checked.valid)} valid rows, skip the refused
                </button>
              )
            )}
          </div>
        </div>
      )}
    </section>
  );
}
