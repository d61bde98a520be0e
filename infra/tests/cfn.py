"""Small helpers to read CloudFormation templates the way CloudFormation would for given
parameter values: conditions evaluated, Fn::If resolved, AWS::NoValue dropped, resources whose
condition is false removed. Enough for asserting wiring; not a general CloudFormation engine."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

REPO = Path(__file__).resolve().parents[2]
SAM_DIR = REPO / "infra" / "sam"
CDK_OUT = REPO / "infra" / "cdk" / "cdk.out"

NO_VALUE = object()


def load_yaml(path: Path) -> dict[str, Any]:
    """A template with its short-form tags (!Ref, !Sub ...) as long-form dicts."""
    return json.loads(json.dumps(cfn_yaml.loads(path.read_text(), str(path))))


class _NoManagedPolicies(ManagedPolicyLoader):
    """The templates name no AWS managed policies, so the transform never needs IAM."""

    def __init__(self) -> None:  # no boto client
        pass

    def load(self) -> dict[str, str]:
        return {}


def sam_transform(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """The AWS::Serverless-2016-10-31 transform, as CloudFormation applies it at deploy time.
    Local CodeUri paths are swapped for S3 locations, as `sam package` would."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and "CodeUri" in props:
            props["CodeUri"] = "s3://bucket/code.zip"
    return transform(template, parameters, _NoManagedPolicies())


class Resolved:
    """A template seen with concrete parameter values."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str] | None = None):
        self.raw = template
        self.params = {
            name: str(spec["Default"])
            for name, spec in template.get("Parameters", {}).items()
            if "Default" in spec
        }
        self.params.update(parameters or {})
        self.conditions: dict[str, bool] = {}
        for name in template.get("Conditions", {}):
            self.condition(name)
        self.resources: dict[str, dict[str, Any]] = {}
        for logical_id, resource in template.get("Resources", {}).items():
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            self.resources[logical_id] = self.resolve(resource)
        self.outputs = {
            name: self.resolve(out)
            for name, out in template.get("Outputs", {}).items()
            if "Condition" not in out or self.condition(out["Condition"])
        }

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = self._eval(self.raw["Conditions"][name])
        return self.conditions[name]

    def value(self, node: Any) -> Any:
        """A scalar: literal, Ref to a parameter, or Fn::Join of a CommaDelimitedList parameter
        (whose value is kept as the comma-separated text it was given as)."""
        if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] in self.params:
            return self.params[node["Ref"]]
        if isinstance(node, dict) and set(node) == {"Fn::Join"}:
            sep, items = node["Fn::Join"]
            if isinstance(items, dict):
                return sep.join(self.listed(items))
            return sep.join(str(self.value(i)) for i in items)
        return node

    def listed(self, node: Any) -> list[str]:
        """A CommaDelimitedList parameter's members, as CloudFormation splits its value."""
        assert set(node) == {"Ref"} and node["Ref"] in self.params, node
        return self.params[node["Ref"]].split(",")

    def _eval(self, node: Any) -> bool:
        (fn, args), = node.items()
        if fn == "Fn::Equals":
            return self.value(args[0]) == self.value(args[1])
        if fn == "Fn::Not":
            return not self._eval(args[0])
        if fn == "Fn::And":
            return all(self._eval(a) for a in args)
        if fn == "Fn::Or":
            return any(self._eval(a) for a in args)
        if fn == "Condition":
            return self.condition(args)
        if fn == "Fn::EachMemberEquals":  # a Rules function: every member of the list is the value
            return all(m == self.value(args[1]) for m in self.listed(args[0]))
        raise ValueError(f"unsupported condition function {fn}")

    def resolve(self, node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                cond, yes, no = node["Fn::If"]
                return self.resolve(yes if self.condition(cond) else no)
            if node == {"Ref": "AWS::NoValue"}:
                return NO_VALUE
            out = {}
            for key, val in node.items():
                val = self.resolve(val)
                if val is not NO_VALUE:
                    out[key] = val
            return out
        if isinstance(node, list):
            return [v for v in (self.resolve(v) for v in node) if v is not NO_VALUE]
        return node

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def text(self, node: Any) -> str:
        """A string expression with the parameter values filled in: a literal, a Ref to a
        parameter, or an Fn::Sub whose ${Parameter}s are replaced. Pseudo parameters and
        resources stay as ${...}, as CloudFormation alone knows them."""
        if isinstance(node, (str, int)):
            return str(node)
        if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] in self.params:
            return self.params[node["Ref"]]
        if isinstance(node, dict) and set(node) == {"Fn::Sub"}:
            sub = node["Fn::Sub"]
            body = sub if isinstance(sub, str) else sub[0]
            return re.sub(r"\$\{([^}!]+)\}", lambda m: self.params.get(m.group(1), m.group(0)), body)
        raise ValueError(f"not a string expression with known values: {node!r}")

    def failed_rules(self) -> list[str]:
        """The AssertDescription of every template Rule assertion these parameters break."""
        failed = []
        for rule in self.raw.get("Rules", {}).values():
            if "RuleCondition" in rule and not self._eval(rule["RuleCondition"]):
                continue
            failed += [a["AssertDescription"] for a in rule["Assertions"] if not self._eval(a["Assert"])]
        return failed


def ref_target(node: Any) -> str | None:
    """The logical id a Ref or GetAtt points at."""
    if isinstance(node, dict):
        if "Ref" in node:
            return node["Ref"]
        if "Fn::GetAtt" in node:
            att = node["Fn::GetAtt"]
            return att[0] if isinstance(att, list) else att.split(".")[0]
    return None


def statements(policy_document: dict[str, Any]) -> list[dict[str, Any]]:
    st = policy_document["Statement"]
    return st if isinstance(st, list) else [st]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


REST_API_TYPES = {"AWS::ApiGateway::RestApi", "AWS::ApiGateway::Resource", "AWS::ApiGateway::Authorizer", "AWS::ApiGateway::Method"}


def rest_api_revision(template: dict[str, Any]) -> str:
    """SHA-256 of a source template's REST API resources (the API, its resources, authorizers and
    methods, in long form with sorted keys): what the REST deployment's `Served.Template` must say."""
    rest = {k: v for k, v in template["Resources"].items() if v["Type"] in REST_API_TYPES}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
