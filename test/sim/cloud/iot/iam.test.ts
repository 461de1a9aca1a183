// IAM roles of the local cloud through the unmodified @aws-sdk/client-iam (the Query protocol: form-encoded
// POST, XML answers): CreateRole, GetRole, UpdateRole, PutRolePolicy, GetRolePolicy, their errors, and the front door's
// errors in IAM's XML shape.
import { CreateRoleCommand, GetRoleCommand, GetRolePolicyCommand, PutRolePolicyCommand, UpdateRoleCommand } from '@aws-sdk/client-iam';
import { assert, suite } from '../../../harness/index.ts';
import { CREDENTIALS, sdkError, startTestCloud, tempStateDir } from '../support.ts';
import { iamClient, KVS_POLICY, TRUST_POLICY } from './iotKit.ts';

const test = suite('sim/cloud IAM roles (AWS SDK v3, Query protocol)');
const state = tempStateDir();
let cloud = await startTestCloud(state.dir);
let iam = iamClient(cloud);

test.after(async () => {
  await cloud.close();
  state.remove();
});

test('CreateRole → GetRole: ARN, AROA id, path, default MaxSessionDuration, trust policy URL-encoded as IAM returns it', async () => {
  const created = await iam.send(
    new CreateRoleCommand({
      RoleName: 'KVSCameraRole',
      AssumeRolePolicyDocument: TRUST_POLICY,
      Description: 'cameras',
      Tags: [{ Key: 'app', Value: 'fieldcam' }],
    }),
  );
  const role = created.Role!;
  assert.is(role.Arn, 'arn:aws:iam::123456789012:role/KVSCameraRole');
  assert.ok(/^AROA[A-Z2-7]{17}$/.test(role.RoleId!), role.RoleId);
  assert.is(role.Path, '/');
  assert.is(role.MaxSessionDuration, 3600);
  assert.ok(role.CreateDate instanceof Date && Math.abs(role.CreateDate.getTime() - Date.now()) < 5000);
  assert.is(decodeURIComponent(role.AssumeRolePolicyDocument!), TRUST_POLICY);
  assert.equal(role.Tags, [{ Key: 'app', Value: 'fieldcam' }]);
  const got = await iam.send(new GetRoleCommand({ RoleName: 'kvscamerarole' }));
  assert.is(got.Role!.RoleId, role.RoleId, 'role names are case-insensitive');
  assert.is(got.Role!.Description, 'cameras');
  const withPath = await iam.send(
    new CreateRoleCommand({ RoleName: 'Long', Path: '/devices/', MaxSessionDuration: 43200, AssumeRolePolicyDocument: TRUST_POLICY }),
  );
  assert.is(withPath.Role!.Arn, 'arn:aws:iam::123456789012:role/devices/Long');
  assert.is(withPath.Role!.MaxSessionDuration, 43200);
});

test('CreateRole of an existing name → 409 EntityAlreadyExists; GetRole of a missing role → 404 NoSuchEntity', async () => {
  await sdkError(
    iam.send(new CreateRoleCommand({ RoleName: 'KVSCameraRole', AssumeRolePolicyDocument: TRUST_POLICY })),
    'EntityAlreadyExistsException',
    409,
    /^Role with name KVSCameraRole already exists\.$/,
  );
  await sdkError(iam.send(new CreateRoleCommand({ RoleName: 'KVSCAMERAROLE', AssumeRolePolicyDocument: TRUST_POLICY })), 'EntityAlreadyExistsException', 409);
  await sdkError(iam.send(new GetRoleCommand({ RoleName: 'Nope' })), 'NoSuchEntityException', 404, /^The role with name Nope cannot be found\.$/);
});

test('malformed trust policies and bad input are refused as IAM refuses them', async () => {
  await sdkError(
    iam.send(new CreateRoleCommand({ RoleName: 'Bad', AssumeRolePolicyDocument: '{' })),
    'MalformedPolicyDocumentException',
    400,
    /^This policy contains invalid Json$/,
  );
  const noPrincipal = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] });
  await sdkError(
    iam.send(new CreateRoleCommand({ RoleName: 'Bad', AssumeRolePolicyDocument: noPrincipal })),
    'MalformedPolicyDocumentException',
    400,
    /Missing required field Principal/,
  );
  await sdkError(
    iam.send(new CreateRoleCommand({ RoleName: 'bad name', AssumeRolePolicyDocument: TRUST_POLICY })),
    'ValidationError',
    400,
    /Value 'bad name' at 'roleName' failed to satisfy constraint/,
  );
  await sdkError(
    iam.send(new CreateRoleCommand({ RoleName: 'Short', MaxSessionDuration: 60, AssumeRolePolicyDocument: TRUST_POLICY })),
    'ValidationError',
    400,
    /maxSessionDuration/,
  );
});

