import * as path from 'node:path';
import { Annotations, Aws, CfnResource, Duration, Fn, RemovalPolicy, SecretValue, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as apigwv2Authorizers from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as apigwv2Integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct, IConstruct } from 'constructs';

/** How API Gateway knows a request came through CloudFront. */
export type LockdownMode = 'header-secret' | 'api-key' | 'sigv4' | 'origin-mtls';

/**
 * origin-mtls: a lock-down without a shared secret. Both APIs sit behind one regional custom domain
 * that requires mutual TLS (the execute-api endpoints are disabled); CloudFront presents its client
 * certificate there, and the authorizer pins that certificate's fingerprint.
 */
export interface OriginMtls {
  /** The regional custom domain CloudFront connects to, lower case (origin.api.example.com). */
  readonly domainName: string;
  /** Public ACM certificate for `domainName`, in the stack's region. */
  readonly domainCertificateArn: string;
  /** The client certificate CloudFront presents: imported into ACM in us-east-1, EKU TLS client authentication. */
  readonly clientCertificateArn: string;
  /** The truststore, `s3://bucket/key`: the CA certificates that issue the client certificate (PEM). */
  readonly truststoreUri: string;
  /** The truststore's S3 object version (a new version is how a changed truststore reaches the domain). */
  readonly truststoreVersion: string;
  /**
   * ORIGIN_CERT_SHA256: SHA-256 fingerprints (64 lower-case hex digits) of the DER client
   * certificate(s) the authorizer accepts; during a rotation the old and the new one.
   */
  readonly certSha256: string[];
}

/** The jwt-authorizer for callers (JWT_* settings). */
export interface JwtCallerAuthorizer {
  readonly kind: 'jwt';
  /** JWT_ISSUER: the expected `iss`. */
  readonly issuer: string;
  /** JWT_AUDIENCE (required by the authorizer): accepted `aud` values / Cognito app client ids. */
  readonly audience: string[];
  /** JWT_JWKS_URI; default: OIDC discovery on the issuer. */
  readonly jwksUri?: string;
  /** JWT_ALGORITHMS allowlist; default RS256. */
  readonly algorithms?: string[];
}

/** The request-authorizer for callers (tenant rules in an SSM parameter). */
export interface RequestCallerAuthorizer {
  readonly kind: 'request';
  /** RULES_PARAMETER_NAME, with the leading slash. */
  readonly rulesParameterName: string;
  /**
   * Header carrying the tenant's API key (API_KEY_HEADER), also the decision cache key with the
   * method and resource. Default x-tenant-key: CloudFront overwrites x-api-key with the usage-plan key.
   */
  readonly identityHeader?: string;
}

/**
 * The cedar-authorizer for callers: the caller's JWT (the jwt-authorizer's JWT_* settings), then the
 * Cedar policies of a Verified Permissions policy store, evaluated in-process for every route.
 */
export interface CedarCallerAuthorizer extends Omit<JwtCallerAuthorizer, 'kind'> {
  readonly kind: 'cedar';
  /** CEDAR_POLICY_STORE_ID: the policy store whose policies and schema the function reads. */
  readonly policyStoreId: string;
  /** CEDAR_GROUPS_CLAIM: the JWT claim listing the caller's groups. Default cognito:groups. */
  readonly groupsClaim?: string;
  /** CEDAR_REFRESH_SECONDS: how often the policies and schema are re-read (1 s-1 day). Default 5 minutes. */
  readonly refresh?: Duration;
}

export type CallerAuthorizer = JwtCallerAuthorizer | CedarCallerAuthorizer | RequestCallerAuthorizer;

/**
 * Automatic rotation of the origin secret by the secret-rotator (header-secret and api-key modes,
 * always on there): Secrets Manager invokes it on a schedule; it creates the new value as
 * AWSPENDING (which the authorizers accept next to AWSCURRENT), waits `propagationWait`, switches
 * CloudFront's origin header, waits for the deployment and `grace` (and the canary), then makes
 * the new value AWSCURRENT.
 */
export interface OriginSecretRotation {
  /** How often Secrets Manager rotates the secret, whole days (1-999): `rate(N days)`. Default 30 days. */
  readonly every?: Duration;
  /**
   * PROPAGATION_WAIT_SECONDS: from the new value's creation to CloudFront's switch, so that every
   * authorizer has re-read the secret. At least `secretCacheTtl` + 30 s (the default), at most
   * 840 s (one step within the rotator's 900 s timeout).
   */
  readonly propagationWait?: Duration;
  /** OLD_SECRET_GRACE_SECONDS: the old value stays accepted this long after CloudFront is Deployed (0-600 s). Default 60 s. */
  readonly grace?: Duration;
  /** CANARY_URL: an https:// URL through CloudFront that must not answer 401/403 once it sends the new value. Default none. */
  readonly canaryUrl?: string;
}

/**
 * The REST API's resource policy: an Allow, then one explicit Deny per list (API Gateway evaluates it
 * before any authorizer). Behind CloudFront the caller's aws:SourceIp is a CloudFront edge, never the
 * viewer, and a regional API is never called through a VPC endpoint: the lists that would refuse
 * CloudFront or never match are refused at synth (docs/deploy.md, "Resource policy").
 */
export interface RestResourcePolicy {
  /** Deny every caller outside these CIDRs (NotIpAddress aws:SourceIp). Regional only; needs `allowedSourceIpsIncludeCloudFront`. */
  readonly allowedSourceIps?: string[];
  /** You confirm `allowedSourceIps` holds every CloudFront origin-facing range and keep it current. Default false (refused). */
  readonly allowedSourceIpsIncludeCloudFront?: boolean;
  /** Deny callers from these CIDRs (IpAddress aws:SourceIp): direct callers and CloudFront edges, never a viewer. Regional only. */
  readonly deniedSourceIps?: string[];
  /** endpointType PRIVATE: deny every request not from these VPCs (StringNotEquals aws:SourceVpc). */
  readonly allowedSourceVpcs?: string[];
  /** endpointType PRIVATE: deny requests from these VPCs (StringEquals aws:SourceVpc). */
  readonly deniedSourceVpcs?: string[];
  /** endpointType PRIVATE: deny every request not through these VPC endpoints (StringNotEquals aws:SourceVpce). */
  readonly allowedSourceVpces?: string[];
  /** endpointType PRIVATE: deny requests through these VPC endpoints (StringEquals aws:SourceVpce). */
  readonly deniedSourceVpces?: string[];
}

/** A regional custom domain for both APIs (not origin-mtls, which has its own): CloudFront's origin, execute-api disabled. */
export interface ApiDomain {
  /** Lower-case DNS name (api.example.com); point it at the OriginDomainRegionalName output. */
  readonly domainName: string;
  /** ACM certificate for `domainName`, in the stack's region. */
  readonly certificateArn: string;
}

/** PROPAGATION_WAIT_SECONDS beyond the authorizers' secret cache TTL. */
export const PROPAGATION_MARGIN = Duration.seconds(30);

export interface LockedDownApiProps {
  readonly mode: LockdownMode;
  /** Backend behind both APIs. Default: a tiny sample function that echoes who called. */
  readonly backend?: lambda.IFunction;
  /** Architecture of the Rust authorizers. Default arm64. */
  readonly architecture?: lambda.Architecture;
  /** Cargo profile of the Rust builds. Default release. */
  readonly cargoProfile?: string;
  /** The workspace Cargo.toml. Default: the portcullis repository this file lives in. */
  readonly manifestPath?: string;
  /** Origin header carrying the secret. Default x-origin-verify. */
  readonly secretHeaderName?: string;
  /** SECRET_CACHE_TTL_SECONDS of the header-secret authorizer. Default 5 minutes. */
  readonly secretCacheTtl?: Duration;
  /** API Gateway's cache of authorizer decisions. Default 5 minutes. */
  readonly authorizerResultTtl?: Duration;
  /**
   * header-secret and api-key modes (refused elsewhere): the origin secret's automatic rotation.
   * Default every 30 days, propagation wait `secretCacheTtl` + 30 s, grace 60 s, no canary.
   */
  readonly originSecretRotation?: OriginSecretRotation;
  /**
   * Authorizer for callers. header-secret mode: every HTTP route and REST method runs it, configured
   * with the origin secret (ORIGIN_SECRET_*), so one function checks both; origin-mtls mode: the same,
   * with the pinned certificate (ORIGIN_CERT_SHA256). api-key mode: the REST methods run it after the
   * API key. Not with sigv4 (AWS_IAM routes have no authorizer slot).
   */
  readonly callerAuthorizer?: CallerAuthorizer;
  /** origin-mtls (required there, refused elsewhere): the custom domain, its truststore and CloudFront's certificate. */
  readonly originMtls?: OriginMtls;
  /**
   * header-secret + the request authorizer only: CloudFront forwards its viewer headers
   * (CloudFront-Viewer-Address, -Country, -Cert-*) through an origin request policy that lists
   * them with the tenant key and Content-Type (no other viewer header reaches the backend), and
   * the authorizer trusts them after the origin secret (TRUST_CLOUDFRONT_VIEWER_HEADERS) for
   * tenant CIDR and certificate rules. The -Cert-* headers need viewer mTLS on the distribution.
   * Default false.
   */
  readonly trustCloudFrontViewerHeaders?: boolean;
  /** METRICS_NAMESPACE of every authorizer (CloudWatch EMF decision metrics). Default portcullis; '' turns them off. */
  readonly metricsNamespace?: string;
  /**
   * With metrics on: the deny alarm fires at this many denied requests within 5 minutes. Default 100.
   * The error alarm fires on any error decision.
   */
  readonly denyAlarmThreshold?: number;
  /**
   * Reserved concurrency of each authorizer function (its ceiling and guarantee); the secret-rotator
   * then reserves 1. Default none: Lambda keeps 10 of the account's concurrency unreserved, so
   * new accounts (a quota of 10) can reserve nothing, and 100 per function fails on small quotas.
   */
  readonly authorizerReservedConcurrency?: number;
  /**
   * header-secret or origin-mtls + the request caller authorizer only: the REST API takes its API
   * key from the authorizer (each tenant's usageIdentifierKey, ApiKeySourceType AUTHORIZER) and every
   * method requires one, so each tenant is metered by the usage plan holding its key
   * (`tenantUsagePlan`, the default plan). Default false.
   */
  readonly tenantUsagePlans?: boolean;
  /**
   * ARN of a WAF web ACL (scope CLOUDFRONT, in us-east-1) for the distribution, the only public
   * entry. Default none. The SAM edge stack (infra/sam/edge.yaml, CreateWebAcl=true) makes one with
   * AWS managed rule groups and a per-IP rate rule.
   */
  readonly webAclArn?: string;
  /** sigv4: the packaged edge signer. Default: target/edge/origin-signer.zip (`make edge-package`). */
  readonly originSignerCode?: lambda.Code;
  /** With metrics on: an SNS topic notified when the deny or error alarm fires and returns to OK. Default none. */
  readonly alarmTopicArn?: string;
  /** The REST API's resource policy. Default none (PRIVATE: the Allow alone plus the lists given). */
  readonly resourcePolicy?: RestResourcePolicy;
  /**
   * The REST API's endpoint type. Default REGIONAL (behind CloudFront). PRIVATE: reachable through
   * `vpcEndpointIds` only and no CloudFront origin (the distribution keeps the HTTP API); needs mode
   * sigv4 (AWS_IAM methods signed by the callers) and `resourcePolicy.allowedSourceVpces` or `allowedSourceVpcs`.
   */
  readonly endpointType?: 'REGIONAL' | 'PRIVATE';
  /** endpointType PRIVATE: the execute-api interface VPC endpoints (vpce-...). */
  readonly vpcEndpointIds?: string[];
  /** Not with origin-mtls: a custom domain for both APIs, CloudFront's origin; execute-api is disabled. */
  readonly apiDomain?: ApiDomain;
  /**
   * A WebSocket API (routes $connect, $disconnect, $default on the backend) behind the distribution at
   * wss://<distribution>/ws (stage `ws`, auto-deployed). $connect runs the function that guards the HTTP
   * API with the same identity values (route.request.*); jwt and cedar also read the token from the
   * access_token query parameter. header-secret and api-key modes only (sigv4 and origin-mtls are
   * refused: docs/deploy.md, "WebSocket API"). Default false.
   */
  readonly webSocket?: boolean;
}

