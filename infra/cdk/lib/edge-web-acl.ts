import { Stack, Token } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface EdgeWebAclProps {
  /** The rate rule: requests per client IP in any 5-minute window before WAF blocks that IP (10-2,000,000,000). Default 2000. */
  readonly rateLimit?: number;
  /** The web ACL's name and metric name. Default `<stack name>-web-acl`. */
  readonly name?: string;
}

/** The AWS managed rule groups of the web ACL, in priority order (infra/sam/edge.yaml's WebAcl). */
export const EDGE_WEB_ACL_MANAGED_RULES: [string, string][] = [
  ['aws-common', 'AWSManagedRulesCommonRuleSet'],
  ['aws-known-bad-inputs', 'AWSManagedRulesKnownBadInputsRuleSet'],
  ['aws-ip-reputation', 'AWSManagedRulesAmazonIpReputationList'],
];

/**
 * A WAF web ACL for the distribution, as the SAM edge stack makes it (CreateWebAcl=true): scope
 * CLOUDFRONT, so its stack must be in us-east-1; AWS managed rule groups first (each blocking by its
 * own rules), then a per-IP rate limit. Pass `webAclArn` to LockedDownApi's `webAclArn`.
 */
export class EdgeWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  /** The web ACL's ARN, for LockedDownApiProps.webAclArn (in another region: through an SSM parameter or by hand). */
  readonly webAclArn: string;

  constructor(scope: Construct, id: string, props: EdgeWebAclProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.region) || stack.region !== 'us-east-1') {
      throw new Error('EdgeWebAcl needs a stack in us-east-1: CloudFront web ACLs (scope CLOUDFRONT) are created there only');
    }
    const rateLimit = props.rateLimit ?? 2000;
    if (!Token.isUnresolved(rateLimit) && (!Number.isInteger(rateLimit) || rateLimit < 10 || rateLimit > 2_000_000_000)) {
      throw new Error('EdgeWebAcl rateLimit must be a whole number from 10 to 2000000000 requests per IP per 5 minutes');
    }
    const name = props.name ?? `${stack.stackName}-web-acl`;
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name,
      description: 'portcullis - AWS managed rule groups and a per-IP rate limit in front of the APIs',
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(name),
      rules: [
        ...EDGE_WEB_ACL_MANAGED_RULES.map(([ruleName, group], priority) => ({
          name: ruleName,
          priority,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: group } },
          visibilityConfig: visibility(ruleName),
        })),
        {
          name: 'rate-per-ip',
          priority: EDGE_WEB_ACL_MANAGED_RULES.length,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: rateLimit, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('rate-per-ip'),
        },
      ],
    });
    this.webAclArn = this.webAcl.attrArn;
  }
}
