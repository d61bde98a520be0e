"""The wiring of infra/sam: asserted on the template as CloudFormation sees it after the SAM
transform, for every combination of lock-down mode, caller authorizer and API type."""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from cfn import REST_API_TYPES, SAM_DIR, Resolved, as_list, load_yaml, ref_target, rest_api_revision, sam_transform, statements

SIGNER_VERSION = "arn:aws:lambda:us-east-1:123456789012:function:portcullis-edge-origin-signer:7"
# CloudFront sends AWSCURRENT; the secret-rotator switches the header itself during a rotation.
DYNAMIC_ORIGIN_SECRET = "{{resolve:secretsmanager:${OriginSecret}:SecretString::AWSCURRENT}}"

# The authorizers read the secret in Secrets Manager by its ARN (AWSCURRENT and AWSPENDING).
ORIGIN_SECRET_ARN = {"Ref": "OriginSecret"}
JWT = {"CallerAuthorizer": "jwt", "JwtIssuer": "https://issuer.example.com/", "JwtAudience": "orders-api"}
REQUEST = {"CallerAuthorizer": "request", "RulesParameterName": "/portcullis/rules"}
POLICY_STORE = "PSEXAMPLEabcdefg111111"
# cedar: the jwt authorizer's identity settings plus a Verified Permissions policy store.
CEDAR = {**JWT, "CallerAuthorizer": "cedar", "PolicyStoreId": POLICY_STORE}
VIEWER = {"TrustCloudFrontViewerHeaders": "true"}
# origin-mtls: the custom domain, its certificates and truststore, and the pinned fingerprints
# (old and new, as during a rotation).
CLOUDFRONT_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
DOMAIN_CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
PINS = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08,60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
MTLS = {
    "LockdownMode": "origin-mtls",
    "OriginDomainName": "origin.api.example.com",
    "OriginDomainCertificateArn": DOMAIN_CERT,
    "OriginClientCertificateArn": CLOUDFRONT_CERT,
    "OriginTruststoreUri": "s3://portcullis-truststore/cloudfront-ca.pem",
    "OriginTruststoreVersion": "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
    "OriginCertSha256": PINS,
}

# (id, parameter values) - every lock-down mode with every caller authorizer it takes, and the
# composed request authorizer with CloudFront's viewer headers. Each case wires both APIs.
CASES = {
    "header-secret": {"LockdownMode": "header-secret"},
    "header-secret+jwt": {"LockdownMode": "header-secret", **JWT},
    "header-secret+cedar": {"LockdownMode": "header-secret", **CEDAR},
    "header-secret+request": {"LockdownMode": "header-secret", **REQUEST},
    "header-secret+request+viewer": {"LockdownMode": "header-secret", **REQUEST, **VIEWER},
    "api-key": {"LockdownMode": "api-key"},
    "api-key+jwt": {"LockdownMode": "api-key", **JWT},
    "api-key+cedar": {"LockdownMode": "api-key", **CEDAR},
    "api-key+request": {"LockdownMode": "api-key", **REQUEST},
    "sigv4": {"LockdownMode": "sigv4", "OriginSignerVersionArn": SIGNER_VERSION},
    "origin-mtls": MTLS,
    "origin-mtls+jwt": {**MTLS, **JWT},
    "origin-mtls+cedar": {**MTLS, **CEDAR},
    "origin-mtls+request": {**MTLS, **REQUEST},
}
COMPOSED = [c for c in CASES if c.startswith("header-secret+")]
MTLS_CASES = [c for c in CASES if c.startswith("origin-mtls")]
# The function that checks the origin secret, where one does (sigv4: none).
SECRET_CHECKER = {
    "header-secret": "HeaderSecretAuthorizerFunction",
    "header-secret+jwt": "JwtAuthorizerFunction",
    "header-secret+cedar": "CedarAuthorizerFunction",
    "header-secret+request": "RequestAuthorizerFunction",
    "header-secret+request+viewer": "RequestAuthorizerFunction",
    "api-key": "HeaderSecretAuthorizerFunction",
    "api-key+jwt": "HeaderSecretAuthorizerFunction",
    "api-key+cedar": "HeaderSecretAuthorizerFunction",
    "api-key+request": "HeaderSecretAuthorizerFunction",
}


@pytest.fixture(scope="module")
def source():
    return load_yaml(SAM_DIR / "template.yaml")


@pytest.fixture(scope="module")
def deployed(source):
    """Per case: the transformed template with its parameters applied."""
    out = {}
    for case, params in CASES.items():
        out[case] = Resolved(sam_transform(source, params), params)
    return out


def sub_text(node):
    assert isinstance(node, dict) and "Fn::Sub" in node, f"expected Fn::Sub, got {node!r}"
    sub = node["Fn::Sub"]
    return sub if isinstance(sub, str) else sub[0]


def setting(t, node):
    """A function setting as text: parameters filled in, a Ref to a resource as <LogicalId>."""
    if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] in t.raw["Resources"]:
        return f"<{node['Ref']}>"
    return t.text(node)


# ------------------------------------------------------------------ every route is guarded

def authorizer_function(t, authorizer_id):
    """The function an authorizer invokes, from its AuthorizerUri."""
    uri = sub_text(t.resources[authorizer_id]["Properties"]["AuthorizerUri"])
    return re.search(r"functions/\$\{(\w+)\.Arn\}/invocations$", uri).group(1)


# The authorizer of the HTTP API's routes and of the REST API's methods, and the function behind it.
ROUTE_AUTHORIZERS = {
    "header-secret": ("HttpApiHeaderSecretAuthorizer", "RestHeaderSecretAuthorizer", "HeaderSecretAuthorizerFunction"),
    "header-secret+jwt": ("HttpApiJwtAuthorizer", "RestJwtAuthorizer", "JwtAuthorizerFunction"),
    "header-secret+cedar": ("HttpApiCedarAuthorizer", "RestCedarAuthorizer", "CedarAuthorizerFunction"),
    "header-secret+request": ("HttpApiRequestAuthorizer", "RestRequestAuthorizer", "RequestAuthorizerFunction"),
    "header-secret+request+viewer": ("HttpApiRequestAuthorizer", "RestRequestAuthorizer", "RequestAuthorizerFunction"),
    "api-key": ("HttpApiHeaderSecretAuthorizer", None, "HeaderSecretAuthorizerFunction"),
    "api-key+jwt": ("HttpApiHeaderSecretAuthorizer", "RestJwtAuthorizer", "JwtAuthorizerFunction"),
    "api-key+cedar": ("HttpApiHeaderSecretAuthorizer", "RestCedarAuthorizer", "CedarAuthorizerFunction"),
    "api-key+request": ("HttpApiHeaderSecretAuthorizer", "RestRequestAuthorizer", "RequestAuthorizerFunction"),
    "sigv4": (None, None, None),
    "origin-mtls": ("HttpApiOriginMtlsAuthorizer", "RestOriginMtlsAuthorizer", "HeaderSecretAuthorizerFunction"),
    "origin-mtls+jwt": ("HttpApiJwtAuthorizer", "RestJwtAuthorizer", "JwtAuthorizerFunction"),
    "origin-mtls+cedar": ("HttpApiCedarAuthorizer", "RestCedarAuthorizer", "CedarAuthorizerFunction"),
    "origin-mtls+request": ("HttpApiRequestAuthorizer", "RestRequestAuthorizer", "RequestAuthorizerFunction"),
}


@pytest.mark.parametrize("case", CASES)
def test_every_http_route_has_an_authorizer_or_aws_iam(deployed, case):
    t = deployed[case]
    routes = t.of_type("AWS::ApiGatewayV2::Route")
    assert routes, "the HTTP API has no route"
    authorizers = t.of_type("AWS::ApiGatewayV2::Authorizer")
    expected, _, _ = ROUTE_AUTHORIZERS[case]
    for name, route in routes.items():
        props = route["Properties"]
        if case == "sigv4":
            assert props["AuthorizationType"] == "AWS_IAM", name
            assert "AuthorizerId" not in props
        else:
            assert props["AuthorizationType"] == "CUSTOM", name
            authorizer = ref_target(props["AuthorizerId"])
            assert authorizer in authorizers, f"{name} points at missing authorizer {authorizer}"
            assert authorizer == expected
            assert ref_target(authorizers[authorizer]["Properties"]["ApiId"]) == ref_target(props["ApiId"])
    # Only the attached authorizer exists: no second one a route could be switched to unnoticed.
    assert set(authorizers) == ({expected} if expected else set())


@pytest.mark.parametrize("case", COMPOSED)
def test_composed_mode_gives_both_apis_the_caller_function_alone(deployed, case):
    """header-secret + a caller authorizer: the route's single authorizer slot goes to the caller
    function, which checks the origin secret too; the header-secret function is not deployed."""
    t = deployed[case]
    http, rest, function = ROUTE_AUTHORIZERS[case]
    assert authorizer_function(t, http) == authorizer_function(t, rest) == function
    env = t.resources[function]["Properties"]["Environment"]["Variables"]
    assert env["ORIGIN_SECRET_SECRETS_MANAGER_ID"] == ORIGIN_SECRET_ARN
    assert "ORIGIN_SECRET_PARAMETER_NAME" not in env
    assert "HeaderSecretAuthorizerFunction" not in t.resources
    assert not [k for k in t.resources if k.startswith("HeaderSecretAuthorizer")]


@pytest.mark.parametrize("case", CASES)
def test_every_rest_method_has_an_authorizer_aws_iam_or_the_api_key(deployed, case):
    t = deployed[case]
    methods = t.of_type("AWS::ApiGateway::Method")
    assert len(methods) == 2, "root and {proxy+} ANY methods"
    authorizers = t.of_type("AWS::ApiGateway::Authorizer")
    _, expected, function = ROUTE_AUTHORIZERS[case]
    for name, method in methods.items():
        props = method["Properties"]
        kind = props["AuthorizationType"]
        if case == "sigv4":
            assert kind == "AWS_IAM", name
        elif expected:
            assert kind == "CUSTOM", name
            assert ref_target(props["AuthorizerId"]) == expected
            assert authorizer_function(t, expected) == function
        else:
            assert case == "api-key"
            assert kind == "NONE" and "AuthorizerId" not in props
        assert props["ApiKeyRequired"] is case.startswith("api-key"), name
    assert set(authorizers) == ({expected} if expected else set())


@pytest.mark.parametrize("case", CASES)
def test_no_other_api_is_created(deployed, case):
    """No implicit SAM API (events) that would bypass the lock-down."""
    t = deployed[case]
    assert set(t.of_type("AWS::ApiGateway::RestApi")) == {"RestApi"}
    assert set(t.of_type("AWS::ApiGatewayV2::Api")) == {"HttpApi"}


@pytest.mark.parametrize("case", CASES)
def test_each_authorizer_may_be_invoked_by_its_api_only(deployed, case):
    t = deployed[case]
    permissions = t.of_type("AWS::Lambda::Permission")
    authorizers = {**t.of_type("AWS::ApiGateway::Authorizer"), **t.of_type("AWS::ApiGatewayV2::Authorizer")}
    for name in authorizers:
        function = authorizer_function(t, name)
        granting = [
            p for p in permissions.values()
            if ref_target(p["Properties"]["FunctionName"]) == function
            and f"/authorizers/${{{name}}}" in sub_text(p["Properties"]["SourceArn"])
        ]
        assert len(granting) == 1, f"{name}: no permission scoped to this authorizer"
        assert granting[0]["Properties"]["Principal"] == "apigateway.amazonaws.com"


# ------------------------------------------------------------------ caching: identity sources