const CACHING_DISABLED = cloudfront.CachePolicy.CACHING_DISABLED;
const ALL_VIEWER_EXCEPT_HOST = cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER;
/** CloudFront's viewer facts a caller authorizer may trust; -Cert-* exist only with viewer mTLS. */
export const CLOUDFRONT_VIEWER_HEADERS = [
  'CloudFront-Viewer-Address', 'CloudFront-Viewer-Country',
  'CloudFront-Viewer-Cert-Present', 'CloudFront-Viewer-Cert-Sha256', 'CloudFront-Viewer-Cert-Serial-Number',
  'CloudFront-Viewer-Cert-Subject', 'CloudFront-Viewer-Cert-Issuer', 'CloudFront-Viewer-Cert-Validity',
];
/** The REST authorizer's construct id per caller authorizer. */
const REST_AUTHORIZER_IDS: Record<CallerAuthorizer['kind'], string> = {
  jwt: 'RestJwtAuthorizer', cedar: 'RestCedarAuthorizer', request: 'RestRequestAuthorizer',
};
/** Stage name of the REST API = the CloudFront path prefix routed to it. */
export const REST_STAGE = 'rest';
/** Stage name of the WebSocket API = the CloudFront path routed to it (wss://<distribution>/ws). */
export const WEBSOCKET_STAGE = 'ws';
/** What a WebSocket upgrade needs at the origin (CloudFront: Sec-WebSocket-Key and -Version at least). */
export const WEBSOCKET_UPGRADE_HEADERS = ['Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Sec-WebSocket-Protocol', 'Sec-WebSocket-Extensions'];

/**
 * An HTTP API and a REST API behind one CloudFront distribution, reachable only through it.
 * The same architecture as infra/sam/template.yaml.
 */
