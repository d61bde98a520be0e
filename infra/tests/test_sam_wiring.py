"""The wiring of infra/sam: asserted on the template as CloudFormation sees it after the SAM
transform, for every lock-down mode."""

from __future__ import annotations

import re
import tomllib

import pytest

from cfn import SAM_DIR, Resolved, as_list, load_yaml, ref_target, sam_transform, statements

SIGNER_VERSION = "arn:aws:lambda:us-east-1:123456789012:function:portcullis-edge-origin-signer:7"
DYNAMIC_ORIGIN_SECRET = "{{resolve:secretsmanager:${OriginSecret}:SecretString::${OriginSecretVersionStage}}}"

# (id, parameter values) - every mode, and api-key with each caller authorizer.
CASES = {
    "header-secret": {"LockdownMode": "header-secret"},
    "api-key": {"LockdownMode": "api-key"},
    "api-key+jwt": {"LockdownMode": "api-key", "CallerAuthorizer": "jwt", "JwtIssuer": "https://issuer.example.com/", "JwtAudience": "orders-api"},
    "api-key+request": {"LockdownMode": "api-key", "CallerAuthorizer": "request", "RulesParameterName": "/portcullis/rules"},
    "sigv4": {"LockdownMode": "sigv4", "OriginSignerVersionArn": SIGNER_VERSION},
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


# ------------------------------------------------------------------ every route is guarded

@pytest.mark.parametrize("case", CASES)
def test_every_http_route_has_an_authorizer_or_aws_iam(deployed, case):
    t = deployed[case]
    routes = t.of_type("AWS::ApiGatewayV2::Route")
    assert routes, "the HTTP API has no route"
    authorizers = t.of_type("AWS::ApiGatewayV2::Authorizer")
    for name, route in routes.items():
        props = route["Properties"]
        if case == "sigv4":
            assert props["AuthorizationType"] == "AWS_IAM", name
            assert "AuthorizerId" not in props
        else:
            assert props["AuthorizationType"] == "CUSTOM", name
            authorizer = ref_target(props["AuthorizerId"])
            assert authorizer in authorizers, f"{name} points at missing authorizer {authorizer}"
            assert authorizer == "HttpApiHeaderSecretAuthorizer"
            assert ref_target(authorizers[authorizer]["Properties"]["ApiId"]) == ref_target(props["ApiId"])


@pytest.mark.parametrize("case", CASES)
def test_every_rest_method_has_an_authorizer_aws_iam_or_the_api_key(deployed, case):
    t = deployed[case]
    methods = t.of_type("AWS::ApiGateway::Method")
    assert len(methods) == 2, "root and {proxy+} ANY methods"
    authorizers = t.of_type("AWS::ApiGateway::Authorizer")
    expected = {
        "header-secret": "RestHeaderSecretAuthorizer",
        "api-key+jwt": "RestJwtAuthorizer",
        "api-key+request": "RestRequestAuthorizer",
    }.get(case)
    for name, method in methods.items():
        props = method["Properties"]
        kind = props["AuthorizationType"]
        if case == "sigv4":
            assert kind == "AWS_IAM", name
        elif expected:
            assert kind == "CUSTOM", name
            assert ref_target(props["AuthorizerId"]) == expected
            assert expected in authorizers
        else:
            assert case == "api-key"
            assert kind == "NONE" and "AuthorizerId" not in props
        assert props["ApiKeyRequired"] is case.startswith("api-key"), name


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
    for name, auth in authorizers.items():
        uri = sub_text(auth["Properties"]["AuthorizerUri"])
        function = re.search(r"functions/\$\{(\w+)\.Arn\}/invocations$", uri).group(1)
        granting = [
            p for p in permissions.values()
            if ref_target(p["Properties"]["FunctionName"]) == function
            and f"/authorizers/${{{name}}}" in sub_text(p["Properties"]["SourceArn"])
        ]
        assert len(granting) == 1, f"{name}: no permission scoped to this authorizer"
        assert granting[0]["Properties"]["Principal"] == "apigateway.amazonaws.com"


# ------------------------------------------------------------------ caching

@pytest.mark.parametrize("case", ["header-secret", "api-key"])
def test_header_secret_authorizers_cache_on_the_secret_header(deployed, case):
    t = deployed[case]
    header = t.params["SecretHeaderName"]
    http = t.resources["HttpApiHeaderSecretAuthorizer"]["Properties"]
    assert [sub_text(s) for s in http["IdentitySource"]] == ["$request.header.${SecretHeaderName}"]
    assert http["EnableSimpleResponses"] is True and http["AuthorizerPayloadFormatVersion"] == "2.0"
    assert t.value(http["AuthorizerResultTtlInSeconds"]) == "300"
    env = t.resources["HeaderSecretAuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert t.value(env["SECRET_HEADER_NAME"]) == header == "x-origin-verify"
    if case == "header-secret":
        rest = t.resources["RestHeaderSecretAuthorizer"]["Properties"]
        assert sub_text(rest["IdentitySource"]) == "method.request.header.${SecretHeaderName}"
        assert rest["Type"] == "REQUEST"
        assert t.value(rest["AuthorizerResultTtlInSeconds"]) == "300"


def test_request_authorizer_cache_key_includes_the_route(deployed):
    rest = deployed["api-key+request"].resources["RestRequestAuthorizer"]["Properties"]
    sources = sub_text(rest["IdentitySource"]).split(",")
    assert sources == ["method.request.header.${RequestIdentityHeader}", "context.httpMethod", "context.resourcePath"]


def test_jwt_authorizer_cache_key_is_the_token(deployed):
    rest = deployed["api-key+jwt"].resources["RestJwtAuthorizer"]["Properties"]
    assert rest["IdentitySource"] == "method.request.header.Authorization"


# ------------------------------------------------------------------ the secret and CloudFront

def origins(t):
    dist = t.resources["Distribution"]["Properties"]["DistributionConfig"]
    return {o["Id"]: o for o in dist["Origins"]}


@pytest.mark.parametrize("case", ["header-secret", "api-key"])
def test_cloudfront_sends_the_secret_header_from_a_dynamic_reference(deployed, case):
    t = deployed[case]
    by_id = origins(t)
    carrying = ["http-api", "rest-api"] if case == "header-secret" else ["http-api"]
    for origin_id in carrying:
        headers = by_id[origin_id]["OriginCustomHeaders"]
        assert len(headers) == 1
        assert t.value(headers[0]["HeaderName"]) == "x-origin-verify"
        assert sub_text(headers[0]["HeaderValue"]) == DYNAMIC_ORIGIN_SECRET
    secret = t.resources["OriginSecret"]["Properties"]
    assert "GenerateSecretString" in secret and "SecretString" not in secret
    # The authorizer reads the same secret through SSM's Secrets Manager reference path.
    env = t.resources["HeaderSecretAuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert sub_text(env["SECRET_PARAMETER_NAME"]) == "/aws/reference/secretsmanager/" + sub_text(secret["Name"])
    assert t.value(t.raw["Parameters"]["OriginSecretVersionStage"]["Default"]) == "AWSCURRENT"


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
    assert t.raw["Resources"]["RestApi"]["Properties"]["ApiKeySourceType"] == "HEADER"


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


@pytest.mark.parametrize("case", ["header-secret", "api-key"])
def test_header_secret_authorizer_role_reads_only_its_parameter(deployed, case):
    t = deployed[case]
    fn = t.resources["HeaderSecretAuthorizerFunction"]["Properties"]
    assert ref_target(fn["Role"]) == "HeaderSecretAuthorizerRole"
    parameter = sub_text(fn["Environment"]["Variables"]["SECRET_PARAMETER_NAME"])
    by_service = {}
    for st in role_statements(t, "HeaderSecretAuthorizerRole"):
        assert st["Effect"] == "Allow"
        for action in as_list(st["Action"]):
            by_service.setdefault(action.split(":")[0], []).append((action, st))
    assert set(by_service) == {"ssm", "secretsmanager", "kms", "logs", "xray"}
    ((action, st),) = by_service["ssm"]
    assert action == "ssm:GetParameter"
    assert sub_text(st["Resource"]) == f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{parameter}"
    ((action, st),) = by_service["secretsmanager"]
    assert action == "secretsmanager:GetSecretValue" and ref_target(st["Resource"]) == "OriginSecret"
    ((action, st),) = by_service["kms"]
    assert action == "kms:Decrypt" and st["Resource"] == {"Fn::GetAtt": ["SecretsKey", "Arn"]}
    assert sub_text(st["Condition"]["StringEquals"]["kms:ViaService"]) == "secretsmanager.${AWS::Region}.amazonaws.com"
    for action, st in by_service["logs"]:
        assert action in {"logs:CreateLogStream", "logs:PutLogEvents"}
        assert sub_text(st["Resource"]).endswith(":log-group:/aws/lambda/${AWS::StackName}-header-secret-authorizer:*")
    for action, st in by_service["xray"]:
        assert action in {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_request_authorizer_role_reads_only_the_rules_parameter(deployed):
    t = deployed["api-key+request"]
    ssm = [st for st in role_statements(t, "RequestAuthorizerRole") if any(a.startswith("ssm:") for a in as_list(st["Action"]))]
    assert len(ssm) == 1 and ssm[0]["Action"] == "ssm:GetParameter"
    assert sub_text(ssm[0]["Resource"]) == "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${RulesParameterName}"
    env = t.resources["RequestAuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["RULES_PARAMETER_NAME"] == {"Ref": "RulesParameterName"}
    # The tenant key header is the cache key, and not x-api-key, which CloudFront overwrites.
    assert env["API_KEY_HEADER"] == {"Ref": "RequestIdentityHeader"}
    assert t.value(env["API_KEY_HEADER"]) == "x-tenant-key"


def test_rust_functions_build_with_cargo_lambda_for_al2023(source):
    for name in ("HeaderSecretAuthorizerFunction", "JwtAuthorizerFunction", "RequestAuthorizerFunction"):
        resource = source["Resources"][name]
        assert resource["Metadata"]["BuildMethod"] == "rust-cargolambda"
        assert resource["Metadata"]["BuildProperties"]["Binary"] in {"header-secret-authorizer", "jwt-authorizer", "request-authorizer"}
    assert source["Globals"]["Function"]["Runtime"] == "provided.al2023"
    assert source["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    assert source["Parameters"]["Architecture"]["AllowedValues"] == ["arm64", "x86_64"]
    assert source["Parameters"]["Architecture"]["Default"] == "arm64"


@pytest.mark.parametrize("case", CASES)
def test_the_rest_stage_serves_a_deployment_of_this_wiring(deployed, case):
    """One deployment per wiring: a mode change makes a new snapshot of the methods."""
    t = deployed[case]
    deployments = t.of_type("AWS::ApiGateway::Deployment")
    assert len(deployments) == 1
    (name,) = deployments
    assert ref_target(t.resources["RestStage"]["Properties"]["DeploymentId"]) == name
    assert set(deployments[name]["DependsOn"]) == {"RestRootMethod", "RestProxyMethod"}
    names = {d for d in (ref_target(Resolved(t.raw, p).resources["RestStage"]["Properties"]["DeploymentId"]) for p in CASES.values())}
    assert len(names) == len(CASES)
