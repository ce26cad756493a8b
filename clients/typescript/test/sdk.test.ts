// The generated TypeScript SDK against the real server (started by clients/with-server, which
// sets STUDENTS_API_URL): every operation, the cursor walk, merge-patch null vs absent, and the
// problem+json errors as typed values. Only the SDK talks to the server here.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  type Problem,
  type Student,
  changeMyPassword,
  createAccount,
  getAccount,
  listAccounts,
  resetPassword,
  updateAccount,
  createClient,
  createConfig,
  createStudent,
  createToken,
  deleteStudent,
  FeedError,
  followChanges,
  getStudentHistory,
  pollChanges,
  getHealth,
  getReadiness,
  getStudent,
  importStudents,
  importStudentsFile,
  listStudents,
  listTokens,
  me,
  replaceStudent,
  restoreStudent,
  revokeToken,
  signIn,
  signOut,
  updateStudent,
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookAttempts,
  listWebhooks,
  replayWebhookEvents,
  rotateWebhookSecret,
  testWebhook,
  updateWebhook,
} from '../src/index.js';

const baseUrl = process.env.STUDENTS_API_URL;
if (!baseUrl) {
  throw new Error('STUDENTS_API_URL is not set: run the tests through clients/with-server');
}
const token = process.env.STUDENTS_API_TOKEN;
if (!token) {
  throw new Error('STUDENTS_API_TOKEN is not set: run the tests through clients/with-server');
}
// `auth` is sent as `Authorization: Bearer …` to every operation whose spec declares the scheme.
const client = createClient(createConfig({ baseUrl, auth: token }));

