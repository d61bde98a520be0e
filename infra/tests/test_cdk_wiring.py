"""The wiring of the CDK example app, asserted on `cdk synth` output (infra/cdk/cdk.out, written
by `make infra-synth-cdk`; PORTCULLIS_CDK_OUT points elsewhere)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from cfn import CDK_OUT, as_list, statements

OUT = Path(os.environ.get("PORTCULLIS_CDK_OUT", CDK_OUT))
STACKS = {"header-secret": "PortcullisHeaderSecret", "api-key": "PortcullisApiKey", "sigv4": "PortcullisSigV4",
          "origin-mtls": "PortcullisOriginMtls"}
# Every combination of lock-down mode and caller authorizer the example app synthesizes (with
# `make infra-synth-cdk`'s -c jwtIssuer and -c rulesParameter); api-key alone is the SAM tests' case.
COMBINATIONS = {
    "header-secret": "PortcullisHeaderSecret",
    "header-secret+jwt": "PortcullisHeaderSecretJwt",
    "header-secret+cedar": "PortcullisHeaderSecretCedar",
    "header-secret+request": "PortcullisHeaderSecretRequest",
    "header-secret+request+viewer": "PortcullisHeaderSecretRequestViewer",
    "api-key+jwt": "PortcullisApiKey",
    "api-key+cedar": "PortcullisApiKeyCedar",
    "api-key+request": "PortcullisApiKeyRequest",
    "sigv4": "PortcullisSigV4",
    "origin-mtls": "PortcullisOriginMtls",
    "origin-mtls+jwt": "PortcullisOriginMtlsJwt",
    "origin-mtls+cedar": "PortcullisOriginMtlsCedar",
    "origin-mtls+request": "PortcullisOriginMtlsRequest",
}
COMPOSED = [c for c in COMBINATIONS if c.startswith("header-secret+")]
MTLS = [c for c in COMBINATIONS if c.startswith("origin-mtls")]
# The example values `make infra-synth-cdk` passes (mk/infra.mk INFRA_CDK_MTLS_CONTEXT).
PINS = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08,60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
CLOUDFRONT_CERT = "arn:aws:acm:us-east-1:111122223333:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
# mk/infra.mk's -c policyStoreId (the cedar stacks).
POLICY_STORE = "PSEXAMPLEabcdefg111111"


def manifest():
    path = OUT / "manifest.json"
    if not path.exists():
        pytest.fail(f"{path} missing: run `make infra-synth-cdk` first")
    return json.loads(path.read_text())


def stack_artifacts():
    return {k: v for k, v in manifest()["artifacts"].items() if v["type"] == "aws:cloudformation:stack"}


def template(stack):
    if stack not in stack_artifacts():
        if stack == STACKS["sigv4"]:
            pytest.skip("sigv4 not synthesized: target/edge/origin-signer.zip is not built (make edge-package)")
        pytest.fail(f"stack {stack} missing from {OUT}")
    return json.loads((OUT / f"{stack}.template.json").read_text())


def region(stack):
    """The region of a synthesized stack, from its environment aws://account/region."""
    return stack_artifacts()[stack]["environment"].rsplit("/", 1)[1]


def of_type(t, resource_type):
    return {k: v for k, v in t["Resources"].items() if v["Type"] == resource_type}


def render(node):
    """A CloudFormation string expression as text: Ref X -> <X>, GetAtt X.A -> <X.A>."""
    if isinstance(node, str):
        return node
    if "Ref" in node:
        return f"<{node['Ref']}>"
    if "Fn::GetAtt" in node:
        return "<" + ".".join(node["Fn::GetAtt"]) + ">"
    if "Fn::Join" in node:
        sep, parts = node["Fn::Join"]
        return sep.join(render(p) for p in parts)
    raise AssertionError(f"cannot render {node!r}")


def ref(node):
    if isinstance(node, dict):
        if "Ref" in node:
            return node["Ref"]
        if "Fn::GetAtt" in node:
            return node["Fn::GetAtt"][0]
    return None