export class LockedDownApi extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly httpApi: apigwv2.HttpApi;
  readonly restApi: apigw.RestApi;
  /** Origin secret - header-secret and api-key modes; the authorizers accept AWSCURRENT and AWSPENDING. */
  readonly originSecret?: secretsmanager.Secret;
  /** The function Secrets Manager calls to rotate the origin secret - header-secret and api-key modes. */
  readonly secretRotator?: lambda.Function;
  /** The rotator's log group (one line per rotation step). */
  readonly secretRotatorLogGroup?: logs.LogGroup;
  /** The API key CloudFront sends - api-key mode. */
  readonly apiKeySecret?: secretsmanager.Secret;
  /** The custom domain both APIs are mapped onto - origin-mtls mode (mutual TLS) or `apiDomain`. */
  readonly originDomain?: apigw.DomainName;
  /** The REST API is private (endpointType PRIVATE): no CloudFront origin. */
  readonly restApiIsPrivate: boolean;
  readonly originSignerFunction?: cloudfront.experimental.EdgeFunction;
  /** The decisions dashboard (with the deny and error alarms) - when metrics are on. */
  readonly decisionsDashboard?: cloudwatch.CfnDashboard;
  /** The default usage plan of the tenants' keys - tenantUsagePlans. */
  readonly tenantUsagePlan?: apigw.UsagePlan;
  /** The WebSocket API - webSocket (header-secret and api-key modes). */
  readonly webSocketApi?: apigwv2.CfnApi;

  constructor(scope: Construct, id: string, props: LockedDownApiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const mode = props.mode;
    const caller = props.callerAuthorizer;
    if (caller && mode === 'sigv4') {
      throw new Error('callerAuthorizer needs mode header-secret, api-key or origin-mtls: sigv4 routes are AWS_IAM, with no authorizer slot');
    }
    const trustViewerHeaders = props.trustCloudFrontViewerHeaders ?? false;
    if (trustViewerHeaders && (mode !== 'header-secret' || caller?.kind !== 'request')) {
      throw new Error('trustCloudFrontViewerHeaders needs mode header-secret (the origin secret proves the headers come from CloudFront) '
        + 'and the request caller authorizer (tenant CIDR and certificate rules read them)');
    }
    const tenantUsagePlans = props.tenantUsagePlans ?? false;
    if (tenantUsagePlans && (caller?.kind !== 'request' || (mode !== 'header-secret' && mode !== 'origin-mtls'))) {
      throw new Error('tenantUsagePlans needs the request caller authorizer (its tenants\' usageIdentifierKey is the key) '
        + 'and mode header-secret or origin-mtls (api-key mode keeps CloudFront\'s key in the header)');
    }
    const reserved = props.authorizerReservedConcurrency;
    if (reserved !== undefined && !Token.isUnresolved(reserved) && (!Number.isInteger(reserved) || reserved < 1)) {
      throw new Error('authorizerReservedConcurrency must be a whole number of at least 1 (leave it unset for none)');
    }
    if (props.webAclArn && !Token.isUnresolved(props.webAclArn)
      && !/^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[A-Za-z0-9_-]{1,128}\/[a-f0-9-]{36}$/.test(props.webAclArn)) {
      throw new Error('webAclArn must be a WAFv2 web ACL with scope CLOUDFRONT (arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>)');
    }
    if (props.alarmTopicArn && !Token.isUnresolved(props.alarmTopicArn)
      && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(props.alarmTopicArn)) {
      throw new Error('alarmTopicArn must be the ARN of an SNS topic');
    }
    const isPrivate = (props.endpointType ?? 'REGIONAL') === 'PRIVATE';
    this.restApiIsPrivate = isPrivate;
    const policyLists = validateResourcePolicy(props, isPrivate);
    if (policyLists?.allowedSourceIps?.length) {
      // Accepted on the caller's word: CloudFront's origin-facing ranges change, and the list must follow them.
      Annotations.of(this).addWarningV2('portcullis:allowedSourceIps', 'resourcePolicy.allowedSourceIps must keep every CloudFront '
        + 'origin-facing range (ip-ranges.json, CLOUDFRONT_ORIGIN_FACING) current, or the distribution gets 403');
    }
    const apiDomain = props.apiDomain;
    if (apiDomain) {
      if (mode === 'origin-mtls') {
        throw new Error('apiDomain is not for mode origin-mtls (its custom domain is originMtls.domainName)');
      }
      if (isPrivate) {
        throw new Error('endpointType PRIVATE takes no apiDomain (a private custom domain is another resource type, and CloudFront does not use it)');
      }
      if (!Token.isUnresolved(apiDomain.domainName) && !/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(apiDomain.domainName)) {
        throw new Error('apiDomain.domainName must be a lower-case DNS name (API Gateway custom domains take no upper case)');
      }
      if (!apiDomain.certificateArn) {
        throw new Error('apiDomain needs certificateArn (an ACM certificate for the domain, in this region)');
      }
    }
    const usesOriginSecret = mode === 'header-secret' || mode === 'api-key';
    const webSocket = props.webSocket ?? false;
    if (webSocket && mode === 'sigv4') {
      throw new Error('webSocket needs mode header-secret or api-key: the $connect check is a Lambda authorizer, and sigv4\'s AWS_IAM routes have none '
        + '(the edge signer is not wired for WebSocket upgrades)');
    }
    if (webSocket && mode === 'origin-mtls') {
      throw new Error('webSocket needs mode header-secret or api-key: API Gateway offers mutual TLS for REST and HTTP APIs only, '
        + 'and a WebSocket API cannot share their custom domain');
    }
    if (props.originSecretRotation && !usesOriginSecret) {
      throw new Error('originSecretRotation needs mode header-secret or api-key: the other modes have no origin secret');
    }
    const secretCacheTtl = props.secretCacheTtl ?? Duration.minutes(5);
    const rotation = usesOriginSecret ? rotationSettings(props.originSecretRotation ?? {}, secretCacheTtl) : undefined;
    const originMtls = props.originMtls;
    if (mode === 'origin-mtls') {
      validateOriginMtls(originMtls);
    } else if (originMtls) {
      throw new Error('originMtls is for mode origin-mtls only');
    }
    // header-secret + a caller authorizer: the caller function checks the origin secret too and
    // takes every route and method of both APIs; no header-secret function is deployed.
    const composed = mode === 'header-secret' && caller !== undefined;
    // origin-mtls + a caller authorizer: the same, with the pinned certificate as the origin proof.
    const certComposed = mode === 'origin-mtls' && caller !== undefined;
    const callerOnBothApis = composed || certComposed;
    const pins = originMtls?.certSha256.join(',');
    const metricsNamespace = props.metricsNamespace ?? 'portcullis';
    const manifestPath = props.manifestPath ?? path.resolve(__dirname, '..', '..', '..', 'Cargo.toml');
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const headerName = (props.secretHeaderName ?? 'x-origin-verify').toLowerCase();
    if (!/^(?!x-amz-|x-edge-)[a-z0-9-]+$/.test(headerName)) {
      throw new Error('secretHeaderName: letters, digits and hyphens, not starting with x-amz- or x-edge- (CloudFront reserves them for itself)');
    }
    const resultTtl = props.authorizerResultTtl ?? Duration.minutes(5);

    // The settings every function shares: its HTTP API answer format and the metrics namespace.
    const dialect = (responseMode: 'simple' | 'iam'): Record<string, string> => ({
      HTTP_API_RESPONSE_MODE: responseMode,
      ...(metricsNamespace ? { METRICS_NAMESPACE: metricsNamespace } : {}),
    });
    const rustFunction = (fid: string, binaryName: string, role: iam.Role, environment: Record<string, string>, options?: RustFunctionOptions) => {
      const fn = new RustFunction(this, fid, {
        manifestPath,
        binaryName,
        architecture,
        bundling: { architecture, profile: props.cargoProfile ?? 'release' },
        role,
        memorySize: 128,
        timeout: options?.timeout ?? Duration.seconds(5),
        tracing: lambda.Tracing.ACTIVE,
        reservedConcurrentExecutions: reserved === undefined ? undefined : (options?.reservedConcurrentExecutions ?? reserved),
        loggingFormat: lambda.LoggingFormat.JSON,
        environment,
      });
      const group = this.grantLogs(fid, fn, role, options?.logsComment);
      if (reserved === undefined) {
        checkovSkip(fn, [['CKV_AWS_115', 'Reserved concurrency is opt-in (authorizerReservedConcurrency): it fails to deploy on accounts with a low concurrency quota.']]);
      }
      checkovSkip(fn, options?.checkovSkips ?? [
        ['CKV_AWS_116', 'Invoked synchronously by API Gateway; a dead-letter queue never receives anything.'],
        ['CKV_AWS_117', 'Reaches only public AWS endpoints (SSM, Secrets Manager) or the issuer\'s JWKS; a VPC would add NAT without reducing exposure.'],
        ['CKV_AWS_173', 'The environment holds names, the origin secret\'s ARN (not its value), TTLs, issuer and audience - no secrets.'],
      ]);
      return { fn, group };
    };

    // ------------------------------------------------------------ backend
    const backend = props.backend ?? this.sampleBackend();

    // ------------------------------------------------------------ secrets (header-secret, api-key)
    let headerAuthorizerFn: lambda.IFunction | undefined;
    let secretsKey: kms.Key | undefined;
    let originProof: OriginProof | undefined;
    if (usesOriginSecret) {
      secretsKey = new kms.Key(this, 'SecretsKey', {
        description: `portcullis ${id} - origin secret and API key`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // One line of 48 letters and digits (no punctuation, so no comma; no space): what the
      // authorizers and a CloudFront header accept. The secret-rotator generates the next ones
      // alike and rotates it on a schedule (below), so AwsSolutions-SMG4 holds without a suppression.
      this.originSecret = new secretsmanager.Secret(this, 'OriginSecret', {
        secretName: `${stack.stackName}-${id}-origin-secret`,
        description: 'portcullis origin secret - CloudFront sends it, the authorizer of each route checks it; rotated by the secret-rotator.',
        encryptionKey: secretsKey,
        generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      });
      originProof = {
        secret: this.originSecret,
        key: secretsKey,
        cacheTtlSeconds: String(secretCacheTtl.toSeconds()),
      };
    }
    if (originProof && !composed) {
      const role = this.lambdaRole('HeaderSecretAuthorizerRole');
      this.grantOriginSecret(role, originProof);
      headerAuthorizerFn = rustFunction('HeaderSecretAuthorizer', 'header-secret-authorizer', role, {
        // The secret's ARN: the function reads AWSCURRENT and AWSPENDING (a rotation's new value).
        SECRET_SECRETS_MANAGER_ID: originProof.secret.secretArn,
        SECRET_HEADER_NAME: headerName,
        SECRET_CACHE_TTL_SECONDS: originProof.cacheTtlSeconds,
        // Its decision is the same for every route: a simple answer is safe to cache by header.
        ...dialect('simple'),
      }).fn;
    }
    if (mode === 'origin-mtls' && !certComposed) {
      // The lock-down function in its origin-proof-only configuration: it pins the client
      // certificate API Gateway passes in the event and reads nothing, so its role grants nothing
      // beyond logs and traces.
      headerAuthorizerFn = rustFunction('HeaderSecretAuthorizer', 'header-secret-authorizer', this.lambdaRole('HeaderSecretAuthorizerRole'), {
        ORIGIN_CERT_SHA256: pins!,
        ...dialect('simple'),
      }).fn;
    }
    // The caller authorizer's function: in header-secret mode with the origin proof, the same
    // secret, header and refresh interval as the header-secret authorizer would use.
    const callerFn = caller ? this.callerFunction(caller, rustFunction, {
      // The policy covers every route the caller may use: safe for API Gateway's decision cache.
      ...dialect('iam'),
      // webSocket: $connect carries the token in the access_token query parameter (browsers set no
      // header on a WebSocket); HTTP and REST keep requiring Authorization, their identity source.
      ...(composed && webSocket && caller.kind !== 'request' ? { JWT_TOKEN_SOURCES: 'header:authorization,query:access_token' } : {}),
      ...(composed ? {
        ORIGIN_SECRET_SECRETS_MANAGER_ID: originProof!.secret.secretArn,
        ORIGIN_SECRET_HEADER_NAME: headerName,
        ORIGIN_SECRET_CACHE_TTL_SECONDS: originProof!.cacheTtlSeconds,
        TRUST_CLOUDFRONT_VIEWER_HEADERS: String(trustViewerHeaders),
      } : {}),
      // origin-mtls: the pin instead of the secret - no grant needed.
      ...(certComposed ? {
        ORIGIN_CERT_SHA256: pins!,
        TRUST_CLOUDFRONT_VIEWER_HEADERS: 'false',
      } : {}),
    }, composed ? originProof : undefined) : undefined;
    // What the caller's decision reads besides the route: its credential, the viewer address
    // when tenant CIDR rules read it. The origin header comes first where the function checks it.
    const callerHeaders = callerFn ? [
      ...(composed ? [headerName] : []),
      callerFn.credentialHeader,
      ...(trustViewerHeaders ? ['CloudFront-Viewer-Address'] : []),
    ] : [];
    if (mode === 'api-key') {
      this.apiKeySecret = new secretsmanager.Secret(this, 'ApiKeySecret', {
        secretName: `${stack.stackName}-${id}-api-key`,
        description: 'portcullis REST API key - CloudFront sends it as x-api-key.',
        encryptionKey: secretsKey,
        generateSecretString: { passwordLength: 40, excludePunctuation: true },
      });
      acknowledge(this.apiKeySecret, [
        { id: 'AwsSolutions-SMG4', reason: 'The key value is bound to the API Gateway key; rotate by adding a second key to the usage plan (docs/deploy.md).' },
      ]);
    }
    // CloudFront sends AWSCURRENT. A rotation switches the header itself (the rotator); a later
    // update of the distribution resolves this to the same, new AWSCURRENT.
    const originSecretValue = this.originSecret
      ? SecretValue.secretsManager(this.originSecret.secretArn, { versionStage: 'AWSCURRENT' }).unsafeUnwrap()
      : undefined;

    // ------------------------------------------------------------ HTTP API
    let httpAuthorizer: apigwv2.IHttpRouteAuthorizer;
    if (mode === 'sigv4') {
      httpAuthorizer = new apigwv2Authorizers.HttpIamAuthorizer();
    } else if (mode === 'origin-mtls' && !certComposed) {
      // The decision reads only the connection's client certificate, which API Gateway passes in the
      // event: no identity source carries it. Caching off: a key without the certificate would hand
      // CloudFront's Allow to any other certificate the truststore accepts - what the pin refuses.
      httpAuthorizer = new apigwv2Authorizers.HttpLambdaAuthorizer('origin-mtls', headerAuthorizerFn!, {
        authorizerName: 'origin-mtls',
        identitySource: [],
        responseTypes: [apigwv2Authorizers.HttpLambdaResponseType.SIMPLE],
        resultsCacheTtl: Duration.seconds(0),
      });
    } else if (callerOnBothApis) {
      // IAM policy answers, not simple ones: a simple answer holds for one route and path, yet
      // API Gateway reuses a cached answer for every route - and on the $default route
      // $context.routeKey is "$default" for every path, so not even the route key would separate
      // them. The policy names every route the caller may use; API Gateway evaluates it per request.
      httpAuthorizer = new apigwv2Authorizers.HttpLambdaAuthorizer(caller!.kind, callerFn!.fn, {
        authorizerName: caller!.kind,
        identitySource: callerHeaders.map((h) => `$request.header.${h}`),
        responseTypes: [apigwv2Authorizers.HttpLambdaResponseType.IAM],
        resultsCacheTtl: resultTtl,
      });
    } else {
      httpAuthorizer = new apigwv2Authorizers.HttpLambdaAuthorizer('header-secret', headerAuthorizerFn!, {
        authorizerName: 'header-secret',
        // The decision does not depend on the route: the header alone keys the cache.
        identitySource: [`$request.header.${headerName}`],
        responseTypes: [apigwv2Authorizers.HttpLambdaResponseType.SIMPLE],
        resultsCacheTtl: resultTtl,
      });
    }
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'portcullis HTTP API - reachable only through CloudFront',
      // The authorizer has checked the origin secret by now (parameter mapping changes the
      // integration request, after authorization): the backend never sees it.
      defaultIntegration: new apigwv2Integrations.HttpLambdaIntegration('Backend', backend, {
        parameterMapping: usesOriginSecret ? new apigwv2.ParameterMapping().removeHeader(headerName) : undefined,
      }),
      defaultAuthorizer: httpAuthorizer,
      // A custom domain (origin-mtls' or apiDomain) is the only way in: nobody bypasses it via execute-api.
      disableExecuteApiEndpoint: mode === 'origin-mtls' || apiDomain ? true : undefined,
    });
    for (const child of this.httpApi.node.findAll()) {
      if (!(child instanceof apigwv2.CfnAuthorizer)) {
        continue;
      }
      if (callerOnBothApis) {
        // HttpLambdaAuthorizer picks payload 1.0 for IAM answers; the functions read the 2.0 event
        // (routeArn, HTTP_API_RESPONSE_MODE) as the SAM template configures it.
        child.authorizerPayloadFormatVersion = '2.0';
      }
      if (mode === 'origin-mtls' && !certComposed) {
        // The L2 writes the empty list; without caching API Gateway wants no identity source at all.
        child.addPropertyDeletionOverride('IdentitySource');
      }
    }
    const httpLogs = new logs.LogGroup(this, 'HttpApiAccessLogs', { retention: logs.RetentionDays.ONE_YEAR });
    checkovSkip(httpLogs, [['CKV_AWS_158', 'Access logs hold request metadata only (no headers, no bodies).']]);
    const httpStage = this.httpApi.defaultStage!.node.defaultChild as apigwv2.CfnStage;
    httpStage.accessLogSettings = {
      destinationArn: httpLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId', ip: '$context.identity.sourceIp', routeKey: '$context.routeKey',
        status: '$context.status', authorizerError: '$context.authorizer.error',
      }),
    };
    httpStage.defaultRouteSettings = { throttlingBurstLimit: 200, throttlingRateLimit: 100 };

    // ------------------------------------------------------------ REST API
    this.restApi = new apigw.RestApi(this, 'RestApi', {
      description: 'portcullis REST API - reachable only through CloudFront',
      endpointConfiguration: {
        types: [isPrivate ? apigw.EndpointType.PRIVATE : apigw.EndpointType.REGIONAL],
        vpcEndpoints: isPrivate ? props.vpcEndpointIds!.map((vpce, i) => ec2.InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(
          this, `VpcEndpoint${i}`, { vpcEndpointId: vpce, port: 443 })) : undefined,
      },
      policy: policyLists ? this.resourcePolicyDocument(mode, policyLists) : undefined,
      // The usage-plan key: CloudFront's x-api-key header (api-key mode), or each tenant's
      // usageIdentifierKey from the request authorizer (tenantUsagePlans).
      apiKeySourceType: tenantUsagePlans ? apigw.ApiKeySourceType.AUTHORIZER : apigw.ApiKeySourceType.HEADER,
      cloudWatchRole: false,
      // A custom domain is the only way in (CDK redeploys the stage on the change).
      disableExecuteApiEndpoint: mode === 'origin-mtls' || apiDomain ? true : undefined,
      deployOptions: {
        stageName: REST_STAGE,
        tracingEnabled: true,
        throttlingBurstLimit: 200,
        throttlingRateLimit: 100,
      },
    });
    let restMethodOptions: apigw.MethodOptions;
    if (mode === 'sigv4') {
      restMethodOptions = { authorizationType: apigw.AuthorizationType.IAM };
    } else if (mode === 'header-secret' && !composed) {
      restMethodOptions = {
        authorizer: new apigw.RequestAuthorizer(this, 'RestHeaderSecretAuthorizer', {
          authorizerName: 'header-secret',
          handler: headerAuthorizerFn!,
          identitySources: [apigw.IdentitySource.header(headerName)],
          resultsCacheTtl: resultTtl,
        }),
      };
    } else if (mode === 'origin-mtls' && !certComposed) {
      // As on the HTTP API: the certificate arrives as requestContext.identity.clientCert; no cache.
      const authorizer = new apigw.RequestAuthorizer(this, 'RestOriginMtlsAuthorizer', {
        authorizerName: 'origin-mtls',
        handler: headerAuthorizerFn!,
        identitySources: [],
        resultsCacheTtl: Duration.seconds(0),
      });
      (authorizer.node.defaultChild as apigw.CfnAuthorizer).addPropertyDeletionOverride('IdentitySource');
      restMethodOptions = { authorizer };
    } else {
      const authorizer = callerFn && new apigw.RequestAuthorizer(this, REST_AUTHORIZER_IDS[caller!.kind], {
        authorizerName: caller!.kind,
        handler: callerFn.fn,
        // jwt, cedar: the policy covers every route the token may use, so no route in the key.
        // request: tenant rules grant routes, the method and resource are part of the key.
        identitySources: [
          ...callerHeaders.map((h) => apigw.IdentitySource.header(h)),
          ...(caller!.kind === 'request' ? [apigw.IdentitySource.context('httpMethod'), apigw.IdentitySource.context('resourcePath')] : []),
        ],
        resultsCacheTtl: resultTtl,
      });
      restMethodOptions = { apiKeyRequired: mode === 'api-key' || tenantUsagePlans, authorizer };
    }
    // ES2000 (access log setting), as CKV_AWS_76 below: needs the account-wide CloudWatch role.
    cfnLintIgnore(this.restApi.deploymentStage, ['ES2000']);
    checkovSkip(this.restApi.deploymentStage, [
      ['CKV_AWS_76', 'REST access logs need the account-wide API Gateway CloudWatch role, which this construct must not overwrite; CloudFront logs and the HTTP API access log cover requests.'],
      ['CKV_AWS_120', 'Responses are per caller; API Gateway\'s response cache would mix callers. Authorizer decisions are cached separately.'],
    ]);
    // A REST API applies a changed resource policy or endpoint only with a new deployment: they join
    // the deployment's logical id (CDK hashes methods and resources, not the API's own properties).
    this.restApi.latestDeployment!.addToLogicalId({
      resourcePolicy: policyLists ?? null, endpointType: props.endpointType ?? 'REGIONAL', vpcEndpointIds: props.vpcEndpointIds ?? null,
      apiDomain: apiDomain?.domainName ?? null,
    });
    const integration = new apigw.LambdaIntegration(backend);
    this.restApi.root.addMethod('ANY', integration, restMethodOptions);
    this.restApi.root.addResource('{proxy+}').addMethod('ANY', integration, restMethodOptions);

    if (mode === 'api-key') {
      const key = new apigw.ApiKey(this, 'CloudFrontApiKey', {
        description: 'Sent by CloudFront as x-api-key; value generated in Secrets Manager.',
        value: this.apiKeySecret!.secretValue.unsafeUnwrap(),
      });
      const plan = this.restApi.addUsagePlan('CloudFrontPlan', {
        throttle: { burstLimit: 200, rateLimit: 100 },
        apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
      });
      plan.addApiKey(key);
    }
    if (tenantUsagePlans) {
      // The default home of tenants' keys (an API key whose value is the tenant's usageIdentifierKey).
      this.tenantUsagePlan = this.restApi.addUsagePlan('TenantPlan', {
        description: 'portcullis - default plan of the tenants\' usage keys (usageIdentifierKey of the request authorizer\'s rules)',
        throttle: { burstLimit: 50, rateLimit: 20 },
        apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
      });
    }

    // ------------------------------------------------------------ origin-mtls: the custom domain
    // One regional custom domain serves both APIs (API Gateway maps REST and HTTP API stages onto the
    // same domain): the REST stage under /rest, the HTTP API for every other path - the paths CloudFront
    // already forwards. It refuses any TLS connection without a certificate its truststore accepts.
    // apiDomain: the same domain and mappings without mutual TLS; the mode's own proof is checked as on execute-api.
    if (originMtls || apiDomain) {
      const truststore = originMtls && parseS3Uri(originMtls.truststoreUri);
      this.originDomain = new apigw.DomainName(this, 'OriginDomain', {
        domainName: originMtls?.domainName ?? apiDomain!.domainName,
        certificate: acm.Certificate.fromCertificateArn(this, 'OriginDomainCertificate', originMtls?.domainCertificateArn ?? apiDomain!.certificateArn),
        endpointType: apigw.EndpointType.REGIONAL,
        // Mutual TLS needs TLS 1.2 at least; REST and HTTP API mappings on one domain need it too.
        securityPolicy: apigw.SecurityPolicy.TLS_1_2,
        mtls: originMtls && truststore ? {
          bucket: s3.Bucket.fromBucketName(this, 'Truststore', truststore.bucket),
          key: truststore.key,
          version: originMtls.truststoreVersion,
        } : undefined,
      });
      this.originDomain.addBasePathMapping(this.restApi, { basePath: REST_STAGE, stage: this.restApi.deploymentStage });
      // The empty mapping key: every path no other mapping claims. The stage is named literally
      // ($default), so the mapping waits for it.
      const httpStage = this.httpApi.defaultStage!;
      const httpMapping = new apigwv2.CfnApiMapping(this, 'OriginDomainHttpMapping', {
        domainName: this.originDomain.domainName,
        apiId: this.httpApi.apiId,
        stage: httpStage.stageName,
      });
      httpMapping.node.addDependency(httpStage);
    }

    // ------------------------------------------------------------ WebSocket API (webSocket)
    // Authorized once, on $connect, by the function that guards the HTTP API, with the same identity
    // values written route.request.*; jwt and cedar take the token from the access_token query
    // parameter. No result cache, payload format or simple responses: HTTP API settings only.
    // AutoDeploy: a changed route or authorizer reaches the stage without a deployment to keep in step.
    let webSocketOrigin: { origin: cloudfront.IOrigin; policy: cloudfront.IOriginRequestPolicy } | undefined;
    if (webSocket) {
      const wsFn = composed ? callerFn!.fn : headerAuthorizerFn!;
      const wsApi = new apigwv2.CfnApi(this, 'WebSocketApi', {
        name: `${stack.stackName}-${id}-ws`,
        protocolType: 'WEBSOCKET',
        routeSelectionExpression: '$request.body.action',
        description: 'portcullis WebSocket API - reachable only through CloudFront (the $connect authorizer checks the origin secret)',
      });
      this.webSocketApi = wsApi;
      const invocations = (fn: lambda.IFunction) => `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}:lambda:path/2015-03-31/functions/${fn.functionArn}/invocations`;
      const wsIntegration = new apigwv2.CfnIntegration(this, 'WebSocketIntegration', {
        apiId: wsApi.ref,
        integrationType: 'AWS_PROXY',
        integrationMethod: 'POST',
        integrationUri: invocations(backend),
      });
      const identitySource = [
        `route.request.header.${headerName}`,
        ...(composed && caller!.kind !== 'request' ? ['route.request.querystring.access_token'] : []),
        ...(composed && caller!.kind === 'request' ? [`route.request.header.${callerFn!.credentialHeader}`] : []),
        ...(trustViewerHeaders ? ['route.request.header.CloudFront-Viewer-Address'] : []),
      ];
      const wsAuthorizer = new apigwv2.CfnAuthorizer(this, 'WebSocketAuthorizer', {
        apiId: wsApi.ref,
        name: composed ? caller!.kind : 'header-secret',
        authorizerType: 'REQUEST',
        authorizerUri: invocations(wsFn),
        identitySource,
      });
      const target = `integrations/${wsIntegration.ref}`;
      new apigwv2.CfnRoute(this, 'WebSocketConnectRoute', {
        apiId: wsApi.ref, routeKey: '$connect', authorizationType: 'CUSTOM', authorizerId: wsAuthorizer.ref, target,
      });
      for (const [routeId, routeKey] of [['WebSocketDisconnectRoute', '$disconnect'], ['WebSocketDefaultRoute', '$default']]) {
        const route = new apigwv2.CfnRoute(this, routeId, { apiId: wsApi.ref, routeKey, authorizationType: 'NONE', target });
        acknowledge(route, [{ id: 'AwsSolutions-APIG4', reason: 'API Gateway authorizes a WebSocket connection on $connect only (the origin secret); no other route takes an authorizer.' }]);
      }
      const wsStage = new apigwv2.CfnStage(this, 'WebSocketStage', {
        apiId: wsApi.ref,
        stageName: WEBSOCKET_STAGE,
        autoDeploy: true,
        description: 'portcullis WebSocket stage - CloudFront\'s /ws path',
        defaultRouteSettings: { throttlingBurstLimit: 200, throttlingRateLimit: 100 },
      });
      // ES2000 (access log setting), as CKV_AWS_95: WebSocket access logs need the account-wide CloudWatch role.
      cfnLintIgnore(wsStage, ['ES2000']);
      checkovSkip(wsStage, [['CKV_AWS_95', 'WebSocket access logs need the account-wide API Gateway CloudWatch role, which this construct must not overwrite '
        + '(without it the stage fails to deploy); CloudFront logs the connections.']]);
      acknowledge(wsStage, [{ id: 'AwsSolutions-APIG1', reason: 'WebSocket access logs need the account-wide API Gateway CloudWatch role, which this construct must not overwrite.' }]);
      const executeApi = (resource: string) => `arn:${Aws.PARTITION}:execute-api:${Aws.REGION}:${Aws.ACCOUNT_ID}:${wsApi.ref}/${resource}`;
      new lambda.CfnPermission(this, 'WebSocketInvokesBackend', {
        action: 'lambda:InvokeFunction', functionName: backend.functionName, principal: 'apigateway.amazonaws.com', sourceArn: executeApi('*'),
      });
      new lambda.CfnPermission(this, 'WebSocketInvokesAuthorizer', {
        action: 'lambda:InvokeFunction', functionName: wsFn.functionName, principal: 'apigateway.amazonaws.com',
        sourceArn: executeApi(`authorizers/${wsAuthorizer.ref}`),
      });
      // The upgrade's headers, the query string (access_token) and the identity headers $connect
      // reads that the viewer sends (the tenant key; the viewer address and country when trusted).
      const policy = new cloudfront.OriginRequestPolicy(this, 'WebSocketOriginRequestPolicy', {
        comment: 'portcullis - the WebSocket upgrade headers, the query string and the $connect identity headers',
        headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList(
          ...WEBSOCKET_UPGRADE_HEADERS,
          ...(composed && caller!.kind === 'request' ? [callerFn!.credentialHeader] : []),
          ...(trustViewerHeaders ? ['CloudFront-Viewer-Address', 'CloudFront-Viewer-Country'] : [])),
        cookieBehavior: cloudfront.OriginRequestCookieBehavior.none(),
        queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.all(),
      });
      // Always its execute-api endpoint: a custom domain mapping a WebSocket API cannot map REST or HTTP APIs.
      webSocketOrigin = {
        origin: new origins.HttpOrigin(`${wsApi.ref}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`, {
          originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
          protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          customHeaders: { [headerName]: originSecretValue! },
        }),
        policy,
      };
    }

    // ------------------------------------------------------------ CloudFront
    let edgeLambdas: cloudfront.EdgeLambda[] | undefined;
    if (mode === 'sigv4') {
      const signer = this.originSigner(props);
      this.originSignerFunction = signer;
      edgeLambdas = [{ eventType: cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST, functionVersion: signer.currentVersion, includeBody: true }];
    }
    // sigv4 through apiDomain: the signer cannot read the API's region from a custom domain's name.
    const regionHeader: Record<string, string> = mode === 'sigv4' && apiDomain ? { 'x-portcullis-region': Aws.REGION } : {};
    const httpOriginHeaders: Record<string, string> = originSecretValue ? { [headerName]: originSecretValue } : regionHeader;
    const restOriginHeaders: Record<string, string> =
      mode === 'header-secret' ? { [headerName]: originSecretValue! }
        : mode === 'api-key' ? { 'x-api-key': this.apiKeySecret!.secretValue.unsafeUnwrap() }
          : regionHeader;
    // origin-mtls: both origins are the custom domain (a Ref, so CloudFront waits for it).
    const originDomainName = (apiId: string) => (this.originDomain
      ? this.originDomain.domainName
      : `${apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`);
    // CloudFront adds its own headers only when a policy names them, and a policy names them only
    // next to a list of viewer headers or next to all of them - Host included, which execute-api
    // refuses; the managed AllViewerExceptHostHeader cannot be extended. So a list: the tenant key,
    // Content-Type and the viewer facts (10 names, the default quota per policy).
    const originRequestPolicy = trustViewerHeaders
      ? new cloudfront.OriginRequestPolicy(this, 'ViewerHeadersOriginRequestPolicy', {
        comment: 'portcullis - the tenant key, Content-Type and CloudFront\'s viewer facts',
        headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList(
          callerFn!.credentialHeader, 'content-type', ...CLOUDFRONT_VIEWER_HEADERS),
        cookieBehavior: cloudfront.OriginRequestCookieBehavior.all(),
        queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.all(),
      })
      : ALL_VIEWER_EXCEPT_HOST;
    const behavior = (origin: cloudfront.IOrigin): cloudfront.BehaviorOptions => ({
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: CACHING_DISABLED,
      originRequestPolicy,
      edgeLambdas,
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `portcullis ${id} (${mode})`,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      webAclId: props.webAclArn,
      defaultBehavior: behavior(new origins.HttpOrigin(originDomainName(this.httpApi.apiId), {
        originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
        protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        customHeaders: httpOriginHeaders,
      })),
      // endpointType PRIVATE: no REST origin - a private API has no endpoint CloudFront can reach.
      additionalBehaviors: isPrivate ? undefined : {
        [`/${REST_STAGE}/*`]: behavior(new origins.HttpOrigin(originDomainName(this.restApi.restApiId), {
          originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
          protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          customHeaders: restOriginHeaders,
        })),
        // webSocket: wss://<distribution>/ws is the stage ws (the path is forwarded unchanged). An
        // upgrade is a GET; nothing is cached.
        ...(webSocketOrigin ? {
          [`/${WEBSOCKET_STAGE}`]: {
            origin: webSocketOrigin.origin,
            viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cachePolicy: CACHING_DISABLED,
            originRequestPolicy: webSocketOrigin.policy,
            compress: false,
          },
        } : {}),
      },
    });
    if (originMtls) {
      // Escape hatch: aws-cdk-lib 2.276.0's HttpOrigin has no origin mutual TLS option, only the L1
      // CfnDistribution does. Origins render in the order the behaviours add them: 0 the HTTP API
      // (default behaviour), 1 the REST API (/rest/*). One certificate for both origins.
      const cfnDistribution = this.distribution.node.defaultChild as cloudfront.CfnDistribution;
      for (const index of [0, 1]) {
        cfnDistribution.addPropertyOverride(`DistributionConfig.Origins.${index}.CustomOriginConfig.OriginMtlsConfig`, {
          ClientCertificateArn: originMtls.clientCertificateArn,
        });
      }
    }
    // ------------------------------------------------------------ origin secret rotation
    // Secrets Manager calls the secret-rotator in four steps: createSecret (AWSPENDING, which the
    // authorizers accept next to AWSCURRENT), setSecret (after the propagation wait, CloudFront's
    // origin header gets the new value), testSecret (Deployed, canary), finishSecret (after the
    // grace, the new value becomes AWSCURRENT). L1 resources, not secret.addRotationSchedule: the
    // L2 would grant kms:Encrypt/ReEncrypt*/GenerateDataKey* and let secretsmanager.amazonaws.com
    // invoke the function for any secret of any account (no SourceAccount, no SourceArn).
    if (rotation && this.originSecret && secretsKey) {
      const secret = this.originSecret;
      const role = this.lambdaRole('SecretRotatorRole',
        'secretsmanager:GetRandomPassword reads and writes no secret: it has no resource to name.');
      role.addToPolicy(new iam.PolicyStatement({
        sid: 'RotateTheOriginSecret',
        actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        resources: [secret.secretArn],
      }));
      role.addToPolicy(new iam.PolicyStatement({
        sid: 'GenerateTheNewValue',
        actions: ['secretsmanager:GetRandomPassword'],
        resources: ['*'],
      }));
      role.addToPolicy(new iam.PolicyStatement({
        sid: 'UseItsKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [secretsKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
      }));
      role.addToPolicy(new iam.PolicyStatement({
        sid: 'SwitchThisDistributionsOriginHeader',
        actions: ['cloudfront:GetDistribution', 'cloudfront:GetDistributionConfig', 'cloudfront:UpdateDistribution'],
        resources: [stack.formatArn({ service: 'cloudfront', region: '', resource: 'distribution', resourceName: this.distribution.distributionId })],
      }));
      const rotator = rustFunction('SecretRotator', 'secret-rotator', role, {
        CLOUDFRONT_DISTRIBUTION_ID: this.distribution.distributionId,
        ORIGIN_SECRET_HEADER_NAME: headerName,
        PROPAGATION_WAIT_SECONDS: String(rotation.propagationWait.toSeconds()),
        OLD_SECRET_GRACE_SECONDS: String(rotation.grace.toSeconds()),
        ...(rotation.canaryUrl ? { CANARY_URL: rotation.canaryUrl } : {}),
      }, {
        // Waits for the authorizers and for CloudFront's deployment within a step.
        timeout: Duration.seconds(900),
        // Secrets Manager runs the steps one after the other; with reserved concurrency asked for,
        // one rotation at a time is also enforced.
        reservedConcurrentExecutions: 1,
        checkovSkips: [
          ['CKV_AWS_116', 'Invoked synchronously by Secrets Manager, once per rotation step; a failed step fails the rotation, which Secrets Manager retries - a dead-letter queue would never receive anything.'],
          ['CKV_AWS_117', 'Reaches Secrets Manager\'s and CloudFront\'s public endpoints and the canary URL through CloudFront; a VPC would add NAT without reducing exposure.'],
          ['CKV_AWS_173', 'The environment holds the distribution id, a header name, wait times and the canary URL - no secret.'],
        ],
        logsComment: 'The rotator logs steps, version ids and CloudFront\'s status, never a secret value; the service-managed key is enough.',
      });
      this.secretRotator = rotator.fn;
      this.secretRotatorLogGroup = rotator.group;
      // Only Secrets Manager, for this account's origin secret, may invoke it.
      const invoke = new lambda.CfnPermission(this, 'SecretsManagerInvokesSecretRotator', {
        action: 'lambda:InvokeFunction',
        functionName: rotator.fn.functionName,
        principal: 'secretsmanager.amazonaws.com',
        sourceAccount: Aws.ACCOUNT_ID,
        sourceArn: secret.secretArn,
      });
      // No rotation when the schedule is created or changed: the first comes on schedule, or on
      // demand (aws secretsmanager rotate-secret).
      const schedule = new secretsmanager.CfnRotationSchedule(this, 'OriginSecretRotationSchedule', {
        secretId: secret.secretArn,
        rotationLambdaArn: rotator.fn.functionArn,
        rotationRules: { scheduleExpression: `rate(${rotation.days} days)` },
        rotateImmediatelyOnUpdate: false,
      });
      // Secrets Manager checks it may invoke the function when the schedule is created.
      schedule.node.addDependency(invoke);
    }
    if (metricsNamespace) {
      this.decisionsDashboard = this.decisionAlarms(metricsNamespace, props.denyAlarmThreshold ?? 100, props.alarmTopicArn);
    }
    checkovSkip(this.distribution, [
      ['CKV_AWS_68', 'The web ACL is optional (webAclArn; the SAM edge stack makes one) - docs/deploy.md, "Web ACL".'],
      ['CKV_AWS_86', 'Standard logs need a bucket with ACLs the operator owns; enable them on the distribution or use real-time logs.'],
      ['CKV_AWS_174', 'The default *.cloudfront.net certificate pins the viewer security policy; with a custom domain set minimumProtocolVersion TLS_V1_2_2021.'],
    ]);
    acknowledge(this.distribution, [
      { id: 'AwsSolutions-CFR1', reason: 'Geo restriction is a business decision, not part of the lock-down.' },
      { id: 'AwsSolutions-CFR2', reason: 'The web ACL is optional (webAclArn; the SAM edge stack makes one with AWS managed rules and a rate rule) - docs/deploy.md, "Web ACL".' },
      { id: 'AwsSolutions-CFR3', reason: 'Standard logs need a bucket with ACLs the operator owns; enable them on the distribution or use real-time logs.' },
      { id: 'AwsSolutions-CFR4', reason: 'The default *.cloudfront.net certificate pins the viewer security policy; with a custom domain set minimumProtocolVersion TLS_V1_2_2021.' },
    ]);
    acknowledge(this.restApi, [
      { id: 'AwsSolutions-APIG1', reason: 'REST access logs need the account-wide API Gateway CloudWatch role, which this construct must not overwrite (deployments fail without it); CloudFront logs and the HTTP API access log cover requests.' },
      { id: 'AwsSolutions-APIG2', reason: 'The APIs proxy every request to the backend, which validates its own input.' },
      { id: 'AwsSolutions-APIG3', reason: 'WAF belongs on the CloudFront distribution, the only public entry (AwsSolutions-CFR2).' },
      { id: 'AwsSolutions-APIG6', reason: 'Execution logging needs the same account-wide API Gateway CloudWatch role (see APIG1).' },
      { id: 'AwsSolutions-COG4', reason: 'Callers are authorized by the portcullis Lambda authorizers or IAM, not a Cognito user pool authorizer.' },
    ]);
  }

  /**
   * Alarms on denies and errors and a dashboard: Metrics Insights queries over the EMF metric
   * every authorizer emits (Decisions by function + decision), so no per-function wiring.
   */
  private decisionAlarms(namespace: string, denyThreshold: number, topicArn: string | undefined): cloudwatch.CfnDashboard {
    const stackName = Stack.of(this).stackName;
    const query = (where: string) => `SELECT SUM(Decisions) FROM SCHEMA("${namespace}", decision, "function") ${where}`;
    const alarm = (id: string, decision: string, plural: string, threshold: number, description: string) => new cloudwatch.CfnAlarm(this, id, {
      alarmName: `${stackName}-${plural}`,
      alarmDescription: `portcullis ${stackName} - ${description}`,
      metrics: [{ id: plural, expression: query(`WHERE decision = '${decision}'`), period: 300, returnData: true }],
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
      // alarmTopicArn: notified on ALARM and on OK.
      alarmActions: topicArn ? [topicArn] : undefined,
      okActions: topicArn ? [topicArn] : undefined,
    });
    const deny = alarm('DenyAlarm', 'deny', 'denies', denyThreshold, `the authorizers denied ${denyThreshold} requests or more within 5 minutes.`);
    const error = alarm('ErrorAlarm', 'error', 'errors', 1, 'an authorizer answered with an error (500; a secret, JWKS or policy store unreachable).');
    const widget = (x: number, title: string, expression: string) => ({
      type: 'metric', x, y: 0, width: 12, height: 6,
      properties: { title, region: Aws.REGION, stat: 'Sum', period: 300, metrics: [[{ expression, id: x === 0 ? 'd' : 'r' }]] },
    });
    return new cloudwatch.CfnDashboard(this, 'DecisionsDashboard', {
      dashboardName: `${stackName}-decisions`,
      dashboardBody: Stack.of(this).toJsonString({
        widgets: [
          widget(0, 'Decisions by decision', query('GROUP BY decision')),
          widget(12, 'Denies and errors by function and reason',
            `SELECT SUM(Decisions) FROM SCHEMA("${namespace}", decision, "function", reason) WHERE decision != 'allow' GROUP BY "function", reason`),
          { type: 'alarm', x: 0, y: 6, width: 24, height: 3, properties: { title: 'Alarms', alarms: [deny.attrArn, error.attrArn] } },
        ],
      }),
    });
  }

  /**
   * The REST resource policy: an Allow on every method of this API (execute-api:/* is API Gateway's
   * shorthand for its ARN), then one Deny per list. sigv4: the Allow names this account, so the
   * policy never opens the AWS_IAM methods to other accounts' principals; the other modes' callers
   * are anonymous to IAM (their check is the Lambda authorizer or the key).
   */
  private resourcePolicyDocument(mode: LockdownMode, lists: ResourcePolicyLists): iam.PolicyDocument {
    const statement = (sid: string, effect: iam.Effect, principal: iam.IPrincipal, conditions?: Record<string, unknown>) => new iam.PolicyStatement({
      sid, effect, principals: [principal], actions: ['execute-api:Invoke'], resources: ['execute-api:/*'], conditions,
    });
    const deny = (sid: string, operator: string, key: string, values: string[] | undefined) => (values?.length
      ? [statement(sid, iam.Effect.DENY, new iam.StarPrincipal(), { [operator]: { [key]: values } })] : []);
    return new iam.PolicyDocument({
      // Each statement as written: minimizing would merge or reorder them.
      minimize: false,
      statements: [
        statement('Invoke', iam.Effect.ALLOW, mode === 'sigv4' ? new iam.AccountRootPrincipal() : new iam.StarPrincipal()),
        ...deny('DenyOutsideAllowedSourceIps', 'NotIpAddress', 'aws:SourceIp', lists.allowedSourceIps),
        ...deny('DenyDeniedSourceIps', 'IpAddress', 'aws:SourceIp', lists.deniedSourceIps),
        ...deny('DenyOutsideAllowedSourceVpcs', 'StringNotEquals', 'aws:SourceVpc', lists.allowedSourceVpcs),
        ...deny('DenyDeniedSourceVpcs', 'StringEquals', 'aws:SourceVpc', lists.deniedSourceVpcs),
        ...deny('DenyOutsideAllowedSourceVpces', 'StringNotEquals', 'aws:SourceVpce', lists.allowedSourceVpces),
        ...deny('DenyDeniedSourceVpces', 'StringEquals', 'aws:SourceVpce', lists.deniedSourceVpces),
      ],
    });
  }

  /**
   * A role for one Lambda function, with X-Ray writes; logs are granted per function. `wildcardReason`
   * names any other action the role gets on `*` (an action without resource-level permissions).
   */
  private lambdaRole(id: string, wildcardReason?: string): iam.Role {
    const role = new iam.Role(this, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }));
    const reason = 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.';
    acknowledge(role, [
      { id: 'AwsSolutions-IAM5', reason: wildcardReason ? `${reason} ${wildcardReason}` : reason, appliesTo: ['Resource::*'] },
    ]);
    return role;
  }

  /**
   * The function's log group with retention, writable only by its role. A policy of its own
   * (not the role's default policy, which the function depends on) avoids a dependency cycle.
   */
  private grantLogs(id: string, fn: lambda.Function, role: iam.Role,
    logsComment = 'Decisions and reasons only, never secrets or tokens; the service-managed key is enough.'): logs.LogGroup {
    const group = new logs.LogGroup(this, `${id}Logs`, {
      logGroupName: `/aws/lambda/${fn.functionName}`,
      retention: logs.RetentionDays.ONE_YEAR,
    });
    checkovSkip(group, [['CKV_AWS_158', logsComment]]);
    new iam.Policy(this, `${id}LogsPolicy`, {
      roles: [role],
      statements: [new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [group.logGroupArn],
      })],
    });
    return group;
  }

  private sampleBackend(): lambda.Function {
    const role = this.lambdaRole('BackendRole');
    const fn = new lambda.Function(this, 'Backend', {
      description: 'portcullis sample backend - answers who called (replace with your service)',
      runtime: lambda.Runtime.PYTHON_3_15,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      role,
      memorySize: 128,
      timeout: Duration.seconds(5),
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      code: lambda.Code.fromInline([
        'import json',
        'def handler(event, context):',
        '    rc = event.get("requestContext", {})',
        '    body = {"ok": True, "path": event.get("rawPath") or event.get("path"), "authorizer": rc.get("authorizer")}',
        '    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}',
      ].join('\n')),
    });
    this.grantLogs('Backend', fn, role);
    checkovSkip(fn, [
      ['CKV_AWS_116', 'Invoked synchronously by API Gateway; a dead-letter queue never receives anything.'],
      ['CKV_AWS_117', 'Sample backend with no network dependencies.'],
      ['CKV_AWS_115', 'Sample backend; reserved concurrency fails to deploy on low-quota accounts (docs/deploy.md) - set it on your service.'],
    ]);
    return fn;
  }

  /**
   * The origin secret, read the way the authorizers read it: the secret itself in Secrets Manager
   * (AWSCURRENT and AWSPENDING), its key through Secrets Manager only.
   */
  private grantOriginSecret(role: iam.Role, proof: OriginProof) {
    role.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadTheOriginSecret',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [proof.secret.secretArn],
    }));
    role.addToPolicy(new iam.PolicyStatement({
      sid: 'DecryptItsKey',
      actions: ['kms:Decrypt'],
      resources: [proof.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
    }));
  }

  /**
   * The caller authorizer's function with its settings, plus `shared` (the dialect and, in
   * header-secret mode, the origin proof, whose read grants `proof` adds to the role); and the
   * header carrying the caller's credential, which the decision cache must be keyed on.
   */
  private callerFunction(
    caller: CallerAuthorizer,
    rustFunction: (fid: string, bin: string, role: iam.Role, env: Record<string, string>) => { fn: lambda.Function },
    shared: Record<string, string>,
    proof: OriginProof | undefined,
  ): { fn: lambda.Function; credentialHeader: string } {
    const stack = Stack.of(this);
    if (caller.kind === 'jwt' || caller.kind === 'cedar') {
      if (caller.audience.length === 0) {
        throw new Error(`the ${caller.kind} caller authorizer needs at least one audience (JWT_AUDIENCE)`);
      }
      const env: Record<string, string> = {
        JWT_ISSUER: caller.issuer,
        JWT_AUDIENCE: caller.audience.join(','),
        JWT_ALGORITHMS: (caller.algorithms ?? ['RS256']).join(','),
        ...(caller.jwksUri ? { JWT_JWKS_URI: caller.jwksUri } : {}),
        ...(caller.kind === 'cedar' ? this.cedarSettings(caller) : {}),
        ...shared,
      };
      const id = caller.kind === 'jwt' ? 'JwtAuthorizer' : 'CedarAuthorizer';
      const role = this.lambdaRole(`${id}Role`);
      if (proof) {
        this.grantOriginSecret(role, proof);
      }
      if (caller.kind === 'cedar') {
        // The policies and the schema of this one policy store, evaluated in-process (Service
        // Authorization Reference: resource type policy-store, no region in its ARN). BatchGetPolicy
        // has no IAM action of its own: GetPolicy authorizes it.
        role.addToPolicy(new iam.PolicyStatement({
          sid: 'ReadThePolicyStore',
          actions: ['verifiedpermissions:ListPolicies', 'verifiedpermissions:GetPolicy', 'verifiedpermissions:GetSchema'],
          resources: [stack.formatArn({ service: 'verifiedpermissions', region: '', resource: 'policy-store', resourceName: caller.policyStoreId })],
        }));
      }
      // JWT_TOKEN_SOURCES stays at its default, header:authorization.
      return { fn: rustFunction(id, `${caller.kind}-authorizer`, role, env).fn, credentialHeader: 'Authorization' };
    }
    const role = this.lambdaRole('RequestAuthorizerRole');
    role.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadTheRulesParameter',
      actions: ['ssm:GetParameter'],
      resources: [stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: caller.rulesParameterName.replace(/^\//, '') })],
    }));
    role.addToPolicy(new iam.PolicyStatement({
      sid: 'DecryptSecureStringWithTheAwsManagedKey',
      actions: ['kms:Decrypt'],
      resources: [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
      conditions: { StringEquals: { 'kms:ViaService': `ssm.${Aws.REGION}.amazonaws.com` } },
    }));
    acknowledge(role, [{
      id: 'AwsSolutions-IAM5',
      reason: 'The rules parameter may be a SecureString under any key (aws/ssm by default); kms:Decrypt is limited to calls made through SSM.',
      appliesTo: [`Resource::${nagFinding(stack, stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' }))}`],
    }]);
    if (proof) {
      this.grantOriginSecret(role, proof);
    }
    const identityHeader = (caller.identityHeader ?? 'x-tenant-key').toLowerCase();
    const fn = rustFunction('RequestAuthorizer', 'request-authorizer', role, {
      RULES_PARAMETER_NAME: caller.rulesParameterName,
      API_KEY_HEADER: identityHeader,
      ...shared,
    }).fn;
    return { fn, credentialHeader: identityHeader };
  }

  /** The cedar-authorizer's own settings (CEDAR_*), checked where they are known at synth time. */
  private cedarSettings(caller: CedarCallerAuthorizer): Record<string, string> {
    if (!Token.isUnresolved(caller.policyStoreId) && !/^[A-Za-z0-9_-]{1,200}$/.test(caller.policyStoreId)) {
      throw new Error('the cedar caller authorizer needs policyStoreId, a Verified Permissions policy store id (letters, digits, - and _)');
    }
    const refresh = (caller.refresh ?? Duration.minutes(5)).toSeconds();
    if (!Token.isUnresolved(refresh) && (refresh < 1 || refresh > 86400)) {
      throw new Error('the cedar caller authorizer\'s refresh must be from 1 s to 1 day (CEDAR_REFRESH_SECONDS)');
    }
    return {
      CEDAR_POLICY_STORE_ID: caller.policyStoreId,
      CEDAR_GROUPS_CLAIM: caller.groupsClaim ?? 'cognito:groups',
      CEDAR_REFRESH_SECONDS: String(refresh),
    };
  }

  /**
   * The Lambda@Edge signer. CDK puts it in a us-east-1 stack of its own when this stack lives
   * elsewhere; the role gets execute-api:Invoke on both APIs from this stack (IAM is global).
   */
  private originSigner(props: LockedDownApiProps): cloudfront.experimental.EdgeFunction {
    const stack = Stack.of(this);
    const code = props.originSignerCode
      ?? lambda.Code.fromAsset(path.resolve(__dirname, '..', '..', '..', 'target', 'edge', 'origin-signer.zip'));
    const inRegion = !stack.region.startsWith('${') && stack.region === 'us-east-1';
    const roleName = `${stack.stackName}-origin-signer`;
    let role: iam.Role;
    let edgeStackId: string | undefined;
    if (inRegion) {
      role = this.edgeRole(this, roleName);
    } else {
      edgeStackId = `${stack.stackName}-edge`;
      const stage = stack.node.scope as Construct;
      const edgeStack = (stage.node.tryFindChild(edgeStackId) as Stack | undefined)
        ?? new Stack(stage, edgeStackId, { env: { region: 'us-east-1', account: stack.account } });
      role = this.edgeRole(edgeStack, roleName);
    }
    const signer = new cloudfront.experimental.EdgeFunction(this, 'OriginSigner', {
      stackId: edgeStackId,
      description: 'portcullis - signs CloudFront origin requests to API Gateway with SigV4',
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code,
      role,
      memorySize: 128,
      timeout: Duration.seconds(5),
    });
    // A private REST API is no CloudFront origin: the signer gets the HTTP API alone.
    const invokeResources = [
      stack.formatArn({ service: 'execute-api', resource: this.httpApi.apiId, resourceName: '*' }),
      ...(this.restApiIsPrivate ? [] : [stack.formatArn({ service: 'execute-api', resource: this.restApi.restApiId, resourceName: `${REST_STAGE}/*` })]),
    ];
    const invoke = new iam.Policy(this, 'OriginSignerInvokesApis', {
      statements: [new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: invokeResources })],
    });
    invoke.attachToRole(inRegion ? role : iam.Role.fromRoleName(this, 'OriginSignerRoleRef', roleName));
    acknowledge(invoke, [{
      id: 'AwsSolutions-IAM5',
      reason: 'Every method and path of exactly these two APIs (the REST API\'s rest stage only) - the signer fronts all of them.',
      appliesTo: invokeResources.map((r) => `Resource::${nagFinding(stack, r)}`),
    }]);
    // Lambda@Edge: no DLQ, VPC, reserved concurrency or X-Ray.
    checkovSkip(signer.lambda, [
      ['CKV_AWS_115', 'Lambda@Edge does not support reserved concurrency; CloudFront scales it per edge location.'],
      ['CKV_AWS_116', 'Lambda@Edge does not support dead-letter queues; it runs synchronously in the request path.'],
      ['CKV_AWS_117', 'Lambda@Edge cannot run inside a VPC.'],
    ]);
    cfnLintIgnore(signer.lambda, ['WS1000']); // Tracing Active: Lambda@Edge does not support X-Ray.
    const edgeLogs = new logs.LogGroup(signer.lambda, 'Logs', {
      logGroupName: `/aws/lambda/us-east-1.${signer.lambda.functionName}`,
      retention: logs.RetentionDays.ONE_YEAR,
    });
    checkovSkip(edgeLogs, [['CKV_AWS_158', 'The signer logs request ids and errors, never credentials or signatures.']]);
    // CDK's own provider that reads the version ARN from us-east-1 during deployment.
    const reader = stack.node.tryFindChild('Custom::CrossRegionStringParameterReaderCustomResourceProvider')?.node.tryFindChild('Handler');
    if (reader) {
      checkovSkip(reader, [
        ['CKV_AWS_115', 'CDK\'s deployment-time provider (reads the edge version ARN), invoked only by CloudFormation.'],
        ['CKV_AWS_116', 'CDK\'s deployment-time provider; CloudFormation waits for its answer, there is nothing to dead-letter.'],
        ['CKV_AWS_117', 'CDK\'s deployment-time provider calls SSM in us-east-1 over its public endpoint.'],
      ]);
      // WS1000/WS1004: CDK's generated provider, runs for seconds per deployment; not ours to trace or retain.
      cfnLintIgnore(reader, ['WS1000', 'WS1004']);
    }
    acknowledge(signer.lambda, [
      { id: 'AwsSolutions-L1', reason: 'nodejs22.x: the runtime the origin-signer package is built and tested for (index.mjs for Node.js 20/22).' },
    ]);
    return signer;
  }

  private edgeRole(scope: Construct, roleName: string): iam.Role {
    const role = new iam.Role(scope, 'PortcullisOriginSignerRole', {
      roleName,
      assumedBy: new iam.CompositePrincipal(
        new iam.ServicePrincipal('lambda.amazonaws.com'),
        new iam.ServicePrincipal('edgelambda.amazonaws.com'),
      ),
    });
    // Edge replicas log to /aws/lambda/us-east-1.<name> in the region that ran them.
    const logGroups = `arn:${Aws.PARTITION}:logs:*:${Aws.ACCOUNT_ID}:log-group:/aws/lambda/us-east-1.*`;
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroups],
    }));
    acknowledge(role, [{
      id: 'AwsSolutions-IAM5',
      reason: 'Lambda@Edge writes its logs in whichever region served the request, to /aws/lambda/us-east-1.<generated function name>.',
      appliesTo: [`Resource::${nagFinding(Stack.of(scope), logGroups)}`],
    }]);
    return role;
  }
}

