import { Aws, CfnOutput, Fn, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { LockedDownApi, LockedDownApiProps, REST_STAGE, WEBSOCKET_STAGE, directHttpApiUrl } from './locked-down-api';

/** One deployable stack around a {@link LockedDownApi}, with the outputs the deploy guide uses. */
export class PortcullisStack extends Stack {
  readonly api: LockedDownApi;

  constructor(scope: Construct, id: string, props: StackProps & { api: LockedDownApiProps }) {
    super(scope, id, props);
    this.api = new LockedDownApi(this, 'Api', props.api);
    const cf = `https://${this.api.distribution.distributionDomainName}`;
    new CfnOutput(this, 'CloudFrontUrl', { value: cf, description: 'The only public entry. HTTP API at /, REST API under /rest/.' });
    new CfnOutput(this, 'HttpApiUrl', { value: `${cf}/`, description: 'HTTP API through CloudFront.' });
    const direct = `https://${this.api.restApi.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}/${REST_STAGE}/`;
    const isPrivate = this.api.restApiIsPrivate;
    new CfnOutput(this, 'RestApiUrl', {
      value: isPrivate ? direct : `${cf}/${REST_STAGE}/`,
      description: 'REST API through CloudFront (endpointType PRIVATE - its private URL, reachable through the VPC endpoints only).',
    });
    new CfnOutput(this, 'DirectHttpApiUrl', { value: directHttpApiUrl(this.api.httpApi), description: 'execute-api URL of the HTTP API - must answer 401/403; origin-mtls or apiDomain - the endpoint is disabled.' });
    new CfnOutput(this, 'DirectRestApiUrl', { value: this.api.restApi.url, description: 'execute-api URL of the REST API - must answer 401/403; origin-mtls or apiDomain - the endpoint is disabled.' });
    new CfnOutput(this, 'CheckThroughCloudFront', {
      value: isPrivate ? `curl -s -o /dev/null -w '%{http_code} ' ${cf}/` : `curl -s -o /dev/null -w '%{http_code} ' ${cf}/ ${cf}/${REST_STAGE}/`,
      description: 'Proof of the lock-down, part 1 - prints 200 200 through CloudFront (with a caller authorizer add its credential, e.g. -H "Authorization: Bearer $TOKEN").',
    });
    const domain = this.api.originDomain;
    // What a direct caller would try: the custom domain first (apiDomain - 401/403; origin-mtls - the
    // TLS handshake fails, 000), then the (disabled) execute-api endpoints.
    const domainUrls = domain ? [`https://${domain.domainName}/ https://${domain.domainName}/${REST_STAGE}/ `] : [];
    new CfnOutput(this, 'CheckDirectRefused', {
      value: Fn.join('', ['curl -s -o /dev/null -w \'%{http_code} \' ', ...domainUrls, directHttpApiUrl(this.api.httpApi), ' ', direct]),
      description: 'Proof of the lock-down, part 2 - the same requests without CloudFront, where a direct caller would send them: execute-api, 401 or 403 each; '
        + 'with a custom domain, the domain first (apiDomain - 401/403; origin-mtls - 000) and then the disabled execute-api endpoints (403).',
    });
    const ws = this.api.webSocketApi;
    if (ws) {
      const wsThrough = `https://${this.api.distribution.distributionDomainName}/${WEBSOCKET_STAGE}`;
      const wsDirect = `${ws.ref}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}/${WEBSOCKET_STAGE}`;
      // A WebSocket upgrade by curl: 101 once admitted, 401/403 when $connect refuses.
      const upgrade = 'curl -s -o /dev/null -m 5 -w \'%{http_code} \' --http1.1 -H \'Connection: Upgrade\' -H \'Upgrade: websocket\' '
        + '-H \'Sec-WebSocket-Version: 13\' -H \'Sec-WebSocket-Key: cG9ydGN1bGxpcy1wcm9iZQ==\' ';
      new CfnOutput(this, 'WebSocketUrl', { value: `wss://${this.api.distribution.distributionDomainName}/${WEBSOCKET_STAGE}`, description: 'The WebSocket API through CloudFront (wss://, the stage ws under /ws).' });
      new CfnOutput(this, 'DirectWebSocketUrl', { value: `wss://${wsDirect}`, description: 'The WebSocket API\'s execute-api URL - its $connect must be refused (401/403) without the origin secret.' });
      new CfnOutput(this, 'CheckWebSocketThroughCloudFront', {
        value: `${upgrade}${wsThrough}`,
        description: 'Proof of the WebSocket lock-down, part 1 - the upgrade through CloudFront prints 101 (with jwt or cedar append ?access_token=$TOKEN).',
      });
      new CfnOutput(this, 'CheckWebSocketDirectRefused', {
        value: `${upgrade}https://${wsDirect}`,
        description: 'Proof of the WebSocket lock-down, part 2 - the same upgrade straight to execute-api, without the secret, prints 401 or 403.',
      });
    }
    if (domain) {
      new CfnOutput(this, 'OriginDomainRegionalName', {
        value: domain.domainNameAliasDomainName,
        description: 'Target of the custom domain\'s DNS record (CNAME, or a Route 53 alias with OriginDomainRegionalHostedZoneId).',
      });
      new CfnOutput(this, 'OriginDomainRegionalHostedZoneId', { value: domain.domainNameAliasHostedZoneId, description: 'Hosted zone of OriginDomainRegionalName, for a Route 53 alias record.' });
      new CfnOutput(this, 'DirectOriginUrl', {
        value: `https://${domain.domainName}/`,
        description: 'The custom domain without CloudFront - origin-mtls: the TLS handshake fails without a client certificate the truststore accepts; '
          + 'another accepted certificate gets 403 (not pinned). apiDomain: 401/403, the mode\'s authorizer or key refuses as execute-api did.',
      });
    }
    new CfnOutput(this, 'DistributionId', {
      value: this.api.distribution.distributionId,
      description: 'The CloudFront distribution (aws cloudfront get-distribution --id ...; the secret-rotator switches its origin header).',
    });
    if (this.api.originSecret) {
      new CfnOutput(this, 'OriginSecretName', { value: this.api.originSecret.secretName, description: 'Secret CloudFront sends and the authorizers check (AWSCURRENT, and AWSPENDING during a rotation).' });
      new CfnOutput(this, 'OriginSecretArn', {
        value: this.api.originSecret.secretArn,
        description: 'The secret the authorizers read in Secrets Manager (SECRET_SECRETS_MANAGER_ID, or ORIGIN_SECRET_SECRETS_MANAGER_ID of a caller authorizer).',
      });
    }
    if (this.api.secretRotatorLogGroup) {
      new CfnOutput(this, 'SecretRotatorLogGroup', { value: this.api.secretRotatorLogGroup.logGroupName, description: 'Log group of the secret-rotator - one line per rotation step and wait.' });
    }
    if (this.api.decisionsDashboard) {
      new CfnOutput(this, 'DecisionsDashboardName', {
        value: this.api.decisionsDashboard.ref,
        description: 'CloudWatch dashboard of the authorizers\' decisions (and the deny and error alarms).',
      });
    }
    if (this.api.tenantUsagePlan) {
      new CfnOutput(this, 'TenantUsagePlanId', {
        value: this.api.tenantUsagePlan.usagePlanId,
        description: 'Usage plan for tenants\' API keys (aws apigateway create-usage-plan-key --usage-plan-id ...; docs/deploy.md).',
      });
    }
    if (this.api.apiKeySecret) {
      new CfnOutput(this, 'ApiKeySecretName', { value: this.api.apiKeySecret.secretName, description: 'Secret holding the REST API key CloudFront sends.' });
    }
  }
}
