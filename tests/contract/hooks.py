"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by scripts/test).

An Idempotency-Key is single-use by contract: the same key with another body is a 422. The
fuzzer does not know that and reuses short keys such as "0" across unrelated requests, so just
before each call every valid key gets a unique suffix. Invalid keys are left as they are, so
the server's refusal of them is still tested.
"""

import re
import itertools

import schemathesis

UNIQUE = itertools.count()
VALID_KEY = re.compile(r"^[!-~]{1,200}$")


@schemathesis.hook
def before_call(context, case, **kwargs):
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.match(key):
        case.headers["Idempotency-Key"] = f"{key}-{next(UNIQUE)}"
