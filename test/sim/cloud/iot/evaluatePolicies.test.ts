// The policy language of the local cloud (sim/cloud/iam): parsing as IAM refuses malformed documents, and
// evaluation as IAM decides — explicit Deny wins, wildcards, NotAction/NotResource, policy variables.
import { evaluatePolicies, trustsService } from '../../../../sim/cloud/iam/evaluatePolicies.ts';
import { parsePolicyDocument, PolicyError } from '../../../../sim/cloud/iam/PolicyDocument.ts';
import { assert, suite } from '../../../harness/index.ts';

const test = suite('sim/cloud IAM policy documents and evaluation');

const STREAM = 'arn:aws:kinesisvideo:us-east-1:123456789012:stream';
const THING = new Map([['credentials-iot:ThingName', 'cam-1']]);

function doc(...statements: object[]): ReturnType<typeof parsePolicyDocument> {
  return parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'identity');
}

test('malformed documents are refused with IAM wording', () => {
  const cases: [string, RegExp, 'identity' | 'trust' | 'iot'][] = [
    ['{', /^This policy contains invalid Json$/, 'identity'],
    ['[]', /^This policy contains invalid Json$/, 'identity'],
    [JSON.stringify({ Version: '2012-10-17' }), /Statement element is missing/, 'identity'],
    [JSON.stringify({ Statement: [{ Effect: 'Maybe', Action: 'x:y', Resource: '*' }] }), /Effect must be/, 'identity'],
    [JSON.stringify({ Statement: [{ Effect: 'Allow', Resource: '*' }] }), /^Policy statement must contain actions\.$/, 'identity'],
    [JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'x:y' }] }), /^Policy statement must contain resources\.$/, 'iot'],
    [JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'x:y', Resource: '*', Principal: '*' }] }), /^Has prohibited field Principal$/, 'identity'],
    [JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] }), /^Missing required field Principal$/, 'trust'],
    [JSON.stringify({ Version: '2020-01-01', Statement: [{ Effect: 'Allow', Action: 'x:y', Resource: '*' }] }), /Version/, 'identity'],
    [JSON.stringify({ Statement: [{ Effect: 'Allow', Action: [], Resource: '*' }] }), /Action must be/, 'identity'],
  ];
  for (const [text, message, kind] of cases) assert.throws(() => parsePolicyDocument(text, kind), message, text);
  assert.ok(new PolicyError('x') instanceof Error);
});