/** Where the origin secret is and how often an authorizer re-reads it. */
interface OriginProof {
  /** SECRET_SECRETS_MANAGER_ID / ORIGIN_SECRET_SECRETS_MANAGER_ID: its ARN. */
  readonly secret: secretsmanager.ISecret;
  readonly key: kms.IKey;
  /** SECRET_CACHE_TTL_SECONDS / ORIGIN_SECRET_CACHE_TTL_SECONDS. */
  readonly cacheTtlSeconds: string;
}

/** Settings of a Rust function that differ from the authorizers'. */
interface RustFunctionOptions {
  readonly timeout?: Duration;
  readonly reservedConcurrentExecutions?: number;
  /** checkov suppressions, each with its reason (default: the authorizers'). */
  readonly checkovSkips?: [string, string][];
  /** Why the log group needs no customer managed key (CKV_AWS_158; default: the authorizers'). */
  readonly logsComment?: string;
}

/** The rotator's settings, defaults filled in and checked against the authorizers' cache TTL. */
function rotationSettings(rotation: OriginSecretRotation, secretCacheTtl: Duration) {
  const known = (d: Duration) => !Token.isUnresolved(d.toSeconds({ integral: false }));
  const every = rotation.every ?? Duration.days(30);
  const days = every.toDays({ integral: false });
  if (known(every) && (!Number.isInteger(days) || days < 1 || days > 999)) {
    throw new Error(`originSecretRotation.every must be whole days from 1 to 999 (rate(N days)), not ${every.toHumanString()}`);
  }
  const minimum = secretCacheTtl.plus(PROPAGATION_MARGIN);
  const propagationWait = rotation.propagationWait ?? minimum;
  if (known(propagationWait) && known(minimum) && propagationWait.toSeconds() < minimum.toSeconds()) {
    throw new Error(`originSecretRotation.propagationWait must be at least secretCacheTtl + 30 s (${minimum.toSeconds()} s): `
      + 'CloudFront must not send the new value before every authorizer has re-read the secret');
  }
  if (known(propagationWait) && propagationWait.toSeconds() > 840) {
    throw new Error('originSecretRotation.propagationWait must be at most 840 s (one step within the rotator\'s 900 s timeout); '
      + 'lower secretCacheTtl to 810 s or less');
  }
  const grace = rotation.grace ?? Duration.seconds(60);
  if (known(grace) && grace.toSeconds() > 600) {
    throw new Error('originSecretRotation.grace must be at most 600 s');
  }
  const canaryUrl = rotation.canaryUrl || undefined;
  if (canaryUrl && !Token.isUnresolved(canaryUrl) && !/^https:\/\/[^\s,]+$/.test(canaryUrl)) {
    throw new Error('originSecretRotation.canaryUrl must be one https:// URL through CloudFront (http:// gets a redirect, never a 403)');
  }
  return { days, propagationWait, grace, canaryUrl };
}

