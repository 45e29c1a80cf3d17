/**
 * infra/aws: the CloudFormation template is complete and least-privilege, the deploy script
 * passes what the template requires, and the zip writer produces archives that inflate back.
 * cfn-lint runs too when it is installed (it is on this machine image; skipped with a notice
 * elsewhere).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { parse } from 'yaml';
import { createZip, crc32 } from '../../infra/aws/zip.ts';

const TEMPLATE_PATH = 'infra/aws/template.yaml';
const source = readFileSync(TEMPLATE_PATH, 'utf8');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

interface Template {
  Parameters: Record<string, Obj>;
  Conditions: Record<string, Json>;
  Resources: Record<string, { Type: string; Condition?: string; Properties: Obj; DeletionPolicy?: string }>;
  Outputs: Record<string, Obj>;
}

// Long-form intrinsics only: a short-form tag (!Ref) would make this throw.
const template = parse(source, { strict: true, uniqueKeys: true }) as Template;
const resources = template.Resources;

function resource(name: string, type: string): Obj {
  const r = resources[name];
  assert.ok(r, `resource ${name} is missing`);
  assert.equal(r.Type, type, `${name} has type ${r.Type}`);
  return r.Properties;
}

/** Every value reachable from `node`, depth first. */
function* walk(node: Json): Generator<Json> {
  yield node;
  if (Array.isArray(node)) for (const v of node) yield* walk(v);
  else if (node && typeof node === 'object') for (const v of Object.values(node)) yield* walk(v);
}

/** Statements of the role's inline policy with `Fn::If` branches flattened (both branches kept). */
function statements(): Obj[] {
  const role = resource('FunctionRole', 'AWS::IAM::Role');
  const policies = role.Policies as Obj[];
  const out: Obj[] = [];
  const take = (s: Json): void => {
    if (s && typeof s === 'object' && !Array.isArray(s)) {
      if ('Fn::If' in s) {
        const [, yes, no] = s['Fn::If'] as Json[];
        take(yes!);
        take(no!);
      } else if (!('Ref' in s && s.Ref === 'AWS::NoValue')) out.push(s);
    }
  };
  for (const p of policies) for (const s of (p.PolicyDocument as Obj).Statement as Json[]) take(s);
  return out;
}

