#!/usr/bin/env node
// Example app: `npx cdk deploy -c mode=header-secret` (or api-key, sigv4, origin-mtls; a comma list synthesizes several).
// Context: mode, region (default $CDK_DEFAULT_REGION or eu-west-1), architecture (arm64 | x86_64),
// jwtIssuer / jwtAudience (api-key mode: attaches the jwt-authorizer to the REST API; header-secret
//   mode: adds a stack PortcullisHeaderSecretJwt where it checks the origin secret and the JWT),
// rulesParameter (api-key mode: adds PortcullisApiKeyRequest with the request-authorizer; header-secret
//   mode: adds PortcullisHeaderSecretRequest, and PortcullisHeaderSecretRequestViewer, which also
//   trusts CloudFront's viewer headers for tenant CIDR and certificate rules),
// policyStoreId (with jwtIssuer / jwtAudience): the cedar-authorizer - PortcullisHeaderSecretCedar,
//   PortcullisApiKeyCedar (REST API) and, with origin-mtls, PortcullisOriginMtlsCedar,
// rulesParameter with header-secret mode also adds PortcullisHeaderSecretRequestUsage (tenant usage plans),
// authorizerReservedConcurrency (default none: no reserved concurrency), webAclArn (a CLOUDFRONT web ACL; default none),
// jwtIssuer / rulesParameter with origin-mtls mode: PortcullisOriginMtlsJwt / PortcullisOriginMtlsRequest, the caller
//   authorizer pinning CloudFront's certificate on both APIs,
// origin-mtls mode (all required): originDomainName, originDomainCertificateArn (this region),
//   originClientCertificateArn (us-east-1), originTruststoreUri (s3://bucket/key), originTruststoreVersion,
//   originCertSha256 (comma-separated SHA-256 fingerprints of the DER client certificate),
// metricsNamespace (default portcullis; '' turns the decision metrics off),
// header-secret and api-key modes - the origin secret's rotation: rotationDays (default 30),
//   rotationPropagationWaitSeconds (default the secret cache TTL + 30, i.e. 330), rotationGraceSeconds (default 60),
//   rotationCanaryUrl (an https:// URL through CloudFront that must not answer 401/403 after the switch; default none),
// alarmTopicArn (an SNS topic the deny and error alarms notify on ALARM and OK; default none),
// apiDomainName + apiCertificateArn (not origin-mtls: a custom domain for both APIs, execute-api disabled),
// the REST resource policy (comma lists): allowedSourceIps (with allowedSourceIpsIncludeCloudFront=true),
//   deniedSourceIps; with endpointType=PRIVATE (sigv4 only) vpcEndpointIds, allowedSourceVpces,
//   allowedSourceVpcs, deniedSourceVpces, deniedSourceVpcs,
// createWebAcl=true (+ webAclRateLimit, default 2000): a stack PortcullisEdgeWebAcl in us-east-1 with the
//   CloudFront web ACL (pass its WebAclArn output as -c webAclArn),
// webSocket=true (header-secret and api-key stacks): the WebSocket API at wss://<distribution>/ws,
// cargoProfile (default release), originSignerZip (default target/edge/origin-signer.zip).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import { CallerAuthorizer, EdgeWebAcl, LockdownMode, LockedDownApiProps, OriginMtls, OriginSecretRotation, PortcullisStack, RestResourcePolicy } from '../lib';

const app = new App();
const ctx = (key: string): string | undefined => app.node.tryGetContext(key);
const region = ctx('region') ?? process.env.CDK_DEFAULT_REGION ?? 'eu-west-1';
const account = process.env.CDK_DEFAULT_ACCOUNT;
const architecture = ctx('architecture') === 'x86_64' ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64;
const modes = (ctx('mode') ?? 'header-secret').split(',').map((m) => m.trim()) as LockdownMode[];
const stackNames: Record<LockdownMode, string> = {
  'header-secret': 'PortcullisHeaderSecret',
  'api-key': 'PortcullisApiKey',
  sigv4: 'PortcullisSigV4',
  'origin-mtls': 'PortcullisOriginMtls',
};
const metricsNamespace = ctx('metricsNamespace');
const jwtCaller = (): CallerAuthorizer | undefined => (ctx('jwtIssuer')
  ? { kind: 'jwt', issuer: ctx('jwtIssuer')!, audience: (ctx('jwtAudience') ?? '').split(',').filter((a) => a) }
  : undefined);
