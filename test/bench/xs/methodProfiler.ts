// Runs inside fieldcam-runtime (profiling bundles only, never firmware): wraps every method and accessor of the classes
// given with a computrons bracket and keeps per method its calls and self computrons (its own bracket minus those of
// the wrapped methods it called, minus the wrapper's cost per such call, calibrated on an empty method). Free
// functions and closures count in their callers. The same method as test/bench/xs/mediaProfile.ts, as a module.

export interface ProfileRow {
  readonly label: string;
  readonly calls: number;
  readonly self: number;
}

interface Entry {
  calls: number;
  self: number;
  children: number;
}

export class MethodProfiler {
  private readonly table = new Map<string, Entry>();
  private readonly stack: { child: number; calls: number }[] = [];
  private depth = 0;
  private readonly computrons: () => number;
  /** What a wrapped call costs its caller beyond the callee's own work. */
  readonly perCall: number;
  /** What the bracket itself counts inside a wrapped method. */
  readonly inside: number;

  constructor(computrons: () => number) {
    this.computrons = computrons;
    for (let i = 0; i < 128; i++) this.stack.push({ child: 0, calls: 0 });
    class Empty {
      m(): void {}
    }
    class Outer {
      run(e: Empty): void {
        for (let i = 0; i < 1000; i++) e.m();
      }
    }
    class Bare {
      run(e: Empty): void {
        for (let i = 0; i < 1000; i++) e.m();
      }
    }
    const bareEmpty = new Empty();
    const b0 = computrons();
    new Bare().run(bareEmpty);
    const bare = computrons() - b0;
    this.wrapPrototype(Empty.prototype, 'Empty');
    this.wrapPrototype(Outer.prototype, 'Outer');
    new Outer().run(new Empty());
    this.perCall = (this.table.get('Outer.run')!.self - bare) / 1000;
    this.inside = this.table.get('Empty.m')!.self / 1000;
    this.table.clear();
  }

  wrapClass(cls: { prototype: object; name: string }): void {
    this.wrapPrototype(cls.prototype, cls.name);
  }

  /** Wraps an object's own methods and accessors (a prototype, or a frozen object's copy made by the caller). */
  wrapPrototype(proto: object, name: string): void {
    const p = proto as Record<string, unknown>;
    for (const key of Object.getOwnPropertyNames(p)) {
      if (key === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(p, key)!;
      if (!d.configurable) continue;
      if (typeof d.value === 'function') d.value = this.wrapped(d.value as never, `${name}.${key}`);
      if (d.get) d.get = this.wrapped(d.get as never, `${name}.${key} (get)`) as () => unknown;
      if (d.set) d.set = this.wrapped(d.set as never, `${name}.${key} (set)`) as (v: unknown) => void;
      Object.defineProperty(p, key, d);
    }
  }

  /** A function wrapped under `label` (for free functions and callbacks the caller installs itself). */
  wrapped<F extends (...a: never[]) => unknown>(f: F, label: string): F {
    let e = this.table.get(label);
    if (!e) {
      e = { calls: 0, self: 0, children: 0 };
      this.table.set(label, e);
    }
    const entry = e;
    const stack = this.stack;
    const computrons = this.computrons;
    const self = this;
    return function (this: unknown, ...args: unknown[]) {
      const frame = stack[self.depth++]!;
      frame.child = 0;
      frame.calls = 0;
      const t0 = computrons();
      try {
        return (f as unknown as (...a: unknown[]) => unknown).apply(this, args);
      } finally {
        const t = computrons() - t0;
        self.depth--;
        entry.calls++;
        entry.self += t - frame.child;
        entry.children += frame.calls;
        if (self.depth > 0) {
          stack[self.depth - 1]!.child += t;
          stack[self.depth - 1]!.calls++;
        }
      }
    } as unknown as F;
  }

  /** Per method: calls and self computrons with the wrappers' own cost taken out. */
  rows(): ProfileRow[] {
    return [...this.table]
      .filter(([, e]) => e.calls > 0)
      .map(([label, e]) => ({ label, calls: e.calls, self: Math.round(e.self - this.perCall * e.children - this.inside * e.calls) }));
  }
}
