// A student's form, new or existing. The fields check the spec's rules as they are typed; the
// server's 422 puts each of its field errors next to its field, a 409 on the e-mail. Saving
// sends If-Match: when someone else saved first (412) the form shows what they changed, field
// by field from the history, and offers to take theirs or keep mine. While the form is open,
// the change feed tells it when someone else changes or deletes the student.
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  createStudent,
  deleteStudent,
  type FieldError,
  getStudent,
  getStudentHistory,
  type Grade,
  replaceStudent,
  type Student,
  type StudentChange,
} from '../../clients/typescript/src/index.js';
import { client, etagOf, isProblem, problemMessage, type Session } from './api.js';
import { Dialog } from './dialog.js';
import { actorName, ago, when } from './format.js';
import { useChanges } from './live.js';
import { notify } from './notices.js';
import { BASE, navigate } from './route.js';
import { checkField, FIELDS, type Field, GRADES, isRequired, LABELS, maxLength } from './rules.js';
import { undoDelete } from './tasks.js';

type Values = Record<Field, string>;
type Errors = Partial<Record<Field, string>>;

function valuesOf(student: Student): Values {
  return { name: student.name, grade: student.grade, email: student.email ?? '' };
}

function versionOf(etag: string | undefined): number {
  return Number(etag?.replace(/\D/g, '') ?? 0);
}

interface Conflict {
  theirs: Student;
  etag: string;
  /** Who changed each field since my version, newest first. */
  by: Partial<Record<Field, StudentChange>>;
  deletedBy?: StudentChange;
}

