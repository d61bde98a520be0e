"""A smoke deploy on a real CloudFormation engine: moto's. The SAM-transformed template (every
mode and caller authorizer of the wiring tests) and every synthesized CDK stack are created as
stacks on a local moto server, and one is updated. Resource types moto's CloudFormation does not
implement are left out (every reference to one becomes a literal naming it, `skipped(id)`), and
listed: `SKIPPED_TYPES` is what docs/deploy.md reports. The REST deployer (a custom resource,
which moto runs only in Docker) runs in-process against moto's API Gateway, as CloudFormation
would call it during an UpdateStack."""

from __future__ import annotations

import http.server
import io
import json
import os
import re
import subprocess
import threading
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

import test_cdk_wiring as cdk
import test_sam_wiring as sam
from cfn import REPO, SAM_DIR, Resolved, load_yaml, sam_transform

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
# The resource types of these templates that moto 5.2.5's CloudFormation creates (written by hand:
# a type moto stops creating fails the deploy, a new one it learns is simply not used yet).
CREATED_TYPES = {
    "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Method", "AWS::ApiGateway::Resource", "AWS::ApiGateway::RestApi",
    "AWS::CloudWatch::Dashboard",
    "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::KMS::Key", "AWS::Lambda::Function", "AWS::Lambda::Permission",
    "AWS::Lambda::Version", "AWS::Logs::LogGroup", "AWS::SSM::Parameter",
}
# Those it does not implement: left out of the smoke deploy (docs/deploy.md, "Smoke deploy").
SKIPPED_TYPES = {
    "AWS::ApiGateway::ApiKey", "AWS::ApiGateway::Authorizer", "AWS::ApiGateway::BasePathMapping", "AWS::ApiGateway::DomainName",
    "AWS::ApiGateway::Stage", "AWS::ApiGateway::UsagePlan", "AWS::ApiGateway::UsagePlanKey",
    "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::ApiMapping", "AWS::ApiGatewayV2::Authorizer", "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Stage",
    "AWS::CloudFront::Distribution", "AWS::CloudFront::OriginRequestPolicy", "AWS::CloudWatch::Alarm",
    "AWS::IAM::RolePolicy", "AWS::SecretsManager::RotationSchedule", "AWS::SecretsManager::Secret",
    # Custom resources: moto invokes their Lambda function in Docker only.
    "Custom::RestDeployment", "Custom::CrossRegionStringParameterReader",
    # CDK's version-reporting resource (a synth with bundling and a known region emits it).
    "AWS::CDK::Metadata",
}
# moto 5.2.5 leaves the physical id of these empty.
MOTO_NO_PHYSICAL_ID = {"AWS::Lambda::Permission", "AWS::Lambda::Version", "AWS::ApiGateway::Method", "AWS::ApiGateway::Deployment"}


def skipped(name):
    """What a reference to a left-out resource becomes: shaped like a Secrets Manager ARN, as CDK
    splits those (`:` field 6, then 4 `-` fields) and IAM policies must name ARNs."""
    return f"arn:aws:skipped:{REGION}:{ACCOUNT}:resource:skipped-{name}-left-out"


@pytest.fixture(scope="module")
def moto():
    """A moto server on a port it picks itself, stopped at the end (the Popen handle we own)."""
    binary = os.environ.get("MOTO_SERVER") or str(REPO / ".venv" / "bin" / "moto_server")
    if not Path(binary).is_file():
        pytest.fail(f"{binary} is missing: run `make setup` (the project venv has moto[server])")
    server = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", "0"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = None
    for line in server.stderr:
        if match := re.search(r"Running on http://127\.0\.0\.1:(\d+)", line):
            port = int(match.group(1))
            break
    if port is None:
        server.kill()
        pytest.fail("moto_server did not report its port")
    # Its log (one line per request, tracebacks) goes to PORTCULLIS_MOTO_LOG if set, else nowhere.
    def drain():
        with open(os.environ.get("PORTCULLIS_MOTO_LOG", os.devnull), "w") as log:
            for line in server.stderr:
                log.write(line)

    threading.Thread(target=drain, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    # The figures docs/deploy.md quotes (shown with -s).
    print(f"\nmoto smoke deploy: {FIGURES['stacks']} stacks, {FIGURES['created']} resources created, "
          f"{FIGURES['skipped']} resources of {len(FIGURES['types'])} types skipped: {sorted(FIGURES['types'])}")
    server.terminate()
    server.wait(timeout=30)


def client(endpoint, service, region=REGION):
    return boto3.client(service, endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))


