// The generated TypeScript SDK against the real server (started by clients/with-server, which
// sets STUDENTS_API_URL): every operation, the cursor walk, merge-patch null vs absent, and the
// problem+json errors as typed values. Only the SDK talks to the server here.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  type Problem,
  type Student,
  createClient,
  createConfig,
  createStudent,
  deleteStudent,
  getHealth,
  getReadiness,
  getStudent,
  listStudents,
  replaceStudent,
  updateStudent,
} from '../src/index.js';

const baseUrl = process.env.STUDENTS_API_URL;
if (!baseUrl) {
  throw new Error('STUDENTS_API_URL is not set: run the tests through clients/with-server');
}
const client = createClient(createConfig({ baseUrl }));

let unique = 0;
/** An e-mail address no other test uses, so tests never collide on the unique index. */
const freshEmail = (name: string) => `${name}.${process.pid}.${++unique}@example.com`;

async function create(name: string, email: string | null = freshEmail('student')): Promise<Student> {
  const { data, error, response } = await createStudent({
    client,
    body: { name, grade: 'B', email },
  });
  assert.equal(response.status, 201, JSON.stringify(error));
  assert.ok(data);
  return data;
}

test('health and readiness answer ok', async () => {
  assert.equal((await getHealth({ client })).data?.status, 'ok');
  assert.equal((await getReadiness({ client })).data?.status, 'ok');
});

test('create, read, replace, patch and delete a student', async () => {
  const email = freshEmail('Ada');
  const created = await createStudent({
    client,
    body: { name: '  Ada Lovelace ', grade: 'A-', email: email.toUpperCase() },
  });
  assert.equal(created.response.status, 201);
  const ada = created.data;
  assert.ok(ada);
  assert.equal(ada.name, 'Ada Lovelace');
  assert.equal(ada.grade, 'A-');
  assert.equal(ada.email, email.toLowerCase());
  assert.equal(created.response.headers.get('location'), `/api/students/${ada.id}`);

  const read = await getStudent({ client, path: { id: ada.id } });
  assert.deepEqual(read.data, ada);

  const replaced = await replaceStudent({
    client,
    path: { id: ada.id },
    body: { name: 'Ada King', grade: 'B+', email: null },
  });
  assert.equal(replaced.data?.name, 'Ada King');
  assert.equal(replaced.data?.grade, 'B+');
  assert.equal(replaced.data?.email, null);

  // Merge patch: an absent field stays, `null` clears.
  const newEmail = freshEmail('ada.king');
  const withEmail = await updateStudent({ client, path: { id: ada.id }, body: { email: newEmail } });
  assert.equal(withEmail.data?.email, newEmail);
  const gradeOnly = await updateStudent({ client, path: { id: ada.id }, body: { grade: 'A+' } });
  assert.equal(gradeOnly.data?.grade, 'A+');
  assert.equal(gradeOnly.data?.email, newEmail, 'an absent email is left as it is');
  const cleared = await updateStudent({ client, path: { id: ada.id }, body: { email: null } });
  assert.equal(cleared.data?.email, null, 'a null email clears it');
  assert.equal(cleared.data?.grade, 'A+');

  const deleted = await deleteStudent({ client, path: { id: ada.id } });
  assert.equal(deleted.response.status, 204);
  const gone = await getStudent({ client, path: { id: ada.id } });
  assert.equal(gone.response.status, 404);
  assert.equal(gone.error?.type, 'urn:students-api:problem:student-not-found');
});

test('walking the list with cursors returns every student exactly once', async () => {
  const ids = new Set<number>();
  for (let i = 0; i < 7; i++) {
    ids.add((await create(`Walker ${i}`)).id);
  }
  const seen: number[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const { data } = await listStudents({ client, query: { limit: 3, cursor } });
    assert.ok(data);
    assert.ok(data.items.length <= 3);
    seen.push(...data.items.map((s) => s.id));
    cursor = data.next_cursor ?? undefined;
    pages++;
  } while (cursor !== undefined && pages < 1000);
  assert.equal(new Set(seen).size, seen.length, 'no student twice');
  for (const id of ids) {
    assert.ok(seen.includes(id), `student ${id} was listed`);
  }
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'in id order');
});

test('a 422 surfaces every bad field as a typed Problem', async () => {
  const { data, error, response } = await createStudent({
    client,
    body: { name: '   ', grade: 'A', email: 'not-an-email' },
  });
  assert.equal(data, undefined);
  assert.equal(response.status, 422);
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  const problem: Problem | undefined = error;
  assert.equal(problem?.status, 422);
  assert.equal(problem?.type, 'urn:students-api:problem:validation-failed');
  assert.deepEqual(problem?.errors.map((e) => e.location).sort(), ['/email', '/name']);
});

test('a 409 names the conflicting field, also with throwOnError', async () => {
  const email = freshEmail('grace');
  await create('Grace Hopper', email);
  await assert.rejects(
    createStudent({ client, body: { name: 'Grace Two', grade: 'C', email }, throwOnError: true }),
    (problem: Problem) => {
      assert.equal(problem.status, 409);
      assert.deepEqual(
        problem.errors.map((e) => [e.location, e.code]),
        [['/email', 'taken']],
      );
      return true;
    },
  );
});
