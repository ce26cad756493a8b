"""The generated Python SDK against the real server.

clients/with-server starts the server on a fresh database and sets STUDENTS_API_URL. These tests
cover every operation, the cursor walk, merge-patch null vs absent, and the problem+json errors
as typed values. Only the SDK talks to the server here.
"""

import datetime
import itertools
import os

import pytest

import time

from students_api_client import AuthenticatedClient, Client
from students_api_client.api.changes import get_student_history, poll_changes
from students_api_client.api.health import get_health, get_readiness
from students_api_client.follow import FeedError, follow_changes
from students_api_client.imports import ImportFailed, import_students
from students_api_client.api.accounts import (
    change_my_password,
    create_account,
    get_account,
    list_accounts,
    me,
    reset_password,
    sign_in,
    sign_out,
    update_account,
)
from students_api_client.api.tokens import create_token, list_tokens, revoke_token
from students_api_client.api.webhooks import (
    create_webhook,
    delete_webhook,
    get_webhook,
    list_webhook_attempts,
    list_webhooks,
    replay_webhook_events,
    rotate_webhook_secret,
    test_webhook as send_test_webhook,
    update_webhook,
)
from students_api_client.api.students import (
    create_student,
    delete_student,
    get_student,
    list_students,
    replace_student,
    restore_student,
    update_student,
)
from students_api_client.models import (
    AccessToken,
    Account,
    AccountCreate,
    AccountList,
    AccountUpdate,
    ChangeOp,
    CountMode,
    PasswordChange,
    PasswordReset,
    Grade,
    Me,
    PasswordGrant,
    Problem,
    Role,
    Scope,
    Student,
    StudentCreate,
    StudentPage,
    StudentPatch,
    StudentReplace,
    StudentRestore,
    TokenCreate,
    TokenCreated,
)
from students_api_client.types import UNSET

_counter = itertools.count()


def fresh_email(name: str) -> str:
    """An e-mail address no other test uses, so tests never collide on the unique index."""
    return f"{name}.py.{os.getpid()}.{next(_counter)}@example.com"


def server() -> tuple[str, str]:
    url, token = os.environ.get("STUDENTS_API_URL"), os.environ.get("STUDENTS_API_TOKEN")
    if not url or not token:
        pytest.fail("STUDENTS_API_URL/TOKEN are not set: run the tests through clients/with-server")
    return url, token


@pytest.fixture(scope="session")
def client() -> AuthenticatedClient:
    url, token = server()
    return AuthenticatedClient(base_url=url, token=token, raise_on_unexpected_status=True)


