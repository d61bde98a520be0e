"""Peer (b): the same authorizer with Powertools Parameters caching the SSM value."""

import os

from aws_lambda_powertools.utilities import parameters

from common import header, policy

PARAMETER = os.environ["SECRET_PARAMETER_NAME"]
HEADER = os.environ.get("SECRET_HEADER_NAME", "x-origin-verify")
MAX_AGE = int(os.environ.get("SECRET_CACHE_TTL_SECONDS", "300"))


def handler(event, context):
    secret = parameters.get_parameter(PARAMETER, decrypt=True, max_age=MAX_AGE)
    effect = "Allow" if header(event, HEADER) == secret else "Deny"
    return policy("cloudfront", effect, event["methodArn"], {"lockdown": "header-secret"})