# ------------------------------------------------------------------ leaving out what moto lacks

def without_novalue_items(template, params):
    """moto 5.2.5 turns a list item `Fn::If [false, x, AWS::NoValue]` into null (CloudFormation
    drops it), and its IAM role then fails on the null policy: those items alone are dropped here."""
    conditions = Resolved({**template, "Resources": {}, "Outputs": {}}, params)

    def walk(node):
        if isinstance(node, dict) and set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return {"Fn::If": [name, walk(yes), walk(no)]}
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node if not (isinstance(v, dict) and set(v) == {"Fn::If"}
                                                   and not conditions.condition(v["Fn::If"][0])
                                                   and v["Fn::If"][2] == {"Ref": "AWS::NoValue"})]
        return node

    return {**template, "Resources": walk(template["Resources"])}


def without_skipped(template):
    """The template with every resource of a skipped type removed, and each Ref, GetAtt, ${...}
    and DependsOn naming one replaced by a literal: `skipped(id)` (`skipped:<id>` inside a longer
    string); and the skipped ids."""
    template = json.loads(json.dumps(template))
    left_out = {k for k, r in template["Resources"].items() if r["Type"] in SKIPPED_TYPES}
    unknown = {r["Type"] for r in template["Resources"].values()} - CREATED_TYPES - SKIPPED_TYPES
    assert not unknown, f"resource types neither created nor skipped: {unknown}"

    def literal(node):
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in left_out:
                return skipped(node["Ref"])
            if set(node) == {"Fn::GetAtt"}:
                att = node["Fn::GetAtt"]
                target, name = (att if isinstance(att, list) else att.split(".", 1))
                if target in left_out:
                    return skipped(f"{target}.{name}")
            if set(node) == {"Fn::Sub"}:
                sub = node["Fn::Sub"]
                body, variables = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
                body = re.sub(r"\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}",
                              lambda m: f"skipped:{m.group(1)}{m.group(2) or ''}" if m.group(1) in left_out else m.group(0), body)
                return {"Fn::Sub": body if not variables else [body, literal(variables)]}
            return {k: literal(v) for k, v in node.items()}
        if isinstance(node, list):
            return [literal(v) for v in node]
        return node

    resources = {}
    for logical_id, resource in template["Resources"].items():
        if logical_id in left_out:
            continue
        resource = literal(resource)
        if "DependsOn" in resource:
            kept = [d for d in ([resource["DependsOn"]] if isinstance(resource["DependsOn"], str) else resource["DependsOn"]) if d not in left_out]
            resource["DependsOn"] = kept
            if not kept:
                del resource["DependsOn"]
        resources[logical_id] = resource
    template["Resources"] = resources
    template["Outputs"] = literal(template.get("Outputs", {}))
    template.pop("Rules", None)  # the wiring tests check the rules; moto would not evaluate them
    return template, left_out


def put_code(endpoint, template, region=REGION):
    """The S3 objects the functions' Code names (a one-file zip each), as `sam package` or
    `cdk deploy` would have uploaded them."""
    s3 = client(endpoint, "s3", region)
    body = io.BytesIO()
    with zipfile.ZipFile(body, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    for resource in template["Resources"].values():
        code = resource["Properties"].get("Code", {}) if resource["Type"] == "AWS::Lambda::Function" else {}
        if "S3Bucket" not in code:
            continue
        bucket = code["S3Bucket"]
        if isinstance(bucket, dict):
            bucket = bucket["Fn::Sub"].replace("${AWS::AccountId}", ACCOUNT).replace("${AWS::Region}", region)
        try:
            s3.create_bucket(Bucket=bucket, **({} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}))
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        s3.put_object(Bucket=bucket, Key=code["S3Key"], Body=body.getvalue())


