// Assertions for suites that must also run inside XS: no Node APIs, no dependencies.
// The shape follows uvu/assert so the suites read the same as ordinary uvu tests.

/** Carries uvu's assertion shape (actual, expected, operator) so its reporter can print a diff. */
export class AssertionError extends Error {
  override name: string = 'AssertionError';
  readonly actual: unknown;
  readonly expected: unknown;
  readonly operator: string;

  constructor(message: string, actual: unknown, expected: unknown, operator: string) {
    super(message);
    // uvu's reporter diffs actual/expected for errors named AssertionError*; only value comparisons
    // have something to diff, the rest keep just their message.
    if (operator !== 'is' && operator !== 'equal') this.name = 'Assertion';
    this.actual = actual;
    this.expected = expected;
    this.operator = operator;
  }
}

function show(value: unknown): string {
  if (value instanceof Uint8Array) {
    const head = Array.from(value.subarray(0, 32), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return `Uint8Array(${value.length}) [${head}${value.length > 32 ? ' …' : ''}]`;
  }
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

function fail(message: string | undefined, fallback: string, actual?: unknown, expected?: unknown, operator = 'fail'): never {
  throw new AssertionError(message ? `${message}: ${fallback}` : fallback, actual, expected, operator);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    if (a.constructor !== b.constructor || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

export function ok(value: unknown, message?: string): asserts value {
  if (!value) fail(message, `expected a truthy value, got ${show(value)}`, value, true, 'not ok');
}

export function is<T>(actual: T, expected: T, message?: string): void {
  if (!Object.is(actual, expected)) fail(message, `expected ${show(expected)}, got ${show(actual)}`, actual, expected, 'is');
}

export function not(actual: unknown, expected: unknown, message?: string): void {
  if (Object.is(actual, expected)) fail(message, `expected anything but ${show(expected)}`, actual, expected, 'not');
}

export function equal(actual: unknown, expected: unknown, message?: string): void {
  if (!deepEqual(actual, expected)) fail(message, `expected ${show(expected)}\n     got ${show(actual)}`, actual, expected, 'equal');
}

/** Passes when `fn` throws an error whose `code` equals `code` (or whose message matches a RegExp). */
export function throws(fn: () => unknown, code?: string | RegExp, message?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) fail(message, `expected a throw${code ? ` (${String(code)})` : ''}`);
  matchError(thrown, code, message);
}

export async function rejects(fn: () => Promise<unknown>, code?: string | RegExp, message?: string): Promise<void> {
  let thrown: unknown;
  try {
    await fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) fail(message, `expected a rejection${code ? ` (${String(code)})` : ''}`);
  matchError(thrown, code, message);
}

function matchError(thrown: unknown, code: string | RegExp | undefined, message?: string): void {
  if (code === undefined) return;
  const err = thrown as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (err.code !== code) fail(message, `expected error code ${code}, got ${show(err.code)}: ${String(err.message)}`);
  } else if (!code.test(String(err.message))) {
    fail(message, `expected error message to match ${String(code)}, got ${show(err.message)}`);
  }
}
