// Prop combinations LockedDownApi refuses at synth time, each with the error it throws (null: accepted);
// printed as JSON for infra/tests/test_cdk_wiring.py. Bundling is off: the refusals come before any asset.
import { App, Duration, Stack } from 'aws-cdk-lib';
import { CallerAuthorizer, LockedDownApi, LockedDownApiProps, OriginMtls } from '../lib';

const jwt: CallerAuthorizer = { kind: 'jwt', issuer: 'https://issuer.example.com/', audience: ['portcullis'] };
const request: CallerAuthorizer = { kind: 'request', rulesParameterName: '/portcullis/rules' };
const cedar: CallerAuthorizer = { kind: 'cedar', issuer: 'https://issuer.example.com/', audience: ['portcullis'], policyStoreId: 'PSEXAMPLEabcdefg111111' };
const mtls: OriginMtls = {
  domainName: 'origin.api.example.com',
  domainCertificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/11111111-2222-3333-4444-555555555555',
  clientCertificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9',
  truststoreUri: 's3://portcullis-truststore/cloudfront-ca.pem',
  truststoreVersion: '3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
  certSha256: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
};
const cases: Record<string, LockedDownApiProps> = {
  'sigv4+jwt': { mode: 'sigv4', callerAuthorizer: jwt },
  'sigv4+request': { mode: 'sigv4', callerAuthorizer: request },
  'header-secret+viewer': { mode: 'header-secret', trustCloudFrontViewerHeaders: true },
  'header-secret+jwt+viewer': { mode: 'header-secret', callerAuthorizer: jwt, trustCloudFrontViewerHeaders: true },
  'api-key+request+viewer': { mode: 'api-key', callerAuthorizer: request, trustCloudFrontViewerHeaders: true },
  'origin-mtls+request+viewer': { mode: 'origin-mtls', originMtls: mtls, callerAuthorizer: request, trustCloudFrontViewerHeaders: true },
  'origin-mtls without originMtls': { mode: 'origin-mtls' },
  'header-secret+originMtls': { mode: 'header-secret', originMtls: mtls },
  'origin-mtls, client certificate outside us-east-1': {
    mode: 'origin-mtls', originMtls: { ...mtls, clientCertificateArn: mtls.clientCertificateArn.replace('us-east-1', 'eu-west-1') },
  },
  'origin-mtls, colon fingerprint': {
    mode: 'origin-mtls', originMtls: { ...mtls, certSha256: [mtls.certSha256[0].match(/../g)!.join(':')] },
  },
  'origin-mtls, no fingerprint': { mode: 'origin-mtls', originMtls: { ...mtls, certSha256: [] } },
  'origin-mtls, https truststore': {
    mode: 'origin-mtls', originMtls: { ...mtls, truststoreUri: 'https://portcullis-truststore.s3.amazonaws.com/cloudfront-ca.pem' },
  },
  'origin-mtls, no truststore version': { mode: 'origin-mtls', originMtls: { ...mtls, truststoreVersion: '' } },
  'origin-mtls, upper-case domain': { mode: 'origin-mtls', originMtls: { ...mtls, domainName: 'Origin.example.com' } },
  // The origin secret's rotation: only where there is a secret, and never before the authorizers have the new value.
  'sigv4+originSecretRotation': { mode: 'sigv4', originSecretRotation: {} },
  'origin-mtls+originSecretRotation': { mode: 'origin-mtls', originMtls: mtls, originSecretRotation: {} },
  'header-secret, propagation wait under the cache TTL + 30 s': {
    mode: 'header-secret', originSecretRotation: { propagationWait: Duration.seconds(300) },
  },
  'api-key, cache TTL too long for the rotator': { mode: 'api-key', secretCacheTtl: Duration.minutes(15) },
  'header-secret, rotation every 36 hours': { mode: 'header-secret', originSecretRotation: { every: Duration.hours(36) } },
  'header-secret, grace over 600 s': { mode: 'header-secret', originSecretRotation: { grace: Duration.minutes(11) } },
  'header-secret, http canary': { mode: 'header-secret', originSecretRotation: { canaryUrl: 'http://d111111abcdef8.cloudfront.net/health' } },
  // The cedar authorizer: JWT identity settings plus a policy store; like jwt, no slot with sigv4.
  'sigv4+cedar': { mode: 'sigv4', callerAuthorizer: cedar },
  'header-secret, secret header named x-edge-*': { mode: 'header-secret', secretHeaderName: 'x-edge-proof' },
  'cedar without audience': { mode: 'header-secret', callerAuthorizer: { ...cedar, audience: [] } },
  'cedar, policy store id with a slash': { mode: 'header-secret', callerAuthorizer: { ...cedar, policyStoreId: 'PS/1' } },
  'cedar, refresh over a day': { mode: 'header-secret', callerAuthorizer: { ...cedar, refresh: Duration.days(2) } },
  // Tenant usage plans: only where the request authorizer also checks the origin proof.
  'api-key+request+tenantUsagePlans': { mode: 'api-key', callerAuthorizer: request, tenantUsagePlans: true },
  'header-secret+jwt+tenantUsagePlans': { mode: 'header-secret', callerAuthorizer: jwt, tenantUsagePlans: true },
  'header-secret+tenantUsagePlans': { mode: 'header-secret', tenantUsagePlans: true },
  'reserved concurrency 0': { mode: 'header-secret', authorizerReservedConcurrency: 0 },
  'web ACL of a regional scope': {
    mode: 'header-secret', webAclArn: 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/portcullis/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
  },
  // The REST resource policy: the lists that would refuse CloudFront or never match; a private API outside sigv4.
  'allowedSourceIps without the CloudFront acknowledgement': { mode: 'header-secret', resourcePolicy: { allowedSourceIps: ['198.51.100.0/24'] } },
  'regional allowedSourceVpces': { mode: 'header-secret', resourcePolicy: { allowedSourceVpces: ['vpce-0a1b2c3d4e5f60718'] } },
  'regional deniedSourceVpcs': { mode: 'api-key', resourcePolicy: { deniedSourceVpcs: ['vpc-0a1b2c3d'] } },
  'private header-secret': { mode: 'header-secret', endpointType: 'PRIVATE', vpcEndpointIds: ['vpce-0a1b2c3d4e5f60718'], resourcePolicy: { allowedSourceVpces: ['vpce-0a1b2c3d4e5f60718'] } },
  'private without vpcEndpointIds': { mode: 'sigv4', endpointType: 'PRIVATE', resourcePolicy: { allowedSourceVpces: ['vpce-0a1b2c3d4e5f60718'] } },
  'private without an allow list': { mode: 'sigv4', endpointType: 'PRIVATE', vpcEndpointIds: ['vpce-0a1b2c3d4e5f60718'] },
  'private deniedSourceIps': {
    mode: 'sigv4', endpointType: 'PRIVATE', vpcEndpointIds: ['vpce-0a1b2c3d4e5f60718'],
    resourcePolicy: { allowedSourceVpces: ['vpce-0a1b2c3d4e5f60718'], deniedSourceIps: ['203.0.113.0/24'] },
  },
  'regional vpcEndpointIds': { mode: 'header-secret', vpcEndpointIds: ['vpce-0a1b2c3d4e5f60718'] },
  // The custom domain: not origin-mtls (its own), not private; alarm actions: an SNS topic.
  'origin-mtls+apiDomain': { mode: 'origin-mtls', originMtls: mtls, apiDomain: { domainName: 'api.example.com', certificateArn: mtls.domainCertificateArn } },
  'apiDomain upper case': { mode: 'header-secret', apiDomain: { domainName: 'API.example.com', certificateArn: mtls.domainCertificateArn } },
  'alarm topic of SQS': { mode: 'header-secret', alarmTopicArn: 'arn:aws:sqs:eu-west-1:111122223333:portcullis-alarms' },
  // The WebSocket API: only where the origin secret guards $connect (a Lambda authorizer).
  'sigv4+webSocket': { mode: 'sigv4', webSocket: true },
  'origin-mtls+webSocket': { mode: 'origin-mtls', originMtls: mtls, webSocket: true },
  'origin-mtls+jwt+webSocket': { mode: 'origin-mtls', originMtls: mtls, callerAuthorizer: jwt, webSocket: true },
  'api-key+webSocket': { mode: 'api-key', webSocket: true },
  'header-secret+request+webSocket': { mode: 'header-secret', callerAuthorizer: request, webSocket: true },
  // Accepted (null): the mode itself, with and without a caller authorizer; rotation settings within bounds.
  'origin-mtls': { mode: 'origin-mtls', originMtls: mtls },
  'origin-mtls+jwt': { mode: 'origin-mtls', originMtls: mtls, callerAuthorizer: jwt },
  'origin-mtls+cedar': { mode: 'origin-mtls', originMtls: mtls, callerAuthorizer: cedar },
  'origin-mtls+request+tenantUsagePlans': { mode: 'origin-mtls', originMtls: mtls, callerAuthorizer: request, tenantUsagePlans: true },
  'header-secret, reserved concurrency 40': { mode: 'header-secret', authorizerReservedConcurrency: 40 },
  'header-secret, web ACL': {
    mode: 'header-secret', webAclArn: 'arn:aws:wafv2:us-east-1:111122223333:global/webacl/portcullis/a1b2c3d4-5678-90ab-cdef-0123456789ab',
  },
  'header-secret, rotation settings': {
    mode: 'header-secret',
    secretCacheTtl: Duration.minutes(10),
    originSecretRotation: {
      every: Duration.days(7), propagationWait: Duration.seconds(630), grace: Duration.minutes(2), canaryUrl: 'https://d111111abcdef8.cloudfront.net/health',
    },
  },
};
const refusals: Record<string, string | null> = {};
for (const [name, props] of Object.entries(cases)) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  try {
    new LockedDownApi(new Stack(app, 'Refusal', { env: { region: 'eu-west-1' } }), 'Api', props);
    refusals[name] = null;
  } catch (e) {
    refusals[name] = (e as Error).message;
  }
}
process.stdout.write(JSON.stringify(refusals));