# API Gateway caches a decision per identity-source value and reuses it for every route, so the
# identity sources carry every value the decision reads: the origin secret, the caller's
# credential, the viewer address when tenant CIDR rules read it (REST: and the route, as before).
HTTP_IDENTITY = {
    "header-secret": ["$request.header.x-origin-verify"],
    "header-secret+jwt": ["$request.header.x-origin-verify", "$request.header.Authorization"],
    "header-secret+cedar": ["$request.header.x-origin-verify", "$request.header.Authorization"],
    "header-secret+request": ["$request.header.x-origin-verify", "$request.header.x-tenant-key"],
    "header-secret+request+viewer": ["$request.header.x-origin-verify", "$request.header.x-tenant-key", "$request.header.CloudFront-Viewer-Address"],
    "api-key": ["$request.header.x-origin-verify"],
    "api-key+jwt": ["$request.header.x-origin-verify"],
    "api-key+cedar": ["$request.header.x-origin-verify"],
    "api-key+request": ["$request.header.x-origin-verify"],
    # origin-mtls alone: no identity source, caching off (the certificate is in the event, and a
    # key without it would share CloudFront's Allow with any certificate the truststore accepts).
    "origin-mtls": [],
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
# API Gateway's decision cache TTL (AuthorizerResultTtlSeconds, default 300): off for origin-mtls alone.
RESULT_TTL = {case: "0" if case == "origin-mtls" else "300" for case in CASES}


@pytest.mark.parametrize("case", HTTP_IDENTITY)
def test_http_authorizer_identity_sources(deployed, case):
    t = deployed[case]
    http = ROUTE_AUTHORIZERS[case][0]
    function = authorizer_function(t, http)
    props = t.resources[http]["Properties"]
    assert [t.text(s) for s in props.get("IdentitySource", [])] == HTTP_IDENTITY[case]
    assert props["AuthorizerType"] == "REQUEST" and props["AuthorizerPayloadFormatVersion"] == "2.0"
    assert str(t.value(props["AuthorizerResultTtlInSeconds"])) == RESULT_TTL[case]
    # The header secret's answer holds for every route: a simple one. A caller's answer depends
    # on the route (grants, scopes), and on the $default route even $context.routeKey is the same
    # for every path: it answers with a policy naming every route it allows, which API Gateway
    # evaluates on each request.
    simple = function == "HeaderSecretAuthorizerFunction"
    assert props["EnableSimpleResponses"] is simple
    env = t.resources[function]["Properties"]["Environment"]["Variables"]
    assert env["HTTP_API_RESPONSE_MODE"] == ("simple" if simple else "iam")


@pytest.mark.parametrize("case", REST_IDENTITY)
def test_rest_authorizer_identity_sources(deployed, case):
    t = deployed[case]
    _, rest, _ = ROUTE_AUTHORIZERS[case]
    props = t.resources[rest]["Properties"]
    if REST_IDENTITY[case] is None:
        assert "IdentitySource" not in props
    else:
        assert t.text(props["IdentitySource"]) == REST_IDENTITY[case]
    assert props["Type"] == "REQUEST"
    assert str(t.value(props["AuthorizerResultTtlInSeconds"])) == RESULT_TTL[case]


@pytest.mark.parametrize("case", [c for c in CASES if c != "sigv4"])
def test_identity_sources_carry_every_value_the_decision_reads(deployed, case):
    """Derived from the functions' own settings, so a renamed header cannot leave the cache key behind."""
    t = deployed[case]
    http, rest, _ = ROUTE_AUTHORIZERS[case]
    for authorizer, header in ((http, "$request.header.{}"), (rest, "method.request.header.{}")):
        if authorizer is None:
            continue
        props = t.resources[authorizer]["Properties"]
        sources = props.get("IdentitySource", [])
        sources = [t.text(s) for s in sources] if isinstance(sources, list) else t.text(sources).split(",")
        env = {k: t.text(v) for k, v in t.resources[authorizer_function(t, authorizer)]["Properties"]["Environment"]["Variables"].items()
               if k in {"SECRET_HEADER_NAME", "ORIGIN_SECRET_HEADER_NAME", "API_KEY_HEADER", "TRUST_CLOUDFRONT_VIEWER_HEADERS"}}
        needed = [env[k] for k in ("SECRET_HEADER_NAME", "ORIGIN_SECRET_HEADER_NAME", "API_KEY_HEADER") if k in env]
        if "JWT_ISSUER" in t.resources[authorizer_function(t, authorizer)]["Properties"]["Environment"]["Variables"]:
            needed.append("Authorization")  # JWT_TOKEN_SOURCES is left at its default, header:authorization
        if env.get("TRUST_CLOUDFRONT_VIEWER_HEADERS") == "true":
            needed.append("CloudFront-Viewer-Address")
        assert [s for s in sources if not s.startswith("context.")] == [header.format(h) for h in needed], authorizer


# ------------------------------------------------------------------ the secret and CloudFront

def origins(t):
    dist = t.resources["Distribution"]["Properties"]["DistributionConfig"]
    return {o["Id"]: o for o in dist["Origins"]}


def secret_settings(t, function):
    """(secret id, header, cache TTL) settings of the function that checks the origin secret:
    SECRET_* for the header-secret authorizer, ORIGIN_SECRET_* for a caller authorizer."""
    env = t.resources[function]["Properties"]["Environment"]["Variables"]
    prefix = "SECRET_" if function == "HeaderSecretAuthorizerFunction" else "ORIGIN_SECRET_"
    # Secrets Manager directly, never SSM's /aws/reference/secretsmanager/ path (AWSCURRENT only).
    assert prefix + "PARAMETER_NAME" not in env
    return env[prefix + "SECRETS_MANAGER_ID"], env[prefix + "HEADER_NAME"], env[prefix + "CACHE_TTL_SECONDS"]


@pytest.mark.parametrize("case", SECRET_CHECKER)
def test_cloudfront_sends_the_secret_header_from_a_dynamic_reference(deployed, case):
    t = deployed[case]
    by_id = origins(t)
    carrying = ["http-api", "rest-api"] if case.startswith("header-secret") else ["http-api"]
    secret_id, header, ttl = secret_settings(t, SECRET_CHECKER[case])
    for origin_id in carrying:
        headers = by_id[origin_id]["OriginCustomHeaders"]
        assert len(headers) == 1
        assert t.value(headers[0]["HeaderName"]) == t.text(header) == "x-origin-verify"
        assert sub_text(headers[0]["HeaderValue"]) == DYNAMIC_ORIGIN_SECRET
    secret = t.resources["OriginSecret"]["Properties"]
    assert "GenerateSecretString" in secret and "SecretString" not in secret
    # The authorizer reads the same secret by its ARN in Secrets Manager, and re-reads it as
    # often as the rotation's propagation wait assumes (SecretCacheTtlSeconds).
    assert secret_id == ORIGIN_SECRET_ARN
    assert ttl == {"Ref": "SecretCacheTtlSeconds"}


def test_api_key_mode_sends_the_key_from_a_dynamic_reference(deployed):
    t = deployed["api-key"]
    headers = origins(t)["rest-api"]["OriginCustomHeaders"]
    assert headers == [{"HeaderName": "x-api-key", "HeaderValue": {"Fn::Sub": "{{resolve:secretsmanager:${ApiKeySecret}:SecretString}}"}}]
    assert sub_text(t.resources["RestApiKey"]["Properties"]["Value"]) == "{{resolve:secretsmanager:${ApiKeySecret}:SecretString}}"
    assert "SecretString" not in t.resources["ApiKeySecret"]["Properties"]
    plan = t.resources["RestUsagePlan"]["Properties"]
    assert [ref_target(s["ApiId"]) for s in plan["ApiStages"]] == ["RestApi"]
    key = t.resources["RestUsagePlanKey"]["Properties"]
    assert ref_target(key["KeyId"]) == "RestApiKey" and ref_target(key["UsagePlanId"]) == "RestUsagePlan"
    assert t.resources["RestApi"]["Properties"]["ApiKeySourceType"] == "HEADER"


def test_sigv4_mode_sends_no_secret(deployed):
    t = deployed["sigv4"]
    for origin in origins(t).values():
        assert "OriginCustomHeaders" not in origin
    assert not t.of_type("AWS::SecretsManager::Secret")


@pytest.mark.parametrize("case", CASES)
def test_no_secret_value_is_written_in_the_template(source, deployed, case):
    t = deployed[case]
    for name, secret in t.of_type("AWS::SecretsManager::Secret").items():
        assert "SecretString" not in secret["Properties"], name
    dist = t.resources["Distribution"]["Properties"]["DistributionConfig"]
    for origin in dist["Origins"]:
        for header in origin.get("OriginCustomHeaders", []):
            assert sub_text(header["HeaderValue"]).startswith("{{resolve:secretsmanager:")


def test_both_origins_are_the_execute_api_endpoints_over_tls(deployed):
    by_id = origins(deployed["header-secret"])
    assert sub_text(by_id["http-api"]["DomainName"]) == "${HttpApi}.execute-api.${AWS::Region}.amazonaws.com"
    assert sub_text(by_id["rest-api"]["DomainName"]) == "${RestApi}.execute-api.${AWS::Region}.amazonaws.com"
    for origin in by_id.values():
        assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    dist = deployed["header-secret"].resources["Distribution"]["Properties"]["DistributionConfig"]
    assert [b["PathPattern"] for b in dist["CacheBehaviors"]] == ["/rest/*"]
    assert deployed["header-secret"].resources["RestStage"]["Properties"]["StageName"] == "rest"


# ------------------------------------------------------------------ the edge signer

def test_sigv4_associates_the_signer_version_on_origin_request(deployed):
    t = deployed["sigv4"]
    dist = t.resources["Distribution"]["Properties"]["DistributionConfig"]
    for behavior in [dist["DefaultCacheBehavior"], *dist["CacheBehaviors"]]:
        assert behavior["LambdaFunctionAssociations"] == [
            {"EventType": "origin-request", "LambdaFunctionARN": {"Ref": "OriginSignerVersionArn"}, "IncludeBody": True}
        ]
    for case in ("header-secret", "api-key"):
        dist = deployed[case].resources["Distribution"]["Properties"]["DistributionConfig"]
        assert "LambdaFunctionAssociations" not in dist["DefaultCacheBehavior"]


@pytest.mark.parametrize(
    "arn, accepted",
    [
        (SIGNER_VERSION, True),
        ("arn:aws:lambda:us-east-1:123456789012:function:signer:12", True),
        ("", True),  # only in the modes that need no signer (a Rule enforces it for sigv4)
        ("arn:aws:lambda:eu-west-1:123456789012:function:signer:7", False),
        ("arn:aws:lambda:us-east-1:123456789012:function:signer", False),
        ("arn:aws:lambda:us-east-1:123456789012:function:signer:$LATEST", False),
        ("arn:aws:lambda:us-east-1:123456789012:function:signer:live", False),
    ],
)
def test_signer_parameter_accepts_only_numbered_us_east_1_versions(source, arn, accepted):
    pattern = source["Parameters"]["OriginSignerVersionArn"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, arn)) is accepted


def test_sigv4_rule_requires_the_signer(source):
    rule = source["Rules"]["SigV4NeedsTheEdgeStack"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "LockdownMode"}, "sigv4"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "OriginSignerVersionArn"}, ""]}]}