def role_statements(t, role_id):
    """Every statement any policy in the template grants to the role."""
    role = t["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role, f"{role_id} has managed policies"
    out = [st for p in role.get("Policies", []) for st in statements(p["PolicyDocument"])]
    for policy in of_type(t, "AWS::IAM::Policy").values():
        if any(ref(r) == role_id for r in policy["Properties"].get("Roles", [])):
            out += statements(policy["Properties"]["PolicyDocument"])
    return out


# ------------------------------------------------------------------ every route is guarded

@pytest.mark.parametrize("case", COMBINATIONS)
def test_every_route_and_method_is_guarded(case):
    t = template(COMBINATIONS[case])
    mode = case.split("+")[0]
    routes = of_type(t, "AWS::ApiGatewayV2::Route")
    methods = of_type(t, "AWS::ApiGateway::Method")
    assert len(routes) >= 1 and len(methods) == 2
    http_authorizers = of_type(t, "AWS::ApiGatewayV2::Authorizer")
    rest_authorizers = of_type(t, "AWS::ApiGateway::Authorizer")
    for name, route in routes.items():
        props = route["Properties"]
        if mode == "sigv4":
            assert props["AuthorizationType"] == "AWS_IAM", name
        else:
            assert props["AuthorizationType"] == "CUSTOM", name
            assert ref(props["AuthorizerId"]) in http_authorizers, name
    for name, method in methods.items():
        props = method["Properties"]
        if mode == "sigv4":
            assert props["AuthorizationType"] == "AWS_IAM", name
        else:
            # header-secret: its authorizer; api-key: the key AND the jwt caller authorizer
            assert props["AuthorizationType"] == "CUSTOM", name
            assert ref(props["AuthorizerId"]) in rest_authorizers, name
        assert props.get("ApiKeyRequired", False) is (mode == "api-key"), name
    assert len(of_type(t, "AWS::ApiGateway::RestApi")) == 1 and len(of_type(t, "AWS::ApiGatewayV2::Api")) == 1


def functions_by_id(t):
    return of_type(t, "AWS::Lambda::Function")


def authorizer_function(t, authorizer):
    """The logical id of the function an authorizer invokes, from its AuthorizerUri."""
    _, parts = authorizer["Properties"]["AuthorizerUri"]["Fn::Join"]
    assert parts[-1] == "/invocations" and parts[-3].endswith(":lambda:path/2015-03-31/functions/"), parts
    function, attribute = parts[-2]["Fn::GetAtt"]
    assert attribute == "Arn"
    return function


def environment(t, function_id):
    return t["Resources"][function_id]["Properties"]["Environment"]["Variables"]


def route_authorizers(t):
    """(HTTP authorizer, REST authorizer) the routes and methods point at; None where they have none."""
    (route,) = of_type(t, "AWS::ApiGatewayV2::Route").values()
    http = t["Resources"][ref(route["Properties"]["AuthorizerId"])] if "AuthorizerId" in route["Properties"] else None
    rest_ids = {ref(m["Properties"]["AuthorizerId"]) for m in of_type(t, "AWS::ApiGateway::Method").values() if "AuthorizerId" in m["Properties"]}
    assert len(rest_ids) <= 1, rest_ids
    rest = t["Resources"][rest_ids.pop()] if rest_ids else None
    return http, rest


# API Gateway caches a decision per identity-source value and reuses it for every route, so the
# identity sources carry every value the decision reads (the same tables as the SAM tests).
HTTP_IDENTITY = {
    "header-secret": ["$request.header.x-origin-verify"],
    "header-secret+jwt": ["$request.header.x-origin-verify", "$request.header.Authorization"],
    "header-secret+cedar": ["$request.header.x-origin-verify", "$request.header.Authorization"],
    "header-secret+request": ["$request.header.x-origin-verify", "$request.header.x-tenant-key"],
    "header-secret+request+viewer": ["$request.header.x-origin-verify", "$request.header.x-tenant-key", "$request.header.CloudFront-Viewer-Address"],
    "api-key+jwt": ["$request.header.x-origin-verify"],
    "api-key+cedar": ["$request.header.x-origin-verify"],
    "api-key+request": ["$request.header.x-origin-verify"],
    # origin-mtls alone: no identity source and no cache (the same reasoning as the SAM tests).
    "origin-mtls": None,
    "origin-mtls+jwt": ["$request.header.Authorization"],
    "origin-mtls+cedar": ["$request.header.Authorization"],
    "origin-mtls+request": ["$request.header.x-tenant-key"],
}
REST_IDENTITY = {
    "header-secret": "method.request.header.x-origin-verify",
    "header-secret+jwt": "method.request.header.x-origin-verify,method.request.header.Authorization",
    "header-secret+cedar": "method.request.header.x-origin-verify,method.request.header.Authorization",
    "header-secret+request": "method.request.header.x-origin-verify,method.request.header.x-tenant-key,context.httpMethod,context.resourcePath",
    "header-secret+request+viewer": "method.request.header.x-origin-verify,method.request.header.x-tenant-key,method.request.header.CloudFront-Viewer-Address,context.httpMethod,context.resourcePath",
    "api-key+jwt": "method.request.header.Authorization",
    "api-key+cedar": "method.request.header.Authorization",
    "api-key+request": "method.request.header.x-tenant-key,context.httpMethod,context.resourcePath",
    "origin-mtls": None,
    "origin-mtls+jwt": "method.request.header.Authorization",
    "origin-mtls+cedar": "method.request.header.Authorization",
    "origin-mtls+request": "method.request.header.x-tenant-key,context.httpMethod,context.resourcePath",
}
RESULT_TTL = {case: 0 if case == "origin-mtls" else 300 for case in COMBINATIONS}
# Which function's binary answers the route: (HTTP API, REST API).
ROUTE_BINARY = {
    "header-secret": ("header-secret", "header-secret"),
    "header-secret+jwt": ("jwt", "jwt"),
    "header-secret+cedar": ("cedar", "cedar"),
    "header-secret+request": ("request", "request"),
    "header-secret+request+viewer": ("request", "request"),
    "api-key+jwt": ("header-secret", "jwt"),
    "api-key+cedar": ("header-secret", "cedar"),
    "api-key+request": ("header-secret", "request"),
    "origin-mtls": ("header-secret", "header-secret"),
    "origin-mtls+jwt": ("jwt", "jwt"),
    "origin-mtls+cedar": ("cedar", "cedar"),
    "origin-mtls+request": ("request", "request"),
}
SETTING_OF = {"header-secret": "SECRET_SECRETS_MANAGER_ID", "jwt": "JWT_ISSUER", "cedar": "CEDAR_POLICY_STORE_ID", "request": "RULES_PARAMETER_NAME"}


def setting_of(case, binary):
    """The setting that identifies the function: origin-mtls' lock-down function pins, it has no secret."""
    return "ORIGIN_CERT_SHA256" if case == "origin-mtls" else SETTING_OF[binary]


@pytest.mark.parametrize("case", HTTP_IDENTITY)
def test_http_authorizer_identity_sources(case):
    t = template(COMBINATIONS[case])
    http, _ = route_authorizers(t)
    props = http["Properties"]
    assert props.get("IdentitySource") == HTTP_IDENTITY[case]
    assert props["AuthorizerType"] == "REQUEST" and props["AuthorizerResultTtlInSeconds"] == RESULT_TTL[case]
    assert props["AuthorizerPayloadFormatVersion"] == "2.0"
    env = environment(t, authorizer_function(t, http))
    assert setting_of(case, ROUTE_BINARY[case][0]) in env
    # header-secret: one answer for every route, simple. A caller's answer depends on the route:
    # a policy naming every route it allows, which API Gateway evaluates on each request.
    simple = ROUTE_BINARY[case][0] == "header-secret"
    assert props.get("EnableSimpleResponses", False) is simple
    assert env["HTTP_API_RESPONSE_MODE"] == ("simple" if simple else "iam")


@pytest.mark.parametrize("case", REST_IDENTITY)
def test_rest_authorizer_identity_sources(case):
    t = template(COMBINATIONS[case])
    _, rest = route_authorizers(t)
    assert rest["Properties"].get("IdentitySource") == REST_IDENTITY[case]
    assert rest["Properties"]["Type"] == "REQUEST" and rest["Properties"]["AuthorizerResultTtlInSeconds"] == RESULT_TTL[case]
    assert setting_of(case, ROUTE_BINARY[case][1]) in environment(t, authorizer_function(t, rest))
    assert len(of_type(t, "AWS::ApiGateway::Authorizer")) == 1


@pytest.mark.parametrize("case", COMPOSED)
def test_composed_stacks_give_both_apis_the_caller_function_alone(case):
    t = template(COMBINATIONS[case])
    http, rest = route_authorizers(t)
    assert authorizer_function(t, http) == authorizer_function(t, rest)
    assert len(of_type(t, "AWS::ApiGatewayV2::Authorizer")) == 1
    # No header-secret function: the caller function checks the origin secret itself.
    assert not [f for f in functions_by_id(t).values() if "SECRET_SECRETS_MANAGER_ID" in f["Properties"].get("Environment", {}).get("Variables", {})]


# ------------------------------------------------------------------ the secret and CloudFront

def distribution(t):
    (dist,) = of_type(t, "AWS::CloudFront::Distribution").values()
    return dist["Properties"]["DistributionConfig"]


def origin_of(t, api_type):
    """The CloudFront origin whose domain is the execute-api host of the API of that type."""
    (api_id,) = of_type(t, api_type)
    for origin in distribution(t)["Origins"]:
        if render(origin["DomainName"]).startswith(f"<{api_id}>.execute-api."):
            return origin
    raise AssertionError(f"no origin for {api_type}")


def secret_reference(t, value):
    """The secret a `{{resolve:secretsmanager:...}}` header value points at."""
    text = render(value)
    assert text.startswith("{{resolve:secretsmanager:<") and text.endswith("}}"), text
    secret_id = text[len("{{resolve:secretsmanager:<"):].split(">")[0]
    secret = t["Resources"][secret_id]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert "GenerateSecretString" in secret["Properties"] and "SecretString" not in secret["Properties"]
    return secret_id, text


def secret_checker(t):
    """(function id, prefix) of the one function that checks the origin secret: the header-secret
    authorizer (SECRET_*) or, composed, the caller authorizer (ORIGIN_SECRET_*)."""
    (found,) = [
        (k, prefix) for k, v in functions_by_id(t).items() for prefix in ("SECRET_", "ORIGIN_SECRET_")
        if prefix + "SECRETS_MANAGER_ID" in v["Properties"].get("Environment", {}).get("Variables", {})
    ]
    return found


def origin_secret_id(t):
    (secret_id,) = [k for k, v in of_type(t, "AWS::SecretsManager::Secret").items() if render(v["Properties"]["Name"]).endswith("-origin-secret")]
    return secret_id


@pytest.mark.parametrize("case", [c for c in COMBINATIONS if c != "sigv4" and c not in MTLS])
def test_cloudfront_sends_the_secret_header_from_a_dynamic_reference(case):
    t = template(COMBINATIONS[case])
    carrying = ["AWS::ApiGatewayV2::Api"] + (["AWS::ApiGateway::RestApi"] if case.startswith("header-secret") else [])
    fn_id, prefix = secret_checker(t)
    env = environment(t, fn_id)
    for api_type in carrying:
        (header,) = origin_of(t, api_type)["OriginCustomHeaders"]
        assert header["HeaderName"] == env[prefix + "HEADER_NAME"] == "x-origin-verify"
        secret_id, text = secret_reference(t, header["HeaderValue"])
        assert text == f"{{{{resolve:secretsmanager:<{secret_id}>:SecretString::AWSCURRENT:}}}}"
        # ... and the authorizer reads that very secret by its ARN in Secrets Manager (AWSCURRENT
        # and AWSPENDING), never through SSM's reference path (AWSCURRENT only).
        assert env[prefix + "SECRETS_MANAGER_ID"] == {"Ref": secret_id}
        assert prefix + "PARAMETER_NAME" not in env
    assert env[prefix + "CACHE_TTL_SECONDS"] == "300"


def test_api_key_mode_sends_the_key_from_a_dynamic_reference():
    t = template(STACKS["api-key"])
    (header,) = origin_of(t, "AWS::ApiGateway::RestApi")["OriginCustomHeaders"]
    assert header["HeaderName"] == "x-api-key"
    key_secret, _ = secret_reference(t, header["HeaderValue"])
    (key,) = of_type(t, "AWS::ApiGateway::ApiKey").values()
    assert secret_reference(t, key["Properties"]["Value"])[0] == key_secret
    (plan_key,) = of_type(t, "AWS::ApiGateway::UsagePlanKey").values()
    assert plan_key["Properties"]["KeyType"] == "API_KEY"


def test_sigv4_sends_no_secret():
    t = template(STACKS["sigv4"])
    for origin in distribution(t)["Origins"]:
        assert "OriginCustomHeaders" not in origin
    assert not of_type(t, "AWS::SecretsManager::Secret")


# ------------------------------------------------------------------ least privilege

@pytest.mark.parametrize("case", ["header-secret", "header-secret+jwt"])
def test_secret_checker_role_reads_only_the_origin_secret(case):
    """The header-secret authorizer's role, and the composed jwt-authorizer's: the same grants."""
    t = template(COMBINATIONS[case])
    fn_id, prefix = secret_checker(t)
    fn = t["Resources"][fn_id]
    (secret_id,) = of_type(t, "AWS::SecretsManager::Secret")
    assert environment(t, fn_id)[prefix + "SECRETS_MANAGER_ID"] == {"Ref": secret_id}
    role_id = ref(fn["Properties"]["Role"])
    by_service = {}
    for st in role_statements(t, role_id):
        assert st["Effect"] == "Allow"
        for action in as_list(st["Action"]):
            by_service.setdefault(action.split(":")[0], []).append((action, st))
    # No SSM: the grant for /aws/reference/secretsmanager/ went with the reference path.
    assert set(by_service) == {"secretsmanager", "kms", "logs", "xray"}
    ((action, st),) = by_service["secretsmanager"]
    assert action == "secretsmanager:GetSecretValue" and st["Resource"] == {"Ref": secret_id}
    ((action, st),) = by_service["kms"]
    (key_id,) = of_type(t, "AWS::KMS::Key")
    assert action == "kms:Decrypt" and st["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert render(st["Condition"]["StringEquals"]["kms:ViaService"]) == "secretsmanager.<AWS::Region>.amazonaws.com"
    for action, st in by_service["logs"]:
        assert action in {"logs:CreateLogStream", "logs:PutLogEvents"}
        group = t["Resources"][ref(st["Resource"])]
        assert render(group["Properties"]["LogGroupName"]) == f"/aws/lambda/<{next(k for k, v in t['Resources'].items() if v is fn)}>"
    for action, st in by_service["xray"]:
        assert action in {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


# ------------------------------------------------------------------ the edge signer

def test_sigv4_edge_function_is_a_us_east_1_version_on_origin_request():
    t = template(STACKS["sigv4"])
    stacks = stack_artifacts()
    edge_name = f"{STACKS['sigv4']}-edge"
    api_region = region(STACKS["sigv4"])
    # `make infra-synth-cdk` puts the APIs outside us-east-1: the signer must get a stack of its own.
    assert api_region != "us-east-1", "synthesize with -c region=<not us-east-1> to check the edge stack"
    assert region(edge_name) == "us-east-1"
    assert edge_name in stacks[STACKS["sigv4"]]["dependencies"]
    edge = json.loads((OUT / f"{edge_name}.template.json").read_text())

    # Both behaviours associate the ARN CDK reads from us-east-1 at deploy time ...
    dist = distribution(t)
    behaviors = [dist["DefaultCacheBehavior"], *dist["CacheBehaviors"]]
    assert len(behaviors) == 2
    for behavior in behaviors:
        (assoc,) = behavior["LambdaFunctionAssociations"]
        assert assoc["EventType"] == "origin-request" and assoc["IncludeBody"] is True
        reader = t["Resources"][ref(assoc["LambdaFunctionARN"])]
        assert reader["Type"] == "Custom::CrossRegionStringParameterReader"
        assert reader["Properties"]["Region"] == "us-east-1"
        parameter_name = reader["Properties"]["ParameterName"]
    # ... which the edge stack publishes: the numbered version of a Node.js function.
    (param,) = [p for p in of_type(edge, "AWS::SSM::Parameter").values() if p["Properties"]["Name"] == parameter_name]
    version = edge["Resources"][ref(param["Properties"]["Value"])]
    assert version["Type"] == "AWS::Lambda::Version"
    fn = edge["Resources"][ref(version["Properties"]["FunctionName"])]["Properties"]
    assert fn["Runtime"].startswith("nodejs") and fn["Handler"] == "index.handler"
    assert fn.get("Architectures", ["x86_64"]) == ["x86_64"] and "Environment" not in fn
    role = edge["Resources"][ref(fn["Role"])]["Properties"]
    principals = {p for s in role["AssumeRolePolicyDocument"]["Statement"] for p in as_list(s["Principal"]["Service"])}
    assert principals == {"lambda.amazonaws.com", "edgelambda.amazonaws.com"}

    # The API stack lets exactly that role invoke exactly its two APIs.
    (invoke,) = [
        p for p in of_type(t, "AWS::IAM::Policy").values()
        if any("execute-api:Invoke" in as_list(s["Action"]) for s in statements(p["Properties"]["PolicyDocument"]))
    ]
    assert invoke["Properties"]["Roles"] == [role["RoleName"]]
    (st,) = statements(invoke["Properties"]["PolicyDocument"])
    (http_api,) = of_type(t, "AWS::ApiGatewayV2::Api")
    (rest_api,) = of_type(t, "AWS::ApiGateway::RestApi")
    assert [render(r) for r in st["Resource"]] == [
        f"arn:<AWS::Partition>:execute-api:{api_region}:<AWS::AccountId>:<{http_api}>/*",
        f"arn:<AWS::Partition>:execute-api:{api_region}:<AWS::AccountId>:<{rest_api}>/rest/*",
    ]


def origin_secret_grants(t):
    secret_id = origin_secret_id(t)
    (key_id,) = of_type(t, "AWS::KMS::Key")
    return [
        ("ReadTheOriginSecret", "secretsmanager:GetSecretValue", f"<{secret_id}>", None),
        ("DecryptItsKey", "kms:Decrypt", f"<{key_id}.Arn>", {"StringEquals": {"kms:ViaService": "secretsmanager.<AWS::Region>.amazonaws.com"}}),
    ]


def rules_grants(stack):
    return [
        ("ReadTheRulesParameter", "ssm:GetParameter", f"arn:<AWS::Partition>:ssm:{region(stack)}:<AWS::AccountId>:parameter/portcullis/rules", None),
        ("DecryptSecureStringWithTheAwsManagedKey", "kms:Decrypt", f"arn:<AWS::Partition>:kms:{region(stack)}:<AWS::AccountId>:key/*",
         {"StringEquals": {"kms:ViaService": "ssm.<AWS::Region>.amazonaws.com"}}),
    ]


def policy_store_grants():
    """Exactly the three read actions (sorted, as minimizePolicies renders them; BatchGetPolicy
    has no IAM action, GetPolicy authorizes it) on exactly this policy store (no region in its ARN)."""
    return [("ReadThePolicyStore", ["verifiedpermissions:GetPolicy", "verifiedpermissions:GetSchema",
                                    "verifiedpermissions:ListPolicies"],
             f"arn:<AWS::Partition>:verifiedpermissions::<AWS::AccountId>:policy-store/{POLICY_STORE}", None)]


def render_condition(condition):
    return None if condition is None else {op: {k: render(v) for k, v in kv.items()} for op, kv in condition.items()}


@pytest.mark.parametrize("case", [c for c in COMBINATIONS if "+" in c])
def test_caller_authorizer_role_reads_exactly_its_parameters(case):
    """Composed: the origin secret as the header-secret role reads it; request: the rules too."""
    stack = COMBINATIONS[case]
    t = template(stack)
    _, rest = route_authorizers(t)
    fn_id = authorizer_function(t, rest)
    granted = sorted(
        (st.get("Sid"), st["Action"], render(st["Resource"]), render_condition(st.get("Condition")))
        for st in role_statements(t, ref(t["Resources"][fn_id]["Properties"]["Role"]))
        if not any(a.split(":")[0] in {"logs", "xray"} for a in as_list(st["Action"]))
    )
    expected = ((origin_secret_grants(t) if case in COMPOSED else []) + (rules_grants(stack) if "request" in case else [])
                + (policy_store_grants() if "cedar" in case else []))
    assert granted == sorted(expected)


# Every setting of the caller authorizer each stack attaches.
COMMON = {"HTTP_API_RESPONSE_MODE": "iam", "METRICS_NAMESPACE": "portcullis"}
JWT_ENV = {"JWT_ISSUER": "https://issuer.example.com/", "JWT_AUDIENCE": "portcullis", "JWT_ALGORITHMS": "RS256"}
REQUEST_ENV = {"RULES_PARAMETER_NAME": "/portcullis/rules", "API_KEY_HEADER": "x-tenant-key"}
CEDAR_ENV = {**JWT_ENV, "CEDAR_POLICY_STORE_ID": POLICY_STORE, "CEDAR_GROUPS_CLAIM": "cognito:groups", "CEDAR_REFRESH_SECONDS": "300"}


def origin_proof(trust):
    return {
        # The secret's ARN ({"Ref": <the origin secret>}, checked in the test).
        "ORIGIN_SECRET_SECRETS_MANAGER_ID": "<OriginSecret>",
        "ORIGIN_SECRET_HEADER_NAME": "x-origin-verify",
        "ORIGIN_SECRET_CACHE_TTL_SECONDS": "300",
        "TRUST_CLOUDFRONT_VIEWER_HEADERS": trust,
    }


CALLER_ENV = {
    "header-secret+jwt": {**JWT_ENV, **COMMON, **origin_proof("false")},
    "header-secret+cedar": {**CEDAR_ENV, **COMMON, **origin_proof("false")},
    "header-secret+request": {**REQUEST_ENV, **COMMON, **origin_proof("false")},
    "header-secret+request+viewer": {**REQUEST_ENV, **COMMON, **origin_proof("true")},
    "api-key+jwt": {**JWT_ENV, **COMMON},
    "api-key+cedar": {**CEDAR_ENV, **COMMON},
    "api-key+request": {**REQUEST_ENV, **COMMON},
    "origin-mtls+jwt": {**JWT_ENV, **COMMON, "ORIGIN_CERT_SHA256": PINS, "TRUST_CLOUDFRONT_VIEWER_HEADERS": "false"},
    "origin-mtls+cedar": {**CEDAR_ENV, **COMMON, "ORIGIN_CERT_SHA256": PINS, "TRUST_CLOUDFRONT_VIEWER_HEADERS": "false"},
    "origin-mtls+request": {**REQUEST_ENV, **COMMON, "ORIGIN_CERT_SHA256": PINS, "TRUST_CLOUDFRONT_VIEWER_HEADERS": "false"},
}


@pytest.mark.parametrize("case", CALLER_ENV)
def test_caller_authorizer_environment(case):
    """The jwt-authorizer refuses to start without JWT_ISSUER and JWT_AUDIENCE; one settings
    dialect (HTTP_API_RESPONSE_MODE, never the old JWT_HTTP_API_RESPONSE)."""
    t = template(COMBINATIONS[case])
    _, rest = route_authorizers(t)
    env = dict(environment(t, authorizer_function(t, rest)))
    if "ORIGIN_SECRET_SECRETS_MANAGER_ID" in env:
        assert env["ORIGIN_SECRET_SECRETS_MANAGER_ID"] == {"Ref": origin_secret_id(t)}
        env["ORIGIN_SECRET_SECRETS_MANAGER_ID"] = "<OriginSecret>"
    assert env == CALLER_ENV[case]


def rotators(t):
    """The secret-rotator functions of a template (the one Rust function that is no authorizer)."""
    return {k: f for k, f in functions_by_id(t).items()
            if "CLOUDFRONT_DISTRIBUTION_ID" in f["Properties"].get("Environment", {}).get("Variables", {})}


@pytest.mark.parametrize("case", [c for c in COMBINATIONS if c != "sigv4"])
def test_every_authorizer_function_shares_the_dialect(case):
    t = template(COMBINATIONS[case])
    authorizers = [f for k, f in functions_by_id(t).items() if f["Properties"].get("Runtime") == "provided.al2023" and k not in rotators(t)]
    assert authorizers
    for fn in authorizers:
        env = fn["Properties"]["Environment"]["Variables"]
        assert env["METRICS_NAMESPACE"] == "portcullis"
        assert env["HTTP_API_RESPONSE_MODE"] in {"simple", "iam"}
        assert "JWT_HTTP_API_RESPONSE" not in env


# ------------------------------------------------------------------ CloudFront viewer headers

VIEWER_HEADERS = [
    "x-tenant-key", "content-type",
    "CloudFront-Viewer-Address", "CloudFront-Viewer-Country",
    # present only when the distribution has viewer mTLS
    "CloudFront-Viewer-Cert-Present", "CloudFront-Viewer-Cert-Sha256", "CloudFront-Viewer-Cert-Serial-Number",
    "CloudFront-Viewer-Cert-Subject", "CloudFront-Viewer-Cert-Issuer", "CloudFront-Viewer-Cert-Validity",
]
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


@pytest.mark.parametrize("case", COMBINATIONS)
def test_viewer_headers_are_forwarded_only_when_trusted(case):
    t = template(COMBINATIONS[case])
    dist = distribution(t)
    behaviors = [dist["DefaultCacheBehavior"], *dist["CacheBehaviors"]]
    assert len(behaviors) == 2
    policies = of_type(t, "AWS::CloudFront::OriginRequestPolicy")
    if case != "header-secret+request+viewer":
        assert not policies
        assert [b["OriginRequestPolicyId"] for b in behaviors] == [ALL_VIEWER_EXCEPT_HOST] * 2
        return
    (policy_id, policy), = policies.items()
    assert [b["OriginRequestPolicyId"] for b in behaviors] == [{"Ref": policy_id}] * 2
    config = policy["Properties"]["OriginRequestPolicyConfig"]
    # A list (all viewer headers would forward Host, which execute-api refuses) with the tenant
    # key the identity source needs; CloudFront refuses Authorization in such a list.
    assert config["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": VIEWER_HEADERS}
    assert config["CookiesConfig"] == {"CookieBehavior": "all"}
    assert config["QueryStringsConfig"] == {"QueryStringBehavior": "all"}


def test_construct_refuses_combinations_that_cannot_work():
    """Synth-time errors of LockedDownApi (infra/cdk/test/refusals.ts, bundling off)."""
    cdk_dir = Path(__file__).resolve().parents[1] / "cdk"
    out = subprocess.run(["npx", "--no-install", "tsx", "test/refusals.ts"], cwd=cdk_dir, check=True,
                         capture_output=True, text=True, timeout=300)
    refusals = json.loads(out.stdout)
    sigv4 = "callerAuthorizer needs mode header-secret, api-key or origin-mtls: sigv4 routes are AWS_IAM, with no authorizer slot"
    viewer = ("trustCloudFrontViewerHeaders needs mode header-secret (the origin secret proves the headers come from CloudFront) "
              "and the request caller authorizer (tenant CIDR and certificate rules read them)")
    pin = "originMtls.certSha256 needs at least one SHA-256 fingerprint of the DER client certificate, 64 lower-case hex digits without colons"
    rotation_modes = "originSecretRotation needs mode header-secret or api-key: the other modes have no origin secret"
    usage = ("tenantUsagePlans needs the request caller authorizer (its tenants' usageIdentifierKey is the key) "
             "and mode header-secret or origin-mtls (api-key mode keeps CloudFront's key in the header)")
    ws_mtls = ("webSocket needs mode header-secret or api-key: API Gateway offers mutual TLS for REST and HTTP APIs only, "
               "and a WebSocket API cannot share their custom domain")
    assert refusals == {
        "sigv4+jwt": sigv4,
        "sigv4+request": sigv4,
        "header-secret+viewer": viewer,
        "header-secret+jwt+viewer": viewer,
        "api-key+request+viewer": viewer,
        "origin-mtls+request+viewer": viewer,
        "origin-mtls without originMtls": ("mode origin-mtls needs originMtls: the custom domain, its certificate, CloudFront's client "
                                           "certificate, the truststore and the pinned fingerprints"),
        "header-secret+originMtls": "originMtls is for mode origin-mtls only",
        "origin-mtls, client certificate outside us-east-1":
            "originMtls.clientCertificateArn must be an ACM certificate in us-east-1 (CloudFront reads client certificates there only)",
        "origin-mtls, colon fingerprint": pin,
        "origin-mtls, no fingerprint": pin,
        "origin-mtls, https truststore":
            "originMtls.truststoreUri must be s3://bucket/key, not https://portcullis-truststore.s3.amazonaws.com/cloudfront-ca.pem",
        "origin-mtls, no truststore version": "originMtls.truststoreVersion needs the truststore's S3 object version",
        "origin-mtls, upper-case domain": "originMtls.domainName must be a lower-case DNS name (API Gateway custom domains take no upper case)",
        "sigv4+originSecretRotation": rotation_modes,
        "origin-mtls+originSecretRotation": rotation_modes,
        "header-secret, propagation wait under the cache TTL + 30 s": (
            "originSecretRotation.propagationWait must be at least secretCacheTtl + 30 s (330 s): "
            "CloudFront must not send the new value before every authorizer has re-read the secret"),
        "api-key, cache TTL too long for the rotator": (
            "originSecretRotation.propagationWait must be at most 840 s (one step within the rotator's 900 s timeout); "
            "lower secretCacheTtl to 810 s or less"),
        "header-secret, rotation every 36 hours": "originSecretRotation.every must be whole days from 1 to 999 (rate(N days)), not 1 day 12 hours",
        "header-secret, grace over 600 s": "originSecretRotation.grace must be at most 600 s",
        "header-secret, http canary": "originSecretRotation.canaryUrl must be one https:// URL through CloudFront (http:// gets a redirect, never a 403)",
        "sigv4+cedar": sigv4,
        "header-secret, secret header named x-edge-*": "secretHeaderName: letters, digits and hyphens, not starting with x-amz- or x-edge- (CloudFront reserves them for itself)",
        "cedar without audience": "the cedar caller authorizer needs at least one audience (JWT_AUDIENCE)",
        "cedar, policy store id with a slash":
            "the cedar caller authorizer needs policyStoreId, a Verified Permissions policy store id (letters, digits, - and _)",
        "cedar, refresh over a day": "the cedar caller authorizer's refresh must be from 1 s to 1 day (CEDAR_REFRESH_SECONDS)",
        "api-key+request+tenantUsagePlans": usage,
        "header-secret+jwt+tenantUsagePlans": usage,
        "header-secret+tenantUsagePlans": usage,
        "reserved concurrency 0": "authorizerReservedConcurrency must be a whole number of at least 1 (leave it unset for none)",
        "web ACL of a regional scope": ("webAclArn must be a WAFv2 web ACL with scope CLOUDFRONT "
                                        "(arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>)"),
        "allowedSourceIps without the CloudFront acknowledgement": (
            "resourcePolicy.allowedSourceIps refuses CloudFront (behind it the caller is a CloudFront edge, never the viewer) - restrict viewers "
            "with a WAF IP set, or set allowedSourceIpsIncludeCloudFront once the list holds CloudFront's origin-facing ranges"),
        "regional allowedSourceVpces": ("resourcePolicy.allowedSourceVpcs and allowedSourceVpces need endpointType PRIVATE (CloudFront never "
                                        "calls through a VPC endpoint, so a regional API behind it would refuse every request)"),
        "regional deniedSourceVpcs": ("resourcePolicy.deniedSourceVpcs and deniedSourceVpces need endpointType PRIVATE (a regional API is never "
                                      "called through a VPC endpoint, so they would never match)"),
        "private header-secret": ("endpointType PRIVATE needs mode sigv4 (a private REST API is no CloudFront origin, so its methods cannot "
                                  "check CloudFront's secret, key or certificate; sigv4's are AWS_IAM)"),
        "private without vpcEndpointIds": "endpointType PRIVATE needs vpcEndpointIds (the execute-api interface endpoints of the callers' VPCs)",
        "private without an allow list": ("endpointType PRIVATE needs resourcePolicy.allowedSourceVpces or allowedSourceVpcs (otherwise any VPC "
                                          "endpoint of any account could invoke it)"),
        "private deniedSourceIps": ("resourcePolicy.deniedSourceIps needs endpointType REGIONAL (through a VPC endpoint aws:SourceIp is absent, "
                                    "so the list would never match)"),
        "regional vpcEndpointIds": "vpcEndpointIds needs endpointType PRIVATE",
        "origin-mtls+apiDomain": "apiDomain is not for mode origin-mtls (its custom domain is originMtls.domainName)",
        "apiDomain upper case": "apiDomain.domainName must be a lower-case DNS name (API Gateway custom domains take no upper case)",
        "alarm topic of SQS": "alarmTopicArn must be the ARN of an SNS topic",
        "sigv4+webSocket": ("webSocket needs mode header-secret or api-key: the $connect check is a Lambda authorizer, and sigv4's AWS_IAM "
                            "routes have none (the edge signer is not wired for WebSocket upgrades)"),
        "origin-mtls+webSocket": ws_mtls,
        "origin-mtls+jwt+webSocket": ws_mtls,
        "api-key+webSocket": None,
        "header-secret+request+webSocket": None,
        "origin-mtls": None,
        "origin-mtls+jwt": None,
        "origin-mtls+cedar": None,
        "origin-mtls+request+tenantUsagePlans": None,
        "header-secret, reserved concurrency 40": None,
        "header-secret, web ACL": None,
        "header-secret, rotation settings": None,
    }


def test_request_authorizer_stack_requires_the_api_key_too():
    t = template(COMBINATIONS["api-key+request"])
    for method in of_type(t, "AWS::ApiGateway::Method").values():
        assert method["Properties"]["ApiKeyRequired"] is True
        assert method["Properties"]["AuthorizationType"] == "CUSTOM"


# ------------------------------------------------------------------ origin-mtls

@pytest.mark.parametrize("case", MTLS)
def test_origin_mtls_custom_domain_and_mappings(case):
    """One regional mutual TLS custom domain; the REST stage under base path rest, the HTTP API's
    $default stage under the empty mapping key (after the stage exists)."""
    t = template(COMBINATIONS[case])
    (domain_id, domain), = of_type(t, "AWS::ApiGateway::DomainName").items()
    assert not of_type(t, "AWS::ApiGatewayV2::DomainName")
    assert domain["Properties"] == {
        "DomainName": "origin.api.example.com",
        "RegionalCertificateArn": f"arn:aws:acm:{region(COMBINATIONS[case])}:111122223333:certificate/11111111-2222-3333-4444-555555555555",
        "EndpointConfiguration": {"Types": ["REGIONAL"]},
        "SecurityPolicy": "TLS_1_2",
        "MutualTlsAuthentication": {
            "TruststoreUri": "s3://portcullis-truststore/cloudfront-ca.pem",
            "TruststoreVersion": "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        },
    }
    (rest_api,) = of_type(t, "AWS::ApiGateway::RestApi")
    (stage_id, stage), = of_type(t, "AWS::ApiGateway::Stage").items()
    assert stage["Properties"]["StageName"] == "rest"
    (mapping,) = of_type(t, "AWS::ApiGateway::BasePathMapping").values()
    assert mapping["Properties"] == {"BasePath": "rest", "DomainName": {"Ref": domain_id}, "RestApiId": {"Ref": rest_api}, "Stage": {"Ref": stage_id}}
    (http_api,) = of_type(t, "AWS::ApiGatewayV2::Api")
    (http_stage_id, http_stage), = of_type(t, "AWS::ApiGatewayV2::Stage").items()
    assert http_stage["Properties"]["StageName"] == "$default"
    (api_mapping,) = of_type(t, "AWS::ApiGatewayV2::ApiMapping").values()
    assert api_mapping["Properties"] == {"ApiId": {"Ref": http_api}, "DomainName": {"Ref": domain_id}, "Stage": "$default"}
    assert http_stage_id in as_list(api_mapping["DependsOn"])


@pytest.mark.parametrize("case", COMBINATIONS)
def test_origin_mtls_disables_execute_api_and_presents_the_client_certificate(case):
    """origin-mtls: execute-api off on both APIs, both origins the custom domain with CloudFront's
    client certificate (set through an escape hatch: HttpOrigin has no such option). Elsewhere none of it."""
    t = template(COMBINATIONS[case])
    apis = {**of_type(t, "AWS::ApiGatewayV2::Api"), **of_type(t, "AWS::ApiGateway::RestApi")}
    origins = distribution(t)["Origins"]
    assert len(apis) == 2 and len(origins) == 2
    if case in MTLS:
        assert all(api["Properties"]["DisableExecuteApiEndpoint"] is True for api in apis.values())
        (domain_id,) = of_type(t, "AWS::ApiGateway::DomainName")
        for origin in origins:
            assert origin["DomainName"] == {"Ref": domain_id}
            assert origin["CustomOriginConfig"] == {
                "OriginMtlsConfig": {"ClientCertificateArn": CLOUDFRONT_CERT},
                "OriginProtocolPolicy": "https-only",
                "OriginSSLProtocols": ["TLSv1.2"],
            }
            assert "OriginCustomHeaders" not in origin
    else:
        assert not [api for api in apis.values() if "DisableExecuteApiEndpoint" in api["Properties"]]
        assert not of_type(t, "AWS::ApiGateway::DomainName") and not of_type(t, "AWS::ApiGatewayV2::ApiMapping")
        for origin in origins:
            assert "OriginMtlsConfig" not in origin["CustomOriginConfig"]
            assert ".execute-api." in render(origin["DomainName"])


def test_origin_mtls_lockdown_function_pins_and_caches_nothing():
    t = template(STACKS["origin-mtls"])
    http, rest = route_authorizers(t)
    fn_id = authorizer_function(t, http)
    assert authorizer_function(t, rest) == fn_id
    assert environment(t, fn_id) == {"ORIGIN_CERT_SHA256": PINS, "HTTP_API_RESPONSE_MODE": "simple", "METRICS_NAMESPACE": "portcullis"}
    assert "IdentitySource" not in http["Properties"] and "IdentitySource" not in rest["Properties"]
    assert http["Properties"]["AuthorizerResultTtlInSeconds"] == 0 and rest["Properties"]["AuthorizerResultTtlInSeconds"] == 0
    assert http["Properties"]["EnableSimpleResponses"] is True
    assert http["Properties"]["Name"] == rest["Properties"]["Name"] == "origin-mtls"


@pytest.mark.parametrize("case", MTLS)
def test_origin_mtls_reads_no_secret(case):
    """No secret, no key, no origin-secret grant; the request authorizer keeps its rules read only."""
    t = template(COMBINATIONS[case])
    assert not of_type(t, "AWS::SecretsManager::Secret") and not of_type(t, "AWS::KMS::Key")
    _, rest = route_authorizers(t)
    fn_id = authorizer_function(t, rest)
    services = {a.split(":")[0] for st in role_statements(t, ref(t["Resources"][fn_id]["Properties"]["Role"])) for a in as_list(st["Action"])}
    assert services == {"logs", "xray"} | ({"ssm", "kms"} if case.endswith("+request") else set()) | (
        {"verifiedpermissions"} if case.endswith("+cedar") else set())
    assert not [k for k in environment(t, fn_id) if k.startswith(("SECRET_", "ORIGIN_SECRET_"))]


@pytest.mark.parametrize("case", ["origin-mtls+jwt", "origin-mtls+cedar", "origin-mtls+request"])
def test_origin_mtls_composed_caller_takes_both_apis(case):
    t = template(COMBINATIONS[case])
    http, rest = route_authorizers(t)
    assert authorizer_function(t, http) == authorizer_function(t, rest)
    assert len(of_type(t, "AWS::ApiGatewayV2::Authorizer")) == 1 and len(of_type(t, "AWS::ApiGateway::Authorizer")) == 1
    assert environment(t, authorizer_function(t, rest))["ORIGIN_CERT_SHA256"] == PINS
    assert len([f for f in functions_by_id(t).values() if f["Properties"].get("Runtime") == "provided.al2023"]) == 1


def test_origin_mtls_outputs_prove_the_lockdown():
    t = template(STACKS["origin-mtls"])
    (domain_id,) = of_type(t, "AWS::ApiGateway::DomainName")
    outputs = t["Outputs"]
    assert outputs["OriginDomainRegionalName"]["Value"] == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}
    assert outputs["OriginDomainRegionalHostedZoneId"]["Value"] == {"Fn::GetAtt": [domain_id, "RegionalHostedZoneId"]}
    assert render(outputs["DirectOriginUrl"]["Value"]) == f"https://<{domain_id}>/"
    assert "TLS handshake fails without a client certificate" in outputs["DirectOriginUrl"]["Description"]
    for name in ("DirectHttpApiUrl", "DirectRestApiUrl"):
        assert "origin-mtls or apiDomain - the endpoint is disabled" in outputs[name]["Description"]
    for other in ("header-secret", "api-key"):
        assert not [o for o in template(STACKS[other])["Outputs"] if o.startswith(("OriginDomain", "DirectOrigin"))]


# ------------------------------------------------------------------ origin secret rotation

ROTATES = [c for c in COMBINATIONS if c.startswith(("header-secret", "api-key"))]


def stack_metadata(stack):
    """The construct metadata of a stack (cdk-nag acknowledgements among it)."""
    return json.loads((OUT / f"{stack}.metadata.json").read_text())


def rotation_parts(t):
    """(rotator id, rotator, permission, schedule) of a rotating template."""
    ((fn_id, fn),) = rotators(t).items()
    (permission,) = [p for p in of_type(t, "AWS::Lambda::Permission").values() if p["Properties"]["Principal"] == "secretsmanager.amazonaws.com"]
    ((schedule_id, schedule),) = of_type(t, "AWS::SecretsManager::RotationSchedule").items()
    return fn_id, fn, permission, schedule


@pytest.mark.parametrize("case", COMBINATIONS)
def test_secret_rotator_exists_exactly_where_there_is_an_origin_secret(case):
    """header-secret and api-key stacks (any caller authorizer) rotate their origin secret;
    sigv4 and origin-mtls have none - no rotator, invoke permission or schedule."""
    t = template(COMBINATIONS[case])
    rotates = case in ROTATES
    assert len(rotators(t)) == (1 if rotates else 0)
    assert len(of_type(t, "AWS::SecretsManager::RotationSchedule")) == (1 if rotates else 0)
    invokers = [p for p in of_type(t, "AWS::Lambda::Permission").values() if p["Properties"]["Principal"] == "secretsmanager.amazonaws.com"]
    assert len(invokers) == (1 if rotates else 0)
    assert ("SecretRotatorLogGroup" in t["Outputs"]) is rotates
    assert ("OriginSecretArn" in t["Outputs"]) is rotates
    assert "DistributionId" in t["Outputs"]


@pytest.mark.parametrize("case", ROTATES)
def test_secret_rotator_function_and_settings(case):
    t = template(COMBINATIONS[case])
    fn_id, fn, _, _ = rotation_parts(t)
    props = fn["Properties"]
    (dist_id,) = of_type(t, "AWS::CloudFront::Distribution")
    assert props["Environment"]["Variables"] == {
        "CLOUDFRONT_DISTRIBUTION_ID": {"Ref": dist_id},
        "ORIGIN_SECRET_HEADER_NAME": "x-origin-verify",
        # secretCacheTtl (5 minutes) + 30 s
        "PROPAGATION_WAIT_SECONDS": "330",
        "OLD_SECRET_GRACE_SECONDS": "60",
    }
    # Reserved concurrency is opt-in (authorizerReservedConcurrency), the example app leaves it unset.
    assert props["Timeout"] == 900 and "ReservedConcurrentExecutions" not in props
    # Built and run like the authorizers: the same runtime, handler, architecture, tracing.
    authorizer = t["Resources"][authorizer_function(t, route_authorizers(t)[0])]
    for key in ("Runtime", "Handler", "Architectures", "TracingConfig", "LoggingConfig", "MemorySize"):
        assert props.get(key) == authorizer["Properties"].get(key), key
    assert props["Runtime"] == "provided.al2023" and props["Handler"] == "bootstrap"
    # The header it switches is the one CloudFront sends and the authorizer checks.
    checker, prefix = secret_checker(t)
    assert environment(t, checker)[prefix + "HEADER_NAME"] == props["Environment"]["Variables"]["ORIGIN_SECRET_HEADER_NAME"]
    (group,) = [g for g in of_type(t, "AWS::Logs::LogGroup").values() if render(g["Properties"].get("LogGroupName", "")) == f"/aws/lambda/<{fn_id}>"]
    assert group["Properties"]["RetentionInDays"] == 365
    assert render(t["Outputs"]["SecretRotatorLogGroup"]["Value"]) == f"<{next(k for k, g in t['Resources'].items() if g is group)}>"


@pytest.mark.parametrize("case", ROTATES)
def test_secret_rotator_role_is_least_privilege(case):
    """The rotation contract on the one secret, its key via Secrets Manager, this one
    distribution; a wildcard resource only where the action has none (GetRandomPassword, X-Ray)."""
    t = template(COMBINATIONS[case])
    fn_id, fn, _, _ = rotation_parts(t)
    secret_id = origin_secret_id(t)
    (key_id,) = of_type(t, "AWS::KMS::Key")
    (dist_id,) = of_type(t, "AWS::CloudFront::Distribution")
    (group_id,) = [k for k, g in of_type(t, "AWS::Logs::LogGroup").items() if render(g["Properties"].get("LogGroupName", "")) == f"/aws/lambda/<{fn_id}>"]
    granted = set()
    for st in role_statements(t, ref(fn["Properties"]["Role"])):
        assert st["Effect"] == "Allow" and "NotAction" not in st and "NotResource" not in st
        for action in as_list(st["Action"]):
            for resource in as_list(st["Resource"]):
                granted.add((action, render(resource)))
                if action.startswith("kms:"):
                    assert render_condition(st["Condition"]) == {"StringEquals": {"kms:ViaService": "secretsmanager.<AWS::Region>.amazonaws.com"}}
    distribution = f"arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/<{dist_id}>"
    assert granted == {
        ("secretsmanager:DescribeSecret", f"<{secret_id}>"),
        ("secretsmanager:GetSecretValue", f"<{secret_id}>"),
        ("secretsmanager:PutSecretValue", f"<{secret_id}>"),
        ("secretsmanager:UpdateSecretVersionStage", f"<{secret_id}>"),
        ("secretsmanager:GetRandomPassword", "*"),
        ("kms:Decrypt", f"<{key_id}.Arn>"),
        ("kms:GenerateDataKey", f"<{key_id}.Arn>"),
        ("cloudfront:GetDistribution", distribution),
        ("cloudfront:GetDistributionConfig", distribution),
        ("cloudfront:UpdateDistribution", distribution),
        # What every function of the stack has: its own log group, X-Ray.
        ("logs:CreateLogStream", f"<{group_id}.Arn>"),
        ("logs:PutLogEvents", f"<{group_id}.Arn>"),
        ("xray:PutTraceSegments", "*"),
        ("xray:PutTelemetryRecords", "*"),
    }


@pytest.mark.parametrize("case", ROTATES)
def test_only_secrets_manager_invokes_the_rotator_for_this_secret(case):
    t = template(COMBINATIONS[case])
    fn_id, _, permission, _ = rotation_parts(t)
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Ref": fn_id},
        "Principal": "secretsmanager.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"},
        "SourceArn": {"Ref": origin_secret_id(t)},
    }
    others = [p for p in of_type(t, "AWS::Lambda::Permission").values() if p is not permission and ref(p["Properties"]["FunctionName"]) == fn_id]
    assert others == []


@pytest.mark.parametrize("case", ROTATES)
def test_origin_secret_rotation_schedule(case):
    t = template(COMBINATIONS[case])
    fn_id, _, permission, schedule = rotation_parts(t)
    assert schedule["Properties"] == {
        "SecretId": {"Ref": origin_secret_id(t)},
        "RotationLambdaARN": {"Fn::GetAtt": [fn_id, "Arn"]},
        "RotationRules": {"ScheduleExpression": "rate(30 days)"},
        # Creating or changing the schedule rotates nothing; the first rotation comes on schedule.
        "RotateImmediatelyOnUpdate": False,
    }
    # Secrets Manager checks it may invoke the function when the schedule is created.
    (permission_id,) = [k for k, v in t["Resources"].items() if v is permission]
    assert permission_id in as_list(schedule["DependsOn"])


@pytest.mark.parametrize("case", ROTATES)
def test_origin_secret_value_is_one_line_the_authorizers_accept(case):
    """At least 32 visible ASCII characters, no comma, space or newline: letters and digits."""
    t = template(COMBINATIONS[case])
    generated = t["Resources"][origin_secret_id(t)]["Properties"]["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32
    assert generated["ExcludePunctuation"] is True
    assert generated.get("IncludeSpace", False) is False
    assert "SecretStringTemplate" not in generated and "GenerateStringKey" not in generated


@pytest.mark.parametrize("case", ROTATES)
def test_origin_secret_needs_no_rotation_suppression(case):
    """It rotates now: cdk-nag's AwsSolutions-SMG4 holds without an acknowledgement (the API key
    secret of api-key mode keeps its own, explained one)."""
    stack = COMBINATIONS[case]
    acknowledged = {path: e["data"] for path, entries in stack_metadata(stack).items() for e in entries if e["type"] == "aws:cdk:acknowledged-rules"}
    smg4 = {path for path, data in acknowledged.items() if any("AwsSolutions-SMG4" in k for k in data)}
    assert smg4 == ({f"/{stack}/Api/ApiKeySecret"} if case.startswith("api-key") else set())
    reasons = acknowledged[f"/{stack}/Api/SecretRotatorRole"]
    assert "GetRandomPassword" in reasons["Annotation::AwsSolutions-IAM5[Resource::*]"]


def test_no_version_stage_and_no_ssm_reference_left():
    """The manual label switching (originSecretVersionStage) and SSM's reference path are gone."""
    cdk = Path(__file__).resolve().parents[1] / "cdk"
    for path in [*(cdk / "lib").glob("*.ts"), *(cdk / "bin").glob("*.ts")]:
        text = path.read_text()
        assert "originSecretVersionStage" not in text and "/aws/reference/secretsmanager" not in text, path
    for stack in COMBINATIONS.values():
        text = json.dumps(template(stack))
        assert "/aws/reference/secretsmanager" not in text, stack


# ------------------------------------------------------------------ reserved concurrency, tenant usage plans

@pytest.mark.parametrize("case", COMBINATIONS)
def test_no_reserved_concurrency_by_default(case):
    """Reserving 100 per authorizer and 10 for the backend fails on accounts with a low quota."""
    t = template(COMBINATIONS[case])
    for name, fn in functions_by_id(t).items():
        assert "ReservedConcurrentExecutions" not in fn["Properties"], name


def test_tenant_usage_plans_take_the_key_from_the_request_authorizer():
    t = template("PortcullisHeaderSecretRequestUsage")
    ((api_id, api),) = of_type(t, "AWS::ApiGateway::RestApi").items()
    assert api["Properties"]["ApiKeySourceType"] == "AUTHORIZER"
    _, rest = route_authorizers(t)
    assert "RULES_PARAMETER_NAME" in environment(t, authorizer_function(t, rest))
    for method in of_type(t, "AWS::ApiGateway::Method").values():
        assert method["Properties"]["ApiKeyRequired"] is True
    ((plan_id, plan),) = of_type(t, "AWS::ApiGateway::UsagePlan").items()
    assert [ref(s["ApiId"]) for s in plan["Properties"]["ApiStages"]] == [api_id]
    assert plan["Properties"]["Throttle"] == {"BurstLimit": 50, "RateLimit": 20}
    assert not of_type(t, "AWS::ApiGateway::ApiKey")
    assert t["Outputs"]["TenantUsagePlanId"]["Value"] == {"Ref": plan_id}


@pytest.mark.parametrize("case", COMBINATIONS)
def test_without_tenant_usage_plans_the_key_stays_in_the_header(case):
    t = template(COMBINATIONS[case])
    (api,) = of_type(t, "AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["ApiKeySourceType"] == "HEADER"
    assert "TenantUsagePlanId" not in t["Outputs"]


@pytest.mark.parametrize("case", COMBINATIONS)
def test_outputs_prove_the_lockdown(case):
    """The distribution's id and domain, the API URLs, and the two curl commands of the proof."""
    t = template(COMBINATIONS[case])
    (dist,) = of_type(t, "AWS::CloudFront::Distribution")
    (http_api,) = of_type(t, "AWS::ApiGatewayV2::Api")
    (rest_api,) = of_type(t, "AWS::ApiGateway::RestApi")
    out = {name: render(t["Outputs"][name]["Value"]) for name in ("DistributionId", "CloudFrontUrl", "CheckThroughCloudFront", "CheckDirectRefused")}
    assert out["DistributionId"] == f"<{dist}>"
    assert out["CloudFrontUrl"] == f"https://<{dist}.DomainName>"
    assert out["CheckThroughCloudFront"] == f"curl -s -o /dev/null -w '%{{http_code}} ' https://<{dist}.DomainName>/ https://<{dist}.DomainName>/rest/"
    execute_api = (f"https://<{http_api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/ "
                   f"https://<{rest_api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/rest/")
    if case in MTLS:
        # What a direct caller would try: the custom domain (its TLS handshake fails), then the disabled execute-api.
        (domain,) = of_type(t, "AWS::ApiGateway::DomainName")
        assert out["CheckDirectRefused"] == f"curl -s -o /dev/null -w '%{{http_code}} ' https://<{domain}>/ https://<{domain}>/rest/ " + execute_api
    else:
        assert out["CheckDirectRefused"] == "curl -s -o /dev/null -w '%{http_code} ' " + execute_api


@pytest.mark.parametrize("case", COMBINATIONS)
def test_no_web_acl_unless_given(case):
    assert "WebACLId" not in distribution(template(COMBINATIONS[case]))


DENY_QUERY = """SELECT SUM(Decisions) FROM SCHEMA("portcullis", decision, "function") WHERE decision = 'deny'"""
ERROR_QUERY = """SELECT SUM(Decisions) FROM SCHEMA("portcullis", decision, "function") WHERE decision = 'error'"""


@pytest.mark.parametrize("case", COMBINATIONS)
def test_alarms_on_denies_and_errors(case):
    """As in the SAM stack: Metrics Insights over every authorizer's Decisions metric."""
    stack = COMBINATIONS[case]
    t = template(stack)
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in of_type(t, "AWS::CloudWatch::Alarm").values()}
    assert {name: (p["Metrics"], p["Threshold"]) for name, p in alarms.items()} == {
        f"{stack}-denies": ([{"Id": "denies", "Expression": DENY_QUERY, "Period": 300, "ReturnData": True}], 100),
        f"{stack}-errors": ([{"Id": "errors", "Expression": ERROR_QUERY, "Period": 300, "ReturnData": True}], 1),
    }
    for p in alarms.values():
        assert (p["ComparisonOperator"], p["EvaluationPeriods"], p["TreatMissingData"]) == ("GreaterThanOrEqualToThreshold", 1, "notBreaching")
    ((dashboard_id, dashboard),) = of_type(t, "AWS::CloudWatch::Dashboard").items()
    assert dashboard["Properties"]["DashboardName"] == f"{stack}-decisions"
    assert t["Outputs"]["DecisionsDashboardName"]["Value"] == {"Ref": dashboard_id}


# ------------------------------------------------------------------ the origin secret header stops at the HTTP API

@pytest.mark.parametrize("case", COMBINATIONS)
def test_http_api_removes_the_origin_secret_header_before_the_backend(case):
    """HTTP API parameter mapping on the Lambda integration (applied after the authorizer): the
    header CloudFront sends and the authorizer checks is removed, where there is one."""
    t = template(COMBINATIONS[case])
    (integration,) = of_type(t, "AWS::ApiGatewayV2::Integration").values()
    props = integration["Properties"]
    assert props["IntegrationType"] == "AWS_PROXY" and "IntegrationSubtype" not in props
    if case.startswith(("header-secret", "api-key")):
        fn_id, prefix = secret_checker(t)
        (header,) = origin_of(t, "AWS::ApiGatewayV2::Api")["OriginCustomHeaders"]
        assert header["HeaderName"] == environment(t, fn_id)[prefix + "HEADER_NAME"] == "x-origin-verify"
        assert props["RequestParameters"] == {"remove:header.x-origin-verify": ""}
    else:
        assert "RequestParameters" not in props


# ------------------------------------------------------------------ props the example app does not pass (infra/cdk/test/cases.ts)

@pytest.fixture(scope="module")
def cases():
    cdk_dir = Path(__file__).resolve().parents[1] / "cdk"
    out = subprocess.run(["npx", "--no-install", "tsx", "test/cases.ts"], cwd=cdk_dir, check=True,
                         capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout)


CLOUDFRONT_RANGES = ["130.176.0.0/17", "15.158.0.0/16"]
VPCE = "vpce-0a1b2c3d4e5f60718"
ACCOUNT_ROOT = {"AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]}}


def invoke(effect, sid, principal="*", condition=None):
    st = {"Action": "execute-api:Invoke", "Effect": effect, "Principal": principal, "Resource": "execute-api:/*", "Sid": sid}
    return {**st, "Condition": condition} if condition else st


def rest_api(t):
    ((api_id, api),) = of_type(t, "AWS::ApiGateway::RestApi").items()
    return api_id, api["Properties"]


@pytest.mark.parametrize("case", COMBINATIONS)
def test_no_resource_policy_and_a_regional_api_by_default(case):
    _, props = rest_api(template(COMBINATIONS[case]))
    assert "Policy" not in props
    assert props["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_regional_resource_policy_and_its_warning(cases):
    case = cases["header-secret+policy+alarms"]
    _, props = rest_api(case["template"])
    assert props["Policy"] == {"Version": "2012-10-17", "Statement": [
        invoke("Allow", "Invoke"),
        invoke("Deny", "DenyOutsideAllowedSourceIps", condition={"NotIpAddress": {"aws:SourceIp": CLOUDFRONT_RANGES}}),
        invoke("Deny", "DenyDeniedSourceIps", condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}),
    ]}
    assert props["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    # The allow list of IPs is accepted on the caller's word, with a synth warning.
    assert [w for w in case["warnings"] if "allowedSourceIps must keep every CloudFront origin-facing range" in w]


def test_sigv4_resource_policy_allows_this_account_only(cases):
    _, props = rest_api(cases["sigv4+policy"]["template"])
    assert props["Policy"]["Statement"] == [
        invoke("Allow", "Invoke", principal=ACCOUNT_ROOT),
        invoke("Deny", "DenyDeniedSourceIps", condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}),
    ]


def deployment_id(t):
    (stage,) = of_type(t, "AWS::ApiGateway::Stage").values()
    return ref(stage["Properties"]["DeploymentId"])


def test_a_resource_policy_makes_a_new_deployment(cases):
    """A REST API applies a changed policy only with a new deployment: the policy joins the
    deployment's logical id, so the same stack with and without it has two different ones."""
    with_policy = deployment_id(cases["sigv4+policy"]["template"])
    without = deployment_id(cases["sigv4+domain"]["template"])
    assert with_policy != without
    assert with_policy.startswith("ApiRestApiDeployment") and without.startswith("ApiRestApiDeployment")


def test_private_rest_api_is_bound_to_its_vpc_endpoints_and_leaves_cloudfront(cases):
    t = cases["sigv4+private"]["template"]
    api_id, props = rest_api(t)
    assert props["EndpointConfiguration"] == {"Types": ["PRIVATE"], "VpcEndpointIds": [VPCE]}
    assert props["Policy"]["Statement"] == [
        invoke("Allow", "Invoke", principal=ACCOUNT_ROOT),
        invoke("Deny", "DenyDeniedSourceVpcs", condition={"StringEquals": {"aws:SourceVpc": ["vpc-0bad0bad0bad0bad0"]}}),
        invoke("Deny", "DenyOutsideAllowedSourceVpces", condition={"StringNotEquals": {"aws:SourceVpce": [VPCE]}}),
    ]
    for method in of_type(t, "AWS::ApiGateway::Method").values():
        assert method["Properties"]["AuthorizationType"] == "AWS_IAM"
    dist = distribution(t)
    (http_api,) = of_type(t, "AWS::ApiGatewayV2::Api")
    assert [render(o["DomainName"]).split(".")[0] for o in dist["Origins"]] == [f"<{http_api}>"]
    assert "CacheBehaviors" not in dist
    (invoke_policy,) = [p for p in of_type(t, "AWS::IAM::Policy").values()
                        if any("execute-api:Invoke" in as_list(s["Action"]) for s in statements(p["Properties"]["PolicyDocument"]))]
    (st,) = statements(invoke_policy["Properties"]["PolicyDocument"])
    assert [render(r) for r in as_list(st["Resource"])] == [f"arn:<AWS::Partition>:execute-api:eu-west-1:<AWS::AccountId>:<{http_api}>/*"]
    assert render(t["Outputs"]["RestApiUrl"]["Value"]) == f"https://<{api_id}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/rest/"
    assert render(t["Outputs"]["CheckThroughCloudFront"]["Value"]).endswith(".DomainName>/")


@pytest.mark.parametrize("case", ["header-secret+domain", "api-key+jwt+domain", "sigv4+domain"])
def test_api_domain_is_the_shared_regional_domain_without_mutual_tls(cases, case):
    t = cases[case]["template"]
    ((domain_id, domain),) = of_type(t, "AWS::ApiGateway::DomainName").items()
    assert domain["Properties"] == {
        "DomainName": "api.example.com",
        "EndpointConfiguration": {"Types": ["REGIONAL"]},
        "RegionalCertificateArn": "arn:aws:acm:eu-west-1:111122223333:certificate/11111111-2222-3333-4444-555555555555",
        "SecurityPolicy": "TLS_1_2",
    }
    api_id, props = rest_api(t)
    (mapping,) = of_type(t, "AWS::ApiGateway::BasePathMapping").values()
    assert mapping["Properties"]["BasePath"] == "rest" and mapping["Properties"]["RestApiId"] == {"Ref": api_id}
    (http_api,) = of_type(t, "AWS::ApiGatewayV2::Api")
    (api_mapping,) = of_type(t, "AWS::ApiGatewayV2::ApiMapping").values()
    assert api_mapping["Properties"] == {"ApiId": {"Ref": http_api}, "DomainName": {"Ref": domain_id}, "Stage": "$default"}
    assert props["DisableExecuteApiEndpoint"] is True
    assert of_type(t, "AWS::ApiGatewayV2::Api")[http_api]["Properties"]["DisableExecuteApiEndpoint"] is True
    origins = distribution(t)["Origins"]
    assert len(origins) == 2
    for origin in origins:
        assert origin["DomainName"] == {"Ref": domain_id}
        assert "OriginMtlsConfig" not in origin["CustomOriginConfig"]
    headers = [sorted(h["HeaderName"] for h in o.get("OriginCustomHeaders", [])) for o in origins]
    if case == "sigv4+domain":
        # The signer cannot read the region from a custom domain's name.
        assert headers == [["x-portcullis-region"], ["x-portcullis-region"]]
        assert all(h["HeaderValue"] == {"Ref": "AWS::Region"} for o in origins for h in o["OriginCustomHeaders"])
    elif case == "header-secret+domain":
        assert headers == [["x-origin-verify"], ["x-origin-verify"]]
    else:
        assert headers == [["x-origin-verify"], ["x-api-key"]]
    assert render(t["Outputs"]["DirectOriginUrl"]["Value"]) == f"https://<{domain_id}>/"
    assert render(t["Outputs"]["CheckDirectRefused"]["Value"]) == (
        f"curl -s -o /dev/null -w '%{{http_code}} ' https://<{domain_id}>/ https://<{domain_id}>/rest/ "
        f"https://<{http_api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/ https://<{api_id}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/rest/")


@pytest.mark.parametrize("case", COMBINATIONS)
def test_alarms_notify_nobody_by_default(case):
    for alarm in of_type(template(COMBINATIONS[case]), "AWS::CloudWatch::Alarm").values():
        assert "AlarmActions" not in alarm["Properties"] and "OKActions" not in alarm["Properties"]


def test_alarms_notify_the_topic_on_alarm_and_ok(cases):
    alarms = of_type(cases["header-secret+policy+alarms"]["template"], "AWS::CloudWatch::Alarm")
    assert len(alarms) == 2
    for alarm in alarms.values():
        topic = ["arn:aws:sns:eu-west-1:111122223333:portcullis-alarms"]
        assert alarm["Properties"]["AlarmActions"] == topic and alarm["Properties"]["OKActions"] == topic


@pytest.mark.parametrize("case, limit", [("edge-web-acl", 2000), ("edge-web-acl+rate", 500)])
def test_edge_web_acl_matches_the_sam_edge_stack(cases, case, limit):
    """The same rules, priorities and actions as infra/sam/edge.yaml's WebAcl (CreateWebAcl=true)."""
    ((_, acl),) = of_type(cases[case]["template"], "AWS::WAFv2::WebACL").items()
    props = acl["Properties"]
    assert props["Scope"] == "CLOUDFRONT" and props["DefaultAction"] == {"Allow": {}}
    assert props["Name"] == "PortcullisEdgeWebAcl-web-acl"
    assert props["VisibilityConfig"] == {"CloudWatchMetricsEnabled": True, "MetricName": "PortcullisEdgeWebAcl-web-acl", "SampledRequestsEnabled": True}
    managed = lambda name: {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}}  # noqa: E731
    assert [(r["Priority"], r["Name"], r["Statement"]) for r in props["Rules"]] == [
        (0, "aws-common", managed("AWSManagedRulesCommonRuleSet")),
        (1, "aws-known-bad-inputs", managed("AWSManagedRulesKnownBadInputsRuleSet")),
        (2, "aws-ip-reputation", managed("AWSManagedRulesAmazonIpReputationList")),
        (3, "rate-per-ip", {"RateBasedStatement": {"Limit": limit, "AggregateKeyType": "IP"}}),
    ]
    assert [r.get("OverrideAction") for r in props["Rules"]] == [{"None": {}}] * 3 + [None]
    assert props["Rules"][3]["Action"] == {"Block": {}}
    for rule in props["Rules"]:
        assert rule["VisibilityConfig"] == {"CloudWatchMetricsEnabled": True, "MetricName": rule["Name"], "SampledRequestsEnabled": True}


# ------------------------------------------------------------------ the WebSocket API (webSocket: true; infra/cdk/test/cases.ts)

# The $connect authorizer, written out by hand as in the SAM tests: (name, binary, identity sources).
WS_AUTHORIZER = {
    "header-secret+ws": ("header-secret", "header-secret", ["route.request.header.x-origin-verify"]),
    "header-secret+jwt+ws": ("jwt", "jwt", ["route.request.header.x-origin-verify", "route.request.querystring.access_token"]),
    "header-secret+cedar+ws": ("cedar", "cedar", ["route.request.header.x-origin-verify", "route.request.querystring.access_token"]),
    "header-secret+request+viewer+ws": ("request", "request", ["route.request.header.x-origin-verify", "route.request.header.x-tenant-key",
                                                               "route.request.header.CloudFront-Viewer-Address"]),
    # api-key mode: the HTTP API's header secret guards $connect (the caller runs on REST only).
    "api-key+jwt+ws": ("header-secret", "header-secret", ["route.request.header.x-origin-verify"]),
    # apiDomain: the WebSocket API keeps execute-api; a renamed secret header.
    "header-secret+ws+domain": ("header-secret", "header-secret", ["route.request.header.x-cf-proof"]),
}
WS_FORWARDED = {
    "header-secret+request+viewer+ws": ["x-tenant-key", "CloudFront-Viewer-Address", "CloudFront-Viewer-Country"],
}
UPGRADE = ("curl -s -o /dev/null -m 5 -w '%{http_code} ' --http1.1 -H 'Connection: Upgrade' -H 'Upgrade: websocket' "
           "-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: cG9ydGN1bGxpcy1wcm9iZQ==' ")


def ws_parts(t):
    (api_id,) = [k for k, v in of_type(t, "AWS::ApiGatewayV2::Api").items() if v["Properties"]["ProtocolType"] == "WEBSOCKET"]
    on_api = lambda resource_type: {k: v for k, v in of_type(t, resource_type).items() if ref(v["Properties"]["ApiId"]) == api_id}  # noqa: E731
    return api_id, on_api


def http_backend(t, ws_api_id):
    """The function the HTTP API's integration invokes."""
    (integration,) = [v for v in of_type(t, "AWS::ApiGatewayV2::Integration").values() if ref(v["Properties"]["ApiId"]) != ws_api_id]
    return ref(integration["Properties"]["IntegrationUri"])


def binary_of(t, function_id):
    """Which authorizer binary a function is, by the setting only that one has."""
    env = environment(t, function_id)
    for binary in ("cedar", "jwt", "request", "header-secret"):
        if SETTING_OF[binary] in env:
            return binary
    raise AssertionError(function_id)


@pytest.mark.parametrize("case", COMBINATIONS)
def test_no_websocket_api_by_default(case):
    t = template(COMBINATIONS[case])
    assert [v["Properties"]["ProtocolType"] for v in of_type(t, "AWS::ApiGatewayV2::Api").values()] == ["HTTP"]
    assert not {k for k in t.get("Outputs", {}) if "WebSocket" in k}
    assert not [f for f in functions_by_id(t).values() if "JWT_TOKEN_SOURCES" in f["Properties"].get("Environment", {}).get("Variables", {})]


@pytest.mark.parametrize("case", WS_AUTHORIZER)
def test_websocket_routes_and_connect_authorizer(cases, case):
    t = cases[case]["template"]
    api_id, on_api = ws_parts(t)
    assert t["Resources"][api_id]["Properties"]["RouteSelectionExpression"] == "$request.body.action"
    (integration_id, integration), = on_api("AWS::ApiGatewayV2::Integration").items()
    assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
    # The HTTP API's backend, through its invocation URI.
    assert authorizer_function(t, {"Properties": {"AuthorizerUri": integration["Properties"]["IntegrationUri"]}}) == http_backend(t, api_id)
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in on_api("AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    for route in routes.values():
        assert render(route["Target"]) == f"integrations/<{integration_id}>"
    (authorizer_id, authorizer), = on_api("AWS::ApiGatewayV2::Authorizer").items()
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM" and ref(routes["$connect"]["AuthorizerId"]) == authorizer_id
    for key in ("$disconnect", "$default"):
        assert routes[key]["AuthorizationType"] == "NONE" and "AuthorizerId" not in routes[key]
    name, binary, identity = WS_AUTHORIZER[case]
    props = authorizer["Properties"]
    assert props["Name"] == name and props["AuthorizerType"] == "REQUEST" and props["IdentitySource"] == identity
    assert not {"AuthorizerResultTtlInSeconds", "AuthorizerPayloadFormatVersion", "EnableSimpleResponses"} & set(props)
    function = authorizer_function(t, authorizer)
    assert binary_of(t, function) == binary
    # The function that guards the HTTP API's route guards $connect.
    (http_route,) = [r for r in of_type(t, "AWS::ApiGatewayV2::Route").values() if r["Properties"]["ApiId"] != {"Ref": api_id}]
    assert authorizer_function(t, t["Resources"][ref(http_route["Properties"]["AuthorizerId"])]) == function
    env = environment(t, function)
    if binary in ("jwt", "cedar"):
        assert env["JWT_TOKEN_SOURCES"] == "header:authorization,query:access_token"
    else:
        assert "JWT_TOKEN_SOURCES" not in env


@pytest.mark.parametrize("case", WS_AUTHORIZER)
def test_websocket_invoke_permissions_name_this_api(cases, case):
    t = cases[case]["template"]
    api_id, on_api = ws_parts(t)
    (authorizer_id, authorizer), = on_api("AWS::ApiGatewayV2::Authorizer").items()
    prefix = "arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
    granted = {render(p["Properties"]["SourceArn"]): ref(p["Properties"]["FunctionName"]) for p in of_type(t, "AWS::Lambda::Permission").values()
               if f"<{api_id}>" in render(p["Properties"].get("SourceArn", ""))}
    assert granted == {prefix + f"<{api_id}>/*": http_backend(t, api_id),
                       prefix + f"<{api_id}>/authorizers/<{authorizer_id}>": authorizer_function(t, authorizer)}


@pytest.mark.parametrize("case", WS_AUTHORIZER)
def test_websocket_stage_and_cloudfront_behaviour(cases, case):
    t = cases[case]["template"]
    api_id, on_api = ws_parts(t)
    (stage,) = on_api("AWS::ApiGatewayV2::Stage").values()
    assert stage["Properties"]["StageName"] == "ws" and stage["Properties"]["AutoDeploy"] is True
    dist = distribution(t)
    (behavior,) = [b for b in dist["CacheBehaviors"] if b["PathPattern"] == "/ws"]
    # The path is forwarded unchanged: /ws is the stage ws.
    assert behavior["PathPattern"] == "/" + stage["Properties"]["StageName"]
    assert behavior["AllowedMethods"] == ["GET", "HEAD"] and behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert "LambdaFunctionAssociations" not in behavior
    (origin,) = [o for o in dist["Origins"] if o["Id"] == behavior["TargetOriginId"]]
    assert render(origin["DomainName"]) == f"<{api_id}>.execute-api.<AWS::Region>.<AWS::URLSuffix>"
    assert "OriginPath" not in origin
    (header,) = origin["OriginCustomHeaders"]
    assert f"route.request.header.{header['HeaderName']}" == WS_AUTHORIZER[case][2][0]
    assert secret_reference(t, header["HeaderValue"])
    policy = t["Resources"][ref(behavior["OriginRequestPolicyId"])]["Properties"]["OriginRequestPolicyConfig"]
    assert policy["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": [
        "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", *WS_FORWARDED.get(case, [])]}
    assert policy["QueryStringsConfig"] == {"QueryStringBehavior": "all"}


@pytest.mark.parametrize("case", WS_AUTHORIZER)
def test_websocket_outputs_prove_the_lockdown(cases, case):
    t = cases[case]["template"]
    api_id, _ = ws_parts(t)
    (dist_id,) = of_type(t, "AWS::CloudFront::Distribution")
    out = {k: render(v["Value"]) for k, v in t["Outputs"].items() if "WebSocket" in k}
    direct = f"<{api_id}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/ws"
    assert out["WebSocketUrl"] == f"wss://<{dist_id}.DomainName>/ws"
    assert out["DirectWebSocketUrl"] == f"wss://{direct}"
    assert out["CheckWebSocketThroughCloudFront"] == UPGRADE + f"https://<{dist_id}.DomainName>/ws"
    assert out["CheckWebSocketDirectRefused"] == UPGRADE + f"https://{direct}"
