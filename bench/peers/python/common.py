"""Shared by the Python peers: the whole-API policy the common blog snippets return."""


def whole_api_arn(method_arn):
    """`arn:…:{api}/{stage}/*/*` from a methodArn `arn:…:{api}/{stage}/{verb}/{path}`."""
    prefix, _, rest = method_arn.partition(":execute-api:")
    parts = rest.split("/")
    return f"{prefix}:execute-api:{parts[0]}/{parts[1]}/*/*"


def policy(principal, effect, method_arn, context=None):
    doc = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": effect,
                    "Resource": whole_api_arn(method_arn),
                }
            ],
        },
    }
    if context:
        doc["context"] = context
    return doc


def header(event, name):
    """Case-insensitive header lookup, the way most snippets do it."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None