type ResourcePolicyLists = Omit<RestResourcePolicy, 'allowedSourceIpsIncludeCloudFront'>;

/**
 * The resource policy and endpoint props the construct refuses (the SAM template's Rules): the lists
 * that would refuse CloudFront or never match, and a private API anywhere but sigv4. The lists to
 * render, or undefined for no policy (a regional API without lists).
 */
function validateResourcePolicy(props: LockedDownApiProps, isPrivate: boolean): ResourcePolicyLists | undefined {
  const policy = props.resourcePolicy ?? {};
  const given = (list: string[] | undefined) => (list ?? []).length > 0;
  const lists: ResourcePolicyLists = {
    allowedSourceIps: policy.allowedSourceIps, deniedSourceIps: policy.deniedSourceIps,
    allowedSourceVpcs: policy.allowedSourceVpcs, deniedSourceVpcs: policy.deniedSourceVpcs,
    allowedSourceVpces: policy.allowedSourceVpces, deniedSourceVpces: policy.deniedSourceVpces,
  };
  if (given(policy.allowedSourceIps)) {
    if (isPrivate) {
      throw new Error('resourcePolicy.allowedSourceIps needs endpointType REGIONAL (through a VPC endpoint aws:SourceIp is absent, so the list would deny every request)');
    }
    if (!policy.allowedSourceIpsIncludeCloudFront) {
      throw new Error('resourcePolicy.allowedSourceIps refuses CloudFront (behind it the caller is a CloudFront edge, never the viewer) - restrict viewers '
        + 'with a WAF IP set, or set allowedSourceIpsIncludeCloudFront once the list holds CloudFront\'s origin-facing ranges');
    }
  }
  if (given(policy.deniedSourceIps) && isPrivate) {
    throw new Error('resourcePolicy.deniedSourceIps needs endpointType REGIONAL (through a VPC endpoint aws:SourceIp is absent, so the list would never match)');
  }
  if (!isPrivate && (given(policy.allowedSourceVpcs) || given(policy.allowedSourceVpces))) {
    throw new Error('resourcePolicy.allowedSourceVpcs and allowedSourceVpces need endpointType PRIVATE (CloudFront never calls through a VPC endpoint, so a regional API behind it would refuse every request)');
  }
  if (!isPrivate && (given(policy.deniedSourceVpcs) || given(policy.deniedSourceVpces))) {
    throw new Error('resourcePolicy.deniedSourceVpcs and deniedSourceVpces need endpointType PRIVATE (a regional API is never called through a VPC endpoint, so they would never match)');
  }
  if (!isPrivate && given(props.vpcEndpointIds)) {
    throw new Error('vpcEndpointIds needs endpointType PRIVATE');
  }
  if (isPrivate) {
    if (props.mode !== 'sigv4') {
      throw new Error('endpointType PRIVATE needs mode sigv4 (a private REST API is no CloudFront origin, so its methods cannot check CloudFront\'s secret, key or certificate; sigv4\'s are AWS_IAM)');
    }
    if (!given(props.vpcEndpointIds)) {
      throw new Error('endpointType PRIVATE needs vpcEndpointIds (the execute-api interface endpoints of the callers\' VPCs)');
    }
    if (!given(policy.allowedSourceVpces) && !given(policy.allowedSourceVpcs)) {
      throw new Error('endpointType PRIVATE needs resourcePolicy.allowedSourceVpces or allowedSourceVpcs (otherwise any VPC endpoint of any account could invoke it)');
    }
  }
  return isPrivate || Object.values(lists).some(given) ? lists : undefined;
}

