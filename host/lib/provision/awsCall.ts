// How provision and doctor read AWS SDK failures: "not found" and "this endpoint does not implement the
// operation" are answers, anything else is a FieldcamError a person can act on.
import { FieldcamError } from '../../shared/hostErrors.ts';

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

export function errorName(err: unknown): string {
  return (err as SdkError)?.name ?? 'Error';
}

/** ResourceNotFoundException (IoT, KVS) or NoSuchEntity (IAM). */
export function isNotFound(err: unknown): boolean {
  const name = errorName(err);
  return name === 'ResourceNotFoundException' || name === 'NoSuchEntityException' || name === 'NoSuchEntity';
}

/**
 * The endpoint does not implement the operation (an emulator, or an older partition): 404 without a
 * modeled not-found error. Callers fall back to an idempotent call instead.
 */
export function isUnsupported(err: unknown): boolean {
  const e = err as SdkError;
  return errorName(err) === 'UnknownOperationException' || (e?.$metadata?.httpStatusCode === 404 && !isNotFound(err));
}

/** Runs one SDK call; a failure becomes PROVISION_AWS_FAILED naming what was being done. */
export async function awsCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (err instanceof FieldcamError) throw err;
      // KVS control-plane quotas answer ClientLimitExceededException, which the SDK does not retry.
      if (errorName(err) === 'ClientLimitExceededException' && attempt < 5) {
        await new Promise((resume) => setTimeout(resume, 200 * 2 ** attempt));
        continue;
      }
      throw awsFailure(what, err);
    }
  }
}

export function awsFailure(what: string, err: unknown): FieldcamError {
  const e = err as SdkError;
  const message = e?.message ?? String(err);
  if (errorName(err) === 'CredentialsProviderError') {
    return new FieldcamError('PROVISION_AWS_FAILED', `${what}: no AWS credentials (${message}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`);
  }
  if (/Region is missing/i.test(message)) return new FieldcamError('CLI_USAGE', 'no region: pass --region or set AWS_REGION');
  const status = e?.$metadata?.httpStatusCode;
  return new FieldcamError('PROVISION_AWS_FAILED', `${what}: ${errorName(err)}${status ? ` (${status})` : ''}: ${message}`);
}

/** An SDK call whose "not found" answer is undefined. */
export function lookup<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
  return awsCall(what, async () => {
    try {
      return await call();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
}

/** Like lookup, but "not implemented by this endpoint" is 'unsupported' instead of a failure. */
export async function lookupOrUnsupported<T>(call: () => Promise<T>): Promise<T | undefined | 'unsupported'> {
  try {
    return await call();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    if (isUnsupported(err)) return 'unsupported';
    throw err;
  }
}
