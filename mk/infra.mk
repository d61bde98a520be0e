# Infrastructure: SAM and CDK templates, their linters and the wiring tests (infra/).
# The tools live outside the project venv because their pins clash with requirements-dev.txt:
# aws-sam-cli pins boto3 exactly, checkov pins another boto3. Each gets a venv of its own.

INFRA_SAM_VENV     := infra/.venv-sam
INFRA_CHECKOV_VENV := infra/.venv-checkov
INFRA_SAM          := $(CURDIR)/$(INFRA_SAM_VENV)/bin/sam
INFRA_CFN_LINT     := $(CURDIR)/$(INFRA_SAM_VENV)/bin/cfn-lint -a cfn_lint_serverless.rules
INFRA_PYTEST       := $(CURDIR)/$(INFRA_SAM_VENV)/bin/pytest
INFRA_CHECKOV      := BC_SKIP_MAPPING=TRUE $(CURDIR)/$(INFRA_CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation
INFRA_CDK_OUT      := infra/cdk/cdk.out
INFRA_EDGE_ZIP     := target/edge/origin-signer.zip
# Architecture for the checks' builds: x86_64 is native here, so sam build and cdk synth share
# one cargo target dir and the second build reuses the first.
INFRA_ARCH         ?= x86_64
# Cargo profile of the checks' builds. `debug` keeps `make test` inside the CI budget (a release
# build is LTO-fat over the whole AWS SDK); INFRA_BUILD_MODE=release builds what you deploy.
INFRA_BUILD_MODE   ?= debug
ifeq ($(INFRA_BUILD_MODE),debug)
INFRA_SAM_BUILD_ENV := SAM_BUILD_MODE=debug
INFRA_CARGO_PROFILE := dev
else
INFRA_SAM_BUILD_ENV :=
INFRA_CARGO_PROFILE := release
endif
# Region of the synthesized API stacks: not us-east-1, so sigv4 exercises the separate edge stack.
INFRA_CDK_REGION   ?= eu-west-1
# CDK synth covers every mode; sigv4 needs the packaged edge signer (`make edge-package`).
INFRA_CDK_MODES    ?= header-secret,api-key,sigv4,origin-mtls
# origin-mtls takes the custom domain, its certificates, the truststore and the pin from context:
# example values (synth reads no AWS account; the ARNs and the S3 object need not exist).
INFRA_CDK_MTLS_CONTEXT := -c originDomainName=origin.api.example.com \
  -c originDomainCertificateArn=arn:aws:acm:$(INFRA_CDK_REGION):111122223333:certificate/11111111-2222-3333-4444-555555555555 \
  -c originClientCertificateArn=arn:aws:acm:us-east-1:111122223333:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9 \
  -c originTruststoreUri=s3://portcullis-truststore/cloudfront-ca.pem -c originTruststoreVersion=3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY \
  -c originCertSha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08,60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
# The cedar stacks: an example policy store id (synth reads no AWS account; it need not exist).
INFRA_CDK_CEDAR_CONTEXT := -c policyStoreId=PSEXAMPLEabcdefg111111
INFRA_HAS_EDGE_PACKAGE := $(shell grep -lsE '^edge-package:' Makefile $(wildcard mk/*.mk))

INFRA_TARGETS := infra-lint-sam infra-build-sam infra-synth-cdk infra-lint-cdk infra-test infra-check
$(INFRA_TARGETS): export SAM_CLI_TELEMETRY := 0
$(INFRA_TARGETS): export CDK_DISABLE_CLI_TELEMETRY := true
# The checks need no AWS account: never let an SDK probe the instance metadata endpoint for one.
$(INFRA_TARGETS): export AWS_EC2_METADATA_DISABLED := true

.PHONY: infra-setup infra-check infra-lint-sam infra-build-sam infra-synth-cdk infra-lint-cdk infra-test

$(INFRA_SAM_VENV)/.installed: infra/requirements.txt
	python3 -m venv $(INFRA_SAM_VENV)
	$(INFRA_SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(INFRA_SAM_VENV)/bin/pip install --quiet -r infra/requirements.txt
	touch $@

$(INFRA_CHECKOV_VENV)/.installed: infra/requirements-checkov.txt
	python3 -m venv $(INFRA_CHECKOV_VENV)
	$(INFRA_CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(INFRA_CHECKOV_VENV)/bin/pip install --quiet -r infra/requirements-checkov.txt
	touch $@

infra/cdk/node_modules/.installed: infra/cdk/package-lock.json
	cd infra/cdk && npm ci --no-audit --no-fund --loglevel=error
	touch $@

infra-setup: $(INFRA_SAM_VENV)/.installed $(INFRA_CHECKOV_VENV)/.installed infra/cdk/node_modules/.installed ## install SAM CLI, cfn-lint, checkov (own venvs) and the CDK app (npm ci)
SETUP_STEPS += infra-setup

infra-lint-sam: infra-setup ## sam validate --lint, cfn-lint (+serverless rules), checkov on the SAM templates
	cd infra/sam && $(INFRA_SAM) validate --lint --template template.yaml
	cd infra/sam && $(INFRA_SAM) validate --lint --template edge.yaml
	$(INFRA_CFN_LINT) -- infra/sam/template.yaml infra/sam/edge.yaml
	$(INFRA_CHECKOV) -f infra/sam/template.yaml -f infra/sam/edge.yaml

# sam build builds every function of the template, whatever the mode's conditions say.
infra-build-sam: setup infra-setup ## sam build of the Rust authorizers (INFRA_ARCH x86_64, INFRA_BUILD_MODE debug)
	cd infra/sam && $(INFRA_SAM_BUILD_ENV) $(INFRA_SAM) build --parameter-overrides Architecture=$(INFRA_ARCH)
	@for f in HeaderSecretAuthorizerFunction JwtAuthorizerFunction RequestAuthorizerFunction CedarAuthorizerFunction SecretRotatorFunction; do \
	  python3 -c 'import sys; b = open(sys.argv[1], "rb").read(20); m = {"x86_64": 62, "arm64": 183}[sys.argv[2]]; \
	    sys.exit(0 if b[:4] == b"\x7fELF" and int.from_bytes(b[18:20], "little") == m else "not an ELF for " + sys.argv[2])' \
	    infra/sam/.aws-sam/build/$$f/bootstrap $(INFRA_ARCH) || exit 1; \
	  echo "infra: $$f/bootstrap is a $(INFRA_ARCH) ELF"; done

ifneq ($(INFRA_HAS_EDGE_PACKAGE),)
infra-synth-cdk: edge-package
endif
infra-synth-cdk: setup infra-setup ## cdk synth of the example app (every mode) with the cdk-nag AwsSolutions pack
	@modes="$(INFRA_CDK_MODES)"; \
	if [ ! -f $(INFRA_EDGE_ZIP) ]; then \
	  echo "infra: $(INFRA_EDGE_ZIP) not built (no edge-package target yet) - synthesizing without sigv4"; \
	  modes=$$(echo "$$modes" | tr ',' '\n' | grep -v '^sigv4$$' | paste -sd, -); fi; \
	rm -rf $(INFRA_CDK_OUT); \
	cd infra/cdk && npx --no-install tsc --noEmit && \
	npx --no-install cdk synth --quiet --no-notices -c mode=$$modes -c region=$(INFRA_CDK_REGION) -c architecture=$(INFRA_ARCH) -c cargoProfile=$(INFRA_CARGO_PROFILE) -c jwtIssuer=https://issuer.example.com/ -c jwtAudience=portcullis -c rulesParameter=/portcullis/rules $(INFRA_CDK_CEDAR_CONTEXT) $(INFRA_CDK_MTLS_CONTEXT)

# W3005 (DependsOn already implied by a GetAtt) is ignored on CDK output only: CDK itself adds
# those DependsOn (function -> role policy), they are redundant, never wrong.
infra-lint-cdk: infra-synth-cdk ## cfn-lint (+serverless rules) and checkov on the synthesized CDK templates
	$(INFRA_CFN_LINT) --ignore-checks W3005 -- $(INFRA_CDK_OUT)/*.template.json
	$(INFRA_CHECKOV) $$(for f in $(INFRA_CDK_OUT)/*.template.json; do printf -- '-f %s ' "$$f"; done)

# The smoke deploy (test_moto_deploy.py) starts its own moto server from the project venv ($(MOTO_SERVER)).
infra-test: infra-setup infra-synth-cdk ## wiring tests on the transformed SAM and synthesized CDK templates, and their smoke deploy on moto's CloudFormation
	cd infra/tests && $(INFRA_PYTEST) -p no:cacheprovider -q .

infra-check: infra-lint-sam infra-build-sam infra-lint-cdk infra-test ## every infrastructure check (run by make test)
TEST_STEPS += infra-check