/** The origin-mtls props the construct refuses to deploy: each error names the fix. */
function validateOriginMtls(originMtls: OriginMtls | undefined): asserts originMtls is OriginMtls {
  if (!originMtls) {
    throw new Error('mode origin-mtls needs originMtls: the custom domain, its certificate, CloudFront\'s client certificate, the truststore and the pinned fingerprints');
  }
  const known = (value: string) => !Token.isUnresolved(value);
  if (known(originMtls.clientCertificateArn) && !/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(originMtls.clientCertificateArn)) {
    throw new Error('originMtls.clientCertificateArn must be an ACM certificate in us-east-1 (CloudFront reads client certificates there only)');
  }
  if (known(originMtls.domainName) && !/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(originMtls.domainName)) {
    throw new Error('originMtls.domainName must be a lower-case DNS name (API Gateway custom domains take no upper case)');
  }
  if (originMtls.certSha256.length === 0 || originMtls.certSha256.some((pin) => known(pin) && !/^[0-9a-f]{64}$/.test(pin))) {
    throw new Error('originMtls.certSha256 needs at least one SHA-256 fingerprint of the DER client certificate, 64 lower-case hex digits without colons');
  }
  parseS3Uri(originMtls.truststoreUri);
  if (!originMtls.truststoreVersion) {
    throw new Error('originMtls.truststoreVersion needs the truststore\'s S3 object version');
  }
}