const cedarCaller = (): CallerAuthorizer | undefined => (ctx('policyStoreId') && ctx('jwtIssuer')
  ? {
    kind: 'cedar',
    issuer: ctx('jwtIssuer')!,
    audience: (ctx('jwtAudience') ?? '').split(',').filter((a) => a),
    policyStoreId: ctx('policyStoreId')!,
    groupsClaim: ctx('cedarGroupsClaim'),
    refresh: ctx('cedarRefreshSeconds') === undefined ? undefined : Duration.seconds(Number(ctx('cedarRefreshSeconds'))),
  }
  : undefined);
const requestCaller = (): CallerAuthorizer | undefined => (ctx('rulesParameter')
  ? { kind: 'request', rulesParameterName: ctx('rulesParameter')! }
  : undefined);
const originMtls = (): OriginMtls => {
  const keys = ['originDomainName', 'originDomainCertificateArn', 'originClientCertificateArn', 'originTruststoreUri',
    'originTruststoreVersion', 'originCertSha256'];
  const missing = keys.filter((k) => !ctx(k));
  if (missing.length > 0) {
    throw new Error(`origin-mtls mode needs -c ${missing.join(' -c ')} (README: Deploy, origin-mtls)`);
  }
  return {
    domainName: ctx('originDomainName')!,
    domainCertificateArn: ctx('originDomainCertificateArn')!,
    clientCertificateArn: ctx('originClientCertificateArn')!,
    truststoreUri: ctx('originTruststoreUri')!,
    truststoreVersion: ctx('originTruststoreVersion')!,
    certSha256: ctx('originCertSha256')!.split(',').map((p) => p.trim()).filter((p) => p),
  };
};
const seconds = (key: string): Duration | undefined => (ctx(key) === undefined ? undefined : Duration.seconds(Number(ctx(key))));
// The origin secret's rotation (header-secret and api-key modes): the construct's defaults unless given.
const originSecretRotation: OriginSecretRotation = {
  every: ctx('rotationDays') === undefined ? undefined : Duration.days(Number(ctx('rotationDays'))),
  propagationWait: seconds('rotationPropagationWaitSeconds'),
  grace: seconds('rotationGraceSeconds'),
  canaryUrl: ctx('rotationCanaryUrl'),
};
const list = (key: string): string[] | undefined => (ctx(key) ? ctx(key)!.split(',').map((v) => v.trim()).filter((v) => v) : undefined);
const resourcePolicy: RestResourcePolicy = {
  allowedSourceIps: list('allowedSourceIps'),
  allowedSourceIpsIncludeCloudFront: ctx('allowedSourceIpsIncludeCloudFront') === 'true',
  deniedSourceIps: list('deniedSourceIps'),
  allowedSourceVpcs: list('allowedSourceVpcs'),
  deniedSourceVpcs: list('deniedSourceVpcs'),
  allowedSourceVpces: list('allowedSourceVpces'),
  deniedSourceVpces: list('deniedSourceVpces'),
};
const apiDomain = ctx('apiDomainName') ? { domainName: ctx('apiDomainName')!, certificateArn: ctx('apiCertificateArn') ?? '' } : undefined;
const stack = (id: string, description: string, api: LockedDownApiProps) => new PortcullisStack(app, id, {
  env: { account, region },
  description: `portcullis - APIs reachable only through CloudFront (${description})`,
  api: {
    architecture,
    cargoProfile: ctx('cargoProfile'),
    metricsNamespace,
    webAclArn: ctx('webAclArn'),
    authorizerReservedConcurrency: ctx('authorizerReservedConcurrency') === undefined ? undefined : Number(ctx('authorizerReservedConcurrency')),
    originSecretRotation: api.mode === 'header-secret' || api.mode === 'api-key' ? originSecretRotation : undefined,
    alarmTopicArn: ctx('alarmTopicArn'),
    resourcePolicy,
    endpointType: ctx('endpointType') === 'PRIVATE' ? 'PRIVATE' : undefined,
    vpcEndpointIds: list('vpcEndpointIds'),
    apiDomain: api.mode === 'origin-mtls' ? undefined : apiDomain,
    // The WebSocket API where the origin secret guards $connect; the other modes refuse it.
    webSocket: ctx('webSocket') === 'true' && (api.mode === 'header-secret' || api.mode === 'api-key') ? true : undefined,
    ...api,
  },
});