test('PutRolePolicy → GetRolePolicy; PutRolePolicy replaces; missing role or policy → NoSuchEntity; Principal in an identity policy is malformed', async () => {
  await iam.send(new PutRolePolicyCommand({ RoleName: 'KVSCameraRole', PolicyName: 'kvs', PolicyDocument: KVS_POLICY }));
  const got = await iam.send(new GetRolePolicyCommand({ RoleName: 'KVSCameraRole', PolicyName: 'kvs' }));
  assert.is(got.RoleName, 'KVSCameraRole');
  assert.is(decodeURIComponent(got.PolicyDocument!), KVS_POLICY);
  const narrower = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kinesisvideo:DescribeStream', Resource: '*' }] });
  await iam.send(new PutRolePolicyCommand({ RoleName: 'KVSCameraRole', PolicyName: 'kvs', PolicyDocument: narrower }));
  assert.is(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: 'KVSCameraRole', PolicyName: 'kvs' }))).PolicyDocument!), narrower);
  await sdkError(
    iam.send(new GetRolePolicyCommand({ RoleName: 'KVSCameraRole', PolicyName: 'other' })),
    'NoSuchEntityException',
    404,
    /^The role policy with name other cannot be found\.$/,
  );
  await sdkError(iam.send(new PutRolePolicyCommand({ RoleName: 'Nope', PolicyName: 'kvs', PolicyDocument: KVS_POLICY })), 'NoSuchEntityException', 404);
  await sdkError(
    iam.send(new PutRolePolicyCommand({ RoleName: 'KVSCameraRole', PolicyName: 'p', PolicyDocument: TRUST_POLICY })),
    'MalformedPolicyDocumentException',
    400,
    /Principal/,
  );
  const huge = JSON.stringify({
    Statement: [
      { Effect: 'Allow', Action: 'kinesisvideo:DescribeStream', Resource: Array.from({ length: 300 }, (_, i) => `arn:aws:kinesisvideo:*:*:stream/s${i}/*`) },
    ],
  });
  await sdkError(
    iam.send(new PutRolePolicyCommand({ RoleName: 'KVSCameraRole', PolicyName: 'huge', PolicyDocument: huge })),
    'LimitExceededException',
    409,
    /10240/,
  );
});

test('front-door errors arrive in the XML shape: bad signature, unknown key; roles survive a restart', async () => {
  await sdkError(
    iamClient(cloud, { ...CREDENTIALS, secretAccessKey: 'wrong' }).send(new GetRoleCommand({ RoleName: 'KVSCameraRole' })),
    'SignatureDoesNotMatch',
    403,
    /signature we calculated does not match/,
  );
  await sdkError(
    iamClient(cloud, { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' }).send(new GetRoleCommand({ RoleName: 'KVSCameraRole' })),
    'InvalidClientTokenId',
    403,
    /security token included in the request is invalid/,
  );

  await cloud.close();
  cloud = await startTestCloud(state.dir);
  iam = iamClient(cloud);
  const role = await iam.send(new GetRoleCommand({ RoleName: 'KVSCameraRole' }));
  assert.is(role.Role!.Description, 'cameras');
  assert.ok((await iam.send(new GetRolePolicyCommand({ RoleName: 'KVSCameraRole', PolicyName: 'kvs' }))).PolicyDocument);
});

test('UpdateRole: MaxSessionDuration and Description change, what is left out stays; 3600-43200; unknown role → NoSuchEntity', async () => {
  await iam.send(new CreateRoleCommand({ RoleName: 'LongSessions', AssumeRolePolicyDocument: TRUST_POLICY, Description: 'before' }));
  await iam.send(new UpdateRoleCommand({ RoleName: 'LongSessions', MaxSessionDuration: 7200 }));
  let role = (await iam.send(new GetRoleCommand({ RoleName: 'LongSessions' }))).Role!;
  assert.is(role.MaxSessionDuration, 7200);
  assert.is(role.Description, 'before');
  await iam.send(new UpdateRoleCommand({ RoleName: 'LongSessions', Description: 'after' }));
  role = (await iam.send(new GetRoleCommand({ RoleName: 'LongSessions' }))).Role!;
  assert.is(role.MaxSessionDuration, 7200);
  assert.is(role.Description, 'after');
  await sdkError(
    iam.send(new UpdateRoleCommand({ RoleName: 'LongSessions', MaxSessionDuration: 3599 })),
    'ValidationError',
    400,
    /greater than or equal to 3600/,
  );
  await sdkError(
    iam.send(new UpdateRoleCommand({ RoleName: 'LongSessions', MaxSessionDuration: 43201 })),
    'ValidationError',
    400,
    /less than or equal to 43200/,
  );
  await sdkError(iam.send(new UpdateRoleCommand({ RoleName: 'NoSuchRole', MaxSessionDuration: 7200 })), 'NoSuchEntityException', 404);
  assert.is((await iam.send(new GetRoleCommand({ RoleName: 'LongSessions' }))).Role!.MaxSessionDuration, 7200);
});

test.run();
