// The record of one provisioning run: each resource and what was (or, with --dry-run, would be) done to it.

/**
 * - `created`: did not exist, now does. `repaired`: was missing although the thing or role it belongs to
 *   existed (a deleted role policy, a detached principal, a deleted stream), now restored.
 * - `exists`: already right, untouched. `ensured`: an idempotent call was made because the endpoint cannot
 *   list the state (the local cloud has no ListAttachedPolicies); nothing is counted for it.
 * - `updated`: existed with a setting or document other than the one provision writes (an IoT policy
 *   document, a role policy document, a role alias's credential duration, a stream's retention, a role's
 *   MaxSessionDuration below the alias's duration), now changed; `detail` says what differed.
 * - `would create` / `would repair` / `would update` / `would ensure`: --dry-run.
 */
export type StepAction = 'created' | 'repaired' | 'updated' | 'exists' | 'ensured' | 'would create' | 'would repair' | 'would update' | 'would ensure';

export interface Step {
  readonly resource: string;
  readonly name: string;
  readonly action: StepAction;
  readonly detail?: string;
}

export class ProvisionSteps {
  readonly steps: Step[] = [];
  readonly dryRun: boolean;

  constructor(dryRun: boolean) {
    this.dryRun = dryRun;
  }

  exists(resource: string, name: string, detail?: string): void {
    this.steps.push({ resource, name, action: 'exists', ...(detail ? { detail } : {}) });
  }

  /** Records a change: created, or repaired when `repair`; the `would …` forms in a dry run. */
  changed(resource: string, name: string, repair: boolean, detail?: string): void {
    const action: StepAction = this.dryRun ? (repair ? 'would repair' : 'would create') : repair ? 'repaired' : 'created';
    this.steps.push({ resource, name, action, ...(detail ? { detail } : {}) });
  }

  /** Records an update of something that existed and differed; `would update` in a dry run. */
  updated(resource: string, name: string, detail: string): void {
    this.steps.push({ resource, name, action: this.dryRun ? 'would update' : 'updated', detail });
  }

  ensured(resource: string, name: string, detail?: string): void {
    this.steps.push({ resource, name, action: this.dryRun ? 'would ensure' : 'ensured', ...(detail ? { detail } : {}) });
  }

  count(...actions: StepAction[]): number {
    return this.steps.filter((s) => actions.includes(s.action)).length;
  }
}
