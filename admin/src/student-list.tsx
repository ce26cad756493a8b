// The changelist: search, filters, sort and page from the address, the planner's estimate of
// the matches (never a count on every load; the exact number on a click), selection and bulk
// actions, and rows that follow the change feed while the page is open.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  exportStudents,
  type Grade,
  listStudents,
  type Student,
  type StudentChange,
  type StudentSort,
} from '../../clients/typescript/src/index.js';
import { client, problemMessage, type Session } from './api.js';
import { Dialog } from './dialog.js';
import { aboutCount, download, exactCount, studentsFile, when } from './format.js';
import { useChanges } from './live.js';
import { notify } from './notices.js';
import { BASE, filterQuery, type ListState, listUrl, navigate, PAGE_SIZES } from './route.js';
import { GRADES } from './rules.js';
import { changeGrade, deleteOne, eachLimited, idsMatching, undoDelete } from './tasks.js';

type Mark = 'new' | 'updated' | 'deleted';
interface Page {
  items: Student[];
  next: string | null;
  estimate: number | null;
}

const COLUMNS: { key: 'name' | 'grade' | 'email' | 'created_at' | 'updated_at'; label: string; sort?: StudentSort }[] = [
  { key: 'name', label: 'Name', sort: 'name' },
  { key: 'grade', label: 'Grade', sort: 'grade' },
  { key: 'email', label: 'E-mail' },
  { key: 'created_at', label: 'Created', sort: 'created_at' },
  { key: 'updated_at', label: 'Updated', sort: 'updated_at' },
];

/** Cursors of the pages before this one, kept in the history entry: "Previous" and the back
 * button return to them. */
function earlierCursors(): string[] {
  const state = history.state as { cursors?: unknown } | null;
  return Array.isArray(state?.cursors) ? (state.cursors as string[]) : [];
}

function matchesLocally(list: ListState, student: Student): boolean {
  if (list.q.trim()) return false; // search is the server's to judge
  if (list.grades.length && !list.grades.includes(student.grade)) return false;
  if (list.hasEmail === 'true' && !student.email) return false;
  if (list.hasEmail === 'false' && student.email) return false;
  const filter = filterQuery(list);
  if (filter.created_after && student.created_at <= filter.created_after) return false;
  if (filter.created_before && student.created_at >= filter.created_before) return false;
  return true;
}

