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

An import's NDJSON file is bytes like any other file: schemathesis has no serializer for
`application/x-ndjson`, so it uses the one of `application/octet-stream`.
"""

import re
import itertools

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


@schemathesis.hook
def before_call(context, case, **kwargs):
    # Revoking its own token would turn every later request into a 401. The id comes as a
    # number or, in the coverage phase, as text.
    parameters = case.path_parameters or {}
    if case.path == "/api/tokens/{id}" and str(parameters.get("id")) == str(OWN_TOKEN_ID):
        parameters["id"] = OWN_TOKEN_ID + 1_000_000
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