export function StudentForm({ session, id }: { session: Session; id?: number }) {
  const editing = id !== undefined;
  const [loaded, setLoaded] = useState<{ student: Student; etag: string } | null>(null);
  const [gone, setGone] = useState<string | null>(null);
  const [values, setValues] = useState<Values>({ name: '', grade: '', email: '' });
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [remote, setRemote] = useState<StudentChange | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => {
    document.title = `${editing ? 'Edit student' : 'New student'} · Students admin`;
    if (!editing) {
      formRef.current?.querySelector<HTMLInputElement>('input')?.focus();
      return;
    }
    void getStudent({ client, path: { id } }).then(({ data, error, response }) => {
      if (data) {
        setLoaded({ student: data, etag: etagOf(response) ?? '' });
        setValues(valuesOf(data));
        document.title = `${data.name} · Students admin`;
      } else setGone(problemMessage(error, 'This student could not be loaded.'));
    });
  }, [id]);

  useChanges(
    (change) => {
      if (!editing || change.student.id !== id || !loaded) return;
      if (change.version > versionOf(loaded.etag) || change.op === 'deleted') setRemote(change);
    },
    [id, loaded],
  );

  function set(field: Field, value: string) {
    setValues((v) => ({ ...v, [field]: value }));
    if (errors[field]) setErrors((e) => ({ ...e, [field]: checkField(field, value) }));
  }

  function showErrors(found: Errors, message: string | null) {
    setErrors(found);
    setFormError(message);
    const first = FIELDS.find((f) => found[f]);
    if (first) requestAnimationFrame(() => document.getElementById(`field-${first}`)?.focus());
  }

  async function save(event?: Event, etag = loaded?.etag) {
    event?.preventDefault();
    const found: Errors = {};
    for (const field of FIELDS) {
      const problem = checkField(field, values[field]);
      if (problem) found[field] = problem;
    }
    if (Object.keys(found).length) return showErrors(found, 'Please correct the fields marked below.');
    setBusy(true);
    setFormError(null);
    const body = { name: values.name, grade: values.grade as Grade, email: values.email === '' ? null : values.email };
    const result = editing
      ? await replaceStudent({ client, path: { id }, headers: etag ? { 'If-Match': etag } : undefined, body })
      : await createStudent({ client, body });
    setBusy(false);
    if (result.data) {
      notify(editing ? `Saved ${result.data.name}.` : `Created ${result.data.name}.`);
      navigate(BASE);
      return;
    }
    const problem = result.error;
    const status = result.response?.status;
    if (status === 412 && editing) return openConflict();
    if (status === 404 && editing) {
      setGone('Someone deleted this student while you were editing. Restore it from its history to keep working on it.');
      return;
    }
    if (isProblem(problem) && (status === 422 || status === 409)) {
      const byField: Errors = {};
      const others: string[] = [];
      for (const error of problem.errors as FieldError[]) {
        const field = error.location.replace(/^\//, '') as Field;
        if (FIELDS.includes(field)) byField[field] = byField[field] ?? error.message;
        else others.push(error.message);
      }
      if (status === 409 && !byField.email) byField.email = problem.detail;
      return showErrors(byField, others.length ? others.join(' ') : Object.keys(byField).length ? 'Please correct the fields marked below.' : problem.detail);
    }
    setFormError(problemMessage(problem, 'The student could not be saved.'));
  }

  async function openConflict() {
    if (!editing || !loaded) return;
    const [current, history] = await Promise.all([
      getStudent({ client, path: { id } }),
      getStudentHistory({ client, path: { id }, query: { limit: 50 } }),
    ]);
    const mine = versionOf(loaded.etag);
    const since = (history.data?.changes ?? []).filter((c) => c.version > mine || c.op === 'deleted');
    if (!current.data) {
      setGone('Someone deleted this student while you were editing. Restore it from its history to keep working on it.');
      return;
    }
    const by: Conflict['by'] = {};
    for (const change of since) {
      for (const field of FIELDS) if (change.changes[field] && !by[field]) by[field] = change;
    }
    setConflict({ theirs: current.data, etag: etagOf(current.response) ?? '', by });
  }

  function takeTheirs() {
    if (!conflict) return;
    setLoaded({ student: conflict.theirs, etag: conflict.etag });
    setValues(valuesOf(conflict.theirs));
    setErrors({});
    setConflict(null);
    setRemote(null);
    notify('Their version is in the form; nothing was saved.');
  }

  async function keepMine() {
    if (!conflict) return;
    const etag = conflict.etag;
    setLoaded((l) => l && { ...l, etag });
    setConflict(null);
    setRemote(null);
    await save(undefined, etag);
  }

  async function reallyDelete() {
    if (!editing || !loaded) return;
    setConfirmDelete(false);
    const { error, response } = await deleteStudent({ client, path: { id }, headers: { 'If-Match': loaded.etag } });
    if (response?.status === 412) return openConflict();
    if (error) return setFormError(problemMessage(error, 'The student could not be deleted.'));
    const name = loaded.student.name;
    navigate(BASE);
    notify(`Deleted ${name}.`, {
      action: {
        label: 'Undo',
        run: async () => {
          const refused = await undoDelete(id);
          notify(refused ? `Could not restore ${name}: ${refused}` : `Restored ${name}.`, { tone: refused ? 'error' : 'info' });
        },
      },
    });
  }

  if (gone) {
    return (
      <section>
        <h1>Student not available</h1>
        <p class="banner banner-warning" role="alert">
          {gone}
        </p>
        {editing && (
          <p>
            <a href={`${BASE}/students/${id}/history`}>See its history</a> · <a href={BASE}>Back to the students</a>
          </p>
        )}
      </section>
    );
  }
  if (editing && !loaded) return <p aria-busy="true">Loading…</p>;

  const title = editing ? (session.canWrite ? `Edit ${loaded?.student.name}` : (loaded?.student.name ?? '')) : 'New student';

  return (
    <section aria-labelledby="form-title" class="form-page">
      <p class="crumbs">
        <a href={BASE}>Students</a> ›
      </p>
      <h1 id="form-title">{title}</h1>
      {remote && (
        <p class="banner banner-warning" role="alert">
          {remote.op === 'deleted' ? 'Deleted' : 'Changed'} by {actorName(remote.actor)} {ago(remote.changed_at)}.{' '}
          {remote.op !== 'deleted' && session.canWrite && (
            <button type="button" class="link-button" onClick={openConflict}>
              Compare with mine
            </button>
          )}
        </p>
      )}
      {!session.canWrite && loaded ? (
        <dl class="details">
          {FIELDS.map((field) => (
            <div key={field}>
              <dt>{LABELS[field]}</dt>
              <dd>{values[field] || <span class="muted">none</span>}</dd>
            </div>
          ))}
          <div>
            <dt>Created</dt>
            <dd>{when(loaded.student.created_at)}</dd>
          </div>
          <div>
            <dt>Updated</dt>
            <dd>{when(loaded.student.updated_at)}</dd>
          </div>
        </dl>
      ) : (
        <form ref={formRef} class="card student-form" noValidate onSubmit={save}>
          {formError && (
            <p class="banner banner-error" role="alert" id="form-error">
              {formError}
            </p>
          )}
          <TextField field="name" values={values} errors={errors} onInput={set} autoComplete="off" />
          <div class="field">
            <label for="field-grade">
              Grade {isRequired('grade') && <span class="required">(required)</span>}
            </label>
            <select
              id="field-grade"
              value={values.grade}
              aria-invalid={errors.grade ? true : undefined}
              aria-describedby={errors.grade ? 'error-grade' : undefined}
              onChange={(e) => set('grade', e.currentTarget.value)}
              aria-required={isRequired('grade')}
            >
              <option value="">Choose a grade</option>
              {GRADES.map((grade) => (
                <option key={grade} value={grade}>
                  {grade}
                </option>
              ))}
            </select>
            {errors.grade && (
              <p class="field-error" id="error-grade">
                {errors.grade}
              </p>
            )}
          </div>
          <TextField field="email" values={values} errors={errors} onInput={set} type="email" autoComplete="off" />
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              {busy ? 'Saving…' : editing ? 'Save' : 'Create student'}
            </button>
            <a class="button" href={BASE}>
              Cancel
            </a>
            {editing && (
              <button type="button" class="danger push-right" onClick={() => setConfirmDelete(true)}>
                Delete…
              </button>
            )}
          </div>
        </form>
      )}
      {editing && loaded && (
        <p class="meta">
          Created {when(loaded.student.created_at)} · updated {when(loaded.student.updated_at)} · version {versionOf(loaded.etag)} ·{' '}
          <a href={`${BASE}/students/${id}/history`}>History</a>
        </p>
      )}
      {confirmDelete && loaded && (
        <Dialog title={`Delete ${loaded.student.name}?`} onClose={() => setConfirmDelete(false)}>
          <p>You can undo this right after, or restore it later from its history.</p>
          <div class="actions">
            <button type="button" class="danger" onClick={reallyDelete}>
              Delete
            </button>
            <button type="button" onClick={() => setConfirmDelete(false)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
      {conflict && (
        <Dialog title="Someone else saved this student first" onClose={() => setConflict(null)} wide>
          <p>Your changes are not saved yet. Here is what differs from the version now stored:</p>
          <div class="table-wrap">
            <table class="compare">
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col">Yours</th>
                  <th scope="col">Theirs</th>
                </tr>
              </thead>
              <tbody>
                {FIELDS.map((field) => {
                  const theirs = valuesOf(conflict.theirs)[field];
                  const change = conflict.by[field];
                  const differs = theirs !== values[field];
                  return (
                    <tr key={field} class={differs ? 'differs' : undefined}>
                      <th scope="row">{LABELS[field]}</th>
                      <td>{values[field] || <span class="muted">none</span>}</td>
                      <td>
                        {theirs || <span class="muted">none</span>}
                        {change && (
                          <span class="by">
                            {' '}
                            — changed by {actorName(change.actor)}, {ago(change.changed_at)}
                          </span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <div class="actions">
            <button type="button" onClick={takeTheirs}>
              Take theirs
            </button>
            <button type="button" class="primary" onClick={keepMine}>
              Keep mine (overwrite)
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}

function TextField(props: {
  field: 'name' | 'email';
  values: Values;
  errors: Errors;
  onInput: (field: Field, value: string) => void;
  type?: string;
  autoComplete?: string;
}) {
  const { field, errors } = props;
  const max = maxLength(field);
  const required = isRequired(field);
  const hint = `${required ? '' : 'Optional. '}Up to ${max} characters.`;
  return (
    <div class="field">
      <label for={`field-${field}`}>
        {LABELS[field]} {required && <span class="required">(required)</span>}
      </label>
      <input
        id={`field-${field}`}
        name={field}
        type={props.type ?? 'text'}
        value={props.values[field]}
        autocomplete={props.autoComplete}
        aria-required={required}
        aria-invalid={errors[field] ? true : undefined}
        aria-describedby={`hint-${field}${errors[field] ? ` error-${field}` : ''}`}
        onInput={(e) => props.onInput(field, e.currentTarget.value)}
      />
      <p class="hint" id={`hint-${field}`}>
        {hint}
      </p>
      {errors[field] && (
        <p class="field-error" id={`error-${field}`}>
          {errors[field]}
        </p>
      )}
    </div>
  );
}