function list(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

describe('infra/aws/template.yaml', () => {
  it('parses as plain YAML and is a CloudFormation template', () => {
    assert.equal((template as unknown as Obj).AWSTemplateFormatVersion, '2010-09-09');
    assert.ok(!/^\s*[^#\n]*\s!(Ref|Sub|GetAtt|If|Select|Split)\b/m.test(source), 'use long-form intrinsics');
  });

  it('refers only to things it defines', () => {
    const pseudo = new Set(['AWS::Region', 'AWS::AccountId', 'AWS::Partition', 'AWS::StackName', 'AWS::NoValue', 'AWS::URLSuffix']);
    const known = (name: string): boolean => pseudo.has(name) || name in template.Parameters || name in resources;
    for (const node of walk(template as unknown as Json)) {
      if (!node || typeof node !== 'object' || Array.isArray(node)) continue;
      if (typeof node.Ref === 'string') assert.ok(known(node.Ref), `Ref ${node.Ref}`);
      if (Array.isArray(node['Fn::GetAtt'])) assert.ok(String(node['Fn::GetAtt'][0]) in resources, `GetAtt ${node['Fn::GetAtt'][0]}`);
      if (typeof node['Fn::Sub'] === 'string') {
        for (const [, ref] of node['Fn::Sub'].matchAll(/\$\{([^}]+)\}/g)) assert.ok(known(ref!.split('.')[0]!), `Sub \${${ref}}`);
      }
      if (typeof node.Condition === 'string') assert.ok(node.Condition in template.Conditions, `Condition ${node.Condition}`);
    }
    for (const r of Object.values(resources)) if (r.Condition) assert.ok(r.Condition in template.Conditions);
  });

  it('keeps the bucket private, encrypted, owner-enforced and retained', () => {
    const bucket = resource('Bucket', 'AWS::S3::Bucket');
    assert.equal(resources.Bucket!.DeletionPolicy, 'Retain');
    assert.deepEqual(bucket.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const sse = ((bucket.BucketEncryption as Obj).ServerSideEncryptionConfiguration as Obj[])[0]!;
    assert.ok(['AES256', 'aws:kms'].includes(String((sse.ServerSideEncryptionByDefault as Obj).SSEAlgorithm)));
    assert.deepEqual((bucket.OwnershipControls as Obj).Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    const policy = resource('BucketPolicy', 'AWS::S3::BucketPolicy');
    const deny = ((policy.PolicyDocument as Obj).Statement as Obj[]).find((s) => s.Effect === 'Deny');
    assert.deepEqual((deny?.Condition as Obj).Bool, { 'aws:SecureTransport': 'false' });
  });

  it('has lifecycle rules for abandoned multipart uploads and upload sessions', () => {
    const rules = ((resource('Bucket', 'AWS::S3::Bucket').LifecycleConfiguration as Obj).Rules as Obj[]);
    const abort = rules.find((r) => r.AbortIncompleteMultipartUpload);
    assert.equal(abort?.Status, 'Enabled');
    assert.equal((abort?.AbortIncompleteMultipartUpload as Obj).DaysAfterInitiation, 1);
    const sessions = rules.find((r) => r.Prefix === 'uploads/');
    assert.equal(sessions?.Status, 'Enabled');
    assert.deepEqual(sessions?.ExpirationInDays, { Ref: 'UploadExpiryDays' });
  });

  it("grants the role only this bucket, its objects, its log group and the named parameters", () => {
    const all = statements();
    const allowedActions = new Set([
      's3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts',
      's3:ListBucket', 'logs:CreateLogStream', 'logs:PutLogEvents', 'ssm:GetParameters', 'kms:Decrypt',
    ]);
    const seen = new Set<string>();
    for (const s of all) {
      assert.equal(s.Effect, 'Allow');
      for (const action of list(s.Action)) {
        assert.ok(allowedActions.has(String(action)), `unexpected action ${String(action)}`);
        seen.add(String(action));
      }
      for (const target of list(s.Resource)) {
        assert.notEqual(target, '*', `statement ${String(s.Sid)} names every resource`);
        const text = JSON.stringify(target);
        const ok =
          text === '{"Fn::Sub":"${Bucket.Arn}/*"}' ||
          text === '{"Fn::GetAtt":["Bucket","Arn"]}' ||
          /log-group:\$\{LogGroup\}:\*"\}$/.test(text) ||
          /:parameter\$\{(AdminPasswordParameterName|JwtPrivateKeyParameterName)\}"/.test(text) ||
          text === '{"Ref":"SecretsKmsKeyArn"}';
        assert.ok(ok, `statement ${String(s.Sid)} names ${text}`);
      }
    }
    assert.deepEqual([...seen].sort(), [...allowedActions].sort());
    const objects = all.find((s) => s.Sid === 'Objects')!;
    assert.deepEqual(objects.Resource, { 'Fn::Sub': '${Bucket.Arn}/*' });
    const listing = all.find((s) => s.Sid === 'Listing')!;
    assert.deepEqual(list(listing.Action), ['s3:ListBucket']);
    // No managed policies: AWSLambdaBasicExecutionRole would allow logs on every group.
    assert.equal(resource('FunctionRole', 'AWS::IAM::Role').ManagedPolicyArns, undefined);
  });

  it('runs the bundle on arm64 Node.js with both entries and logs to its own group', () => {
    const runtime = template.Parameters.Runtime!;
    assert.match(String(runtime.Default), /^nodejs(2[2-9]|[3-9]\d)\.x$/);
    const lambdaSource = readFileSync('worker/runtime/lambda.ts', 'utf8');
    for (const [name, handler] of [['RegistryFunction', 'index.handler'], ['CleanupFunction', 'index.scheduled']] as const) {
      const fn = resource(name, 'AWS::Lambda::Function');
      assert.equal(fn.Handler, handler);
      assert.deepEqual(fn.Runtime, { Ref: 'Runtime' });
      assert.deepEqual(fn.Architectures, ['arm64']);
      assert.deepEqual(fn.Role, { 'Fn::GetAtt': ['FunctionRole', 'Arn'] });
      assert.deepEqual(fn.Code, { S3Bucket: { Ref: 'CodeBucket' }, S3Key: { Ref: 'CodeKey' } });
      assert.deepEqual((fn.LoggingConfig as Obj).LogGroup, { Ref: 'LogGroup' });
      const vars = (fn.Environment as Obj).Variables as Obj;
      assert.deepEqual(vars.BERTH_S3_BUCKET, { Ref: 'Bucket' });
      const exported = handler.split('.')[1]!;
      assert.match(lambdaSource, new RegExp(`export (const|async function) ${exported}\\b`), `lambda.ts exports ${exported}`);
    }
    const memory = template.Parameters.MemorySize!;
    assert.equal(memory.Default, 1024);
    const timeout = Number(template.Parameters.Timeout!.Default);
    assert.ok(timeout >= 30 && timeout <= 900);
    const group = resource('LogGroup', 'AWS::Logs::LogGroup');
    assert.deepEqual(group.RetentionInDays, { Ref: 'LogRetentionDays' });
  });

  it('reads secrets from SSM only when their parameter names are given', () => {
    const vars = (resource('RegistryFunction', 'AWS::Lambda::Function').Environment as Obj).Variables as Obj;
    assert.deepEqual(vars.BERTH_ADMIN_PASSWORD_PARAM, {
      'Fn::If': ['HasAdminParam', { Ref: 'AdminPasswordParameterName' }, { Ref: 'AWS::NoValue' }],
    });
    assert.ok(vars.BERTH_JWT_PRIVATE_KEY_PARAM);
    assert.equal(vars.BERTH_ADMIN_PASSWORD, undefined, 'no secret in plain environment');
  });

  it('exposes the function through a public, streaming Function URL', () => {
    const url = resource('FunctionUrl', 'AWS::Lambda::Url');
    assert.equal(url.AuthType, 'NONE');
    assert.equal(url.InvokeMode, 'RESPONSE_STREAM');
    assert.deepEqual(url.TargetFunctionArn, { 'Fn::GetAtt': ['RegistryFunction', 'Arn'] });
    const perms = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties.FunctionName) === '{"Ref":"RegistryFunction"}')
      .map((r) => r.Properties);
    assert.ok(perms.some((p) => p.Action === 'lambda:InvokeFunctionUrl' && p.FunctionUrlAuthType === 'NONE' && p.Principal === '*'));
    assert.ok(perms.some((p) => p.Action === 'lambda:InvokeFunction' && p.InvokedViaFunctionUrl === true));
  });

  it('schedules the cleanup entry', () => {
    const rule = resource('CleanupSchedule', 'AWS::Events::Rule');
    assert.deepEqual(rule.ScheduleExpression, { Ref: 'CleanupScheduleExpression' });
    const targets = rule.Targets as Obj[];
    assert.deepEqual(targets.map((t) => t.Arn), [{ 'Fn::GetAtt': ['CleanupFunction', 'Arn'] }]);
    const perm = resource('CleanupPermission', 'AWS::Lambda::Permission');
    assert.equal(perm.Principal, 'events.amazonaws.com');
    assert.deepEqual(perm.FunctionName, { Ref: 'CleanupFunction' });
    assert.deepEqual(perm.SourceArn, { 'Fn::GetAtt': ['CleanupSchedule', 'Arn'] });
  });

  it('puts CloudFront in front only when a domain and certificate are given', () => {
    assert.equal(resources.Distribution?.Condition, 'HasDomain');
    const origin = ((resource('Distribution', 'AWS::CloudFront::Distribution').DistributionConfig as Obj).Origins as Obj[])[0]!;
    assert.match(JSON.stringify(origin.DomainName), /FunctionUrl/);
    assert.ok(template.Outputs.RegistryUrl);
    assert.deepEqual(template.Outputs.BucketName!.Value, { Ref: 'Bucket' });
  });

  it('is given every parameter without a default by deploy.sh', () => {
    const deploy = readFileSync('infra/aws/deploy.sh', 'utf8');
    for (const [name, p] of Object.entries(template.Parameters)) {
      if (p.Default === undefined) assert.match(deploy, new RegExp(`"${name}=`), `deploy.sh sets ${name}`);
      else assert.match(deploy, new RegExp(`\\b${name}\\b`), `deploy.sh can override ${name}`);
    }
  });

  it('passes cfn-lint', (t) => {
    const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      t.skip('cfn-lint is not installed on this machine');
      return;
    }
    const run = spawnSync('cfn-lint', [TEMPLATE_PATH], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
  });
});

describe('infra/aws/zip.ts', () => {
  it('writes entries that inflate back with the right CRC, readable as Unix 0644', () => {
    const data = new Uint8Array(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    const zip = createZip([{ name: 'index.mjs', data }]);
    assert.equal(zip.readUInt32LE(0), 0x04034b50);
    const nameLength = zip.readUInt16LE(26);
    const compressedSize = zip.readUInt32LE(18);
    assert.equal(zip.subarray(30, 30 + nameLength).toString(), 'index.mjs');
    const body = zip.subarray(30 + nameLength, 30 + nameLength + compressedSize);
    const inflated = inflateRawSync(body);
    assert.deepEqual(new Uint8Array(inflated), data);
    assert.equal(zip.readUInt32LE(14), crc32(data));
    const endAt = zip.length - 22;
    assert.equal(zip.readUInt32LE(endAt), 0x06054b50);
    const central = zip.readUInt32LE(endAt + 16);
    assert.equal(zip.readUInt32LE(central), 0x02014b50);
    assert.equal(zip.readUInt32LE(central + 38) >>> 16, 0o100644);
    // Cross-check with Info-ZIP when the machine has it.
    const dir = mkdtempSync(join(tmpdir(), 'berth-zip-'));
    try {
      writeFileSync(join(dir, 'a.zip'), zip);
      const unzip = spawnSync('unzip', ['-t', join(dir, 'a.zip')], { encoding: 'utf8' });
      if (!unzip.error) assert.match(unzip.stdout, /No errors detected/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('computes the standard CRC-32', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  });
});

describe('worker/runtime/lambda.ts', () => {
  it('defaults the body limit and advertised chunk size to 4 MiB, under Lambda 6 MB payload', async () => {
    const { lambdaConfigFromEnv, LAMBDA_MAX_BODY_BYTES } = await import('../../worker/runtime/lambda.ts');
    assert.equal(LAMBDA_MAX_BODY_BYTES, 4 * 1024 * 1024);
    // base64 of the largest accepted body, plus generous room for headers, fits the payload.
    assert.ok(Math.ceil(LAMBDA_MAX_BODY_BYTES / 3) * 4 + 64 * 1024 < 6 * 1024 * 1024);
    const config = lambdaConfigFromEnv({});
    assert.equal(config.maxBodyBytes, LAMBDA_MAX_BODY_BYTES);
    assert.equal(config.chunkMinLength, LAMBDA_MAX_BODY_BYTES);
    const smaller = lambdaConfigFromEnv({ BERTH_MAX_BODY_MB: '2' });
    assert.equal(smaller.maxBodyBytes, 2 * 1024 * 1024);
    assert.equal(smaller.chunkMinLength, 2 * 1024 * 1024);
    assert.equal(lambdaConfigFromEnv({ BERTH_CHUNK_MIN_LENGTH: '1048576' }).chunkMinLength, 1048576);
  });

  it('resolves BERTH_*_PARAM from SSM in one decrypted call, and fails on a missing parameter', async () => {
    const { resolveParameters } = await import('../../worker/runtime/lambda.ts');
    const calls: { Names?: string[]; WithDecryption?: boolean }[] = [];
    const client = {
      send: async (command: { input: { Names?: string[]; WithDecryption?: boolean } }) => {
        calls.push(command.input);
        const known: Record<string, string> = { '/berth/admin': 's3cret', '/berth/key': 'PEM' };
        const names = command.input.Names ?? [];
        return {
          Parameters: names.filter((n) => n in known).map((n) => ({ Name: n, Value: known[n] })),
          InvalidParameters: names.filter((n) => !(n in known)),
        };
      },
    } as unknown as Parameters<typeof resolveParameters>[1];
    const env = await resolveParameters(
      { BERTH_ADMIN_PASSWORD_PARAM: '/berth/admin', BERTH_JWT_PRIVATE_KEY_PARAM: '/berth/key', OTHER_PARAM: '/x' },
      client,
    );
    assert.equal(env.BERTH_ADMIN_PASSWORD, 's3cret');
    assert.equal(env.BERTH_JWT_PRIVATE_KEY, 'PEM');
    assert.deepEqual(calls, [{ Names: ['/berth/admin', '/berth/key'], WithDecryption: true }]);
    // A value given directly wins and costs no call.
    calls.length = 0;
    const direct = await resolveParameters({ BERTH_ADMIN_PASSWORD: 'given', BERTH_ADMIN_PASSWORD_PARAM: '/berth/admin' }, client);
    assert.equal(direct.BERTH_ADMIN_PASSWORD, 'given');
    assert.equal(calls.length, 0);
    await assert.rejects(resolveParameters({ BERTH_ADMIN_PASSWORD_PARAM: '/berth/missing' }, client), /\/berth\/missing/);
  });
});
