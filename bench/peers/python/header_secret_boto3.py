"""Peer (a): the header-secret authorizer most teams copy — boto3 reads SSM on every request
and compares with `==`."""

import os

import boto3

from common import header, policy

ssm = boto3.client("ssm")
PARAMETER = os.environ["SECRET_PARAMETER_NAME"]
HEADER = os.environ.get("SECRET_HEADER_NAME", "x-origin-verify")


def handler(event, context):
    secret = ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"]
    effect = "Allow" if header(event, HEADER) == secret else "Deny"
    return policy("cloudfront", effect, event["methodArn"], {"lockdown": "header-secret"})