/** `s3://bucket/key` as its parts. */
function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  if (!match) {
    throw new Error(`originMtls.truststoreUri must be s3://bucket/key, not ${uri}`);
  }
  return { bucket: match[1], key: match[2] };
}

/** Helper for outputs: the execute-api URL of the HTTP API's $default stage. */
export function directHttpApiUrl(api: apigwv2.HttpApi): string {
  return Fn.join('', ['https://', api.apiId, '.execute-api.', Aws.REGION, '.', Aws.URL_SUFFIX, '/']);
}

/**
 * Acknowledges cdk-nag findings on a construct and its children, each with its reason.
 * `appliesTo` narrows IAM5 to the named findings (`AwsSolutions-IAM5[Resource::...]`).
 */
function acknowledge(scope: Construct, rules: { id: string; reason: string; appliesTo?: string[] }[]) {
  if (process.env.PORTCULLIS_NAG_LIST_ALL) { return; }
  for (const rule of rules) {
    const ids = rule.appliesTo ? rule.appliesTo.map((finding) => `${rule.id}[${finding}]`) : [rule.id];
    for (const id of ids) {
      Validations.of(scope).acknowledge({ id, reason: rule.reason });
    }
  }
}

/** A resource string as cdk-nag prints it in a finding id: Ref X -> <X>, GetAtt X.A -> <X.A>. */
function nagFinding(stack: Stack, value: string): string {
  const render = (v: unknown): string => {
    if (typeof v === 'string') {
      return v;
    }
    const o = v as Record<string, unknown>;
    if ('Ref' in o) {
      return `<${o.Ref as string}>`;
    }
    if ('Fn::GetAtt' in o) {
      return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    }
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    throw new Error(`cannot render ${JSON.stringify(v)} as a cdk-nag finding`);
  };
  return render(stack.resolve(value));
}

function cfnOf(scope: IConstruct): CfnResource {
  const cfn = scope instanceof CfnResource ? scope : scope.node.defaultChild;
  if (!(cfn instanceof CfnResource)) {
    throw new Error(`${scope.node.path} has no CloudFormation resource`);
  }
  return cfn;
}

/** checkov suppressions on the resource, each with its reason (rendered as Metadata.checkov.skip). */
function checkovSkip(scope: IConstruct, skips: [string, string][]) {
  const cfn = cfnOf(scope);
  const existing = (cfn.getMetadata('checkov') as { skip?: { id: string; comment: string }[] } | undefined)?.skip ?? [];
  cfn.addMetadata('checkov', { skip: [...existing, ...skips.map(([id, comment]) => ({ id, comment }))] });
}

/** cfn-lint rules ignored on one resource; the reason sits next to every call. */
function cfnLintIgnore(scope: IConstruct, ids: string[]) {
  cfnOf(scope).addMetadata('cfn-lint', { config: { ignore_checks: ids } });
}
