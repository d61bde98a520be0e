#!/usr/bin/env node
// Example app: `npx cdk deploy -c mode=header-secret` (or api-key, sigv4; a comma list synthesizes several).
// Context: mode, region (default $CDK_DEFAULT_REGION or eu-west-1), architecture (arm64 | x86_64),
// jwtIssuer / jwtAudience (api-key mode: attaches the jwt-authorizer to the REST API),
// rulesParameter (api-key mode: adds a stack PortcullisApiKeyRequest with the request-authorizer),
// cargoProfile (default release), originSecretVersionStage (rotation, docs/infra.md), originSignerZip (default target/edge/origin-signer.zip).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CallerAuthorizer, LockdownMode, PortcullisStack } from '../lib';

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
};

for (const mode of modes) {
  if (!(mode in stackNames)) {
    throw new Error(`unknown mode ${mode}: header-secret, api-key or sigv4`);
  }
  let callerAuthorizer: CallerAuthorizer | undefined;
  if (mode === 'api-key' && ctx('jwtIssuer')) {
    callerAuthorizer = { kind: 'jwt', issuer: ctx('jwtIssuer')!, audience: (ctx('jwtAudience') ?? '').split(',').filter((a) => a) };
  }
  let originSignerZip: string | undefined;
  if (mode === 'sigv4') {
    const zip = path.resolve(ctx('originSignerZip') ?? path.join(__dirname, '..', '..', '..', 'target', 'edge', 'origin-signer.zip'));
    if (!fs.existsSync(zip)) {
      throw new Error(`sigv4 mode needs the packaged edge signer ${zip}: run \`make edge-package\` first`);
    }
    originSignerZip = zip;
  }
  new PortcullisStack(app, stackNames[mode], {
    env: { account, region },
    description: `portcullis - APIs reachable only through CloudFront (${mode})`,
    api: {
      mode,
      architecture,
      callerAuthorizer,
      originSecretVersionStage: ctx('originSecretVersionStage'),
      cargoProfile: ctx('cargoProfile'),
      originSignerCode: mode === 'sigv4' ? lambda.Code.fromAsset(originSignerZip!) : undefined,
    },
  });
}

// api-key mode with the request-authorizer (tenant rules in SSM) as a stack of its own.
if (modes.includes('api-key') && ctx('rulesParameter')) {
  new PortcullisStack(app, 'PortcullisApiKeyRequest', {
    env: { account, region },
    description: 'portcullis - APIs reachable only through CloudFront (api-key + request authorizer)',
    api: {
      mode: 'api-key',
      architecture,
      callerAuthorizer: { kind: 'request', rulesParameterName: ctx('rulesParameter')! },
      cargoProfile: ctx('cargoProfile'),
    },
  });
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