/** Retries `check` for up to 2 s: a token made or revoked reaches the server's cache a few ms later. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    assert.ok(Date.now() - started < 2000, 'not within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('without a token a typed 401, without the scope a typed 403 naming it', async () => {
  const anonymous = createClient(createConfig({ baseUrl }));
  const refused = await listStudents({ client: anonymous });
  assert.equal(refused.response.status, 401);
  const unauthorized: Problem | undefined = refused.error;
  assert.equal(unauthorized?.type, 'urn:students-api:problem:unauthorized');
  assert.match(refused.response.headers.get('www-authenticate') ?? '', /^Bearer realm="students-api"/);

  const made = await createToken({
    client,
    body: { name: 'typescript sdk reader', scopes: ['students:read'] },
  });
  assert.equal(made.response.status, 201);
  assert.ok(made.data);
  const reader = createClient(createConfig({ baseUrl, auth: made.data.secret }));
  await eventually(async () => (await listStudents({ client: reader })).response.status === 200);
  const forbidden = await createStudent({ client: reader, body: { name: 'Not allowed', grade: 'A' } });
  assert.equal(forbidden.response.status, 403);
  assert.equal(forbidden.error?.type, 'urn:students-api:problem:insufficient-scope');
  assert.match(forbidden.error?.detail ?? '', /students:write/);

  const listed = await listTokens({ client });
  assert.ok(listed.data?.items.some((t) => t.id === made.data?.token.id));
  const revoked = await revokeToken({ client, path: { id: made.data.token.id } });
  assert.equal(revoked.response.status, 204);
  await eventually(async () => (await listStudents({ client: reader })).response.status === 401);
});

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

test('a person signs in with the password grant, me names the account, sign-out ends it', async () => {
  const username = process.env.STUDENTS_API_USERNAME ?? '';
  const password = process.env.STUDENTS_API_PASSWORD ?? '';
  assert.ok(username && password, 'run the tests through clients/with-server');
  const anonymous = createClient(createConfig({ baseUrl }));
  const refused = await signIn({
    client: anonymous,
    body: { grant_type: 'password', username, password: 'not the password at all' },
  });
  assert.equal(refused.response.status, 400);
  assert.equal(refused.error?.error, 'invalid_grant');

  const signedIn = await signIn({ client: anonymous, body: { grant_type: 'password', username, password } });
  assert.equal(signedIn.response.status, 200);
  assert.equal(signedIn.data?.token_type, 'Bearer');
  const person = createClient(createConfig({ baseUrl, auth: signedIn.data?.access_token }));
  const who = await me({ client: person });
  assert.equal(who.data?.account?.username, username);
  assert.equal(who.data?.account?.role, 'admin');
  // A program's API token has no account.
  assert.equal((await me({ client })).data?.account, null);

  assert.equal((await signOut({ client: person })).response.status, 204);
  assert.equal((await me({ client: person })).response.status, 401);
});

test('an admin manages accounts, and a person changes their own password', async () => {
  const username = `person${process.pid}${++unique}`;
  const first = 'a first long passphrase';
  const made = await createAccount({
    client,
    body: { username, display_name: 'Grace Hopper', role: 'editor', password: first },
  });
  assert.equal(made.response.status, 201);
  const id = made.data?.id ?? 0;
  assert.equal(made.response.headers.get('location'), `/api/accounts/${id}`);
  assert.equal((await getAccount({ client, path: { id } })).data?.username, username);
  const listed = await listAccounts({ client });
  assert.ok(listed.data?.items.some((account) => account.id === id));
  // A common password is refused, naming the field and the rule.
  const common = await createAccount({
    client,
    body: { username: `${username}x`, display_name: 'X', role: 'viewer', password: 'qwerty123456' },
  });
  assert.equal(common.response.status, 422);
  assert.deepEqual(
    (common.error as Problem).errors.map((e) => [e.location, e.code]),
    [['/password', 'common_password']],
  );

  const lowered = await updateAccount({ client, path: { id }, body: { role: 'viewer' } });
  assert.equal(lowered.data?.role, 'viewer');
  const second = 'a second long passphrase';
  assert.equal((await resetPassword({ client, path: { id }, body: { password: second } })).response.status, 204);

  const anonymous = createClient(createConfig({ baseUrl }));
  const signedIn = await signIn({ client: anonymous, body: { grant_type: 'password', username, password: second } });
  assert.equal(signedIn.data?.scope, 'students:read');
  const person = createClient(createConfig({ baseUrl, auth: signedIn.data?.access_token }));
  const third = 'a third long passphrase';
  const wrong = await changeMyPassword({
    client: person,
    body: { current_password: first, new_password: third },
  });
  assert.equal(wrong.response.status, 422);
  const changed = await changeMyPassword({
    client: person,
    body: { current_password: second, new_password: third },
  });
  assert.equal(changed.response.status, 204);
  const again = await signIn({ client: anonymous, body: { grant_type: 'password', username, password: third } });
  assert.equal(again.response.status, 200);
});

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

test('restoreStudent undoes an edit (200) and a delete (201, same id), as changes of their own', async () => {
  const ada = await create('Ada Lovelace');
  const edited = await updateStudent({ client, path: { id: ada.id }, body: { grade: 'F' } });
  assert.equal(edited.response.status, 200);

  const back = await restoreStudent({ client, path: { id: ada.id }, body: { version: 1 } });
  assert.equal(back.response.status, 200, JSON.stringify(back.error));
  assert.equal(back.data?.grade, 'B');
  assert.equal(back.response.headers.get('etag'), '"3"');
  const history = await getStudentHistory({ client, path: { id: ada.id } });
  assert.equal(history.data?.changes[0]?.op, 'updated');
  assert.equal(history.data?.changes[0]?.restored_from, 1);

  await deleteStudent({ client, path: { id: ada.id } });
  const undone = await restoreStudent({ client, path: { id: ada.id }, body: { version: 3 } });
  assert.equal(undone.response.status, 201);
  assert.equal(undone.data?.id, ada.id);
  assert.equal(undone.response.headers.get('location'), `/api/students/${ada.id}`);

  const unknown = await restoreStudent({ client, path: { id: ada.id }, body: { version: 99 } });
  assert.equal(unknown.response.status, 422);
  assert.deepEqual(
    unknown.error?.errors.map((e) => e.location),
    ['/version'],
  );
});

test('count=estimated gives estimated_total and no total; count=exact the reverse', async () => {
  await create('Estimated One');
  const estimated = await listStudents({ client, query: { count: 'estimated', limit: 1 } });
  assert.equal(estimated.response.status, 200);
  assert.equal(typeof estimated.data?.estimated_total, 'number');
  assert.ok((estimated.data?.estimated_total ?? -1) >= 0);
  assert.equal(estimated.data?.total, undefined);
  const exact = await listStudents({ client, query: { count: 'exact', limit: 1 } });
  assert.ok((exact.data?.total ?? 0) >= 1);
  assert.equal(exact.data?.estimated_total, undefined);
});

test('followChanges gives every change in order, live, and resumes from a position', async () => {
  // Where the feed is now: the next poll's starting point.
  const { data: now } = await pollChanges({ client, query: { after: 'now', wait: 0 } });
  assert.ok(now);
  const email = freshEmail('feed');
  const controller = new AbortController();
  const following = followChanges({ client, after: now.next, signal: controller.signal });
  const ada = await create('Ada Feed', email);
  const patched = await updateStudent({ client, path: { id: ada.id }, body: { grade: 'B+' } });
  assert.equal(patched.response.status, 200);
  // An open stream would keep the test process alive: abort it whatever happens.
  const [created, updated] = await Promise.all([following.next(), following.next()])
    .then((results) => results.map((r) => r.value))
    .finally(() => controller.abort());
  assert.equal(created?.op, 'created');
  assert.equal(created?.student.email, email);
  assert.equal(updated?.op, 'updated');
  assert.deepEqual(updated?.changes, { grade: { before: 'B', after: 'B+' } });
  assert.equal(updated?.actor.name, 'first-run token');

  // From the first change's position: the second again, and nothing before it. Stopping the
  // iteration (`return`) closes the stream.
  const resumed = followChanges({ client, after: created?.position, studentId: ada.id });
  try {
    assert.equal((await resumed.next()).value?.position, updated?.position);
  } finally {
    await resumed.return(undefined);
  }

  const { data: history } = await getStudentHistory({ client, path: { id: ada.id } });
  assert.deepEqual(
    history?.changes.map((c) => c.op),
    ['updated', 'created'],
  );
});

test('followChanges stops with a FeedError on a position it cannot follow', async () => {
  const following = followChanges({ client, after: 'not-a-position' });
  await assert.rejects(following.next(), (error: FeedError) => {
    assert.ok(error instanceof FeedError);
    assert.equal(error.status, 422);
    return true;
  });
});

/** The names of the students whose name holds `tag`, sorted. */
async function namesWith(tag: string): Promise<string[]> {
  const page = await listStudents({ client, query: { q: tag } });
  assert.equal(page.response.status, 200);
  return (page.data?.items ?? []).map((s) => s.name).sort();
}