def wait(cf, name):
    """The stack's final status: moto creates and updates synchronously, within the call."""
    stack = cf.describe_stacks(StackName=name)["Stacks"][0]
    assert not stack["StackStatus"].endswith("_IN_PROGRESS"), stack["StackStatus"]
    return stack


def created(cf, name):
    # moto 5.2.5 also lists one summary with no logical id, type or physical id: not a resource.
    return {r["LogicalResourceId"]: r for r in cf.list_stack_resources(StackName=name)["StackResourceSummaries"] if r["LogicalResourceId"]}


def assert_deployed(cf, name, template, params=None):
    """Every kept resource is CREATE/UPDATE_COMPLETE with a physical id; every output is set, with
    its intrinsics resolved (no Ref, GetAtt or ${...} left) and skipped parts named as such."""
    stack = wait(cf, name)
    assert stack["StackStatus"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}, stack.get("StackStatusReason")
    resources = created(cf, name)
    expected = set(Resolved(template, params).resources)
    assert set(resources) == expected, expected ^ set(resources)
    for logical_id, resource in resources.items():
        assert resource["ResourceStatus"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}, logical_id
        assert resource["PhysicalResourceId"] or resource["ResourceType"] in MOTO_NO_PHYSICAL_ID, logical_id
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    assert set(outputs) == set(Resolved(template, params).outputs)
    for key, value in outputs.items():
        assert value and "${" not in value and "Fn::" not in value and "{'Ref'" not in value, (key, value)
    return resources, outputs


FIGURES: dict = {"stacks": 0, "created": 0, "skipped": 0, "types": set()}


def count(resources, skipped, template_types):
    FIGURES["stacks"] += 1
    FIGURES["created"] += len(resources)
    FIGURES["skipped"] += len(skipped)
    FIGURES["types"] |= template_types & SKIPPED_TYPES


# ------------------------------------------------------------------ SAM: every case, then an update

# Beyond the wiring cases: a resource policy (CommaDelimitedList parameters), the custom domain,
# alarm actions; the private REST API, which leaves CloudFront; the WebSocket API.
EXTRA_SAM_CASES = {
    "header-secret+policy+domain+alarms": {"LockdownMode": "header-secret", **sam.REGIONAL_POLICY, **sam.API_DOMAIN, "AlarmTopicArn": sam.TOPIC},
    "sigv4+private": sam.PRIVATE,
    # The WebSocket API: the secret alone (api-key mode), and the composed jwt authorizer.
    "api-key+ws": sam.WS_CASES["api-key+ws"],
    "header-secret+jwt+ws": sam.WS_CASES["header-secret+jwt+ws"],
}


@pytest.mark.parametrize("case", [*sam.CASES, *EXTRA_SAM_CASES])
def test_sam_stack_deploys_on_moto(moto, case):
    params = {**sam.CASES, **EXTRA_SAM_CASES}[case]
    template, left_out = without_skipped(without_novalue_items(sam_transform(load_yaml(SAM_DIR / "template.yaml"), params), params))
    put_code(moto, template)
    cf = client(moto, "cloudformation")
    name = "sam-" + re.sub(r"[^a-z0-9]+", "-", case)
    cf.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
                    Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()])
    resources, outputs = assert_deployed(cf, name, template, params)
    # Intrinsics resolve to what moto created: the REST API's id in its execute-api URL, the
    # backend's ARN in the permission API Gateway uses.
    rest_api = resources["RestApi"]["PhysicalResourceId"]
    assert outputs["DirectRestApiUrl"] == f"https://{rest_api}.execute-api.{REGION}.amazonaws.com/rest/"
    assert outputs["DistributionId"] == skipped("Distribution")
    assert outputs["CheckDirectRefused"].endswith(f" https://{rest_api}.execute-api.{REGION}.amazonaws.com/rest/")
    methods = client(moto, "apigateway").get_resources(restApiId=rest_api)["items"]
    assert sorted(r["path"] for r in methods) == ["/", "/{proxy+}"]
    count(resources, left_out, {r["Type"] for r in sam_transform(load_yaml(SAM_DIR / "template.yaml"), params)["Resources"].values()})


