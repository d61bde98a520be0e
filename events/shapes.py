"""Event shapes more than one generator writes (imported by events/<folder>/generate.py)."""

ACCOUNT = "123456789012"
WEBSOCKET_API = "w1s2o3c4k5"


def websocket_connect(headers, *, source_ip, user_agent, multi=None, query=None, stage_variables=None,
                      time_ms=1767225600000):
    """A WebSocket API `$connect` REQUEST authorizer event, as API Gateway sends it.

    `multi` (multiValueHeaders) defaults to one value per header; the query's multi-value form is
    always derived from `query`."""
    query = query or {}
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:{WEBSOCKET_API}/live/$connect",
        "headers": headers,
        "multiValueHeaders": multi if multi is not None else {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "stageVariables": stage_variables or {},
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "extendedRequestId": "Zz9yXx8wVv7uUt6=",
            "requestTime": "01/Jan/2026:00:00:00 +0000",
            "messageDirection": "IN",
            "stage": "live",
            "connectedAt": time_ms,
            "requestTimeEpoch": time_ms,
            "identity": {"userAgent": user_agent, "sourceIp": source_ip},
            "requestId": "Zz9yXx8wVv7uUt6=",
            "domainName": f"{WEBSOCKET_API}.execute-api.eu-west-1.amazonaws.com",
            "connectionId": "Zz9yXdeWvHcCIBg=",
            "apiId": WEBSOCKET_API,
        },
    }
