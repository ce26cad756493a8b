"""Verifies webhook deliveries with the official Standard Webhooks library (PyPI
`standardwebhooks`), not with our own code: tests/api/webhooks.rs records what its receiver got
and asks this which secrets each delivery verifies with.

Reads JSON on stdin: {"secrets": ["whsec_…", …], "messages": [{"id", "timestamp", "signature",
"body"}, …]}. Writes JSON: {"verified": [[true, false], …]}, one list per message, one boolean
per secret."""

import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

request = json.load(sys.stdin)
hooks = [Webhook(secret) for secret in request["secrets"]]
verified = []
for message in request["messages"]:
    headers = {
        "webhook-id": message["id"],
        "webhook-timestamp": message["timestamp"],
        "webhook-signature": message["signature"],
    }
    row = []
    for hook in hooks:
        try:
            hook.verify(message["body"], headers)
            row.append(True)
        except WebhookVerificationError:
            row.append(False)
    verified.append(row)
json.dump({"verified": verified}, sys.stdout)
