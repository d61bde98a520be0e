// Peer (c): a Node.js JWT authorizer with aws-jwt-verify (JWKS fetched once, cached in memory).
// aws-jwt-verify's default fetcher speaks only https; the bench also starts it with its JWKS
// over plain http (the second cold-init column), so a fetcher over Node's global fetch is
// plugged in (an option the library offers).
import { JwtRsaVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';

const httpFetcher = {
  async fetch(uri) {
    const res = await fetch(uri);
    if (res.status !== 200) throw new Error(`JWKS status ${res.status}`);
    return res.arrayBuffer();
  },
};

const verifier = JwtRsaVerifier.create(
  {
    issuer: process.env.JWT_ISSUER,
    audience: process.env.JWT_AUDIENCE.split(','),
    jwksUri: process.env.JWT_JWKS_URI,
  },
  { jwksCache: new SimpleJwksCache({ fetcher: httpFetcher }) },
);

const wholeApi = (methodArn) => {
  const [prefix, rest] = methodArn.split(':execute-api:');
  const [region, stage] = rest.split('/');
  return `${prefix}:execute-api:${region}/${stage}/*/*`;
};

export async function handler(event) {
  let token = event.authorizationToken ?? '';
  if (token.toLowerCase().startsWith('bearer ')) token = token.slice(7);
  let claims;
  try {
    claims = await verifier.verify(token);
  } catch {
    throw new Error('Unauthorized');
  }
  return {
    principalId: claims.sub,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: wholeApi(event.methodArn) }],
    },
    context: { sub: claims.sub },
  };
}
