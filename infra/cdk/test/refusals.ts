// Prop combinations LockedDownApi refuses at synth time, each with the error it throws; printed as
// JSON for infra/tests/test_cdk_wiring.py. Bundling is off: the refusals come before any asset.
import { App, Stack } from 'aws-cdk-lib';
import { CallerAuthorizer, LockedDownApi, LockedDownApiProps } from '../lib';

const jwt: CallerAuthorizer = { kind: 'jwt', issuer: 'https://issuer.example.com/', audience: ['portcullis'] };
const request: CallerAuthorizer = { kind: 'request', rulesParameterName: '/portcullis/rules' };
const cases: Record<string, LockedDownApiProps> = {
  'sigv4+jwt': { mode: 'sigv4', callerAuthorizer: jwt },
  'sigv4+request': { mode: 'sigv4', callerAuthorizer: request },
  'header-secret+viewer': { mode: 'header-secret', trustCloudFrontViewerHeaders: true },
  'header-secret+jwt+viewer': { mode: 'header-secret', callerAuthorizer: jwt, trustCloudFrontViewerHeaders: true },
  'api-key+request+viewer': { mode: 'api-key', callerAuthorizer: request, trustCloudFrontViewerHeaders: true },
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
