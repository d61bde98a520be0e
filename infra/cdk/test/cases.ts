// Stacks of LockedDownApi and EdgeWebAcl with props the example app's synth (mk/infra.mk) does not
// pass: the REST resource policy, the private REST API, the custom domain, alarm actions, the edge
// web ACL, the WebSocket API. Printed as JSON ({case: {template, warnings}}) for infra/tests/test_cdk_wiring.py.
// Bundling is off (no cargo): the Rust functions' code is a placeholder asset.
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CallerAuthorizer, EdgeWebAcl, LockedDownApiProps, PortcullisStack } from '../lib';

const jwt: CallerAuthorizer = { kind: 'jwt', issuer: 'https://issuer.example.com/', audience: ['portcullis'] };
const cedar: CallerAuthorizer = { kind: 'cedar', issuer: 'https://issuer.example.com/', audience: ['portcullis'], policyStoreId: 'PSEXAMPLEabcdefg111111' };
const request: CallerAuthorizer = { kind: 'request', rulesParameterName: '/portcullis/rules' };
const signer = lambda.Code.fromInline('exports.handler = async (e) => e.Records[0].cf.request;');
const domain = { domainName: 'api.example.com', certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/11111111-2222-3333-4444-555555555555' };
const vpce = 'vpce-0a1b2c3d4e5f60718';
const cases: Record<string, LockedDownApiProps> = {
  'header-secret+policy+alarms': {
    mode: 'header-secret',
    resourcePolicy: { allowedSourceIps: ['130.176.0.0/17', '15.158.0.0/16'], allowedSourceIpsIncludeCloudFront: true, deniedSourceIps: ['203.0.113.0/24'] },
    alarmTopicArn: 'arn:aws:sns:eu-west-1:111122223333:portcullis-alarms',
  },
  'sigv4+policy': { mode: 'sigv4', originSignerCode: signer, resourcePolicy: { deniedSourceIps: ['203.0.113.0/24'] } },
  'sigv4+private': {
    mode: 'sigv4', originSignerCode: signer, endpointType: 'PRIVATE', vpcEndpointIds: [vpce],
    resourcePolicy: { allowedSourceVpces: [vpce], deniedSourceVpcs: ['vpc-0bad0bad0bad0bad0'] },
  },
  'header-secret+domain': { mode: 'header-secret', apiDomain: domain },
  'api-key+jwt+domain': { mode: 'api-key', callerAuthorizer: jwt, apiDomain: domain },
  'sigv4+domain': { mode: 'sigv4', originSignerCode: signer, apiDomain: domain },
  // The WebSocket API in every lock-down it supports, composed with each caller authorizer.
  'header-secret+ws': { mode: 'header-secret', webSocket: true },
  'header-secret+jwt+ws': { mode: 'header-secret', callerAuthorizer: jwt, webSocket: true },
  'header-secret+cedar+ws': { mode: 'header-secret', callerAuthorizer: cedar, webSocket: true },
  'header-secret+request+viewer+ws': { mode: 'header-secret', callerAuthorizer: request, trustCloudFrontViewerHeaders: true, webSocket: true },
  'api-key+jwt+ws': { mode: 'api-key', callerAuthorizer: jwt, webSocket: true },
  'header-secret+ws+domain': { mode: 'header-secret', webSocket: true, apiDomain: domain, secretHeaderName: 'x-cf-proof' },
};
const out: Record<string, { template: unknown; warnings: string[] }> = {};
const warnings = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.anyValue())
  .map((w) => String((w.entry.data as unknown as string)));
for (const [name, api] of Object.entries(cases)) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new PortcullisStack(app, 'Case', { env: { region: 'eu-west-1' }, api });
  out[name] = { template: Template.fromStack(stack).toJSON(), warnings: warnings(stack) };
}
for (const [name, rateLimit] of [['edge-web-acl', undefined], ['edge-web-acl+rate', 500]] as const) {
  const app = new App();
  const stack = new Stack(app, 'PortcullisEdgeWebAcl', { env: { region: 'us-east-1' } });
  new EdgeWebAcl(stack, 'WebAcl', { rateLimit });
  out[name] = { template: Template.fromStack(stack).toJSON(), warnings: warnings(stack) };
}
process.stdout.write(JSON.stringify(out));
