"""The wiring of the CDK example app, asserted on `cdk synth` output (infra/cdk/cdk.out, written
by `make infra-synth-cdk`; PORTCULLIS_CDK_OUT points elsewhere)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cfn import CDK_OUT, as_list, statements

OUT = Path(os.environ.get("PORTCULLIS_CDK_OUT", CDK_OUT))
STACKS = {"header-secret": "PortcullisHeaderSecret", "api-key": "PortcullisApiKey", "sigv4": "PortcullisSigV4"}


def manifest():
    path = OUT / "manifest.json"
    if not path.exists():
        pytest.fail(f"{path} missing: run `make infra-synth-cdk` first")
    return json.loads(path.read_text())


def stack_artifacts():
    return {k: v for k, v in manifest()["artifacts"].items() if v["type"] == "aws:cloudformation:stack"}


def template(stack):
    mode = next((m for m, name in STACKS.items() if name == stack), None)
    if stack not in stack_artifacts():
        if mode == "sigv4":
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

@pytest.mark.parametrize("mode", STACKS)
def test_every_route_and_method_is_guarded(mode):
    t = template(STACKS[mode])
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


@pytest.mark.parametrize("mode", ["header-secret", "api-key"])
def test_header_secret_authorizers_cache_on_the_header(mode):
    t = template(STACKS[mode])
    (http,) = of_type(t, "AWS::ApiGatewayV2::Authorizer").values()
    assert http["Properties"]["IdentitySource"] == ["$request.header.x-origin-verify"]
    assert http["Properties"]["EnableSimpleResponses"] is True
    assert http["Properties"]["AuthorizerResultTtlInSeconds"] == 300
    sources = {a["Properties"]["Name"]: a["Properties"]["IdentitySource"] for a in of_type(t, "AWS::ApiGateway::Authorizer").values()}
    if mode == "header-secret":
        assert sources == {"header-secret": "method.request.header.x-origin-verify"}
    else:
        assert sources == {"jwt": "method.request.header.Authorization"}


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


@pytest.mark.parametrize("mode", ["header-secret", "api-key"])
def test_cloudfront_sends_the_secret_header_from_a_dynamic_reference(mode):
    t = template(STACKS[mode])
    carrying = ["AWS::ApiGatewayV2::Api"] + (["AWS::ApiGateway::RestApi"] if mode == "header-secret" else [])
    (fn_id, fn), = [
        (k, v) for k, v in of_type(t, "AWS::Lambda::Function").items()
        if "SECRET_PARAMETER_NAME" in v["Properties"].get("Environment", {}).get("Variables", {})
    ]
    env = fn["Properties"]["Environment"]["Variables"]
    for api_type in carrying:
        (header,) = origin_of(t, api_type)["OriginCustomHeaders"]
        assert header["HeaderName"] == env["SECRET_HEADER_NAME"] == "x-origin-verify"
        secret_id, text = secret_reference(t, header["HeaderValue"])
        assert text == f"{{{{resolve:secretsmanager:<{secret_id}>:SecretString::AWSCURRENT:}}}}"
        # ... and the authorizer reads that very secret through SSM's reference path.
        name = t["Resources"][secret_id]["Properties"]["Name"]
        assert env["SECRET_PARAMETER_NAME"] == f"/aws/reference/secretsmanager/{name}"


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

def test_header_secret_authorizer_role_reads_only_its_parameter():
    t = template(STACKS["header-secret"])
    (fn,) = [
        v for v in of_type(t, "AWS::Lambda::Function").values()
        if "SECRET_PARAMETER_NAME" in v["Properties"].get("Environment", {}).get("Variables", {})
    ]
    parameter = fn["Properties"]["Environment"]["Variables"]["SECRET_PARAMETER_NAME"]
    role_id = ref(fn["Properties"]["Role"])
    by_service = {}
    for st in role_statements(t, role_id):
        assert st["Effect"] == "Allow"
        for action in as_list(st["Action"]):
            by_service.setdefault(action.split(":")[0], []).append((action, st))
    assert set(by_service) == {"ssm", "secretsmanager", "kms", "logs", "xray"}
    ((action, st),) = by_service["ssm"]
    assert action == "ssm:GetParameter"
    assert render(st["Resource"]) == f"arn:<AWS::Partition>:ssm:{region(STACKS['header-secret'])}:<AWS::AccountId>:parameter{parameter}"
    ((action, st),) = by_service["secretsmanager"]
    (secret_id,) = of_type(t, "AWS::SecretsManager::Secret")
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


def test_api_key_stack_runs_the_jwt_authorizer_with_issuer_and_audience():
    """The jwt-authorizer refuses to start without JWT_ISSUER and JWT_AUDIENCE."""
    t = template(STACKS["api-key"])
    (env,) = [
        v["Properties"]["Environment"]["Variables"] for v in of_type(t, "AWS::Lambda::Function").values()
        if "JWT_ISSUER" in v["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert env["JWT_ISSUER"] == "https://issuer.example.com/"
    assert env["JWT_AUDIENCE"] == "portcullis"
    assert env["JWT_ALGORITHMS"] == "RS256"


def test_request_authorizer_stack_keys_its_cache_on_tenant_key_and_route():
    t = template("PortcullisApiKeyRequest")
    (auth,) = of_type(t, "AWS::ApiGateway::Authorizer").values()
    assert auth["Properties"]["Name"] == "request"
    assert auth["Properties"]["IdentitySource"] == "method.request.header.x-tenant-key,context.httpMethod,context.resourcePath"
    for method in of_type(t, "AWS::ApiGateway::Method").values():
        assert method["Properties"]["ApiKeyRequired"] is True
        assert method["Properties"]["AuthorizationType"] == "CUSTOM"
    (fn,) = [
        v for v in of_type(t, "AWS::Lambda::Function").values()
        if "RULES_PARAMETER_NAME" in v["Properties"].get("Environment", {}).get("Variables", {})
    ]
    env = fn["Properties"]["Environment"]["Variables"]
    assert env == {"RULES_PARAMETER_NAME": "/portcullis/rules", "API_KEY_HEADER": "x-tenant-key"}
    ssm = [st for st in role_statements(t, ref(fn["Properties"]["Role"])) if any(a.startswith("ssm:") for a in as_list(st["Action"]))]
    assert len(ssm) == 1 and ssm[0]["Action"] == "ssm:GetParameter"
    assert render(ssm[0]["Resource"]) == f"arn:<AWS::Partition>:ssm:{region('PortcullisApiKeyRequest')}:<AWS::AccountId>:parameter/portcullis/rules"