test('importStudentsFile takes CSV and NDJSON, a bad row is a typed 422, a dry run writes nothing', async () => {
  const tag = `imp${process.pid}ts`;
  const csv = `name,grade,email\nAda ${tag},A+,${freshEmail('ada')}\nBob ${tag},B,\n`;
  const created = await importStudentsFile({ client, file: csv, idempotencyKey: `import-${tag}` });
  assert.equal(created.response.status, 201);
  assert.deepEqual(
    [created.data?.rows, created.data?.valid, created.data?.invalid, created.data?.created],
    [2, 2, 0, 2],
  );
  assert.equal(created.data?.dry_run, false);
  assert.deepEqual(await namesWith(tag), [`Ada ${tag}`, `Bob ${tag}`]);

  // NDJSON: a Blob of that type is sent as such; so is the generated call told its Content-Type.
  const line = (name: string, grade: string) => JSON.stringify({ name: `${name} ${tag}`, grade }) + '\n';
  const blob = new Blob([line('Cid', 'C')], { type: 'application/x-ndjson' });
  const fromBlob = await importStudentsFile({ client, file: blob });
  assert.equal(fromBlob.response.status, 201);
  assert.equal(fromBlob.data?.created, 1);
  const generated = await importStudents({
    client,
    body: new Blob([line('Dee', 'D')]),
    headers: { 'Content-Type': 'application/x-ndjson' },
  });
  assert.equal(generated.response.status, 201);
  assert.equal(generated.data?.created, 1);
  assert.equal((await namesWith(tag)).length, 4);

  // A bad grade on row 2 (the file's line 3): a typed 422 naming it; nothing written.
  const bad = `name,grade,email\nEve ${tag},A,\nFay ${tag},Z,\n`;
  const refused = await importStudentsFile({ client, file: bad, format: 'csv' });
  assert.equal(refused.response.status, 422);
  const problem: Problem | undefined = refused.error;
  assert.equal(problem?.type, 'urn:students-api:problem:invalid-rows');
  assert.deepEqual(
    problem?.errors.map((e) => [e.location, e.line]),
    [['/rows/2/grade', 3]],
  );
  assert.equal((await namesWith(tag)).length, 4);

  // A dry run with `skip`: the report of what would happen, and still nothing written.
  const dry = await importStudentsFile({ client, file: bad, dryRun: true, onError: 'skip' });
  assert.equal(dry.response.status, 200);
  assert.equal(dry.data?.dry_run, true);
  assert.deepEqual([dry.data?.valid, dry.data?.invalid, dry.data?.created], [1, 1, 0]);
  assert.equal(dry.data?.errors[0]?.location, '/rows/2/grade');
  assert.equal((await namesWith(tag)).length, 4);
});