export function StudentList({ session, list }: { session: Session; list: ListState }) {
  const [page, setPage] = useState<Page | null>(null);
  // The address the page shown was loaded for (tests and screen readers wait on it).
  const [loadedFor, setLoadedFor] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [exact, setExact] = useState<number | 'counting' | null>(null);
  const [marks, setMarks] = useState<Map<number, Mark>>(new Map());
  const [waiting, setWaiting] = useState(0); // changes the page cannot place: "N new"
  const [selected, setSelected] = useState<Map<number, Student>>(new Map());
  const [allMatching, setAllMatching] = useState(false);
  const [dialog, setDialog] = useState<'delete' | 'views' | null>(null);
  const [progress, setProgress] = useState<{ label: string; done: number; total: number } | null>(null);
  const [reload, setReload] = useState(0);
  const filterKey = JSON.stringify({ ...filterQuery(list), sort: list.sort });
  const cursors = earlierCursors();
  const tableRef = useRef<HTMLTableSectionElement>(null);

  useEffect(() => {
    const controller = new AbortController();
    const address = location.pathname + location.search;
    setLoadedFor(null);
    setLoadError(null);
    void listStudents({
      client,
      query: { ...filterQuery(list), sort: list.sort, limit: list.limit, cursor: list.cursor || undefined, count: 'estimated' },
      signal: controller.signal,
    })
      .then(({ data, error }) => {
        if (controller.signal.aborted) return;
        if (!data) {
          setLoadError(problemMessage(error, 'The students could not be listed.'));
          setLoadedFor(address);
          return;
        }
        setPage({ items: data.items, next: data.next_cursor, estimate: data.estimated_total ?? null });
        setMarks(new Map());
        setWaiting(0);
        setLoadedFor(address);
        document.title = 'Students · Students admin';
      })
      .catch(() => {});
    return () => controller.abort();
  }, [filterKey, list.limit, list.cursor, reload]);

  // A new filter is a new set of matches: its selection and exact count start empty.
  useEffect(() => {
    setExact(null);
    setSelected(new Map());
    setAllMatching(false);
  }, [filterKey]);

  useEffect(() => {
    if ((history.state as { focusSearch?: boolean } | null)?.focusSearch) document.getElementById('search')?.focus();
  }, []);

  useChanges(
    (change: StudentChange) => {
      const student = change.student;
      setPage((current) => {
        if (!current) return current;
        const index = current.items.findIndex((s) => s.id === student.id);
        if (index >= 0) {
          const items = [...current.items];
          if (change.op !== 'deleted') items[index] = student;
          setMarks((m) => new Map(m).set(student.id, change.op === 'deleted' ? 'deleted' : 'updated'));
          return { ...current, items };
        }
        if (change.op !== 'created') return current;
        const newestFirst = list.sort === '-id' || list.sort === '-created_at';
        if (!list.cursor && newestFirst && matchesLocally(list, student)) {
          setMarks((m) => new Map(m).set(student.id, 'new'));
          return { ...current, items: [student, ...current.items], estimate: current.estimate === null ? null : current.estimate + 1 };
        }
        setWaiting((n) => n + 1);
        return current;
      });
    },
    [filterKey, list.cursor],
  );

  const go = (changes: Partial<ListState>, replace = false) =>
    navigate(listUrl({ ...list, cursor: '', ...changes }), { replace });

  function toggleSort(sort: StudentSort) {
    go({ sort: list.sort === sort ? (`-${sort}` as StudentSort) : sort });
  }

  function toggleGrade(grade: Grade, on: boolean) {
    go({ grades: on ? [...list.grades, grade] : list.grades.filter((g) => g !== grade) });
  }

  async function countExactly() {
    setExact('counting');
    const { data, error } = await listStudents({ client, query: { ...filterQuery(list), limit: 1, count: 'exact' } });
    if (data?.total !== undefined) setExact(data.total);
    else {
      setExact(null);
      notify(problemMessage(error, 'Could not count.'), { tone: 'error' });
    }
  }

  const items = page?.items ?? [];
  const pageSelected = items.length > 0 && items.every((s) => selected.has(s.id));
  const selectionSize = allMatching ? null : selected.size;

  function toggle(student: Student, on: boolean) {
    setAllMatching(false);
    setSelected((current) => {
      const next = new Map(current);
      if (on) next.set(student.id, student);
      else next.delete(student.id);
      return next;
    });
  }

  function togglePage(on: boolean) {
    setAllMatching(false);
    setSelected((current) => {
      const next = new Map(current);
      for (const student of items) {
        if (on) next.set(student.id, student);
        else next.delete(student.id);
      }
      return next;
    });
  }

  async function targetIds(label: string): Promise<number[]> {
    if (!allMatching) return [...selected.keys()];
    setProgress({ label: 'Finding the matching students', done: 0, total: 0 });
    return idsMatching(list, (found) => setProgress({ label, done: 0, total: found }));
  }

  async function bulkDelete() {
    setDialog(null);
    const ids = await targetIds('Deleting');
    const names = new Map(items.map((s) => [s.id, s.name]));
    setProgress({ label: 'Deleting', done: 0, total: ids.length });
    const outcome = await eachLimited(ids, deleteOne, (done) => setProgress({ label: 'Deleting', done, total: ids.length }));
    setProgress(null);
    setSelected(new Map());
    setAllMatching(false);
    const gone = new Set(outcome.done);
    setPage((current) => current && { ...current, items: current.items.filter((s) => !gone.has(s.id)) });
    const what = outcome.done.length === 1 ? `Deleted ${names.get(outcome.done[0] as number) ?? 'one student'}.` : `Deleted ${exactCount(outcome.done.length)} students.`;
    if (outcome.failed.length) notify(`${outcome.failed.length} could not be deleted: ${outcome.failed[0]?.message}`, { tone: 'error' });
    if (outcome.done.length) {
      notify(what, {
        action: {
          label: 'Undo',
          run: async () => {
            const undone = outcome.done;
            setProgress({ label: 'Restoring', done: 0, total: undone.length });
            const back = await eachLimited(undone, undoDelete, (done) => setProgress({ label: 'Restoring', done, total: undone.length }));
            setProgress(null);
            setReload((n) => n + 1);
            if (back.failed.length) notify(`${back.failed.length} could not be restored: ${back.failed[0]?.message}`, { tone: 'error' });
            else notify(undone.length === 1 ? 'Restored.' : `Restored ${exactCount(undone.length)} students.`);
          },
        },
      });
    }
  }

  async function bulkGrade(grade: Grade) {
    const ids = await targetIds('Changing grades');
    setProgress({ label: 'Changing grades', done: 0, total: ids.length });
    const outcome = await eachLimited(ids, (id) => changeGrade(id, grade), (done) =>
      setProgress({ label: 'Changing grades', done, total: ids.length }),
    );
    setProgress(null);
    setReload((n) => n + 1);
    notify(`Grade ${grade} given to ${exactCount(outcome.done.length)} students${outcome.failed.length ? `; ${outcome.failed.length} refused` : ''}.`, {
      tone: outcome.failed.length ? 'error' : 'info',
    });
  }

  async function exportFile(format: 'csv' | 'ndjson') {
    const name = `students.${format === 'csv' ? 'csv' : 'ndjson'}`;
    if (!allMatching && selected.size > 0) {
      download(studentsFile([...selected.values()].sort((a, b) => a.id - b.id), format), name);
      return;
    }
    const { data, error } = await exportStudents({ client, query: { ...filterQuery(list), sort: list.sort, format }, parseAs: 'blob' });
    const file: unknown = data; // parseAs: 'blob'
    if (file instanceof Blob) download(file, name);
    else notify(problemMessage(error, 'The export failed.'), { tone: 'error' });
  }

  function onRowKey(event: KeyboardEvent) {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const links = [...(tableRef.current?.querySelectorAll<HTMLAnchorElement>('a.row-link') ?? [])];
    const at = links.indexOf(document.activeElement as HTMLAnchorElement);
    const next = links[at + (event.key === 'ArrowDown' ? 1 : -1)] ?? (at < 0 ? links[0] : undefined);
    if (next) {
      event.preventDefault();
      next.focus();
    }
  }

  const countText =
    exact === 'counting'
      ? 'Counting…'
      : typeof exact === 'number'
        ? `${exactCount(exact)} ${exact === 1 ? 'student' : 'students'}`
        : page?.estimate !== null && page?.estimate !== undefined
          ? `${aboutCount(page.estimate)} students`
          : '';

  return (
    <section aria-labelledby="list-title">
      <div class="title-row">
        <h1 id="list-title">Students</h1>
        {session.canWrite && (
          <a class="button primary" href={`${BASE}/students/new`} aria-keyshortcuts="n">
            New student
          </a>
        )}
      </div>

      <form
        class="filters"
        role="search"
        aria-label="Search and filter students"
        onSubmit={(event) => {
          event.preventDefault();
          const q = (event.currentTarget.elements.namedItem('q') as HTMLInputElement).value;
          go({ q });
        }}
      >
        <div class="search-box">
          <label for="search">Search</label>
          <input id="search" name="q" type="search" maxLength={100} value={list.q} key={list.q} aria-keyshortcuts="/" placeholder="Name or e-mail" />
          <button type="submit">Search</button>
        </div>
        <fieldset class="grades">
          <legend>Grade</legend>
          {GRADES.map((grade) => (
            <label key={grade} class="chip">
              <input type="checkbox" checked={list.grades.includes(grade)} onChange={(e) => toggleGrade(grade, e.currentTarget.checked)} />
              {grade}
            </label>
          ))}
        </fieldset>
        <div class="filter-row">
          <div class="filter">
            <label for="filter-email">E-mail</label>
            <select id="filter-email" value={list.hasEmail} onChange={(e) => go({ hasEmail: e.currentTarget.value as ListState['hasEmail'] })}>
              <option value="">Any</option>
              <option value="true">Has an e-mail</option>
              <option value="false">No e-mail</option>
            </select>
          </div>
          <div class="filter">
            <label for="filter-from">Created from</label>
            <input id="filter-from" type="date" value={list.createdFrom} onChange={(e) => go({ createdFrom: e.currentTarget.value })} />
          </div>
          <div class="filter">
            <label for="filter-to">Created to</label>
            <input id="filter-to" type="date" value={list.createdTo} onChange={(e) => go({ createdTo: e.currentTarget.value })} />
          </div>
          <div class="filter">
            <label for="filter-limit">Per page</label>
            <select id="filter-limit" value={String(list.limit)} onChange={(e) => go({ limit: Number(e.currentTarget.value) })}>
              {PAGE_SIZES.map((size) => (
                <option key={size} value={String(size)}>
                  {size}
                </option>
              ))}
            </select>
          </div>
          <button type="button" onClick={() => setDialog('views')}>
            Saved views
          </button>
          {(list.q || list.grades.length > 0 || list.hasEmail || list.createdFrom || list.createdTo) && (
            <a href={listUrl({ sort: list.sort, limit: list.limit })}>Clear filters</a>
          )}
        </div>
      </form>

      <div class="list-status">
        <p aria-live="polite" class="count">
          {countText}
          {exact === null && page && (
            <button type="button" class="link-button" onClick={countExactly}>
              Count exactly
            </button>
          )}
        </p>
        {waiting > 0 && (
          <p class="banner" role="status">
            {waiting === 1 ? 'A student was added' : `${waiting} students were added`} elsewhere.{' '}
            <button type="button" class="link-button" onClick={() => setReload((n) => n + 1)}>
              Show
            </button>
          </p>
        )}
      </div>

      {(selected.size > 0 || allMatching) && (
        <div class="bulk" role="region" aria-label="Selected students">
          <strong>{allMatching ? `All ${countText || 'matching'} selected` : `${selected.size} selected`}</strong>
          {pageSelected && !allMatching && page?.next && (
            <button type="button" class="link-button" onClick={() => setAllMatching(true)}>
              Select all {countText ? countText : 'students'} matching the filter
            </button>
          )}
          {session.canWrite && (
            <>
              <button type="button" class="danger" onClick={() => setDialog('delete')}>
                Delete…
              </button>
              <GradeChanger onApply={bulkGrade} />
            </>
          )}
          <button type="button" onClick={() => exportFile('csv')}>
            Export CSV
          </button>
          <button type="button" onClick={() => exportFile('ndjson')}>
            Export NDJSON
          </button>
          <button
            type="button"
            class="link-button"
            onClick={() => {
              setSelected(new Map());
              setAllMatching(false);
            }}
          >
            Clear selection
          </button>
        </div>
      )}
      {!selected.size && !allMatching && (
        <div class="bulk bulk-quiet">
          <button type="button" onClick={() => exportFile('csv')}>
            Export these as CSV
          </button>
          <button type="button" onClick={() => exportFile('ndjson')}>
            Export these as NDJSON
          </button>
        </div>
      )}

      {progress && (
        <div class="progress" role="status">
          <label>
            {progress.label} {progress.total ? `${progress.done} of ${progress.total}` : '…'}
            <progress max={progress.total || undefined} value={progress.total ? progress.done : undefined} />
          </label>
        </div>
      )}

      {loadError && (
        <p class="banner banner-error" role="alert">
          {loadError}{' '}
          <button type="button" class="link-button" onClick={() => setReload((n) => n + 1)}>
            Try again
          </button>
        </p>
      )}

      <div class="table-wrap">
        <table class="students" aria-busy={loadedFor === null} data-loaded-for={loadedFor ?? undefined}>
          <caption class="visually-hidden">Students, {sortLabel(list.sort)}</caption>
          <thead>
            <tr>
              <th scope="col" class="select">
                <input type="checkbox" aria-label="Select every student on this page" checked={pageSelected} onChange={(e) => togglePage(e.currentTarget.checked)} />
              </th>
              {COLUMNS.map((column) => {
                const direction = column.sort && (list.sort === column.sort ? 'ascending' : list.sort === `-${column.sort}` ? 'descending' : undefined);
                return (
                  <th key={column.key} scope="col" class={`col-${column.key}`} aria-sort={direction ?? (column.sort ? 'none' : undefined)}>
                    {column.sort ? (
                      <button type="button" class="sort" onClick={() => toggleSort(column.sort as StudentSort)}>
                        {column.label}
                        <span aria-hidden="true">{direction === 'ascending' ? ' ▲' : direction === 'descending' ? ' ▼' : ''}</span>
                      </button>
                    ) : (
                      column.label
                    )}
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody ref={tableRef} onKeyDown={onRowKey}>
            {items.map((student) => {
              const mark = marks.get(student.id);
              return (
                <tr key={student.id} class={mark ? `row-${mark}` : undefined} data-id={student.id}>
                  <td class="select">
                    <input
                      type="checkbox"
                      aria-label={`Select ${student.name}`}
                      checked={allMatching || selected.has(student.id)}
                      disabled={mark === 'deleted'}
                      onChange={(e) => toggle(student, e.currentTarget.checked)}
                    />
                  </td>
                  <td class="col-name">
                    <a class="row-link" href={`${BASE}/students/${student.id}`}>
                      {student.name}
                    </a>
                    {mark && <span class={`tag tag-${mark}`}>{mark === 'new' ? 'new' : mark === 'updated' ? 'changed' : 'deleted'}</span>}
                  </td>
                  <td class="col-grade">{student.grade}</td>
                  <td class="col-email">{student.email ?? <span class="muted">none</span>}</td>
                  <td class="col-created_at">{when(student.created_at)}</td>
                  <td class="col-updated_at">{when(student.updated_at)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {page && items.length === 0 && <p class="empty">No student matches.</p>}
      </div>

      <nav class="pager" aria-label="Pages">
        {list.cursor && (
          <a href={listUrl({ ...list, cursor: '' })} onClick={(e) => routeWithCursors(e, listUrl({ ...list, cursor: '' }), [])}>
            First page
          </a>
        )}
        {list.cursor && cursors.length > 0 && (
          <a
            href={listUrl({ ...list, cursor: cursors.at(-1) ?? '' })}
            rel="prev"
            onClick={(e) => routeWithCursors(e, listUrl({ ...list, cursor: cursors.at(-1) ?? '' }), cursors.slice(0, -1))}
          >
            Previous page
          </a>
        )}
        {(!list.cursor || cursors.length > 0) && <span>Page {list.cursor ? cursors.length + 1 : 1}</span>}
        {page?.next && (
          <a
            href={listUrl({ ...list, cursor: page.next })}
            rel="next"
            onClick={(e) => routeWithCursors(e, listUrl({ ...list, cursor: page.next ?? '' }), [...cursors, list.cursor])}
          >
            Next page
          </a>
        )}
      </nav>

      {dialog === 'delete' && (
        <Dialog title="Delete students?" onClose={() => setDialog(null)}>
          <p>
            {allMatching
              ? `Every student matching the filter (${countText || 'all of them'}) will be deleted.`
              : `${selectionSize} ${selectionSize === 1 ? 'student' : 'students'} will be deleted: ${[...selected.values()]
                  .slice(0, 5)
                  .map((s) => s.name)
                  .join(', ')}${selected.size > 5 ? ', …' : ''}`}
          </p>
          <p>You can undo this right after, or restore any of them later from its history.</p>
          <div class="actions">
            <button type="button" class="danger" onClick={bulkDelete}>
              {allMatching ? 'Delete all matching' : `Delete ${selectionSize} ${selectionSize === 1 ? 'student' : 'students'}`}
            </button>
            <button type="button" onClick={() => setDialog(null)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
      {dialog === 'views' && <SavedViews list={list} onClose={() => setDialog(null)} />}
    </section>
  );
}

function routeWithCursors(event: MouseEvent, url: string, cursors: string[]) {
  event.preventDefault();
  event.stopPropagation();
  navigate(url, { state: { cursors } });
}

function sortLabel(sort: StudentSort): string {
  const field = sort.replace(/^-/, '').replace('_at', '').replace('_', ' ');
  return `sorted by ${field}, ${sort.startsWith('-') ? 'descending' : 'ascending'}`;
}

function GradeChanger({ onApply }: { onApply: (grade: Grade) => void }) {
  const [grade, setGrade] = useState<Grade | ''>('');
  return (
    <span class="inline-form">
      <label>
        New grade
        <select value={grade} onChange={(e) => setGrade(e.currentTarget.value as Grade | '')}>
          <option value="">—</option>
          {GRADES.map((g) => (
            <option key={g} value={g}>
              {g}
            </option>
          ))}
        </select>
      </label>
      <button type="button" disabled={!grade} onClick={() => grade && onApply(grade)}>
        Change grade
      </button>
    </span>
  );
}

const VIEWS_KEY = 'students-admin:views';
interface SavedView {
  name: string;
  url: string;
}

function readViews(): SavedView[] {
  try {
    const views = JSON.parse(localStorage.getItem(VIEWS_KEY) ?? '[]') as unknown;
    return Array.isArray(views) ? (views as SavedView[]).filter((v) => typeof v?.name === 'string' && typeof v?.url === 'string' && v.url.startsWith(BASE)) : [];
  } catch {
    return [];
  }
}

/** Named views (a filter, sort and page size), kept in this browser. */
function SavedViews({ list, onClose }: { list: ListState; onClose: () => void }) {
  const [views, setViews] = useState(readViews);
  const [name, setName] = useState('');
  const url = useMemo(() => listUrl({ ...list, cursor: '' }), [list]);
  function store(next: SavedView[]) {
    setViews(next);
    localStorage.setItem(VIEWS_KEY, JSON.stringify(next));
  }
  return (
    <Dialog title="Saved views" onClose={onClose}>
      {views.length === 0 ? (
        <p>No saved view yet.</p>
      ) : (
        <ul class="views">
          {views.map((view) => (
            <li key={view.name}>
              <a
                href={view.url}
                onClick={(e) => {
                  e.preventDefault();
                  onClose();
                  navigate(view.url);
                }}
              >
                {view.name}
              </a>
              <button type="button" class="link-button" aria-label={`Remove the view ${view.name}`} onClick={() => store(views.filter((v) => v !== view))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const trimmed = name.trim();
          if (!trimmed) return;
          store([...views.filter((v) => v.name !== trimmed), { name: trimmed, url }]);
          setName('');
        }}
      >
        <label for="view-name">Save this view as</label>
        <input id="view-name" value={name} maxLength={60} required onInput={(e) => setName(e.currentTarget.value)} />
        <div class="actions">
          <button type="submit" class="primary">
            Save view
          </button>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
    </Dialog>
  );
}