for (const mode of modes) {
  if (!(mode in stackNames)) {
    throw new Error(`unknown mode ${mode}: header-secret, api-key, sigv4 or origin-mtls`);
  }
  const callerAuthorizer = mode === 'api-key' ? jwtCaller() : undefined;
  let originSignerZip: string | undefined;
  if (mode === 'sigv4') {
    const zip = path.resolve(ctx('originSignerZip') ?? path.join(__dirname, '..', '..', '..', 'target', 'edge', 'origin-signer.zip'));
    if (!fs.existsSync(zip)) {
      throw new Error(`sigv4 mode needs the packaged edge signer ${zip}: run \`make edge-package\` first`);
    }
    originSignerZip = zip;
  }
  stack(stackNames[mode], callerAuthorizer ? `${mode} + ${callerAuthorizer.kind} authorizer` : mode, {
    mode,
    callerAuthorizer,
    originSignerCode: mode === 'sigv4' ? lambda.Code.fromAsset(originSignerZip!) : undefined,
    originMtls: mode === 'origin-mtls' ? originMtls() : undefined,
  });
}

// The caller authorizers as stacks of their own: header-secret mode composes them with the origin
// secret on both APIs (one function checks both), origin-mtls mode with the pinned certificate;
// api-key mode runs them on the REST API.
const jwt = jwtCaller();
const cedar = cedarCaller();
const request = requestCaller();
if (modes.includes('header-secret') && jwt) {
  stack('PortcullisHeaderSecretJwt', 'header-secret + jwt authorizer', { mode: 'header-secret', callerAuthorizer: jwt });
}
if (modes.includes('header-secret') && cedar) {
  stack('PortcullisHeaderSecretCedar', 'header-secret + cedar authorizer', { mode: 'header-secret', callerAuthorizer: cedar });
}
if (modes.includes('api-key') && cedar) {
  stack('PortcullisApiKeyCedar', 'api-key + cedar authorizer', { mode: 'api-key', callerAuthorizer: cedar });
}
if (modes.includes('origin-mtls') && cedar) {
  stack('PortcullisOriginMtlsCedar', 'origin-mtls + cedar authorizer', { mode: 'origin-mtls', callerAuthorizer: cedar, originMtls: originMtls() });
}
if (modes.includes('header-secret') && request) {
  stack('PortcullisHeaderSecretRequest', 'header-secret + request authorizer', { mode: 'header-secret', callerAuthorizer: request });
  stack('PortcullisHeaderSecretRequestViewer', 'header-secret + request authorizer, CloudFront viewer headers', {
    mode: 'header-secret', callerAuthorizer: request, trustCloudFrontViewerHeaders: true,
  });
  stack('PortcullisHeaderSecretRequestUsage', 'header-secret + request authorizer, tenant usage plans', {
    mode: 'header-secret', callerAuthorizer: request, tenantUsagePlans: true,
  });
}
if (modes.includes('origin-mtls') && jwt) {
  stack('PortcullisOriginMtlsJwt', 'origin-mtls + jwt authorizer', { mode: 'origin-mtls', callerAuthorizer: jwt, originMtls: originMtls() });
}
if (modes.includes('origin-mtls') && request) {
  stack('PortcullisOriginMtlsRequest', 'origin-mtls + request authorizer', { mode: 'origin-mtls', callerAuthorizer: request, originMtls: originMtls() });
}
if (modes.includes('api-key') && request) {
  stack('PortcullisApiKeyRequest', 'api-key + request authorizer', { mode: 'api-key', callerAuthorizer: request });
}

// The CloudFront web ACL (scope CLOUDFRONT: us-east-1), as the SAM edge stack's CreateWebAcl=true.
if (ctx('createWebAcl') === 'true') {
  const edge = new Stack(app, 'PortcullisEdgeWebAcl', {
    env: { account, region: 'us-east-1' },
    description: 'portcullis - the CloudFront web ACL: AWS managed rule groups and a per-IP rate rule',
  });
  const acl = new EdgeWebAcl(edge, 'WebAcl', { rateLimit: ctx('webAclRateLimit') === undefined ? undefined : Number(ctx('webAclRateLimit')) });
  new CfnOutput(edge, 'WebAclArn', { value: acl.webAclArn, description: 'The web ACL for the API stacks\' distributions (-c webAclArn).' });
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
