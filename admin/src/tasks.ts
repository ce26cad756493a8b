// Work over many students at once (bulk delete, change of grade, undo), a few requests at a
// time so the console stays responsive and the server is not flooded.
import {
  deleteStudent,
  getStudentHistory,
  listStudents,
  restoreStudent,
  type Student,
  updateStudent,
} from '../../clients/typescript/src/index.js';
import { client } from './api.js';
import { filterQuery, type ListState } from './route.js';

const AT_ONCE = 6;

export interface Outcome {
  done: number[];
  failed: { id: number; message: string }[];
}

export async function eachLimited(
  ids: number[],
  work: (id: number) => Promise<string | null>,
  onProgress: (done: number) => void,
): Promise<Outcome> {
  const outcome: Outcome = { done: [], failed: [] };
  let next = 0;
  let finished = 0;
  async function worker() {
    while (next < ids.length) {
      const id = ids[next++] as number;
      const refusal = await work(id).catch((error: unknown) => String(error));
      if (refusal === null) outcome.done.push(id);
      else outcome.failed.push({ id, message: refusal });
      onProgress(++finished);
    }
  }
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, ids.length) }, worker));
  return outcome;
}

function refusal(error: unknown): string | null {
  if (!error) return null;
  const detail = (error as { detail?: unknown }).detail;
  return typeof detail === 'string' ? detail : 'refused';
}

/** Every id matching the list's filter, walking its pages. */
export async function idsMatching(list: ListState, onProgress: (found: number) => void): Promise<number[]> {
  const ids: number[] = [];
  let cursor: string | undefined;
  do {
    const { data, error } = await listStudents({ client, query: { ...filterQuery(list), sort: 'id', limit: 100, cursor } });
    if (!data) throw new Error(refusal(error) ?? 'could not list the students');
    for (const student of data.items) ids.push(student.id);
    onProgress(ids.length);
    cursor = data.next_cursor ?? undefined;
  } while (cursor);
  return ids;
}

export function deleteOne(id: number) {
  return deleteStudent({ client, path: { id } }).then(({ error }) => refusal(error));
}

export function changeGrade(id: number, grade: Student['grade']) {
  return updateStudent({ client, path: { id }, body: { grade } }).then(({ error }) => refusal(error));
}

/** Undoes a delete: restores the student to the version it had when it was deleted (the
 * history's newest entry), a change of its own on the server. */
export async function undoDelete(id: number): Promise<string | null> {
  const { data, error } = await getStudentHistory({ client, path: { id }, query: { limit: 1 } });
  const last = data?.changes[0];
  if (!last) return refusal(error) ?? 'no history';
  if (last.op !== 'deleted') return null; // already back
  const restored = await restoreStudent({ client, path: { id }, body: { version: last.version } });
  return refusal(restored.error);
}
