// A student's history, newest first: who (a person, an API token, or the database role for a
// change made in psql), when, and each field before → after; any version can be restored (a
// change of its own, recorded in this same history).
import { useEffect, useState } from 'preact/hooks';
import { getStudentHistory, restoreStudent, type StudentChange } from '../../clients/typescript/src/index.js';
import { client, problemMessage, type Session } from './api.js';
import { actorName, ago, when } from './format.js';
import { useChanges } from './live.js';
import { notify } from './notices.js';
import { BASE } from './route.js';
import { FIELDS, LABELS } from './rules.js';

const OPS = { created: 'Created', updated: 'Changed', deleted: 'Deleted' };

export function History({ session, id }: { session: Session; id: number }) {
  const [changes, setChanges] = useState<StudentChange[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  async function load(cursor?: string) {
    const { data, error: refusal } = await getStudentHistory({ client, path: { id }, query: { limit: 50, cursor } });
    if (!data) return setError(problemMessage(refusal, 'The history could not be loaded.'));
    setChanges((current) => (cursor ? [...(current ?? []), ...data.changes] : data.changes));
    setNext(data.next_cursor);
  }

  useEffect(() => {
    void load();
  }, [id, reload]);

  useChanges(
    (change) => {
      if (change.student.id === id) setReload((n) => n + 1);
    },
    [id],
  );

  const newest = changes?.[0];
  const name = newest?.student.name ?? `Student ${id}`;
  useEffect(() => {
    document.title = `History of ${name} · Students admin`;
  }, [name]);

  async function restore(change: StudentChange) {
    const { data, error: refusal } = await restoreStudent({ client, path: { id }, body: { version: change.version } });
    if (data) {
      notify(`Restored ${data.name} to version ${change.version}.`);
      setReload((n) => n + 1);
    } else notify(problemMessage(refusal, 'Could not restore that version.'), { tone: 'error' });
  }

  return (
    <section aria-labelledby="history-title">
      <p class="crumbs">
        <a href={BASE}>Students</a> › {newest?.op !== 'deleted' && <a href={`${BASE}/students/${id}`}>{name}</a>}
      </p>
      <h1 id="history-title">History of {name}</h1>
      {newest?.op === 'deleted' && (
        <p class="banner banner-warning">This student is deleted. Restore a version below to bring it back.</p>
      )}
      {error && (
        <p class="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {changes && changes.length === 0 && <p>No change is recorded for this student.</p>}
      <ol class="history">
        {changes?.map((change, index) => (
          <li key={change.position} class="card change">
            <div class="change-head">
              <h2>
                {OPS[change.op]} by {actorName(change.actor)}
                {change.restored_from != null && <span class="tag">restored version {change.restored_from}</span>}
              </h2>
              <time dateTime={change.changed_at} title={when(change.changed_at)}>
                {ago(change.changed_at)} · {when(change.changed_at)}
              </time>
            </div>
            <div class="table-wrap">
            <table class="diff">
              <caption class="visually-hidden">
                Version {change.version}: what changed
              </caption>
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col">Before</th>
                  <th scope="col">After</th>
                </tr>
              </thead>
              <tbody>
                {FIELDS.filter((field) => change.changes[field]).map((field) => {
                  const diff = change.changes[field];
                  return (
                    <tr key={field}>
                      <th scope="row">{LABELS[field]}</th>
                      <td class="before">{diff?.before ?? <span class="muted">none</span>}</td>
                      <td class="after">{diff?.after ?? <span class="muted">none</span>}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            </div>
            <p class="meta">
              Version {change.version}
              {session.canWrite && (index > 0 || change.op === 'deleted') && (
                <>
                  {' · '}
                  <button type="button" class="link-button" onClick={() => restore(change)}>
                    Restore this version
                  </button>
                </>
              )}
            </p>
          </li>
        ))}
      </ol>
      {next && (
        <button type="button" onClick={() => load(next)}>
          Older changes
        </button>
      )}
    </section>
  );
}