def test_sam_update_with_a_changed_authorizer_setting(moto):
    """UpdateStack with another SecretHeaderName reaches the functions (here the header-secret
    authorizer's setting); the REST deployment's served settings change with it (wiring tests),
    which makes CloudFormation call the deployer's Update (next test)."""
    params = {"LockdownMode": "header-secret"}
    template, _ = without_skipped(without_novalue_items(sam_transform(load_yaml(SAM_DIR / "template.yaml"), params), params))
    # moto 5.2.5's UpdateStack resolves the references of resources whose condition is false (and
    # fails on them); CloudFormation ignores those resources, so they are left out here.
    kept = Resolved(template, params).resources
    template = {**template, "Resources": {k: v for k, v in template["Resources"].items() if k in kept}}
    put_code(moto, template)
    cf = client(moto, "cloudformation")
    cf.create_stack(StackName="sam-update", TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
                    Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()])
    wait(cf, "sam-update")
    changed = {**params, "SecretHeaderName": "x-origin-proof"}
    cf.update_stack(StackName="sam-update", TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
                    Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in changed.items()])
    stack = wait(cf, "sam-update")
    assert stack["StackStatus"] == "UPDATE_COMPLETE", stack.get("StackStatusReason")
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["SecretHeaderName"] == "x-origin-proof"
    function = created(cf, "sam-update")["HeaderSecretAuthorizerFunction"]["PhysicalResourceId"]
    env = client(moto, "lambda").get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    assert env["SECRET_HEADER_NAME"] == "x-origin-proof"


# ------------------------------------------------------------------ the REST deployer, as CloudFormation calls it

class _Responses(http.server.BaseHTTPRequestHandler):
    """The pre-signed S3 URL CloudFormation hands a custom resource: it keeps each PUT body."""
    received: list[dict] = []

    def do_PUT(self):  # noqa: N802
        _Responses.received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def response_url():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Responses)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Responses.received.clear()
    yield f"http://127.0.0.1:{server.server_port}/response"
    server.shutdown()