test('webhooks: create, list, get, update, rotate, test, the log, replay and delete', async () => {
  // The server itself, which answers 404 here: the test event's attempt records it.
  const url = `${baseUrl}/nowhere`;
  const made = await createWebhook({ client, body: { url, events: ['student.created'] } });
  assert.equal(made.response.status, 201, JSON.stringify(made.error));
  assert.match(made.data?.secret ?? '', /^whsec_/);
  const id = made.data!.endpoint.id;
  assert.equal(made.data?.endpoint.health.pending, 0);

  const listed = await listWebhooks({ client });
  assert.ok(listed.data?.items.some((endpoint) => endpoint.id === id));
  const paused = await updateWebhook({ client, path: { id }, body: { enabled: false, description: 'paused' } });
  assert.equal(paused.data?.disabled_reason, 'paused');
  const one = await getWebhook({ client, path: { id } });
  assert.equal(one.data?.description, 'paused');

  const rotated = await rotateWebhookSecret({ client, path: { id } });
  assert.notEqual(rotated.data?.secret, made.data?.secret);
  assert.ok(rotated.data?.endpoint.previous_secret_expires_at);

  const tested = await testWebhook({ client, path: { id } });
  assert.equal(tested.response.status, 200);
  assert.equal(tested.data?.status_code, 404);
  assert.equal(tested.data?.outcome, 'failed');
  const log = await listWebhookAttempts({ client, path: { id }, query: { limit: 10 } });
  assert.equal(log.data?.items[0]?.event_type, 'webhook.test');

  const replayed = await replayWebhookEvents({ client, path: { id }, body: { since: '2026-01-01T00:00:00Z' } });
  assert.equal(replayed.response.status, 202);
  assert.equal(typeof replayed.data?.queued, 'number');

  const refused = await createWebhook({ client, body: { url: 'https://10.0.0.1/hook' } });
  assert.equal(refused.response.status, 422);
  assert.equal((refused.error as Problem).errors?.[0]?.code, 'url_not_allowed');

  assert.equal((await deleteWebhook({ client, path: { id } })).response.status, 204);
  const gone = await getWebhook({ client, path: { id } });
  assert.equal(gone.response.status, 404);
  assert.equal((gone.error as Problem).type, 'urn:students-api:problem:webhook-not-found');
});
