"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by scripts/test).

An Idempotency-Key is single-use by contract: the same key with another body is a 422. The
fuzzer does not know that and reuses short keys such as "0" across unrelated requests, so just
before each call every valid key gets a unique suffix. Invalid keys are left as they are, so
the server's refusal of them is still tested.

`pollChanges` waits up to `wait` seconds (default 30) for a change on a feed that is mostly
quiet: a valid or missing `wait` is set to 0 so the run does not idle; invalid ones stay, so
their 422 is still tested.

`If-Match` and `If-None-Match` publish their syntax (`*` or a list of quoted entity tags).
Schemathesis sometimes sends a case it judges as valid (generation mode positive) with a header
drawn as invalid, such as `If-Match: 0`, and then reports the server's 422 as "valid data
rejected". Such a header in a case judged valid is quoted (`"0"`, a well-formed tag) just before
the call; cases judged invalid keep their garbage, so the 422 for a malformed condition is still
tested.

People sign in with a password the fuzzer cannot guess, so a case judged valid gets the real
ones: `signIn` the first-run admin's username and password (and only scopes the role gives), and
`changeMyPassword` an admin's sign-in token and the current password, which the hook follows as
the fuzzer changes it. Without this every valid sign-in would be a refused one. Cases judged
invalid keep their garbage, so the refusals are still tested. The admin's own account (id 1) is
never reset or changed by the fuzzer: its password and sign-in are what the two operations
above use.

An import's NDJSON file is bytes like any other file: schemathesis has no serializer for
`application/x-ndjson`, so it uses the one of `application/octet-stream`.
"""

import itertools
import json
import os
import re
import urllib.parse
import urllib.request

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "application/octet-stream")

UNIQUE = itertools.count()
VALID_KEY = re.compile(r"^[!-~]{1,200}$")
# The published pattern of EntityTags (src/api/students/params.rs).
ENTITY_TAGS = re.compile(r'^[ \t]*(\*|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*)[ \t]*$')
ETAG_CHARACTERS = re.compile(r"^[!#-~]*$")


def judged_valid(case):
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode == "positive"


# The token the fuzzer itself sends: the first-run token, id 1 on the fresh database.
OWN_TOKEN_ID = 1
# The first-run admin account, id 1 on the fresh database (clients/with-server exports its
# username and password).
ADMIN_ID = 1
ROLE_SCOPES = {"students:read", "students:write", "tokens:admin", "accounts:admin", "metrics:read"}


class Admin:
    """The first-run admin's current password, and a sign-in made with it (on first use)."""

    username = os.environ.get("STUDENTS_API_USERNAME", "admin")
    password = os.environ.get("STUDENTS_API_PASSWORD", "")
    token = None

    @classmethod
    def sign_in(cls):
        if cls.token is None:
            form = urllib.parse.urlencode(
                {"grant_type": "password", "username": cls.username, "password": cls.password}
            ).encode()
            url = os.environ["STUDENTS_API_URL"] + "/api/auth/token"
            with urllib.request.urlopen(urllib.request.Request(url, data=form)) as answer:
                cls.token = json.load(answer)["access_token"]
        return cls.token


@schemathesis.hook
def before_call(context, case, **kwargs):
    # Revoking its own token would turn every later request into a 401. The id comes as a
    # number or, in the coverage phase, as text.
    parameters = case.path_parameters or {}
    if case.path == "/api/tokens/{id}" and str(parameters.get("id")) == str(OWN_TOKEN_ID):
        parameters["id"] = OWN_TOKEN_ID + 1_000_000
    if case.path.startswith("/api/accounts/{id}") and str(parameters.get("id")) == str(ADMIN_ID):
        parameters["id"] = ADMIN_ID + 1_000_000
    body = case.body if isinstance(case.body, dict) else None
    if case.path == "/api/auth/token" and judged_valid(case) and body is not None:
        body["username"], body["password"] = Admin.username, Admin.password
        if "scope" in body and not set(str(body["scope"]).split()) <= ROLE_SCOPES:
            del body["scope"]
    if case.path == "/api/me/password" and judged_valid(case) and body is not None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {Admin.sign_in()}"}
        body["current_password"] = Admin.password
    if case.path == "/api/students/changes/poll":
        query = case.query if case.query is not None else {}
        wait = str(query.get("wait", "0"))
        if wait.isdigit() and int(wait) <= 60:
            query["wait"] = 0
        case.query = query
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.match(key):
        headers["Idempotency-Key"] = f"{key}-{next(UNIQUE)}"
    if judged_valid(case):
        for name in ("If-Match", "If-None-Match"):
            value = headers.get(name)
            if isinstance(value, str) and not ENTITY_TAGS.match(value):
                headers[name] = f'"{value}"' if ETAG_CHARACTERS.match(value) else "*"


@schemathesis.hook
def after_call(context, case, response):
    # The fuzzer's new password is the admin's from now on.
    body = case.body if isinstance(case.body, dict) else None
    if case.path == "/api/me/password" and response.status_code == 204 and body is not None:
        Admin.password = body["new_password"]