def deployer(endpoint, monkeypatch):
    """The deployer's handler: the template's inline code, run against moto's API Gateway."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    code = load_yaml(SAM_DIR / "template.yaml")["Resources"]["RestDeployerFunction"]["Properties"]["InlineCode"]
    scope: dict = {}
    exec(compile(code, "index.py", "exec"), scope)  # noqa: S102 - the function's own code
    return scope["handler"]


def test_rest_deployer_makes_a_new_deployment_on_update_and_removes_the_old(moto, monkeypatch, response_url):
    handler = deployer(moto, monkeypatch)
    apigateway = client(moto, "apigateway")
    api = apigateway.create_rest_api(name="deployer")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    apigateway.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    base = {"StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1", "LogicalResourceId": "RestDeployment",
            "ResponseURL": response_url, "ResourceType": "Custom::RestDeployment"}
    props = {"RestApiId": api, "Served": {"SecretHeaderName": "x-origin-verify"}}
    handler({**base, "RequestType": "Create", "RequestId": "1", "ResourceProperties": props}, None)
    first = _Responses.received[-1]
    assert first["Status"] == "SUCCESS" and first["RequestId"] == "1"
    apigateway.create_stage(restApiId=api, stageName="rest", deploymentId=first["PhysicalResourceId"])
    # UpdateStack with another header name: a new deployment, the stage moves to it (CloudFormation
    # updates the stage's DeploymentId), then the old one is deleted in the cleanup phase.
    changed = {"RestApiId": api, "Served": {"SecretHeaderName": "x-origin-proof"}}
    handler({**base, "RequestType": "Update", "RequestId": "2", "PhysicalResourceId": first["PhysicalResourceId"],
             "ResourceProperties": changed, "OldResourceProperties": props}, None)
    second = _Responses.received[-1]
    assert second["Status"] == "SUCCESS" and second["PhysicalResourceId"] != first["PhysicalResourceId"]
    apigateway.update_stage(restApiId=api, stageName="rest",
                            patchOperations=[{"op": "replace", "path": "/deploymentId", "value": second["PhysicalResourceId"]}])
    handler({**base, "RequestType": "Delete", "RequestId": "3", "PhysicalResourceId": first["PhysicalResourceId"],
             "ResourceProperties": props}, None)
    assert _Responses.received[-1]["Status"] == "SUCCESS"
    ids = {d["id"] for d in apigateway.get_deployments(restApiId=api)["items"]}
    assert ids == {second["PhysicalResourceId"]}
    assert apigateway.get_stage(restApiId=api, stageName="rest")["deploymentId"] == second["PhysicalResourceId"]


def test_rest_deployer_reports_a_failure_without_details(moto, monkeypatch, response_url):
    """A failed CreateDeployment fails the stack operation (which rolls back), naming only the error."""
    handler = deployer(moto, monkeypatch)
    handler({"StackId": "s", "LogicalResourceId": "RestDeployment", "ResponseURL": response_url, "RequestType": "Update",
             "RequestId": "4", "PhysicalResourceId": "old", "ResourceProperties": {"RestApiId": "nosuchapi"}}, None)
    answer = _Responses.received[-1]
    assert answer["Status"] == "FAILED" and answer["PhysicalResourceId"] == "old"
    assert answer["Reason"] == "Update failed: NotFoundException"


# ------------------------------------------------------------------ CDK: every synthesized stack

def deploy_cdk_stack(endpoint, stack):
    """Creates a synthesized stack in its own region; (template, left out, resources, outputs)."""
    region = cdk.region(stack)
    template, left_out = without_skipped(cdk.template(stack))
    put_code(endpoint, template, region)
    client(endpoint, "ssm", region).put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String", Overwrite=True)
    cf = client(endpoint, "cloudformation", region)
    cf.create_stack(StackName=stack, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
    resources, outputs = assert_deployed(cf, stack, template)
    count(resources, left_out, {r["Type"] for r in cdk.template(stack)["Resources"].values()})
    return template, resources, outputs


@pytest.mark.parametrize("stack", sorted(cdk.COMBINATIONS.values()) + ["PortcullisHeaderSecretRequestUsage"])
def test_cdk_stack_deploys_on_moto(moto, stack):
    if stack == cdk.STACKS["sigv4"]:
        # The edge stack first, in us-east-1: its role is the one the API stack grants execute-api:Invoke.
        deploy_cdk_stack(moto, f"{stack}-edge")
    template, resources, outputs = deploy_cdk_stack(moto, stack)
    (rest_api,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::ApiGateway::RestApi"]
    assert outputs["DirectRestApiUrl"].startswith(f"https://{resources[rest_api]['PhysicalResourceId']}.execute-api.")


# ------------------------------------------------------------------ CDK: the WebSocket API (infra/cdk/test/cases.ts)

cases = cdk.cases  # the synthesized prop combinations the example app does not pass (a module fixture)


@pytest.mark.parametrize("case", ["header-secret+jwt+ws", "api-key+jwt+ws", "header-secret+request+viewer+ws"])
def test_cdk_websocket_case_deploys_on_moto(moto, cases, case):
    template, left_out = without_skipped(cases[case]["template"])
    put_code(moto, template)
    client(moto, "ssm").put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String", Overwrite=True)
    cf = client(moto, "cloudformation")
    name = "cdk-" + re.sub(r"[^a-z0-9]+", "-", case)
    cf.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
    resources, outputs = assert_deployed(cf, name, template)
    # The WebSocket API itself is left out (moto lacks AWS::ApiGatewayV2::*): its permissions are
    # created and name it, and the outputs carry the distribution's and the API's placeholders.
    (api_id,) = [k for k, r in cases[case]["template"]["Resources"].items()
                 if r["Type"] == "AWS::ApiGatewayV2::Api" and r["Properties"]["ProtocolType"] == "WEBSOCKET"]
    assert api_id in left_out
    assert {k for k in resources if k.startswith("ApiWebSocketInvokes")} == {
        k for k in template["Resources"] if k.startswith("ApiWebSocketInvokes")} and len(
        [k for k in resources if k.startswith("ApiWebSocketInvokes")]) == 2
    assert outputs["DirectWebSocketUrl"].startswith(f"wss://{skipped(api_id)}.execute-api.")
    count(resources, left_out, {r["Type"] for r in cases[case]["template"]["Resources"].values()})