test('Allow needs a matching action (case-insensitive, wildcards) and resource (case-sensitive, wildcards across / and :)', () => {
  const d = doc({ Effect: 'Allow', Action: ['kinesisvideo:Describe*', 'kinesisvideo:putmedia'], Resource: `${STREAM}/cam-?/*` });
  assert.is(evaluatePolicies([d], { action: 'kinesisvideo:DescribeStream', resource: `${STREAM}/cam-1/1700000000000` }), 'allow');
  assert.is(evaluatePolicies([d], { action: 'kinesisvideo:PutMedia', resource: `${STREAM}/cam-2/1` }), 'allow');
  assert.is(evaluatePolicies([d], { action: 'kinesisvideo:PutMedia', resource: `${STREAM}/cam-10/1` }), 'implicit-deny');
  assert.is(evaluatePolicies([d], { action: 'kinesisvideo:PutMedia', resource: `${STREAM}/CAM-1/1` }), 'implicit-deny');
  assert.is(evaluatePolicies([d], { action: 'kinesisvideo:GetMedia', resource: `${STREAM}/cam-1/1` }), 'implicit-deny');
  assert.is(
    evaluatePolicies([doc({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:*' })], { action: 'iot:CreateThing', resource: 'arn:aws:iot:r:1:thing/x' }),
    'allow',
  );
  assert.is(evaluatePolicies([], { action: 'iot:CreateThing', resource: '*' }), 'implicit-deny');
});

test('an explicit Deny wins over any Allow; NotAction and NotResource invert the match', () => {
  const allow = doc({ Effect: 'Allow', Action: 'kinesisvideo:*', Resource: '*' });
  const deny = doc({ Effect: 'Deny', NotAction: 'kinesisvideo:Describe*', Resource: '*' });
  assert.is(evaluatePolicies([allow, deny], { action: 'kinesisvideo:DeleteStream', resource: `${STREAM}/a/1` }), 'explicit-deny');
  assert.is(evaluatePolicies([allow, deny], { action: 'kinesisvideo:DescribeStream', resource: `${STREAM}/a/1` }), 'allow');
  const notResource = doc({ Effect: 'Allow', Action: 'kinesisvideo:*', NotResource: `${STREAM}/secret/*` });
  assert.is(evaluatePolicies([notResource], { action: 'kinesisvideo:PutMedia', resource: `${STREAM}/secret/1` }), 'implicit-deny');
  assert.is(evaluatePolicies([notResource], { action: 'kinesisvideo:PutMedia', resource: `${STREAM}/open/1` }), 'allow');
});

test('policy variables: ${credentials-iot:ThingName} is substituted literally; without a value the pattern matches nothing', () => {
  const d = doc({ Effect: 'Allow', Action: 'kinesisvideo:PutMedia', Resource: 'arn:aws:kinesisvideo:*:*:stream/${credentials-iot:ThingName}/*' });
  assert.is(evaluatePolicies([d], { action: 'kinesisvideo:PutMedia', resource: `${STREAM}/cam-1/1`, variables: THING }), 'allow');
  assert.is(evaluatePolicies([d], { action: 'kinesisvideo:PutMedia', resource: `${STREAM}/cam-2/1`, variables: THING }), 'implicit-deny');
  assert.is(evaluatePolicies([d], { action: 'kinesisvideo:PutMedia', resource: `${STREAM}/cam-1/1` }), 'implicit-deny');
  const star = new Map([['credentials-iot:ThingName', '*']]);
  assert.is(
    evaluatePolicies([d], { action: 'kinesisvideo:PutMedia', resource: `${STREAM}/cam-1/1`, variables: star }),
    'implicit-deny',
    'a value is never a wildcard',
  );
  const escaped = doc({ Effect: 'Allow', Action: 'x:y', Resource: 'arn:x:${*}' });
  assert.is(evaluatePolicies([escaped], { action: 'x:y', resource: 'arn:x:*' }), 'allow');
  assert.is(evaluatePolicies([escaped], { action: 'x:y', resource: 'arn:x:a' }), 'implicit-deny');
});

test('statements with a Condition are not evaluated: they neither allow nor deny', () => {
  const d = doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } });
  assert.is(evaluatePolicies([d], { action: 'iot:Connect', resource: '*' }), 'implicit-deny');
});

test('trust policies: the credentials provider may assume a role that trusts credentials.iot.amazonaws.com', () => {
  const trust = (principal: unknown, effect = 'Allow'): ReturnType<typeof parsePolicyDocument> =>
    parsePolicyDocument(JSON.stringify({ Statement: [{ Effect: effect, Principal: principal, Action: 'sts:AssumeRole' }] }), 'trust');
  assert.ok(trustsService(trust({ Service: 'credentials.iot.amazonaws.com' }), 'credentials.iot.amazonaws.com', 'sts:AssumeRole'));
  assert.ok(trustsService(trust({ Service: ['ec2.amazonaws.com', 'credentials.iot.amazonaws.com'] }), 'credentials.iot.amazonaws.com', 'sts:AssumeRole'));
  assert.ok(!trustsService(trust({ Service: 'ec2.amazonaws.com' }), 'credentials.iot.amazonaws.com', 'sts:AssumeRole'));
  assert.ok(!trustsService(trust({ AWS: 'arn:aws:iam::123456789012:root' }), 'credentials.iot.amazonaws.com', 'sts:AssumeRole'));
  assert.ok(!trustsService(trust({ Service: 'credentials.iot.amazonaws.com' }, 'Deny'), 'credentials.iot.amazonaws.com', 'sts:AssumeRole'));
});

test.run();
