#!/usr/bin/env python3
"""Writes the header-secret authorizer's sample events, expected.json and origin-secret.txt.

Shapes follow the events API Gateway sends (as `sam local generate-event apigateway
request-authorizer` and AWS's authorizer docs show them), with the headers CloudFront adds to an
origin request. The secrets are the demo's: origin-secret.txt holds the two lines `make demo` and
`make local-aws` put into the SSM parameter demo.env names.
Run: python3 events/header-secret-authorizer/generate.py (or `make events` for every folder)
"""
import copy
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
import shapes  # noqa: E402  (events/shapes.py)

CURRENT = "pc-demo-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4"  # line 1 of the demo parameter
PREVIOUS = "pc-demo-previous-8e6d4c2a0b9f7e5d3c1a2b4d6f8e0a1c"  # line 2: the one being rotated out
WRONG = "pc-demo-guessed-0000000000000000000000000000000000"
HEADER = "x-origin-verify"
ACCOUNT = "123456789012"
OUT = pathlib.Path(__file__).parent

CLOUDFRONT_HEADERS = {
    "accept": "application/json",
    "cloudfront-forwarded-proto": "https",
    "cloudfront-viewer-country": "DE",
    "host": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
    "user-agent": "Amazon CloudFront",
    "via": "2.0 7e1b4f3c9a8d6e5f4a3b2c1d0e9f8a7b.cloudfront.net (CloudFront)",
    "x-amz-cf-id": "qV3Fz0aL0n7YbW9pQm2sXr5tK8uJ1cD4eF6gH7iJ8kL9mN0oP1qR2s==",
    "x-forwarded-for": "203.0.113.10, 130.176.0.1",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
}


def rest_request(headers, multi):
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5/prod/GET/orders/42",
        "resource": "/orders/{id}",
        "path": "/orders/42",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": multi,
        "queryStringParameters": {"expand": "items"},
        "multiValueQueryStringParameters": {"expand": ["items"]},
        "pathParameters": {"id": "42"},
        "stageVariables": {"stage": "prod"},
        "requestContext": {
            "path": "/prod/orders/42",
            "accountId": ACCOUNT,
            "resourceId": "x7k2p9",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"apiKey": "", "sourceIp": "130.176.0.1", "userAgent": "Amazon CloudFront"},
            "resourcePath": "/orders/{id}",
            "httpMethod": "GET",
            "apiId": "a1b2c3d4e5",
            "requestTimeEpoch": 1767225600000,
        },
    }


def http_v1(headers, multi):
    event = rest_request(headers, multi)
    event["version"] = "1.0"
    event["methodArn"] = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:h1t2p3a4p5/$default/GET/orders/42"
    event["identitySource"] = headers.get(HEADER, "")
    event["authorizationToken"] = headers.get(HEADER, "")
    event["requestContext"].update({"apiId": "h1t2p3a4p5", "stage": "$default", "protocol": "HTTP/1.1"})
    return event


def http_v2(headers, _multi):
    joined = {k: v for k, v in headers.items()}
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:h1t2p3a4p5/$default/GET/orders/42",
        "identitySource": [joined.get(HEADER, "")],
        "routeKey": "GET /orders/{id}",
        "rawPath": "/orders/42",
        "rawQueryString": "expand=items",
        "cookies": ["theme=dark"],
        "headers": joined,
        "queryStringParameters": {"expand": "items"},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "h1t2p3a4p5",
            "domainName": "h1t2p3a4p5.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "h1t2p3a4p5",
            "http": {
                "method": "GET",
                "path": "/orders/42",
                "protocol": "HTTP/1.1",
                "sourceIp": "130.176.0.1",
                "userAgent": "Amazon CloudFront",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "GET /orders/{id}",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "pathParameters": {"id": "42"},
        "stageVariables": {"stage": "prod"},
    }


def websocket(headers, multi):
    return shapes.websocket_connect(headers, multi=multi, query={"room": "lobby"},
                                    source_ip="130.176.0.1", user_agent="Amazon CloudFront")


def variants():
    """(case, expected decision, headers, multiValueHeaders)"""
    def with_secret(*values):
        headers = dict(CLOUDFRONT_HEADERS)
        multi = {k: [v] for k, v in headers.items()}
        if values:
            headers[HEADER] = values[-1]
            multi[HEADER] = list(values)
        return headers, multi

    yield ("valid", "Allow", *with_secret(CURRENT))
    yield ("rotated-secret", "Allow", *with_secret(PREVIOUS))
    yield ("wrong-secret", "Deny", *with_secret(WRONG))
    yield ("missing-header", "Deny", *with_secret())
    yield ("duplicated-header", "Deny", *with_secret(WRONG, CURRENT))


FORMATS = {"rest-request": rest_request, "http-v1": http_v1, "http-v2": http_v2, "websocket": websocket}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    expected = {}
    for fmt, build in FORMATS.items():
        for case, decision, headers, multi in variants():
            event = build(copy.deepcopy(headers), copy.deepcopy(multi))
            if case == "duplicated-header" and fmt == "http-v2":
                # HTTP APIs join repeated headers with commas.
                event["headers"][HEADER] = f"{WRONG},{CURRENT}"
                event["identitySource"] = [event["headers"][HEADER]]
            name = f"{fmt}-{case}.json"
            (OUT / name).write_text(json.dumps(event, indent=2) + "\n")
            expected[name] = decision
    (OUT / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
    (OUT / "origin-secret.txt").write_text(f"{CURRENT}\n{PREVIOUS}\n")


if __name__ == "__main__":
    main()