def eventually(check) -> None:
    """Retries `check` for up to 2 s: a token made or revoked reaches the server's cache a few ms later."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < 2, "not within 2 s"
        time.sleep(0.01)


def test_without_a_token_a_typed_401_and_without_the_scope_a_typed_403_naming_it(
    client: AuthenticatedClient,
) -> None:
    url, _ = server()
    refused = list_students.sync_detailed(client=Client(base_url=url))
    assert refused.status_code == 401
    assert isinstance(refused.parsed, Problem)
    assert refused.parsed.type_ == "urn:students-api:problem:unauthorized"

    made = create_token.sync(
        client=client, body=TokenCreate(name="python sdk reader", scopes=[Scope.STUDENTS_READ])
    )
    assert isinstance(made, TokenCreated), made
    reader = AuthenticatedClient(base_url=url, token=made.secret)
    eventually(lambda: list_students.sync_detailed(client=reader).status_code == 200)
    forbidden = create_student.sync_detailed(
        client=reader, body=StudentCreate(name="Not allowed", grade=Grade.A)
    )
    assert forbidden.status_code == 403
    assert isinstance(forbidden.parsed, Problem)
    assert forbidden.parsed.type_ == "urn:students-api:problem:insufficient-scope"
    assert "students:write" in forbidden.parsed.detail

    listed = list_tokens.sync(client=client)
    assert any(token.id == made.token.id for token in listed.items)
    assert revoke_token.sync_detailed(made.token.id, client=client).status_code == 204
    eventually(lambda: list_students.sync_detailed(client=reader).status_code == 401)


def test_a_person_signs_in_with_the_password_grant_and_me_names_the_account() -> None:
    url, _ = server()
    username, password = os.environ["STUDENTS_API_USERNAME"], os.environ["STUDENTS_API_PASSWORD"]
    anonymous = Client(base_url=url)
    refused = sign_in.sync_detailed(
        client=anonymous,
        body=PasswordGrant(grant_type="password", username=username, password="not the password at all"),
    )
    assert refused.status_code == 400
    assert isinstance(refused.parsed, Problem) and refused.parsed.error == "invalid_grant"

    signed_in = sign_in.sync(
        client=anonymous, body=PasswordGrant(grant_type="password", username=username, password=password)
    )
    assert isinstance(signed_in, AccessToken), signed_in
    person = AuthenticatedClient(base_url=url, token=signed_in.access_token)
    who = me.sync(client=person)
    assert isinstance(who, Me) and who.account is not None
    assert (who.account.username, who.account.role) == (username, Role.ADMIN)
    # A program's API token has no account.
    program = me.sync(client=AuthenticatedClient(base_url=url, token=server()[1]))
    assert isinstance(program, Me) and program.account is None

    assert sign_out.sync_detailed(client=person).status_code == 204
    assert me.sync_detailed(client=person).status_code == 401


def test_an_admin_manages_accounts_and_a_person_changes_their_own_password(
    client: AuthenticatedClient,
) -> None:
    url, _ = server()
    username = f"person{os.getpid()}{next(_counter)}"
    first, second, third = "a first long passphrase", "a second long passphrase", "a third long passphrase"
    made = create_account.sync_detailed(
        client=client,
        body=AccountCreate(username=username, display_name="Grace Hopper", role=Role.EDITOR, password=first),
    )
    assert made.status_code == 201 and isinstance(made.parsed, Account), made
    account_id = made.parsed.id
    assert made.headers["location"] == f"/api/accounts/{account_id}"
    got = get_account.sync(account_id, client=client)
    assert isinstance(got, Account) and got.username == username
    listed = list_accounts.sync(client=client)
    assert isinstance(listed, AccountList) and any(a.id == account_id for a in listed.items)
    common = create_account.sync_detailed(
        client=client,
        body=AccountCreate(username=username + "x", display_name="X", role=Role.VIEWER, password="qwerty123456"),
    )
    assert common.status_code == 422 and isinstance(common.parsed, Problem)
    assert [(e.location, e.code) for e in common.parsed.errors] == [("/password", "common_password")]

    lowered = update_account.sync(account_id, client=client, body=AccountUpdate(role=Role.VIEWER))
    assert isinstance(lowered, Account) and lowered.role == Role.VIEWER
    reset = reset_password.sync_detailed(account_id, client=client, body=PasswordReset(password=second))
    assert reset.status_code == 204

    anonymous = Client(base_url=url)
    signed_in = sign_in.sync(
        client=anonymous, body=PasswordGrant(grant_type="password", username=username, password=second)
    )
    assert isinstance(signed_in, AccessToken) and signed_in.scope == "students:read", signed_in
    person = AuthenticatedClient(base_url=url, token=signed_in.access_token)
    wrong = change_my_password.sync_detailed(
        client=person, body=PasswordChange(current_password=first, new_password=third)
    )
    assert wrong.status_code == 422
    changed = change_my_password.sync_detailed(
        client=person, body=PasswordChange(current_password=second, new_password=third)
    )
    assert changed.status_code == 204
    again = sign_in.sync_detailed(
        client=anonymous, body=PasswordGrant(grant_type="password", username=username, password=third)
    )
    assert again.status_code == 200


def create(client: AuthenticatedClient, name: str, email: str | None = None) -> Student:
    student = create_student.sync(client=client, body=StudentCreate(name=name, grade=Grade.B, email=email))
    assert isinstance(student, Student), student
    return student


def test_health_and_readiness_answer_ok(client: AuthenticatedClient) -> None:
    assert get_health.sync(client=client).status == "ok"
    assert get_readiness.sync(client=client).status == "ok"


def test_create_read_replace_patch_and_delete_a_student(client: AuthenticatedClient) -> None:
    email = fresh_email("Ada")
    created = create_student.sync_detailed(
        client=client,
        body=StudentCreate(name="  Ada Lovelace ", grade=Grade.A_MINUS, email=email.upper()),
    )
    assert created.status_code == 201
    ada = created.parsed
    assert isinstance(ada, Student)
    assert (ada.name, ada.grade, ada.email) == ("Ada Lovelace", Grade.A_MINUS, email.lower())
    assert created.headers["location"] == f"/api/students/{ada.id}"

    read = get_student.sync(ada.id, client=client)
    assert isinstance(read, Student)
    assert read.to_dict() == ada.to_dict()

    replaced = replace_student.sync(
        ada.id, client=client, body=StudentReplace(name="Ada King", grade=Grade.B_PLUS, email=None)
    )
    assert isinstance(replaced, Student)
    assert (replaced.name, replaced.grade, replaced.email) == ("Ada King", Grade.B_PLUS, None)

    # Merge patch: a field left UNSET is not sent (unchanged), None is sent as null (cleared).
    new_email = fresh_email("ada.king")
    with_email = update_student.sync(ada.id, client=client, body=StudentPatch(email=new_email))
    assert isinstance(with_email, Student) and with_email.email == new_email
    grade_only = update_student.sync(ada.id, client=client, body=StudentPatch(grade=Grade.A_PLUS))
    assert isinstance(grade_only, Student)
    assert grade_only.grade == Grade.A_PLUS
    assert grade_only.email == new_email, "an absent email is left as it is"
    cleared = update_student.sync(ada.id, client=client, body=StudentPatch(email=None))
    assert isinstance(cleared, Student)
    assert cleared.email is None, "a null email clears it"
    assert cleared.grade == Grade.A_PLUS

    deleted = delete_student.sync_detailed(ada.id, client=client)
    assert deleted.status_code == 204
    gone = get_student.sync(ada.id, client=client)
    assert isinstance(gone, Problem)
    assert (gone.status, gone.type_) == (404, "urn:students-api:problem:student-not-found")


def test_walking_the_list_with_cursors_returns_every_student_exactly_once(client: AuthenticatedClient) -> None:
    created = {create(client, f"Walker {i}").id for i in range(7)}
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(1000):
        page = list_students.sync(client=client, limit=3, cursor=cursor if cursor is not None else UNSET)
        assert isinstance(page, StudentPage)
        assert len(page.items) <= 3
        seen.extend(student.id for student in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(set(seen)) == len(seen), "no student twice"
    assert created <= set(seen), "every created student listed"
    assert seen == sorted(seen), "in id order"


def test_a_422_surfaces_every_bad_field_as_a_typed_problem(client: AuthenticatedClient) -> None:
    response = create_student.sync_detailed(
        client=client, body=StudentCreate(name="   ", grade=Grade.A, email="not-an-email")
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.parsed
    assert isinstance(problem, Problem)
    assert problem.type_ == "urn:students-api:problem:validation-failed"
    assert sorted(error.location for error in problem.errors) == ["/email", "/name"]


def test_a_409_names_the_conflicting_field(client: AuthenticatedClient) -> None:
    email = fresh_email("grace")
    create(client, "Grace Hopper", email)
    problem = create_student.sync(client=client, body=StudentCreate(name="Grace Two", grade=Grade.C, email=email))
    assert isinstance(problem, Problem)
    assert problem.status == 409
    assert [(error.location, error.code) for error in problem.errors] == [("/email", "taken")]


def test_restore_student_undoes_an_edit_and_a_delete_as_changes_of_their_own(client: AuthenticatedClient) -> None:
    ada = create(client, "Ada Restored", fresh_email("restore"))
    assert isinstance(update_student.sync(client=client, id=ada.id, body=StudentPatch(grade=Grade.F)), Student)

    back = restore_student.sync_detailed(client=client, id=ada.id, body=StudentRestore(version=1))
    assert back.status_code == 200
    assert isinstance(back.parsed, Student) and back.parsed.grade == Grade.B
    assert back.headers["etag"] == '"3"'
    history = get_student_history.sync(client=client, id=ada.id)
    assert history is not None
    assert (history.changes[0].op, history.changes[0].restored_from) == (ChangeOp.UPDATED, 1)

    assert delete_student.sync_detailed(client=client, id=ada.id).status_code == 204
    undone = restore_student.sync_detailed(client=client, id=ada.id, body=StudentRestore(version=3))
    assert undone.status_code == 201
    assert isinstance(undone.parsed, Student) and undone.parsed.id == ada.id
    assert undone.headers["location"] == f"/api/students/{ada.id}"

    unknown = restore_student.sync(client=client, id=ada.id, body=StudentRestore(version=99))
    assert isinstance(unknown, Problem) and unknown.status == 422
    assert [error.location for error in unknown.errors] == ["/version"]


def test_count_estimated_gives_estimated_total_and_no_total(client: AuthenticatedClient) -> None:
    create(client, "Estimated One")
    estimated = list_students.sync(client=client, count=CountMode.ESTIMATED, limit=1)
    assert isinstance(estimated, StudentPage)
    assert isinstance(estimated.estimated_total, int) and estimated.estimated_total >= 0
    assert estimated.total is UNSET
    exact = list_students.sync(client=client, count=CountMode.EXACT, limit=1)
    assert isinstance(exact, StudentPage)
    assert isinstance(exact.total, int) and exact.total >= 1
    assert exact.estimated_total is UNSET


def test_follow_changes_yields_every_change_in_order_and_resumes_from_a_position(client):
    api = client
    now = poll_changes.sync(client=api, after="now", wait=0)
    assert now is not None and now.changes == []
    email = fresh_email("feed")
    ada = create_student.sync(client=api, body=StudentCreate(name="Ada Feed", grade=Grade.A, email=email))
    assert isinstance(ada, Student)
    assert isinstance(update_student.sync(client=api, id=ada.id, body=StudentPatch(grade=Grade.B)), Student)

    following = follow_changes(api, after=now.next_, student_id=ada.id, wait=5)
    created, updated = next(following), next(following)
    assert (created.op.value, updated.op.value) == ("created", "updated")
    assert created.student.email == email
    assert updated.changes.grade.before == Grade.A and updated.changes.grade.after == Grade.B
    assert updated.actor.name == "first-run token"

    # From the first change's position: the second again, then a change made since.
    resumed = follow_changes(api, after=created.position, student_id=ada.id, wait=5)
    assert next(resumed).position == updated.position
    delete_student.sync_detailed(client=api, id=ada.id)
    assert next(resumed).op.value == "deleted"

    history = get_student_history.sync(client=api, id=ada.id)
    assert [c.op.value for c in history.changes] == ["deleted", "updated", "created"]


def test_follow_changes_stops_with_a_feed_error_on_a_bad_position(client):
    with pytest.raises(FeedError) as refused:
        next(follow_changes(client, after="not-a-position"))
    assert refused.value.status == 422
    assert refused.value.problem.errors[0].location == "query.after"


def test_the_event_stream_through_the_clients_httpx_client(client):
    """`stream_changes` as generated would wait for the end of a live stream; the client's own
    httpx client (which sends the token) reads it event by event, as the README shows."""
    name = f"Streamed {fresh_email('stream').replace('@', ' ').replace('.', ' ')}"
    with client.get_httpx_client().stream("GET", "/api/students/changes", params={"after": "now"}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"] == "text/event-stream"
        lines = stream.iter_lines()
        assert next(lines).startswith("retry: ")
        create_student.sync(client=client, body=StudentCreate(name=name, grade=Grade.C))
        for line in lines:
            if line.startswith("data: ") and name in line:
                break


def names_with(client: AuthenticatedClient, tag: str) -> list[str]:
    page = list_students.sync(client=client, q=tag)
    assert isinstance(page, StudentPage)
    return sorted(student.name for student in page.items)


def test_import_students_takes_csv_and_ndjson_and_reports_bad_rows(client: AuthenticatedClient) -> None:
    tag = f"imp{os.getpid()}py"
    csv = f"name,grade,email\nAda {tag},A+,{fresh_email('ada')}\nBob {tag},B,\n"
    report = import_students(client, csv, idempotency_key=f"import-{tag}")
    assert (report.rows, report.valid, report.invalid, report.created) == (2, 2, 0, 2)
    assert report.dry_run is False and report.errors == []
    assert names_with(client, tag) == [f"Ada {tag}", f"Bob {tag}"]

    ndjson = (
        f'{{"name": "Cid {tag}", "grade": "C", "email": "{fresh_email("cid")}"}}\n'
        f'{{"name": "Dee {tag}", "grade": "D"}}\n'
    ).encode()
    assert import_students(client, ndjson, format="ndjson").created == 2
    assert len(names_with(client, tag)) == 4

    # A bad grade on row 2 (the file's line 3): the 422 names it, and nothing is written.
    bad = f"name,grade,email\nEve {tag},A,\nFay {tag},Z,\n"
    with pytest.raises(ImportFailed) as refused:
        import_students(client, bad)
    assert refused.value.status == 422
    assert refused.value.problem.type_ == "urn:students-api:problem:invalid-rows"
    assert [(e.location, e.line) for e in refused.value.errors] == [("/rows/2/grade", 3)]
    assert len(names_with(client, tag)) == 4

    # A dry run with `skip`: the report of what would happen, and still nothing written.
    dry = import_students(client, bad, dry_run=True, on_error="skip")
    assert dry.dry_run is True
    assert (dry.valid, dry.invalid, dry.created) == (1, 1, 0)
    assert dry.errors[0].location == "/rows/2/grade"
    assert len(names_with(client, tag)) == 4


def test_webhooks_create_list_get_update_rotate_test_log_replay_and_delete(client: AuthenticatedClient) -> None:
    from students_api_client.models import (
        WebhookAttemptOutcome,
        WebhookCreate,
        WebhookCreated,
        WebhookDisabledReason,
        WebhookEventType,
        WebhookReplay,
        WebhookUpdate,
    )

    # The server itself, which answers 404 here: the test event's attempt records it.
    url = os.environ["STUDENTS_API_URL"] + "/nowhere"
    made = create_webhook.sync(client=client, body=WebhookCreate(url=url, events=[WebhookEventType.STUDENT_CREATED]))
    assert isinstance(made, WebhookCreated) and made.secret.startswith("whsec_")
    endpoint_id = made.endpoint.id
    listed = list_webhooks.sync(client=client)
    assert listed is not None and any(e.id == endpoint_id for e in listed.items)

    paused = update_webhook.sync(client=client, id=endpoint_id, body=WebhookUpdate(enabled=False))
    assert paused is not None and paused.disabled_reason == WebhookDisabledReason.PAUSED
    one = get_webhook.sync(client=client, id=endpoint_id)
    assert one is not None and one.enabled is False

    rotated = rotate_webhook_secret.sync(client=client, id=endpoint_id)
    assert isinstance(rotated, WebhookCreated) and rotated.secret != made.secret

    tested = send_test_webhook.sync(client=client, id=endpoint_id)
    assert tested is not None and tested.status_code == 404 and tested.outcome == WebhookAttemptOutcome.FAILED
    log = list_webhook_attempts.sync(client=client, id=endpoint_id, limit=5)
    assert log is not None and log.items[0].event_type == "webhook.test"

    replayed = replay_webhook_events.sync_detailed(
        client=client, id=endpoint_id, body=WebhookReplay(since=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    )
    assert replayed.status_code == 202

    refused = create_webhook.sync(client=client, body=WebhookCreate(url="https://10.0.0.1/hook"))
    assert isinstance(refused, Problem) and refused.status == 422
    assert [(e.location, e.code) for e in refused.errors] == [("/url", "url_not_allowed")]

    assert delete_webhook.sync_detailed(client=client, id=endpoint_id).status_code == 204
    gone = get_webhook.sync(client=client, id=endpoint_id)
    assert isinstance(gone, Problem) and gone.type_ == "urn:students-api:problem:webhook-not-found"