def test_sigv4_grants_the_signer_role_invoke_on_exactly_these_apis(deployed):
    t = deployed["sigv4"]
    policy = t.resources["OriginSignerInvokePolicy"]["Properties"]
    assert policy["RoleName"] == {"Ref": "OriginSignerRoleName"}
    (st,) = statements(policy["PolicyDocument"])
    assert st["Action"] == "execute-api:Invoke"
    assert [sub_text(r) for r in st["Resource"]] == [
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*",
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${RestApi}/rest/*",
    ]


@pytest.fixture(scope="module")
def edge():
    source = load_yaml(SAM_DIR / "edge.yaml")
    return source, Resolved(sam_transform(source, {}))


def test_edge_function_is_a_published_version_for_us_east_1(edge):
    source, t = edge
    assert source["Rules"]["LambdaAtEdgeLivesInUsEast1"]["Assertions"][0]["Assert"] == {
        "Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]
    }
    (fn_id, fn), = t.of_type("AWS::Lambda::Function").items()
    props = fn["Properties"]
    assert props["Runtime"].startswith("nodejs") and props["Handler"] == "index.handler"
    assert props["Architectures"] == ["x86_64"]
    assert "Environment" not in props  # Lambda@Edge allows none
    (version_id, version), = t.of_type("AWS::Lambda::Version").items()
    assert ref_target(version["Properties"]["FunctionName"]) == fn_id
    assert t.outputs["OriginSignerVersionArn"]["Value"] == {"Ref": version_id}
    role = t.resources[ref_target(props["Role"])]["Properties"]
    principals = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    assert set(principals) == {"lambda.amazonaws.com", "edgelambda.amazonaws.com"}


def test_edge_stack_defaults_line_up_with_the_api_stack(source, edge):
    """samconfig's edge stack name + the edge role's name = the API stack's default role name."""
    edge_source, _ = edge
    config = tomllib.loads((SAM_DIR / "samconfig.toml").read_text())
    assert config["edge"]["deploy"]["parameters"]["region"] == "us-east-1"
    edge_stack = config["edge"]["global"]["parameters"]["stack_name"]
    role_name = sub_text(edge_source["Resources"]["OriginSignerRole"]["Properties"]["RoleName"])
    assert role_name.replace("${AWS::StackName}", edge_stack) == source["Parameters"]["OriginSignerRoleName"]["Default"]


# ------------------------------------------------------------------ least privilege

def role_statements(t, role_id):
    role = t.resources[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role, f"{role_id} has managed policies"
    out = []
    for policy in role.get("Policies", []):
        out += statements(policy["PolicyDocument"])
    for other in [*t.of_type("AWS::IAM::Policy").values(), *t.of_type("AWS::IAM::RolePolicy").values()]:
        roles = other["Properties"].get("Roles", []) + [other["Properties"].get("RoleName")]
        assert all(ref_target(r) != role_id for r in roles if r), f"another policy attaches to {role_id}"
    return out


@pytest.mark.parametrize("case", [c for c, fn in SECRET_CHECKER.items() if fn == "HeaderSecretAuthorizerFunction"])
def test_header_secret_authorizer_role_reads_only_the_origin_secret(deployed, case):
    t = deployed[case]
    fn = t.resources["HeaderSecretAuthorizerFunction"]["Properties"]
    assert ref_target(fn["Role"]) == "HeaderSecretAuthorizerRole"
    assert fn["Environment"]["Variables"]["SECRET_SECRETS_MANAGER_ID"] == ORIGIN_SECRET_ARN
    by_service = {}
    for st in role_statements(t, "HeaderSecretAuthorizerRole"):
        assert st["Effect"] == "Allow"
        for action in as_list(st["Action"]):
            by_service.setdefault(action.split(":")[0], []).append((action, st))
    # No SSM: the grant for /aws/reference/secretsmanager/ went with the reference path.
    assert set(by_service) == {"secretsmanager", "kms", "logs", "xray"}
    ((action, st),) = by_service["secretsmanager"]
    assert action == "secretsmanager:GetSecretValue" and st["Resource"] == ORIGIN_SECRET_ARN
    ((action, st),) = by_service["kms"]
    assert action == "kms:Decrypt" and st["Resource"] == {"Fn::GetAtt": ["SecretsKey", "Arn"]}
    assert sub_text(st["Condition"]["StringEquals"]["kms:ViaService"]) == "secretsmanager.${AWS::Region}.amazonaws.com"
    for action, st in by_service["logs"]:
        assert action in {"logs:CreateLogStream", "logs:PutLogEvents"}
        assert sub_text(st["Resource"]).endswith(":log-group:/aws/lambda/${AWS::StackName}-header-secret-authorizer:*")
    for action, st in by_service["xray"]:
        assert action in {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


ORIGIN_SECRET_GRANTS = [
    {"Sid": "ReadTheOriginSecret", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
     "Resource": {"Ref": "OriginSecret"}},
    {"Sid": "DecryptItsKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": {"Fn::GetAtt": ["SecretsKey", "Arn"]},
     "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}}}},
]
RULES_GRANTS = [
    {"Sid": "ReadTheRulesParameter", "Effect": "Allow", "Action": "ssm:GetParameter",
     "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${RulesParameterName}"}},
    {"Sid": "DecryptSecureStringWithTheAwsManagedKey", "Effect": "Allow", "Action": "kms:Decrypt",
     "Resource": {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"},
     "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}}}},
]
# Exactly the three read actions on exactly this policy store (Service Authorization Reference:
# resource type policy-store, arn:${Partition}:verifiedpermissions::${Account}:policy-store/${PolicyStoreId});
# BatchGetPolicy has no IAM action of its own (GetPolicy authorizes it).
POLICY_STORE_GRANTS = [
    {"Sid": "ReadThePolicyStore", "Effect": "Allow",
     "Action": ["verifiedpermissions:ListPolicies", "verifiedpermissions:GetPolicy", "verifiedpermissions:GetSchema"],
     "Resource": {"Fn::Sub": "arn:${AWS::Partition}:verifiedpermissions::${AWS::AccountId}:policy-store/${PolicyStoreId}"}},
]
CALLER_ROLES = {"JwtAuthorizerFunction": "JwtAuthorizerRole", "RequestAuthorizerFunction": "RequestAuthorizerRole",
                "CedarAuthorizerFunction": "CedarAuthorizerRole"}
CALLER_CASES = [c for c in CASES if "+" in c and not c.startswith("sigv4")]


@pytest.mark.parametrize("case", CALLER_CASES)
def test_caller_authorizer_role_reads_exactly_its_parameters(deployed, case):
    """Composed: the origin secret exactly as the header-secret role reads it (the secret in
    Secrets Manager, its key via Secrets Manager); request: the rules too (its only SSM read).
    api-key and origin-mtls: no origin secret (origin-mtls pins a certificate, which needs no grant)."""
    t = deployed[case]
    _, _, function = ROUTE_AUTHORIZERS[case]
    role = CALLER_ROLES[function]
    assert ref_target(t.resources[function]["Properties"]["Role"]) == role
    granted = [st for st in role_statements(t, role)
               if not any(a.split(":")[0] in {"logs", "xray"} for a in as_list(st["Action"]))]
    expected = ((ORIGIN_SECRET_GRANTS if case in COMPOSED else []) + (RULES_GRANTS if "request" in case else [])
                + (POLICY_STORE_GRANTS if "cedar" in case else []))
    assert sorted(granted, key=repr) == sorted(expected, key=repr)
    for st in role_statements(t, role):
        for action in as_list(st["Action"]):
            if action.startswith("logs:"):
                assert sub_text(st["Resource"]).endswith(
                    f":log-group:/aws/lambda/${{AWS::StackName}}-{case.split('+')[1]}-authorizer:*")
            elif action.startswith("xray:"):
                assert action in {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@pytest.mark.parametrize("case", ["header-secret+request", "api-key+request"])
def test_request_authorizer_reads_the_rules_parameter_and_key_header(deployed, case):
    t = deployed[case]
    env = t.resources["RequestAuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["RULES_PARAMETER_NAME"] == {"Ref": "RulesParameterName"}
    # The tenant key header is the cache key, and not x-api-key, which CloudFront overwrites.
    assert env["API_KEY_HEADER"] == {"Ref": "RequestIdentityHeader"}
    assert t.value(env["API_KEY_HEADER"]) == "x-tenant-key"


# ------------------------------------------------------------------ the attached function's settings

# Every setting of the function a case attaches as caller authorizer (parameters filled in).
COMMON = {"HTTP_API_RESPONSE_MODE": "iam", "METRICS_NAMESPACE": "portcullis"}
ORIGIN_PROOF = {
    "ORIGIN_SECRET_SECRETS_MANAGER_ID": "<OriginSecret>",
    "ORIGIN_SECRET_HEADER_NAME": "x-origin-verify",
    "ORIGIN_SECRET_CACHE_TTL_SECONDS": "300",
}
JWT_ENV = {"JWT_ISSUER": "https://issuer.example.com/", "JWT_AUDIENCE": "orders-api", "JWT_ALGORITHMS": "RS256"}
REQUEST_ENV = {"RULES_PARAMETER_NAME": "/portcullis/rules", "API_KEY_HEADER": "x-tenant-key"}
CEDAR_ENV = {**JWT_ENV, "CEDAR_POLICY_STORE_ID": POLICY_STORE, "CEDAR_GROUPS_CLAIM": "cognito:groups", "CEDAR_REFRESH_SECONDS": "300"}
CALLER_ENV = {
    "header-secret+jwt": {**JWT_ENV, **COMMON, **ORIGIN_PROOF, "TRUST_CLOUDFRONT_VIEWER_HEADERS": "false"},
    "header-secret+cedar": {**CEDAR_ENV, **COMMON, **ORIGIN_PROOF, "TRUST_CLOUDFRONT_VIEWER_HEADERS": "false"},
    "header-secret+request": {**REQUEST_ENV, **COMMON, **ORIGIN_PROOF, "TRUST_CLOUDFRONT_VIEWER_HEADERS": "false"},
    "header-secret+request+viewer": {**REQUEST_ENV, **COMMON, **ORIGIN_PROOF, "TRUST_CLOUDFRONT_VIEWER_HEADERS": "true"},
    "api-key+jwt": {**JWT_ENV, **COMMON},
    "api-key+cedar": {**CEDAR_ENV, **COMMON},
    "api-key+request": {**REQUEST_ENV, **COMMON},
    # origin-mtls: the pin instead of the secret, mirroring the header-secret composition.
    "origin-mtls+jwt": {**JWT_ENV, **COMMON, "ORIGIN_CERT_SHA256": PINS, "TRUST_CLOUDFRONT_VIEWER_HEADERS": "false"},
    "origin-mtls+cedar": {**CEDAR_ENV, **COMMON, "ORIGIN_CERT_SHA256": PINS, "TRUST_CLOUDFRONT_VIEWER_HEADERS": "false"},
    "origin-mtls+request": {**REQUEST_ENV, **COMMON, "ORIGIN_CERT_SHA256": PINS, "TRUST_CLOUDFRONT_VIEWER_HEADERS": "false"},
}


@pytest.mark.parametrize("case", CALLER_ENV)
def test_caller_authorizer_environment(deployed, case):
    t = deployed[case]
    _, _, function = ROUTE_AUTHORIZERS[case]
    env = t.resources[function]["Properties"]["Environment"]["Variables"]
    assert {k: setting(t, v) for k, v in env.items()} == CALLER_ENV[case]
    # One settings dialect: the jwt-authorizer's old JWT_HTTP_API_RESPONSE is not set anywhere.
    assert "JWT_HTTP_API_RESPONSE" not in env


@pytest.mark.parametrize("case", [c for c in CASES if c != "sigv4"])
def test_every_authorizer_function_shares_the_dialect(deployed, case):
    t = deployed[case]
    functions = [k for k in ("HeaderSecretAuthorizerFunction", "JwtAuthorizerFunction", "RequestAuthorizerFunction", "CedarAuthorizerFunction")
                 if k in t.resources]
    assert functions
    for name in functions:
        env = t.resources[name]["Properties"]["Environment"]["Variables"]
        assert t.text(env["METRICS_NAMESPACE"]) == "portcullis", name
        assert env["HTTP_API_RESPONSE_MODE"] in {"simple", "iam"}, name
    quiet = Resolved(t.raw, {**CASES[case], "MetricsNamespace": ""})
    for name in functions:
        assert "METRICS_NAMESPACE" not in quiet.resources[name]["Properties"]["Environment"]["Variables"], name


# ------------------------------------------------------------------ CloudFront viewer headers

VIEWER_HEADERS = [
    "x-tenant-key", "content-type",
    "CloudFront-Viewer-Address", "CloudFront-Viewer-Country",
    # present only when the distribution has viewer mTLS
    "CloudFront-Viewer-Cert-Present", "CloudFront-Viewer-Cert-Sha256", "CloudFront-Viewer-Cert-Serial-Number",
    "CloudFront-Viewer-Cert-Subject", "CloudFront-Viewer-Cert-Issuer", "CloudFront-Viewer-Cert-Validity",
]
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


@pytest.mark.parametrize("case", CASES)
def test_viewer_headers_are_forwarded_only_when_trusted(deployed, case):
    t = deployed[case]
    dist = t.resources["Distribution"]["Properties"]["DistributionConfig"]
    behaviors = [dist["DefaultCacheBehavior"], *dist["CacheBehaviors"]]
    policies = t.of_type("AWS::CloudFront::OriginRequestPolicy")
    if case != "header-secret+request+viewer":
        assert not policies
        assert [b["OriginRequestPolicyId"] for b in behaviors] == [ALL_VIEWER_EXCEPT_HOST] * 2
        return
    assert set(policies) == {"ViewerHeadersOriginRequestPolicy"}
    assert [b["OriginRequestPolicyId"] for b in behaviors] == [{"Ref": "ViewerHeadersOriginRequestPolicy"}] * 2
    config = policies["ViewerHeadersOriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]
    headers = config["HeadersConfig"]
    # A list (never all viewer headers: that would forward Host, which execute-api refuses), with
    # the tenant key the identity source needs; CloudFront refuses Authorization in such a list.
    assert headers["HeaderBehavior"] == "whitelist"
    assert [t.text(h) for h in headers["Headers"]] == VIEWER_HEADERS
    assert len(headers["Headers"]) <= 10  # CloudFront's default quota of headers per policy
    assert config["CookiesConfig"] == {"CookieBehavior": "all"}
    assert config["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    # The origin secret still travels as an origin custom header, which no policy filters.
    assert sub_text(origins(t)["http-api"]["OriginCustomHeaders"][0]["HeaderValue"]) == DYNAMIC_ORIGIN_SECRET


# ------------------------------------------------------------------ parameter rules

@pytest.mark.parametrize(
    "params, refused",
    [
        ({"LockdownMode": "sigv4", "OriginSignerVersionArn": SIGNER_VERSION, **JWT}, "a caller authorizer needs LockdownMode header-secret, api-key or origin-mtls"),
        ({"LockdownMode": "sigv4", "OriginSignerVersionArn": SIGNER_VERSION, **REQUEST}, "a caller authorizer needs LockdownMode header-secret, api-key or origin-mtls"),
        ({**MTLS, **REQUEST, **VIEWER}, "TrustCloudFrontViewerHeaders needs LockdownMode header-secret"),
        ({"LockdownMode": "header-secret", **VIEWER}, "TrustCloudFrontViewerHeaders needs CallerAuthorizer request"),
        ({"LockdownMode": "header-secret", **JWT, **VIEWER}, "TrustCloudFrontViewerHeaders needs CallerAuthorizer request"),
        ({"LockdownMode": "api-key", **REQUEST, **VIEWER}, "TrustCloudFrontViewerHeaders needs LockdownMode header-secret"),
        ({"LockdownMode": "header-secret", "CallerAuthorizer": "jwt"}, "the jwt authorizer needs JwtIssuer"),
        ({"LockdownMode": "header-secret", "CallerAuthorizer": "request"}, "the request authorizer needs RulesParameterName"),
        ({"LockdownMode": "header-secret", **JWT, "CallerAuthorizer": "cedar"}, "the cedar authorizer needs PolicyStoreId"),
        ({"LockdownMode": "header-secret", "CallerAuthorizer": "cedar", "PolicyStoreId": POLICY_STORE}, "the cedar authorizer needs JwtIssuer"),
        ({"LockdownMode": "sigv4", "OriginSignerVersionArn": SIGNER_VERSION, **CEDAR}, "a caller authorizer needs LockdownMode header-secret, api-key or origin-mtls"),
        ({"LockdownMode": "header-secret", **CEDAR, **VIEWER}, "TrustCloudFrontViewerHeaders needs CallerAuthorizer request"),
    ],
)
def test_rules_refuse_combinations_that_cannot_work(source, params, refused):
    failed = Resolved(source, params).failed_rules()
    assert any(f.startswith(refused) for f in failed), failed


@pytest.mark.parametrize("case", CASES)
def test_rules_accept_every_case(source, case):
    assert Resolved(source, CASES[case]).failed_rules() == []


RUST_FUNCTIONS = {
    "HeaderSecretAuthorizerFunction": "header-secret-authorizer",
    "JwtAuthorizerFunction": "jwt-authorizer",
    "RequestAuthorizerFunction": "request-authorizer",
    "CedarAuthorizerFunction": "cedar-authorizer",
    "SecretRotatorFunction": "secret-rotator",
}


def test_rust_functions_build_with_cargo_lambda_for_al2023(source):
    for name, binary in RUST_FUNCTIONS.items():
        resource = source["Resources"][name]
        assert resource["Metadata"]["BuildMethod"] == "rust-cargolambda"
        assert resource["Metadata"]["BuildProperties"]["Binary"] == binary
        assert resource["Properties"]["CodeUri"] == "../.."
        # The Globals' runtime, handler and architecture: none of them overrides one.
        assert not {"Runtime", "Handler", "Architectures"} & set(resource["Properties"]), name
    assert source["Globals"]["Function"]["Runtime"] == "provided.al2023"
    assert source["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    assert source["Parameters"]["Architecture"]["AllowedValues"] == ["arm64", "x86_64"]
    assert source["Parameters"]["Architecture"]["Default"] == "arm64"


@pytest.mark.parametrize("case", CASES)
def test_the_rest_stage_serves_the_deployers_deployment(deployed, case):
    """No AWS::ApiGateway::Deployment (its logical id never changes with a parameter): the stage
    serves the deployment the deployer made after both methods exist."""
    t = deployed[case]
    assert not t.of_type("AWS::ApiGateway::Deployment")
    assert t.resources["RestStage"]["Properties"]["DeploymentId"] == {"Ref": "RestDeployment"}
    deployment = t.resources["RestDeployment"]
    assert deployment["Type"] == "Custom::RestDeployment"
    assert deployment["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["RestDeployerFunction", "Arn"]}
    assert deployment["Properties"]["RestApiId"] == {"Ref": "RestApi"}
    assert set(deployment["DependsOn"]) == {"RestRootMethod", "RestProxyMethod", "RestDeployerLogs"}


def parameters_read(source, node, seen=None):
    """Every parameter a template fragment reads: Refs, ${...} in Fn::Sub, and through the
    conditions it names (Fn::If, Condition), transitively."""
    seen = set() if seen is None else seen
    params = set(source["Parameters"])
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and value in params:
                found.add(value)
            elif key == "Fn::Sub":
                body = value if isinstance(value, str) else value[0]
                found |= {p for p in re.findall(r"\$\{([^}!.]+)\}", body) if p in params}
            if key in ("Fn::If", "Condition", "Condition_"):
                name = value[0] if key == "Fn::If" else value
                if isinstance(name, str) and name in source["Conditions"] and name not in seen:
                    seen.add(name)
                    found |= parameters_read(source, source["Conditions"][name], seen)
            found |= parameters_read(source, value, seen)
    elif isinstance(node, list):
        for value in node:
            found |= parameters_read(source, value, seen)
    return found


def test_the_deployment_lists_every_parameter_the_rest_api_reads(source):
    """A parameter that changes a method or authorizer without reaching the deployment's
    properties would change the API but not what the stage serves."""
    rest = {k: {**v, "Condition_": v.get("Condition")} for k, v in source["Resources"].items() if v["Type"] in REST_API_TYPES}
    read = parameters_read(source, rest)
    served = source["Resources"]["RestDeployment"]["Properties"]["Served"]
    assert read == {"LockdownMode", "CallerAuthorizer", "SecretHeaderName", "RequestIdentityHeader",
                    "AuthorizerResultTtlSeconds", "TrustCloudFrontViewerHeaders", "TenantUsagePlans",
                    # the custom domain disables execute-api; the resource policy and the endpoint type
                    "ApiDomainName", "EndpointType", "VpcEndpointIds", "AllowedSourceIps", "DeniedSourceIps",
                    "AllowedSourceVpcs", "DeniedSourceVpcs", "AllowedSourceVpces", "DeniedSourceVpces"}
    assert {k: v for k, v in served.items() if k != "Template"} == {p: {"Ref": p} for p in read}


def test_the_deployment_names_this_templates_rest_api(source):
    """Served.Template is the SHA-256 of the REST API resources: a template change to a method or
    an authorizer changes it, so the new template version makes a new deployment too."""
    assert source["Resources"]["RestDeployment"]["Properties"]["Served"]["Template"] == rest_api_revision(source)


@pytest.mark.parametrize(
    "change",
    [{"SecretHeaderName": "x-origin-proof"}, {"AuthorizerResultTtlSeconds": "60"}, {"RequestIdentityHeader": "x-tenant"},
     {**JWT}, {**VIEWER}, {"TenantUsagePlans": "true"}, {**MTLS},
     # a resource policy change reaches the stage only with a new deployment
     {"DeniedSourceIps": "203.0.113.0/24"}, {"DeniedSourceIps": "203.0.113.0/24,198.51.100.7/32"},
     {"AllowedSourceIps": "130.176.0.0/17", "AllowedSourceIpsIncludeCloudFront": "true"},
     {"ApiDomainName": "api.example.com", "ApiCertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/1"}],
)
def test_a_changed_setting_changes_the_deployment(source, change):
    """What makes CloudFormation update the custom resource, hence a new deployment."""
    before = Resolved(source, {"LockdownMode": "header-secret", **REQUEST})
    after = Resolved(source, {"LockdownMode": "header-secret", **REQUEST, **change})
    served = lambda t: {k: t.text(v) for k, v in t.resources["RestDeployment"]["Properties"]["Served"].items()}  # noqa: E731
    assert served(before) != served(after)


def test_rest_deployer_role_deploys_only_this_api(deployed):
    t = deployed["header-secret"]
    granted = {(a, sub_text(st["Resource"]) if isinstance(st["Resource"], dict) else st["Resource"])
               for st in role_statements(t, "RestDeployerRole") for a in as_list(st["Action"])}
    assert granted == {
        ("apigateway:POST", "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestApi}/deployments"),
        ("apigateway:DELETE", "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestApi}/deployments/*"),
        ("logs:CreateLogStream", "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${AWS::StackName}-rest-deployer:*"),
        ("logs:PutLogEvents", "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${AWS::StackName}-rest-deployer:*"),
        ("xray:PutTraceSegments", "*"), ("xray:PutTelemetryRecords", "*"),
    }


# ------------------------------------------------------------------ origin-mtls

MTLS_RESOURCES = {"OriginDomain", "OriginDomainRestMapping", "OriginDomainHttpMapping"}


@pytest.mark.parametrize("case", MTLS_CASES)
def test_origin_mtls_custom_domain_requires_cloudfronts_certificate(deployed, case):
    """One regional custom domain with mutual TLS: the truststore by S3 URI and object version,
    the domain's regional ACM certificate, TLS 1.2."""
    t = deployed[case]
    assert set(t.of_type("AWS::ApiGateway::DomainName")) == {"OriginDomain"}
    assert not t.of_type("AWS::ApiGatewayV2::DomainName")
    assert t.resources["OriginDomain"]["Properties"] == {
        "DomainName": {"Ref": "OriginDomainName"},
        "RegionalCertificateArn": {"Ref": "OriginDomainCertificateArn"},
        "EndpointConfiguration": {"Types": ["REGIONAL"]},
        "SecurityPolicy": "TLS_1_2",
        "MutualTlsAuthentication": {
            "TruststoreUri": {"Ref": "OriginTruststoreUri"},
            "TruststoreVersion": {"Ref": "OriginTruststoreVersion"},
        },
    }
    props = t.resources["OriginDomain"]["Properties"]
    assert t.value(props["DomainName"]) == "origin.api.example.com"
    assert t.value(props["RegionalCertificateArn"]) == DOMAIN_CERT
    assert t.value(props["MutualTlsAuthentication"]["TruststoreUri"]) == "s3://portcullis-truststore/cloudfront-ca.pem"
    assert t.value(props["MutualTlsAuthentication"]["TruststoreVersion"]) == "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"


@pytest.mark.parametrize("case", MTLS_CASES)
def test_origin_mtls_maps_both_apis_onto_the_domain(deployed, case):
    """REST: base path rest -> the rest stage (CloudFront forwards /rest/* unchanged, API Gateway
    strips the base path, so the REST API sees the paths it sees on execute-api). HTTP API: the
    empty mapping key (every other path) -> $default."""
    t = deployed[case]
    assert set(t.of_type("AWS::ApiGateway::BasePathMapping")) == {"OriginDomainRestMapping"}
    assert t.resources["OriginDomainRestMapping"]["Properties"] == {
        "DomainName": {"Ref": "OriginDomain"}, "BasePath": "rest", "RestApiId": {"Ref": "RestApi"}, "Stage": {"Ref": "RestStage"},
    }
    assert t.resources["RestStage"]["Properties"]["StageName"] == "rest"
    assert set(t.of_type("AWS::ApiGatewayV2::ApiMapping")) == {"OriginDomainHttpMapping"}
    mapping = t.resources["OriginDomainHttpMapping"]
    assert mapping["Properties"] == {"DomainName": {"Ref": "OriginDomain"}, "ApiId": {"Ref": "HttpApi"}, "Stage": "$default"}
    # The stage is named literally: the mapping must wait for it.
    assert mapping["DependsOn"] == "HttpApiStage"
    assert t.resources["HttpApiStage"]["Properties"]["StageName"] == "$default"


@pytest.mark.parametrize("case", CASES)
def test_origin_mtls_disables_the_execute_api_endpoints(deployed, case):
    t = deployed[case]
    for api in ("HttpApi", "RestApi"):
        props = t.resources[api]["Properties"]
        if case in MTLS_CASES:
            assert props["DisableExecuteApiEndpoint"] is True, api
        else:
            assert "DisableExecuteApiEndpoint" not in props, api


@pytest.mark.parametrize("case", CASES)
def test_origin_mtls_cloudfront_presents_its_certificate_to_the_custom_domain(deployed, case):
    t = deployed[case]
    for origin_id, origin in origins(t).items():
        custom = origin["CustomOriginConfig"]
        assert custom["OriginProtocolPolicy"] == "https-only" and custom["OriginSSLProtocols"] == ["TLSv1.2"]
        if case in MTLS_CASES:
            assert origin["DomainName"] == {"Ref": "OriginDomain"}, origin_id
            assert custom["OriginMtlsConfig"] == {"ClientCertificateArn": {"Ref": "OriginClientCertificateArn"}}
            assert t.value(custom["OriginMtlsConfig"]["ClientCertificateArn"]) == CLOUDFRONT_CERT
            # No secret travels: the certificate is the proof.
            assert "OriginCustomHeaders" not in origin
        else:
            assert sub_text(origin["DomainName"]).endswith(".execute-api.${AWS::Region}.amazonaws.com"), origin_id
            assert "OriginMtlsConfig" not in custom


def test_origin_mtls_lockdown_function_pins_the_certificate(deployed):
    """origin-mtls alone: the lock-down function (header-secret-authorizer, the origin-proof-only
    configuration) with ORIGIN_CERT_SHA256 instead of the secret's settings."""
    t = deployed["origin-mtls"]
    fn = t.resources["HeaderSecretAuthorizerFunction"]
    assert t.raw["Resources"]["HeaderSecretAuthorizerFunction"]["Metadata"]["BuildProperties"]["Binary"] == "header-secret-authorizer"
    env = fn["Properties"]["Environment"]["Variables"]
    assert {k: t.text(v) for k, v in env.items()} == {
        "ORIGIN_CERT_SHA256": PINS,
        "HTTP_API_RESPONSE_MODE": "simple",
        "METRICS_NAMESPACE": "portcullis",
    }
    assert env["ORIGIN_CERT_SHA256"] == {"Ref": "OriginCertSha256"}
    # Both APIs run it, each through its own uncached authorizer and invoke permission.
    assert authorizer_function(t, "HttpApiOriginMtlsAuthorizer") == authorizer_function(t, "RestOriginMtlsAuthorizer") == "HeaderSecretAuthorizerFunction"
    assert sub_text(t.resources["HttpApiInvokesOriginMtlsAuthorizer"]["Properties"]["SourceArn"]).endswith("/authorizers/${HttpApiOriginMtlsAuthorizer}")
    assert sub_text(t.resources["RestInvokesOriginMtlsAuthorizer"]["Properties"]["SourceArn"]).endswith("/authorizers/${RestOriginMtlsAuthorizer}")
    # The header-secret authorizers (cached by the secret header) are not deployed.
    for name in ("HttpApiHeaderSecretAuthorizer", "RestHeaderSecretAuthorizer",
                 "HttpApiInvokesHeaderSecretAuthorizer", "RestInvokesHeaderSecretAuthorizer"):
        assert name not in t.resources, name


def test_origin_mtls_authorizers_cache_nothing_without_a_caller(deployed):
    t = deployed["origin-mtls"]
    http = t.resources["HttpApiOriginMtlsAuthorizer"]["Properties"]
    assert http == {
        "ApiId": {"Ref": "HttpApi"}, "Name": "origin-mtls", "AuthorizerType": "REQUEST",
        "AuthorizerUri": http["AuthorizerUri"], "AuthorizerPayloadFormatVersion": "2.0",
        "EnableSimpleResponses": True, "AuthorizerResultTtlInSeconds": 0,
    }
    rest = t.resources["RestOriginMtlsAuthorizer"]["Properties"]
    assert rest == {
        "RestApiId": {"Ref": "RestApi"}, "Name": "origin-mtls", "Type": "REQUEST",
        "AuthorizerUri": rest["AuthorizerUri"], "AuthorizerResultTtlInSeconds": 0,
    }


@pytest.mark.parametrize("case", MTLS_CASES)
def test_origin_mtls_reads_no_secret(deployed, case):
    """No shared secret: no Secrets Manager secret, no KMS key, no origin-secret grant; the only
    SSM read left is the request authorizer's own rules parameter."""
    t = deployed[case]
    assert not t.of_type("AWS::SecretsManager::Secret") and not t.of_type("AWS::KMS::Key")
    _, _, function = ROUTE_AUTHORIZERS[case]
    role = ref_target(t.resources[function]["Properties"]["Role"])
    services = {}
    for st in role_statements(t, role):
        for action in as_list(st["Action"]):
            services.setdefault(action.split(":")[0], []).append((action, st.get("Sid")))
    expected = {"logs", "xray"} | ({"ssm", "kms"} if case.endswith("+request") else set()) | (
        {"verifiedpermissions"} if case.endswith("+cedar") else set())
    assert set(services) == expected
    if "ssm" in services:
        assert services["ssm"] == [("ssm:GetParameter", "ReadTheRulesParameter")]
    assert "secretsmanager" not in services
    assert not [o for o in t.outputs if o.startswith("OriginSecret")]


@pytest.mark.parametrize("case", ["origin-mtls+jwt", "origin-mtls+cedar", "origin-mtls+request"])
def test_origin_mtls_composed_caller_takes_both_apis_with_the_pin(deployed, case):
    t = deployed[case]
    http, rest, function = ROUTE_AUTHORIZERS[case]
    assert authorizer_function(t, http) == authorizer_function(t, rest) == function
    env = t.resources[function]["Properties"]["Environment"]["Variables"]
    assert env["ORIGIN_CERT_SHA256"] == {"Ref": "OriginCertSha256"}
    assert not [k for k in env if k.startswith("ORIGIN_SECRET_")]
    # The lock-down function is not deployed: the caller function checks the certificate.
    assert not [k for k in t.resources if "HeaderSecretAuthorizer" in k or "OriginMtlsAuthorizer" in k]
    # The caller's credential keys the cache, as in api-key mode; the caller's TTL applies.
    assert t.value(t.resources[http]["Properties"]["AuthorizerResultTtlInSeconds"]) == "300"


@pytest.mark.parametrize("case", [c for c in CASES if c not in MTLS_CASES])
def test_origin_mtls_conditions_leave_the_other_modes_alone(deployed, case):
    t = deployed[case]
    assert not t.conditions["IsOriginMtls"]
    assert not MTLS_RESOURCES & set(t.resources)
    assert not [k for k in t.resources if "OriginMtls" in k]
    assert not [o for o in t.outputs if o.startswith(("OriginDomain", "DirectOrigin"))]
    for fn in ("HeaderSecretAuthorizerFunction", "JwtAuthorizerFunction", "RequestAuthorizerFunction"):
        if fn in t.resources:
            assert "ORIGIN_CERT_SHA256" not in t.resources[fn]["Properties"]["Environment"]["Variables"], fn
    if "HeaderSecretAuthorizerRole" in t.resources:
        names = [p["PolicyName"] for p in t.resources["HeaderSecretAuthorizerRole"]["Properties"]["Policies"]]
        assert names == ["read-origin-secret", "logs"]


def test_origin_mtls_conditions(source):
    conditions = source["Conditions"]
    assert conditions["IsOriginMtls"] == {"Fn::Equals": [{"Ref": "LockdownMode"}, "origin-mtls"]}
    # The secret exists only in the two modes that send one.
    assert conditions["UsesOriginSecret"] == {"Fn::Or": [{"Condition": "IsHeaderSecret"}, {"Condition": "IsApiKey"}]}
    assert conditions["OriginMtlsWithoutCaller"] == {"Fn::And": [{"Condition": "IsOriginMtls"}, {"Fn::Not": [{"Condition": "HasCaller"}]}]}
    # The custom domain is shared with ApiDomainName (the other modes' domain).
    assert conditions["UsesCustomDomain"] == {"Fn::Or": [{"Condition": "IsOriginMtls"}, {"Condition": "HasApiDomain"}]}
    for name in MTLS_RESOURCES:
        assert source["Resources"][name]["Condition"] == "UsesCustomDomain", name
    for name in ("HttpApiOriginMtlsAuthorizer", "RestOriginMtlsAuthorizer", "HttpApiInvokesOriginMtlsAuthorizer",
                 "RestInvokesOriginMtlsAuthorizer"):
        assert source["Resources"][name]["Condition"] == "OriginMtlsWithoutCaller", name
    for name in ("OriginDomainRegionalName", "OriginDomainRegionalHostedZoneId", "DirectOriginUrl"):
        assert source["Outputs"][name]["Condition"] == "UsesCustomDomain", name


def test_origin_mtls_outputs_prove_the_lockdown(deployed):
    t = deployed["origin-mtls"]
    assert t.outputs["OriginDomainRegionalName"]["Value"] == {"Fn::GetAtt": ["OriginDomain", "RegionalDomainName"]}
    assert t.outputs["OriginDomainRegionalHostedZoneId"]["Value"] == {"Fn::GetAtt": ["OriginDomain", "RegionalHostedZoneId"]}
    assert t.text(t.outputs["DirectOriginUrl"]["Value"]) == "https://origin.api.example.com/"
    assert "TLS handshake fails without a client certificate" in t.outputs["DirectOriginUrl"]["Description"]
    for name in ("DirectHttpApiUrl", "DirectRestApiUrl"):
        assert "origin-mtls or ApiDomainName - the endpoint is disabled" in t.outputs[name]["Description"]


MTLS_REQUIRED = {
    "OriginDomainName": "origin-mtls needs OriginDomainName",
    "OriginDomainCertificateArn": "origin-mtls needs OriginDomainCertificateArn",
    "OriginClientCertificateArn": "origin-mtls needs OriginClientCertificateArn",
    "OriginTruststoreUri": "origin-mtls needs OriginTruststoreUri",
    "OriginTruststoreVersion": "origin-mtls needs OriginTruststoreVersion",
    "OriginCertSha256": "origin-mtls needs OriginCertSha256",
}


@pytest.mark.parametrize("parameter", MTLS_REQUIRED)
def test_origin_mtls_rule_requires_every_parameter(source, parameter):
    failed = Resolved(source, {**MTLS, parameter: ""}).failed_rules()
    assert [f for f in failed if f.startswith(MTLS_REQUIRED[parameter])] == failed and len(failed) == 1
    # The other modes need none of them.
    assert Resolved(source, {"LockdownMode": "header-secret"}).failed_rules() == []


@pytest.mark.parametrize(
    "parameter, value, accepted",
    [
        ("OriginCertSha256", PINS.split(",")[0], True),
        ("OriginCertSha256", PINS, True),
        ("OriginCertSha256", PINS.upper(), False),  # one spelling: lower-case hex
        ("OriginCertSha256", ":".join(PINS[i:i + 2] for i in range(0, 64, 2)), False),
        ("OriginCertSha256", PINS.replace(",", ", "), False),
        ("OriginCertSha256", PINS[:63], False),
        ("OriginClientCertificateArn", CLOUDFRONT_CERT, True),
        ("OriginClientCertificateArn", CLOUDFRONT_CERT.replace("us-east-1", "eu-west-1"), False),
        ("OriginDomainCertificateArn", DOMAIN_CERT, True),
        ("OriginDomainCertificateArn", "arn:aws:iam::123456789012:server-certificate/x", False),
        ("OriginTruststoreUri", "s3://portcullis-truststore/ca/cloudfront-ca.pem", True),
        ("OriginTruststoreUri", "https://portcullis-truststore.s3.amazonaws.com/cloudfront-ca.pem", False),
        ("OriginTruststoreUri", "s3://portcullis-truststore", False),
        ("OriginDomainName", "origin.api.example.com", True),
        ("OriginDomainName", "Origin.API.example.com", False),
        ("OriginDomainName", "https://origin.api.example.com", False),
        ("OriginTruststoreVersion", "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", True),
        ("OriginTruststoreVersion", "a version", False),
    ],
)
def test_origin_mtls_parameter_patterns(source, parameter, value, accepted):
    pattern = source["Parameters"][parameter]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is accepted
    assert re.fullmatch(pattern, "")  # empty: the other modes leave them unset


# ------------------------------------------------------------------ origin secret rotation

ROTATION_RESOURCES = {
    "SecretRotatorLogs": "AWS::Logs::LogGroup",
    "SecretRotatorRole": "AWS::IAM::Role",
    "SecretRotatorFunction": "AWS::Lambda::Function",
    "SecretsManagerInvokesSecretRotator": "AWS::Lambda::Permission",
    "OriginSecretRotationSchedule": "AWS::SecretsManager::RotationSchedule",
}
ROTATION_PARAMETERS = ["OriginSecretRotationDays", "RotationPropagationWaitSeconds", "RotationGraceSeconds", "RotationCanaryUrl"]


@pytest.mark.parametrize("case", CASES)
def test_secret_rotator_exists_exactly_where_there_is_an_origin_secret(deployed, case):
    """header-secret and api-key (with any caller authorizer) have an origin secret and rotate it;
    sigv4 and origin-mtls have none, so no rotator, permission or schedule."""
    t = deployed[case]
    rotates = case in SECRET_CHECKER
    assert ("OriginSecret" in t.resources) is rotates
    present = {k: t.resources[k]["Type"] for k in ROTATION_RESOURCES if k in t.resources}
    assert present == (ROTATION_RESOURCES if rotates else {})
    schedules = t.of_type("AWS::SecretsManager::RotationSchedule")
    assert set(schedules) == ({"OriginSecretRotationSchedule"} if rotates else set())
    invokers = [p for p in t.of_type("AWS::Lambda::Permission").values() if p["Properties"]["Principal"] == "secretsmanager.amazonaws.com"]
    assert len(invokers) == (1 if rotates else 0)
    binaries = {t.raw["Resources"][k]["Metadata"]["BuildProperties"]["Binary"] for k in t.of_type("AWS::Lambda::Function")
                if "BuildProperties" in t.raw["Resources"].get(k, {}).get("Metadata", {})}
    assert ("secret-rotator" in binaries) is rotates
    assert ("SecretRotatorLogGroup" in t.outputs) is rotates


def test_rotation_resources_share_the_origin_secret_condition(source):
    for name in ROTATION_RESOURCES:
        assert source["Resources"][name]["Condition"] == "UsesOriginSecret", name
    assert source["Outputs"]["SecretRotatorLogGroup"]["Condition"] == "UsesOriginSecret"
    assert source["Conditions"]["HasRotationCanaryUrl"] == {
        "Fn::And": [{"Condition": "UsesOriginSecret"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "RotationCanaryUrl"}, ""]}]}]
    }


@pytest.mark.parametrize("case", SECRET_CHECKER)
def test_secret_rotator_function_and_settings(deployed, case):
    t = deployed[case]
    fn = t.resources["SecretRotatorFunction"]["Properties"]
    assert t.raw["Resources"]["SecretRotatorFunction"]["Metadata"]["BuildProperties"]["Binary"] == "secret-rotator"
    # Built and run like the other Rust functions (the Globals).
    assert fn["Runtime"] == "provided.al2023" and fn["Handler"] == "bootstrap"
    assert fn["Architectures"] == [{"Ref": "Architecture"}]
    assert fn["Timeout"] == 900
    # Reserved concurrency only when asked for (AuthorizerReservedConcurrency): then 1, one rotation at a time.
    assert "ReservedConcurrentExecutions" not in fn
    assert ref_target(fn["Role"]) == "SecretRotatorRole"
    assert sub_text(fn["FunctionName"]) == "${AWS::StackName}-secret-rotator"
    env = fn["Environment"]["Variables"]
    assert env == {
        "CLOUDFRONT_DISTRIBUTION_ID": {"Ref": "Distribution"},
        "ORIGIN_SECRET_HEADER_NAME": {"Ref": "SecretHeaderName"},
        "PROPAGATION_WAIT_SECONDS": {"Ref": "RotationPropagationWaitSeconds"},
        "OLD_SECRET_GRACE_SECONDS": {"Ref": "RotationGraceSeconds"},
    }
    # The header it switches is the header CloudFront sends and the authorizer checks.
    assert {k: setting(t, v) for k, v in env.items()} == {
        "CLOUDFRONT_DISTRIBUTION_ID": "<Distribution>",
        "ORIGIN_SECRET_HEADER_NAME": t.text(secret_settings(t, SECRET_CHECKER[case])[1]),
        "PROPAGATION_WAIT_SECONDS": "330",
        "OLD_SECRET_GRACE_SECONDS": "60",
    }
    for origin in origins(t).values():
        for header in origin.get("OriginCustomHeaders", []):
            if header["HeaderName"] != "x-api-key":
                assert header["HeaderName"] == env["ORIGIN_SECRET_HEADER_NAME"]
    logs = t.resources["SecretRotatorLogs"]["Properties"]
    assert sub_text(logs["LogGroupName"]) == "/aws/lambda/${SecretRotatorFunction}" and logs["RetentionInDays"] == 365


@pytest.mark.parametrize("case", ["header-secret", "api-key+request"])
def test_secret_rotator_canary_url_is_set_only_when_given(source, case):
    canary = "https://d111111abcdef8.cloudfront.net/rest/health"
    t = Resolved(sam_transform(source, {**CASES[case], "RotationCanaryUrl": canary}), {**CASES[case], "RotationCanaryUrl": canary})
    env = t.resources["SecretRotatorFunction"]["Properties"]["Environment"]["Variables"]
    assert env["CANARY_URL"] == {"Ref": "RotationCanaryUrl"} and t.text(env["CANARY_URL"]) == canary
    custom = Resolved(t.raw, {**CASES[case], "RotationPropagationWaitSeconds": "630", "RotationGraceSeconds": "120", "SecretHeaderName": "x-cf-proof"})
    env = custom.resources["SecretRotatorFunction"]["Properties"]["Environment"]["Variables"]
    assert {k: setting(custom, v) for k, v in env.items()} == {
        "CLOUDFRONT_DISTRIBUTION_ID": "<Distribution>", "ORIGIN_SECRET_HEADER_NAME": "x-cf-proof",
        "PROPAGATION_WAIT_SECONDS": "630", "OLD_SECRET_GRACE_SECONDS": "120",
    }


def test_rotation_parameters(source):
    params = source["Parameters"]
    assert {p: params[p]["Default"] for p in ROTATION_PARAMETERS} == {
        "OriginSecretRotationDays": 30, "RotationPropagationWaitSeconds": 330, "RotationGraceSeconds": 60, "RotationCanaryUrl": "",
    }
    # The default wait covers the default cache TTL plus 30 s; the smallest allowed wait covers the
    # smallest TTL (the rule for other values is documented: CloudFormation rules cannot add).
    assert params["RotationPropagationWaitSeconds"]["Default"] >= params["SecretCacheTtlSeconds"]["Default"] + 30
    assert params["RotationPropagationWaitSeconds"]["MinValue"] >= params["SecretCacheTtlSeconds"]["MinValue"] + 30
    assert "SecretCacheTtlSeconds + 30" in params["RotationPropagationWaitSeconds"]["Description"]
    # The rotator's own bounds (PROPAGATION_WAIT_SECONDS 0-840 within its 900 s timeout,
    # OLD_SECRET_GRACE_SECONDS 0-600): a value outside them would stop it at init.
    assert params["RotationPropagationWaitSeconds"]["MaxValue"] == 840
    assert (params["RotationGraceSeconds"]["MinValue"], params["RotationGraceSeconds"]["MaxValue"]) == (0, 600)
    assert params["OriginSecretRotationDays"]["MinValue"] == 1 and params["OriginSecretRotationDays"]["MaxValue"] <= 999
    groups = {g["Label"]["default"]: g["Parameters"] for g in source["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]}
    assert [ps for ps in groups.values() if ps == ROTATION_PARAMETERS]


@pytest.mark.parametrize(
    "url, accepted",
    [
        ("", True),
        ("https://d111111abcdef8.cloudfront.net/health", True),
        ("https://api.example.com/rest/health?probe=1", True),
        ("http://d111111abcdef8.cloudfront.net/health", False),
        ("https://a.example.com/x, https://b.example.com/y", False),
        ("https://a.example.com/x y", False),
    ],
)
def test_rotation_canary_url_pattern(source, url, accepted):
    assert bool(re.fullmatch(source["Parameters"]["RotationCanaryUrl"]["AllowedPattern"], url)) is accepted


ROTATOR_GRANTS = {
    ("secretsmanager:DescribeSecret", "<OriginSecret>"),
    ("secretsmanager:GetSecretValue", "<OriginSecret>"),
    ("secretsmanager:PutSecretValue", "<OriginSecret>"),
    ("secretsmanager:UpdateSecretVersionStage", "<OriginSecret>"),
    ("secretsmanager:GetRandomPassword", "*"),
    ("kms:Decrypt", "<SecretsKey.Arn>"),
    ("kms:GenerateDataKey", "<SecretsKey.Arn>"),
    ("cloudfront:GetDistribution", "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"),
    ("cloudfront:GetDistributionConfig", "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"),
    ("cloudfront:UpdateDistribution", "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"),
    # What every function of the stack has: its own log group, X-Ray (no resource-level permissions).
    ("logs:CreateLogStream", "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${AWS::StackName}-secret-rotator:*"),
    ("logs:PutLogEvents", "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${AWS::StackName}-secret-rotator:*"),
    ("xray:PutTraceSegments", "*"),
    ("xray:PutTelemetryRecords", "*"),
}


def grant_resource(node):
    if isinstance(node, str):
        return node
    if "Fn::GetAtt" in node:
        att = node["Fn::GetAtt"]
        return "<" + (".".join(att) if isinstance(att, list) else att) + ">"
    if "Ref" in node:
        return f"<{node['Ref']}>"
    return sub_text(node)


@pytest.mark.parametrize("case", SECRET_CHECKER)
def test_secret_rotator_role_is_least_privilege(deployed, case):
    """Exactly the rotation contract on the one secret, its key via Secrets Manager, and this one
    distribution; a wildcard resource only where the action has none (GetRandomPassword, X-Ray)."""
    t = deployed[case]
    granted = set()
    for st in role_statements(t, "SecretRotatorRole"):
        assert st["Effect"] == "Allow" and "NotAction" not in st and "NotResource" not in st
        for action in as_list(st["Action"]):
            for resource in as_list(st["Resource"]):
                granted.add((action, grant_resource(resource)))
                if action.startswith("kms:"):
                    assert sub_text(st["Condition"]["StringEquals"]["kms:ViaService"]) == "secretsmanager.${AWS::Region}.amazonaws.com"
    assert granted == ROTATOR_GRANTS
    assert {a for a, r in granted if r == "*"} == {"secretsmanager:GetRandomPassword", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    assert not [a for a, _ in granted if "*" in a]
    principal = t.resources["SecretRotatorRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "lambda.amazonaws.com"}


@pytest.mark.parametrize("case", SECRET_CHECKER)
def test_only_secrets_manager_invokes_the_rotator_for_this_secret(deployed, case):
    t = deployed[case]
    assert t.resources["SecretsManagerInvokesSecretRotator"]["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Ref": "SecretRotatorFunction"},
        "Principal": "secretsmanager.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"},
        "SourceArn": {"Ref": "OriginSecret"},
    }
    # Nothing else may invoke it.
    others = [k for k, p in t.of_type("AWS::Lambda::Permission").items()
              if ref_target(p["Properties"]["FunctionName"]) == "SecretRotatorFunction" and k != "SecretsManagerInvokesSecretRotator"]
    assert others == []


@pytest.mark.parametrize("case", SECRET_CHECKER)
def test_origin_secret_rotation_schedule(deployed, case):
    t = deployed[case]
    schedule = t.resources["OriginSecretRotationSchedule"]
    props = schedule["Properties"]
    assert props["SecretId"] == {"Ref": "OriginSecret"}
    assert props["RotationLambdaARN"] == {"Fn::GetAtt": ["SecretRotatorFunction", "Arn"]}
    assert t.text(props["RotationRules"]["ScheduleExpression"]) == "rate(30 days)"
    assert set(props["RotationRules"]) == {"ScheduleExpression"}
    # Creating or changing the schedule rotates nothing; the first rotation comes on schedule.
    assert props["RotateImmediatelyOnUpdate"] is False
    assert "HostedRotationLambda" not in props
    # Secrets Manager checks it may invoke the function when the schedule is created.
    assert "SecretsManagerInvokesSecretRotator" in as_list(schedule["DependsOn"])
    weekly = Resolved(t.raw, {**CASES[case], "OriginSecretRotationDays": "7"})
    assert weekly.text(weekly.resources["OriginSecretRotationSchedule"]["Properties"]["RotationRules"]["ScheduleExpression"]) == "rate(7 days)"


@pytest.mark.parametrize("case", SECRET_CHECKER)
def test_origin_secret_value_is_one_line_the_authorizers_accept(deployed, case):
    """At least 32 visible ASCII characters, no comma, space or newline: letters and digits."""
    t = deployed[case]
    generated = t.resources["OriginSecret"]["Properties"]["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32
    assert generated["ExcludePunctuation"] is True
    assert generated.get("IncludeSpace", False) is False
    # A plain string, not JSON: no template, no key.
    assert "SecretStringTemplate" not in generated and "GenerateStringKey" not in generated
    assert t.resources["OriginSecret"]["Properties"]["KmsKeyId"] == {"Ref": "SecretsKey"}


def test_no_version_stage_and_no_ssm_reference_left(source):
    """The manual label switching (OriginSecretVersionStage) and SSM's reference path are gone:
    the rotator switches CloudFront, the authorizers read Secrets Manager."""
    text = (SAM_DIR / "template.yaml").read_text()
    assert "OriginSecretVersionStage" not in text
    assert "/aws/reference/secretsmanager" not in text
    assert "OriginSecretParameter" not in source["Outputs"]
    assert source["Outputs"]["OriginSecretArn"]["Value"] == {"Ref": "OriginSecret"}
    assert source["Outputs"]["DistributionId"]["Value"] == {"Ref": "Distribution"}


@pytest.mark.parametrize(
    "params, refused",
    [
        ({"SecretCacheTtlSeconds": "600"}, True),  # the TTL changed, the wait left at its default
        ({"SecretCacheTtlSeconds": "600", "RotationPropagationWaitSeconds": "630"}, False),
        ({"SecretCacheTtlSeconds": "60", "RotationPropagationWaitSeconds": "90"}, False),
        ({"RotationPropagationWaitSeconds": "400"}, False),
    ],
)
@pytest.mark.parametrize("mode", ["header-secret", "api-key"])
def test_rule_refuses_a_changed_cache_ttl_with_the_default_wait(source, params, refused, mode):
    failed = Resolved(source, {"LockdownMode": mode, **params}).failed_rules()
    assert failed == (["with SecretCacheTtlSeconds other than 300, set RotationPropagationWaitSeconds too, "
                       "to at least SecretCacheTtlSeconds + 30 (at most 840)."] if refused else [])
    # The modes without an origin secret do not care.
    assert Resolved(source, {**MTLS, **params}).failed_rules() == []


# ------------------------------------------------------------------ cedar caller authorizer

def test_cedar_parameters_and_defaults(source):
    params = source["Parameters"]
    assert params["CallerAuthorizer"]["AllowedValues"] == ["none", "jwt", "cedar", "request"]
    assert params["PolicyStoreId"]["Default"] == ""
    assert params["CedarGroupsClaim"]["Default"] == "cognito:groups"
    assert params["CedarRefreshSeconds"]["Default"] == 300


@pytest.mark.parametrize("case", ["header-secret+cedar", "api-key+cedar", "origin-mtls+cedar"])
def test_cedar_settings_follow_their_parameters(source, case):
    t = Resolved(sam_transform(source, {**CASES[case], "CedarGroupsClaim": "groups", "CedarRefreshSeconds": "60"}),
                 {**CASES[case], "CedarGroupsClaim": "groups", "CedarRefreshSeconds": "60"})
    env = t.resources["CedarAuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert (t.text(env["CEDAR_GROUPS_CLAIM"]), t.text(env["CEDAR_REFRESH_SECONDS"])) == ("groups", "60")
    assert not [k for k in t.resources if k.startswith(("Jwt", "Request", "HttpApiJwt", "RestJwt"))]


# ------------------------------------------------------------------ reserved concurrency

AUTHORIZER_FUNCTIONS = ["HeaderSecretAuthorizerFunction", "JwtAuthorizerFunction", "RequestAuthorizerFunction", "CedarAuthorizerFunction"]


@pytest.mark.parametrize("case", CASES)
def test_no_reserved_concurrency_by_default(deployed, case):
    """Reserving 100 per authorizer and 10 for the backend fails on accounts with a low quota."""
    t = deployed[case]
    for name, fn in t.of_type("AWS::Lambda::Function").items():
        assert "ReservedConcurrentExecutions" not in fn["Properties"], name


@pytest.mark.parametrize("case", ["header-secret", "api-key+request", "header-secret+cedar", "origin-mtls+jwt"])
def test_reserved_concurrency_when_asked_for(source, case):
    params = {**CASES[case], "AuthorizerReservedConcurrency": "40"}
    t = Resolved(sam_transform(source, params), params)
    reserved = {name: t.text(fn["Properties"]["ReservedConcurrentExecutions"])
                for name, fn in t.of_type("AWS::Lambda::Function").items() if "ReservedConcurrentExecutions" in fn["Properties"]}
    expected = {name: "40" for name in AUTHORIZER_FUNCTIONS if name in t.resources}
    if "SecretRotatorFunction" in t.resources:
        expected["SecretRotatorFunction"] = "1"
    assert reserved == expected


@pytest.mark.parametrize("value, accepted", [("none", True), ("1", True), ("40", True), ("99999", True),
                                             ("0", False), ("-1", False), ("100000", False), ("", False)])
def test_reserved_concurrency_parameter_pattern(source, value, accepted):
    assert bool(re.fullmatch(source["Parameters"]["AuthorizerReservedConcurrency"]["AllowedPattern"], value)) is accepted


# ------------------------------------------------------------------ per-tenant usage plans

USAGE = {"TenantUsagePlans": "true"}
USAGE_CASES = {
    "header-secret+request+usage": {"LockdownMode": "header-secret", **REQUEST, **USAGE},
    "header-secret+request+viewer+usage": {"LockdownMode": "header-secret", **REQUEST, **VIEWER, **USAGE},
    "origin-mtls+request+usage": {**MTLS, **REQUEST, **USAGE},
}


@pytest.mark.parametrize("case", USAGE_CASES)
def test_tenant_usage_plans_take_the_key_from_the_request_authorizer(source, case):
    params = USAGE_CASES[case]
    t = Resolved(sam_transform(source, params), params)
    assert t.failed_rules() == []
    assert t.resources["RestApi"]["Properties"]["ApiKeySourceType"] == "AUTHORIZER"
    for method in t.of_type("AWS::ApiGateway::Method").values():
        assert method["Properties"]["ApiKeyRequired"] is True
        assert ref_target(method["Properties"]["AuthorizerId"]) == "RestRequestAuthorizer"
    plan = t.resources["TenantUsagePlan"]["Properties"]
    assert [(ref_target(s["ApiId"]), ref_target(s["Stage"])) for s in plan["ApiStages"]] == [("RestApi", "RestStage")]
    assert plan["Throttle"] == {"BurstLimit": 50, "RateLimit": 20}
    assert ref_target(t.outputs["TenantUsagePlanId"]["Value"]) == "TenantUsagePlan"
    # No key of the stack's own: every tenant brings its usageIdentifierKey.
    assert not t.of_type("AWS::ApiGateway::ApiKey")
    # Switching the key source and ApiKeyRequired makes a new snapshot (TenantUsagePlans is served).
    assert t.text(t.resources["RestDeployment"]["Properties"]["Served"]["TenantUsagePlans"]) == "true"


@pytest.mark.parametrize("case", CASES)
def test_without_tenant_usage_plans_the_key_stays_in_the_header(deployed, case):
    t = deployed[case]
    assert t.resources["RestApi"]["Properties"]["ApiKeySourceType"] == "HEADER"
    assert "TenantUsagePlan" not in t.resources and "TenantUsagePlanId" not in t.outputs


@pytest.mark.parametrize(
    "params, refused",
    [
        ({"LockdownMode": "api-key", **REQUEST, **USAGE}, "TenantUsagePlans needs LockdownMode header-secret or origin-mtls"),
        ({"LockdownMode": "header-secret", **JWT, **USAGE}, "TenantUsagePlans needs CallerAuthorizer request"),
        ({"LockdownMode": "header-secret", **USAGE}, "TenantUsagePlans needs CallerAuthorizer request"),
    ],
)
def test_tenant_usage_plans_rule(source, params, refused):
    assert any(f.startswith(refused) for f in Resolved(source, params).failed_rules())


# ------------------------------------------------------------------ deploy defaults

def test_samconfig_passes_no_mode_on_redeploy():
    """SAM keeps a stack's previous parameter values when they are omitted; a LockdownMode in
    samconfig.toml's deploy defaults would switch an api-key stack back on every `sam deploy`."""
    config = tomllib.loads((SAM_DIR / "samconfig.toml").read_text())
    overrides = config["default"]["deploy"]["parameters"].get("parameter_overrides", "")
    assert "LockdownMode" not in overrides and "CallerAuthorizer" not in overrides


# ------------------------------------------------------------------ outputs a user needs after deploy

@pytest.mark.parametrize("case", CASES)
def test_outputs_prove_the_lockdown(deployed, case):
    """The distribution's id and domain, the API URLs, and the two curl commands of the proof."""
    out = {name: o["Value"] for name, o in deployed[case].outputs.items()}
    assert out["DistributionId"] == {"Ref": "Distribution"}
    assert sub_text(out["CloudFrontUrl"]) == "https://${Distribution.DomainName}"
    assert sub_text(out["RestApiUrl"]) == "https://${Distribution.DomainName}/rest/"
    assert sub_text(out["CheckThroughCloudFront"]) == (
        "curl -s -o /dev/null -w '%{http_code} ' https://${Distribution.DomainName}/ https://${Distribution.DomainName}/rest/")
    execute_api = ("https://${HttpApi}.execute-api.${AWS::Region}.amazonaws.com/ "
                   "https://${RestApi}.execute-api.${AWS::Region}.amazonaws.com/rest/")
    if case in MTLS_CASES:
        # What a direct caller would try: the custom domain (its TLS handshake fails), then the
        # disabled execute-api endpoints.
        assert out["CheckDirectRefused"]["Fn::Sub"] == [
            "curl -s -o /dev/null -w '%{http_code} ' https://${Domain}/ https://${Domain}/rest/ " + execute_api,
            {"Domain": {"Ref": "OriginDomainName"}}]
    else:
        assert sub_text(out["CheckDirectRefused"]) == "curl -s -o /dev/null -w '%{http_code} ' " + execute_api


# ------------------------------------------------------------------ web ACL

WEB_ACL = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/portcullis-edge-web-acl/a1b2c3d4-5678-90ab-cdef-0123456789ab"


@pytest.mark.parametrize("case", CASES)
def test_no_web_acl_unless_given(deployed, case):
    assert "WebACLId" not in deployed[case].resources["Distribution"]["Properties"]["DistributionConfig"]


def test_the_distribution_takes_the_web_acl(source):
    params = {"LockdownMode": "header-secret", "WebAclArn": WEB_ACL}
    t = Resolved(sam_transform(source, params), params)
    assert t.text(t.resources["Distribution"]["Properties"]["DistributionConfig"]["WebACLId"]) == WEB_ACL


@pytest.mark.parametrize("arn, accepted", [
    ("", True), (WEB_ACL, True),
    # A regional web ACL cannot front CloudFront; nor can a classic WAF id.
    (WEB_ACL.replace("us-east-1", "eu-west-1").replace("global/", "regional/"), False),
    ("a1b2c3d4-5678-90ab-cdef-0123456789ab", False),
])
def test_web_acl_parameter_pattern(source, arn, accepted):
    assert bool(re.fullmatch(source["Parameters"]["WebAclArn"]["AllowedPattern"], arn)) is accepted


def test_edge_stack_creates_a_web_acl_only_when_asked(edge):
    source, default = edge
    assert not default.of_type("AWS::WAFv2::WebACL") and "WebAclArn" not in default.outputs
    t = Resolved(sam_transform(source, {"CreateWebAcl": "true"}), {"CreateWebAcl": "true"})
    acl = t.resources["WebAcl"]["Properties"]
    assert acl["Scope"] == "CLOUDFRONT" and acl["DefaultAction"] == {"Allow": {}}
    rules = [(r["Priority"], r["Name"], r["Statement"]) for r in acl["Rules"]]
    assert rules == [
        (0, "aws-common", {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}}),
        (1, "aws-known-bad-inputs", {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesKnownBadInputsRuleSet"}}),
        (2, "aws-ip-reputation", {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesAmazonIpReputationList"}}),
        (3, "rate-per-ip", {"RateBasedStatement": {"Limit": {"Ref": "WebAclRateLimit"}, "AggregateKeyType": "IP"}}),
    ]
    assert t.value({"Ref": "WebAclRateLimit"}) == "2000"
    assert acl["Rules"][3]["Action"] == {"Block": {}}
    assert all(r["OverrideAction"] == {"None": {}} for r in acl["Rules"][:3])
    assert t.outputs["WebAclArn"]["Value"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}


# ------------------------------------------------------------------ decision metrics: alarms, dashboard

DENY_QUERY = """SELECT SUM(Decisions) FROM SCHEMA("portcullis", decision, "function") WHERE decision = 'deny'"""
ERROR_QUERY = """SELECT SUM(Decisions) FROM SCHEMA("portcullis", decision, "function") WHERE decision = 'error'"""


@pytest.mark.parametrize("case", CASES)
def test_alarms_on_denies_and_errors(deployed, case):
    """Metrics Insights over the EMF metric every authorizer emits (function + decision)."""
    t = deployed[case]
    alarms = t.of_type("AWS::CloudWatch::Alarm")
    assert set(alarms) == {"DenyAlarm", "ErrorAlarm"}
    for name, query, threshold in (("DenyAlarm", DENY_QUERY, "100"), ("ErrorAlarm", ERROR_QUERY, "1")):
        props = alarms[name]["Properties"]
        ((metric),) = props["Metrics"]
        assert t.text(metric["Expression"]) == query and metric["Period"] == 300 and metric["ReturnData"] is True
        assert str(t.value(props["Threshold"])) == threshold
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and props["EvaluationPeriods"] == 1
        assert props["TreatMissingData"] == "notBreaching"


def test_dashboard_shows_the_decisions_and_the_alarms(deployed):
    t = deployed["header-secret"]
    body, variables = t.resources["DecisionsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert variables == {"Ns": {"Ref": "MetricsNamespace"}, "Deny": {"Fn::GetAtt": ["DenyAlarm", "Arn"]},
                         "Error": {"Fn::GetAtt": ["ErrorAlarm", "Arn"]}}
    widgets = json.loads(body.replace("${Ns}", "portcullis"))["widgets"]
    queries = [w["properties"]["metrics"][0][0]["expression"] for w in widgets if w["type"] == "metric"]
    assert queries == [
        'SELECT SUM(Decisions) FROM SCHEMA("portcullis", decision, "function") GROUP BY decision',
        """SELECT SUM(Decisions) FROM SCHEMA("portcullis", decision, "function", reason) WHERE decision != 'allow' GROUP BY "function", reason""",
    ]
    assert [w["properties"]["alarms"] for w in widgets if w["type"] == "alarm"] == [["${Deny}", "${Error}"]]
    assert t.outputs["DecisionsDashboardName"]["Value"] == {"Ref": "DecisionsDashboard"}


def test_no_alarms_without_metrics(source):
    t = Resolved(source, {"LockdownMode": "header-secret", "MetricsNamespace": ""})
    assert not t.of_type("AWS::CloudWatch::Alarm") and not t.of_type("AWS::CloudWatch::Dashboard")
    assert "DecisionsDashboardName" not in t.outputs


# ------------------------------------------------------------------ alarm actions

TOPIC = "arn:aws:sns:eu-west-1:123456789012:portcullis-alarms"


@pytest.mark.parametrize("case", CASES)
def test_alarms_notify_nobody_by_default(deployed, case):
    for name, alarm in deployed[case].of_type("AWS::CloudWatch::Alarm").items():
        assert "AlarmActions" not in alarm["Properties"] and "OKActions" not in alarm["Properties"], name


@pytest.mark.parametrize("case", ["header-secret", "api-key+request", "sigv4", "origin-mtls+cedar"])
def test_alarms_notify_the_topic_on_alarm_and_ok(source, case):
    params = {**CASES[case], "AlarmTopicArn": TOPIC}
    t = Resolved(sam_transform(source, params), params)
    alarms = t.of_type("AWS::CloudWatch::Alarm")
    assert set(alarms) == {"DenyAlarm", "ErrorAlarm"}
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["AlarmActions"] == props["OKActions"] == [{"Ref": "AlarmTopicArn"}]
        assert [t.text(a) for a in props["AlarmActions"]] == [TOPIC]


@pytest.mark.parametrize("arn, accepted", [
    ("", True), (TOPIC, True), (TOPIC + ".fifo", True), ("arn:aws-us-gov:sns:us-gov-west-1:123456789012:t", True),
    ("arn:aws:sqs:eu-west-1:123456789012:portcullis-alarms", False), ("portcullis-alarms", False),
    ("arn:aws:sns:eu-west-1:12345:t", False),
])
def test_alarm_topic_parameter_pattern(source, arn, accepted):
    assert bool(re.fullmatch(source["Parameters"]["AlarmTopicArn"]["AllowedPattern"], arn)) is accepted


# ------------------------------------------------------------------ the origin secret header stops at the HTTP API

@pytest.mark.parametrize("case", CASES)
def test_http_api_removes_the_origin_secret_header_before_the_backend(deployed, case):
    """HTTP API parameter mapping (remove:header.<name>, no value) on the Lambda integration, applied
    after the authorizer; where CloudFront sends no secret to the HTTP API, nothing to remove."""
    t = deployed[case]
    (integration,) = t.of_type("AWS::ApiGatewayV2::Integration").values()
    props = integration["Properties"]
    if case in SECRET_CHECKER:
        (header,) = origins(t)["http-api"]["OriginCustomHeaders"]
        assert t.value(header["HeaderName"]) == "x-origin-verify"
        assert props["RequestParameters"] == {"remove:header.x-origin-verify": ""}
    else:
        assert "RequestParameters" not in props
    assert props["IntegrationType"] == "AWS_PROXY" and "IntegrationSubtype" not in props


def test_a_renamed_secret_header_is_not_removed(source):
    """A CloudFormation map key cannot be a parameter: with another SecretHeaderName the mapping is
    left out rather than removing the wrong header (docs/deploy.md)."""
    params = {"LockdownMode": "header-secret", "SecretHeaderName": "x-origin-proof"}
    t = Resolved(sam_transform(source, params), params)
    (integration,) = t.of_type("AWS::ApiGatewayV2::Integration").values()
    assert "RequestParameters" not in integration["Properties"]


# ------------------------------------------------------------------ REST resource policy and endpoint type

CLOUDFRONT_RANGES = "130.176.0.0/17,15.158.0.0/16"
VPCE = "vpce-0a1b2c3d4e5f60718"
PRIVATE = {"LockdownMode": "sigv4", "OriginSignerVersionArn": SIGNER_VERSION, "EndpointType": "PRIVATE",
           "VpcEndpointIds": VPCE, "AllowedSourceVpces": VPCE, "DeniedSourceVpcs": "vpc-0bad0bad0bad0bad0"}
REGIONAL_POLICY = {"AllowedSourceIps": CLOUDFRONT_RANGES, "AllowedSourceIpsIncludeCloudFront": "true",
                   "DeniedSourceIps": "203.0.113.0/24"}


def invoke(effect, sid, principal="*", condition=None):
    """One resource policy statement on this API's every method (execute-api:/* is its ARN's shorthand)."""
    st = {"Sid": sid, "Effect": effect, "Principal": principal, "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    return {**st, "Condition": condition} if condition else st


@pytest.mark.parametrize("case", CASES)
def test_no_resource_policy_and_a_regional_api_by_default(deployed, case):
    props = deployed[case].resources["RestApi"]["Properties"]
    assert "Policy" not in props
    assert props["EndpointConfiguration"] == {"Types": [{"Ref": "EndpointType"}]}
    assert deployed[case].value(props["EndpointConfiguration"]["Types"][0]) == "REGIONAL"


@pytest.mark.parametrize("mode", ["header-secret", "api-key", "origin-mtls"])
def test_regional_resource_policy_denies_outside_and_denied_source_ips(source, mode):
    params = {**(MTLS if mode == "origin-mtls" else {"LockdownMode": mode}), **REGIONAL_POLICY}
    t = Resolved(sam_transform(source, params), params)
    assert t.failed_rules() == []
    policy = t.resources["RestApi"]["Properties"]["Policy"]
    assert policy == {"Version": "2012-10-17", "Statement": [
        invoke("Allow", "Invoke"),
        invoke("Deny", "DenyOutsideAllowedSourceIps", condition={"NotIpAddress": {"aws:SourceIp": {"Ref": "AllowedSourceIps"}}}),
        invoke("Deny", "DenyDeniedSourceIps", condition={"IpAddress": {"aws:SourceIp": {"Ref": "DeniedSourceIps"}}}),
    ]}
    assert t.listed({"Ref": "AllowedSourceIps"}) == ["130.176.0.0/17", "15.158.0.0/16"]
    assert t.listed({"Ref": "DeniedSourceIps"}) == ["203.0.113.0/24"]
    # Still CloudFront's origin, regional.
    assert {o for o in origins(t)} == {"http-api", "rest-api"}


def test_sigv4_resource_policy_allows_this_account_only(source):
    """An Allow for "*" would open the AWS_IAM methods to principals of every account whose own
    policy allows them: in sigv4 mode the Allow names this account."""
    params = {**CASES["sigv4"], "DeniedSourceIps": "203.0.113.0/24"}
    t = Resolved(sam_transform(source, params), params)
    assert t.resources["RestApi"]["Properties"]["Policy"]["Statement"] == [
        invoke("Allow", "Invoke", principal={"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}),
        invoke("Deny", "DenyDeniedSourceIps", condition={"IpAddress": {"aws:SourceIp": {"Ref": "DeniedSourceIps"}}}),
    ]


def test_private_rest_api_is_bound_to_its_vpc_endpoints_and_leaves_cloudfront(source):
    t = Resolved(sam_transform(source, PRIVATE), PRIVATE)
    assert t.failed_rules() == []
    props = t.resources["RestApi"]["Properties"]
    assert props["EndpointConfiguration"] == {"Types": [{"Ref": "EndpointType"}], "VpcEndpointIds": {"Ref": "VpcEndpointIds"}}
    assert t.value(props["EndpointConfiguration"]["Types"][0]) == "PRIVATE" and t.listed({"Ref": "VpcEndpointIds"}) == [VPCE]
    assert props["Policy"]["Statement"] == [
        invoke("Allow", "Invoke", principal={"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}),
        invoke("Deny", "DenyDeniedSourceVpcs", condition={"StringEquals": {"aws:SourceVpc": {"Ref": "DeniedSourceVpcs"}}}),
        invoke("Deny", "DenyOutsideAllowedSourceVpces", condition={"StringNotEquals": {"aws:SourceVpce": {"Ref": "AllowedSourceVpces"}}}),
    ]
    # Its methods are AWS_IAM (sigv4), signed by the callers in the VPC.
    for method in t.of_type("AWS::ApiGateway::Method").values():
        assert method["Properties"]["AuthorizationType"] == "AWS_IAM"
    # CloudFront keeps the HTTP API only: no REST origin, no /rest/* behaviour, no REST grant to the signer.
    dist = t.resources["Distribution"]["Properties"]["DistributionConfig"]
    assert [o["Id"] for o in dist["Origins"]] == ["http-api"] and "CacheBehaviors" not in dist
    (st,) = statements(t.resources["OriginSignerInvokePolicy"]["Properties"]["PolicyDocument"])
    assert [sub_text(r) for r in st["Resource"]] == ["arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*"]
    out = {name: o["Value"] for name, o in t.outputs.items()}
    assert sub_text(out["RestApiUrl"]) == "https://${RestApi}.execute-api.${AWS::Region}.amazonaws.com/rest/"
    assert sub_text(out["CheckThroughCloudFront"]) == "curl -s -o /dev/null -w '%{http_code} ' https://${Distribution.DomainName}/"
    assert t.text(t.resources["RestDeployment"]["Properties"]["Served"]["EndpointType"]) == "PRIVATE"


@pytest.mark.parametrize("params, refused", [
    # Behind CloudFront the caller is an edge: an IP allow list must hold CloudFront's ranges, said explicitly.
    ({"LockdownMode": "header-secret", "AllowedSourceIps": "198.51.100.0/24"}, "AllowedSourceIps refuses CloudFront"),
    ({**PRIVATE, "AllowedSourceIps": CLOUDFRONT_RANGES, "AllowedSourceIpsIncludeCloudFront": "true"},
     "AllowedSourceIps needs EndpointType REGIONAL"),
    ({**PRIVATE, "DeniedSourceIps": "203.0.113.0/24"}, "DeniedSourceIps needs EndpointType REGIONAL"),
    # A regional API behind CloudFront never sees aws:SourceVpc(e).
    ({"LockdownMode": "header-secret", "AllowedSourceVpces": VPCE}, "AllowedSourceVpcs and AllowedSourceVpces need EndpointType PRIVATE"),
    ({"LockdownMode": "header-secret", "AllowedSourceVpcs": "vpc-0a1b2c3d"}, "AllowedSourceVpcs and AllowedSourceVpces need EndpointType PRIVATE"),
    ({"LockdownMode": "api-key", "DeniedSourceVpces": VPCE}, "DeniedSourceVpcs and DeniedSourceVpces need EndpointType PRIVATE"),
    # A private API is no CloudFront origin: sigv4 only, bound to its endpoints, restricted to them.
    ({**PRIVATE, "LockdownMode": "header-secret"}, "EndpointType PRIVATE needs LockdownMode sigv4"),
    ({**MTLS, "EndpointType": "PRIVATE", "VpcEndpointIds": VPCE, "AllowedSourceVpces": VPCE}, "EndpointType PRIVATE needs LockdownMode sigv4"),
    ({**PRIVATE, "VpcEndpointIds": ""}, "EndpointType PRIVATE needs VpcEndpointIds"),
    ({**PRIVATE, "AllowedSourceVpces": ""}, "EndpointType PRIVATE needs AllowedSourceVpces or AllowedSourceVpcs"),
    ({**PRIVATE, "ApiDomainName": "api.example.com", "ApiCertificateArn": DOMAIN_CERT}, "EndpointType PRIVATE takes no ApiDomainName"),
])
def test_resource_policy_rules_refuse_what_cannot_work(source, params, refused):
    failed = Resolved(source, params).failed_rules()
    assert any(f.startswith(refused) for f in failed), failed


@pytest.mark.parametrize("params", [
    {"LockdownMode": "header-secret", **REGIONAL_POLICY},
    {"LockdownMode": "header-secret", "DeniedSourceIps": "203.0.113.0/24"},
    PRIVATE,
    {**PRIVATE, "AllowedSourceVpces": "", "AllowedSourceVpcs": "vpc-0a1b2c3d"},
])
def test_resource_policy_rules_accept_what_works(source, params):
    assert Resolved(source, params).failed_rules() == []


# ------------------------------------------------------------------ custom domain for the APIs (ApiDomainName)

API_DOMAIN = {"ApiDomainName": "api.example.com", "ApiCertificateArn": DOMAIN_CERT}
DOMAIN_CASES = {
    "header-secret+domain": {"LockdownMode": "header-secret", **API_DOMAIN},
    "api-key+jwt+domain": {"LockdownMode": "api-key", **JWT, **API_DOMAIN},
    "sigv4+domain": {**CASES["sigv4"], **API_DOMAIN},
}


@pytest.fixture(scope="module")
def with_domain(source):
    return {case: Resolved(sam_transform(source, params), params) for case, params in DOMAIN_CASES.items()}


@pytest.mark.parametrize("case", DOMAIN_CASES)
def test_api_domain_is_the_shared_regional_domain_without_mutual_tls(with_domain, case):
    t = with_domain[case]
    assert t.failed_rules() == []
    assert set(t.of_type("AWS::ApiGateway::DomainName")) == {"OriginDomain"}
    assert t.resources["OriginDomain"]["Properties"] == {
        "DomainName": {"Ref": "ApiDomainName"},
        "RegionalCertificateArn": {"Ref": "ApiCertificateArn"},
        "EndpointConfiguration": {"Types": ["REGIONAL"]},
        "SecurityPolicy": "TLS_1_2",
    }
    assert t.value(t.resources["OriginDomain"]["Properties"]["DomainName"]) == "api.example.com"
    assert t.resources["OriginDomainRestMapping"]["Properties"] == {
        "DomainName": {"Ref": "OriginDomain"}, "BasePath": "rest", "RestApiId": {"Ref": "RestApi"}, "Stage": {"Ref": "RestStage"}}
    assert t.resources["OriginDomainHttpMapping"]["Properties"] == {
        "DomainName": {"Ref": "OriginDomain"}, "ApiId": {"Ref": "HttpApi"}, "Stage": "$default"}
    # Nobody bypasses it through execute-api.
    for api in ("HttpApi", "RestApi"):
        assert t.resources[api]["Properties"]["DisableExecuteApiEndpoint"] is True, api
    for origin_id, origin in origins(t).items():
        assert origin["DomainName"] == {"Ref": "OriginDomain"}, origin_id
        assert "OriginMtlsConfig" not in origin["CustomOriginConfig"]
    assert t.text(t.outputs["DirectOriginUrl"]["Value"]) == "https://api.example.com/"
    assert t.outputs["OriginDomainRegionalName"]["Value"] == {"Fn::GetAtt": ["OriginDomain", "RegionalDomainName"]}
    # The direct caller's first try is the domain, then the disabled execute-api endpoints.
    assert t.outputs["CheckDirectRefused"]["Value"]["Fn::Sub"] == [
        "curl -s -o /dev/null -w '%{http_code} ' https://${Domain}/ https://${Domain}/rest/ "
        "https://${HttpApi}.execute-api.${AWS::Region}.amazonaws.com/ https://${RestApi}.execute-api.${AWS::Region}.amazonaws.com/rest/",
        {"Domain": {"Ref": "ApiDomainName"}}]
    # The mode's proof travels as before: the header secret, the key, or the signature.
    headers = {o: [(h["HeaderName"], h["HeaderValue"]) for h in origin.get("OriginCustomHeaders", [])] for o, origin in origins(t).items()}
    region = [("x-portcullis-region", {"Ref": "AWS::Region"})]
    if case == "sigv4+domain":
        # The signer cannot read the region from a custom domain's name.
        assert headers == {"http-api": region, "rest-api": region}
    elif case == "header-secret+domain":
        assert [n for n, _ in headers["http-api"]] == [n for n, _ in headers["rest-api"]] == [{"Ref": "SecretHeaderName"}]
    else:
        assert [n for n, _ in headers["rest-api"]] == ["x-api-key"]
    assert t.text(t.resources["RestDeployment"]["Properties"]["Served"]["ApiDomainName"]) == "api.example.com"


@pytest.mark.parametrize("params, refused", [
    ({"LockdownMode": "header-secret", "ApiDomainName": "api.example.com"}, "ApiDomainName needs ApiCertificateArn"),
    ({**MTLS, **API_DOMAIN}, "ApiDomainName is not for origin-mtls"),
])
def test_api_domain_rules(source, params, refused):
    failed = Resolved(source, params).failed_rules()
    assert any(f.startswith(refused) for f in failed), failed


@pytest.mark.parametrize("value, accepted", [("api.example.com", True), ("API.example.com", False), ("https://api.example.com", False)])
def test_api_domain_pattern(source, value, accepted):
    assert bool(re.fullmatch(source["Parameters"]["ApiDomainName"]["AllowedPattern"], value)) is accepted


# ------------------------------------------------------------------ WebSocket API (WebSocketApi=enabled)

WS = {"WebSocketApi": "enabled"}
WS_CASES = {
    "header-secret+ws": {"LockdownMode": "header-secret", **WS},
    "header-secret+jwt+ws": {"LockdownMode": "header-secret", **JWT, **WS},
    "header-secret+cedar+ws": {"LockdownMode": "header-secret", **CEDAR, **WS},
    "header-secret+request+ws": {"LockdownMode": "header-secret", **REQUEST, **WS},
    "header-secret+request+viewer+ws": {"LockdownMode": "header-secret", **REQUEST, **VIEWER, **WS},
    "api-key+ws": {"LockdownMode": "api-key", **WS},
    "api-key+jwt+ws": {"LockdownMode": "api-key", **JWT, **WS},
    "header-secret+ws+renamed": {"LockdownMode": "header-secret", **WS, "SecretHeaderName": "x-origin-proof"},
}
# The $connect authorizer, written out by hand: (name, function, identity sources). It is the
# function that guards the HTTP API in that mode, with the same identity values in WebSocket
# syntax; jwt and cedar read the token from the access_token query parameter (browsers set no
# header on a WebSocket). api-key mode: the HTTP API's header secret (the caller runs on REST only).
WS_AUTHORIZER = {
    "header-secret+ws": ("header-secret", "HeaderSecretAuthorizerFunction", ["route.request.header.x-origin-verify"]),
    "header-secret+jwt+ws": ("jwt", "JwtAuthorizerFunction",
                             ["route.request.header.x-origin-verify", "route.request.querystring.access_token"]),
    "header-secret+cedar+ws": ("cedar", "CedarAuthorizerFunction",
                               ["route.request.header.x-origin-verify", "route.request.querystring.access_token"]),
    "header-secret+request+ws": ("request", "RequestAuthorizerFunction",
                                 ["route.request.header.x-origin-verify", "route.request.header.x-tenant-key"]),
    "header-secret+request+viewer+ws": ("request", "RequestAuthorizerFunction",
                                        ["route.request.header.x-origin-verify", "route.request.header.x-tenant-key",
                                         "route.request.header.CloudFront-Viewer-Address"]),
    "api-key+ws": ("header-secret", "HeaderSecretAuthorizerFunction", ["route.request.header.x-origin-verify"]),
    "api-key+jwt+ws": ("header-secret", "HeaderSecretAuthorizerFunction", ["route.request.header.x-origin-verify"]),
    "header-secret+ws+renamed": ("header-secret", "HeaderSecretAuthorizerFunction", ["route.request.header.x-origin-proof"]),
}
WS_RESOURCES = {"WsApi", "WebSocketIntegration", "WebSocketAuthorizer", "WebSocketConnectRoute", "WebSocketDisconnectRoute",
                "WebSocketDefaultRoute", "WebSocketStage", "WebSocketInvokesBackend", "WebSocketInvokesAuthorizer",
                "WebSocketOriginRequestPolicy"}
WS_STAGE = "ws"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


@pytest.fixture(scope="module")
def with_ws(source):
    return {case: Resolved(sam_transform(source, params), params) for case, params in WS_CASES.items()}


def ws_routes(t):
    return {r["Properties"]["RouteKey"]: r["Properties"] for r in t.of_type("AWS::ApiGatewayV2::Route").values()
            if r["Properties"]["ApiId"] == {"Ref": "WsApi"}}


def test_websocket_api_is_off_by_default(source):
    assert source["Parameters"]["WebSocketApi"]["Default"] == "none"
    assert source["Parameters"]["WebSocketApi"]["AllowedValues"] == ["none", "enabled"]


@pytest.mark.parametrize("case", CASES)
def test_no_websocket_resources_unless_enabled(deployed, case):
    t = deployed[case]
    assert not WS_RESOURCES & set(t.resources)
    assert "websocket-api" not in origins(t)
    assert not {o for o in t.outputs if "WebSocket" in o}
    for function in ("JwtAuthorizerFunction", "CedarAuthorizerFunction"):
        if function in t.resources:
            assert "JWT_TOKEN_SOURCES" not in t.resources[function]["Properties"]["Environment"]["Variables"]


@pytest.mark.parametrize("case", WS_CASES)
def test_websocket_api_routes_reach_the_backend(with_ws, case):
    t = with_ws[case]
    assert WS_RESOURCES <= set(t.resources)
    api = t.resources["WsApi"]["Properties"]
    assert api["ProtocolType"] == "WEBSOCKET" and api["RouteSelectionExpression"] == "$request.body.action"
    assert set(t.of_type("AWS::ApiGatewayV2::Api")) == {"HttpApi", "WsApi"}
    integration = t.resources["WebSocketIntegration"]["Properties"]
    assert integration["ApiId"] == {"Ref": "WsApi"} and integration["IntegrationType"] == "AWS_PROXY"
    assert sub_text(integration["IntegrationUri"]) == (
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${BackendFunction.Arn}/invocations")
    routes = ws_routes(t)
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    for key, route in routes.items():
        assert sub_text(route["Target"]) == "integrations/${WebSocketIntegration}", key
    # API Gateway authorizes a WebSocket connection on $connect alone.
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    assert routes["$connect"]["AuthorizerId"] == {"Ref": "WebSocketAuthorizer"}
    for key in ("$disconnect", "$default"):
        assert routes[key]["AuthorizationType"] == "NONE" and "AuthorizerId" not in routes[key]


@pytest.mark.parametrize("case", WS_CASES)
def test_websocket_connect_authorizer(with_ws, case):
    t = with_ws[case]
    name, function, identity = WS_AUTHORIZER[case]
    props = t.resources["WebSocketAuthorizer"]["Properties"]
    assert props["ApiId"] == {"Ref": "WsApi"} and props["AuthorizerType"] == "REQUEST"
    assert props["Name"] == name
    assert authorizer_function(t, "WebSocketAuthorizer") == function
    assert [t.text(s) for s in props["IdentitySource"]] == identity
    # HTTP API settings only (API Gateway refuses them on a WebSocket authorizer).
    assert not {"AuthorizerResultTtlInSeconds", "AuthorizerPayloadFormatVersion", "EnableSimpleResponses"} & set(props)
    # The same function as the HTTP API's $default route.
    http = t.resources["HttpApiDefaultRoute"]["Properties"]["AuthorizerId"]["Ref"]
    assert authorizer_function(t, http) == function


@pytest.mark.parametrize("case", WS_CASES)
def test_websocket_identity_sources_carry_every_value_the_decision_reads(with_ws, case):
    """Derived from the function's settings: each header it reads, each query token source."""
    t = with_ws[case]
    function = authorizer_function(t, "WebSocketAuthorizer")
    env = {k: t.text(v) for k, v in t.resources[function]["Properties"]["Environment"]["Variables"].items()
           if k in {"SECRET_HEADER_NAME", "ORIGIN_SECRET_HEADER_NAME", "API_KEY_HEADER", "JWT_ISSUER", "JWT_TOKEN_SOURCES",
                    "TRUST_CLOUDFRONT_VIEWER_HEADERS"}}
    needed = [f"route.request.header.{env[k]}" for k in ("SECRET_HEADER_NAME", "ORIGIN_SECRET_HEADER_NAME", "API_KEY_HEADER") if k in env]
    if "JWT_ISSUER" in env:
        assert env["JWT_TOKEN_SOURCES"] == "header:authorization,query:access_token"
        # A browser's WebSocket sends no Authorization header: the query token is the source here.
        needed += [f"route.request.querystring.{s.split(':', 1)[1]}" for s in env["JWT_TOKEN_SOURCES"].split(",") if s.startswith("query:")]
    else:
        assert "JWT_TOKEN_SOURCES" not in env
    if env.get("TRUST_CLOUDFRONT_VIEWER_HEADERS") == "true":
        needed.append("route.request.header.CloudFront-Viewer-Address")
    assert [t.text(s) for s in t.resources["WebSocketAuthorizer"]["Properties"]["IdentitySource"]] == needed


@pytest.mark.parametrize("case", WS_CASES)
def test_websocket_invoke_permissions_name_this_api(with_ws, case):
    t = with_ws[case]
    _, function, _ = WS_AUTHORIZER[case]
    arn = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
    backend = t.resources["WebSocketInvokesBackend"]["Properties"]
    assert backend["FunctionName"] == {"Ref": "BackendFunction"} and backend["Principal"] == "apigateway.amazonaws.com"
    assert sub_text(backend["SourceArn"]) == arn + "${WsApi}/*"
    authorizer = t.resources["WebSocketInvokesAuthorizer"]["Properties"]
    assert authorizer["FunctionName"] == {"Ref": function} and authorizer["Principal"] == "apigateway.amazonaws.com"
    assert sub_text(authorizer["SourceArn"]) == arn + "${WsApi}/authorizers/${WebSocketAuthorizer}"
    # Every authorizer of every API, the WebSocket one included, has exactly one permission of its own.
    test_each_authorizer_may_be_invoked_by_its_api_only(with_ws, case)


@pytest.mark.parametrize("case", WS_CASES)
def test_websocket_stage_auto_deploys_under_the_cloudfront_path(with_ws, case):
    """AutoDeploy: a changed route or authorizer (another header name, caller) reaches the live
    stage without a deployment resource; the stage name is CloudFront's path, forwarded as is."""
    t = with_ws[case]
    stage = t.resources["WebSocketStage"]["Properties"]
    assert stage["ApiId"] == {"Ref": "WsApi"} and stage["StageName"] == WS_STAGE and stage["AutoDeploy"] is True
    assert not t.of_type("AWS::ApiGatewayV2::Deployment")
    dist = t.resources["Distribution"]["Properties"]["DistributionConfig"]
    assert [b["PathPattern"] for b in dist["CacheBehaviors"]] == ["/rest/*", f"/{WS_STAGE}"]
    assert "OriginPath" not in origins(t)["websocket-api"]


@pytest.mark.parametrize("case", WS_CASES)
def test_cloudfront_forwards_the_websocket_upgrade_with_the_secret(with_ws, case):
    t = with_ws[case]
    origin = origins(t)["websocket-api"]
    assert sub_text(origin["DomainName"]) == "${WsApi}.execute-api.${AWS::Region}.amazonaws.com"
    assert origin["CustomOriginConfig"] == {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]}
    (header,) = origin["OriginCustomHeaders"]
    _, _, identity = WS_AUTHORIZER[case]
    assert f"route.request.header.{t.text(header['HeaderName'])}" == identity[0]
    assert sub_text(header["HeaderValue"]) == DYNAMIC_ORIGIN_SECRET
    dist = t.resources["Distribution"]["Properties"]["DistributionConfig"]
    (behavior,) = [b for b in dist["CacheBehaviors"] if b["TargetOriginId"] == "websocket-api"]
    assert behavior["CachePolicyId"] == CACHING_DISABLED and behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["OriginRequestPolicyId"] == {"Ref": "WebSocketOriginRequestPolicy"}
    assert "LambdaFunctionAssociations" not in behavior
    policy = t.resources["WebSocketOriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]
    # The upgrade's headers, then every identity header of $connect but the one CloudFront sets.
    forwarded = ["Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions",
                 *[s.removeprefix("route.request.header.") for s in identity[1:] if s.startswith("route.request.header.")]]
    if "viewer" in case:
        forwarded.append("CloudFront-Viewer-Country")
    assert [t.text(h) for h in policy["HeadersConfig"]["Headers"]] == forwarded
    assert policy["HeadersConfig"]["HeaderBehavior"] == "whitelist"
    # The access_token of jwt and cedar rides in the query string.
    assert policy["QueryStringsConfig"] == {"QueryStringBehavior": "all"}


@pytest.mark.parametrize("case", WS_CASES)
def test_websocket_outputs_prove_the_lockdown(with_ws, case):
    out = {name: o["Value"] for name, o in with_ws[case].outputs.items()}
    assert sub_text(out["WebSocketUrl"]) == "wss://${Distribution.DomainName}/ws"
    assert sub_text(out["DirectWebSocketUrl"]) == "wss://${WsApi}.execute-api.${AWS::Region}.amazonaws.com/ws"
    upgrade = ("curl -s -o /dev/null -m 5 -w '%{http_code} ' --http1.1 -H 'Connection: Upgrade' -H 'Upgrade: websocket' "
               "-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: cG9ydGN1bGxpcy1wcm9iZQ==' ")
    assert sub_text(out["CheckWebSocketThroughCloudFront"]) == upgrade + "https://${Distribution.DomainName}/ws"
    assert sub_text(out["CheckWebSocketDirectRefused"]) == upgrade + "https://${WsApi}.execute-api.${AWS::Region}.amazonaws.com/ws"


@pytest.mark.parametrize("params, refused", [
    ({"LockdownMode": "sigv4", "OriginSignerVersionArn": SIGNER_VERSION, **WS}, "WebSocketApi needs LockdownMode header-secret or api-key (sigv4"),
    ({**MTLS, **WS}, "WebSocketApi needs LockdownMode header-secret or api-key (origin-mtls"),
    ({**MTLS, **JWT, **WS}, "WebSocketApi needs LockdownMode header-secret or api-key (origin-mtls"),
])
def test_websocket_rule_refuses_the_modes_without_an_origin_secret(source, params, refused):
    failed = Resolved(source, params).failed_rules()
    assert any(f.startswith(refused) for f in failed), failed
    # Even past the rule, the template would build no WebSocket API without a secret to check.
    assert not WS_RESOURCES & set(Resolved(sam_transform(source, params), params).resources)


@pytest.mark.parametrize("case", WS_CASES)
def test_websocket_rules_accept_every_case(source, case):
    assert Resolved(source, WS_CASES[case]).failed_rules() == []
