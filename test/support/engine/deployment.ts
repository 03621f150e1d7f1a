// One deployment (preview or up) or destroy, as the Pulumi engine runs it. Rules and where they
// come from (pulumi/pulumi at pkg/v3.248.0 unless said otherwise):
// - Registrations are handled one at a time in arrival order; the SDK sends a registration only
//   once its dependencies' URNs resolved, i.e. once they were performed, so dependents wait as
//   under the real engine (which may run independent steps in parallel: this is one valid
//   serial schedule of it).
// - Per custom resource (step_generator.go generateSteps / continueStepsFromDiff, note
//   "The engine"): asset hashes (source_eval.go), ignoreChanges applied from the old inputs
//   (processIgnoreChanges), provider Check (failures fail the run, in preview too), provider
//   Diff, replaceOnChanges paths turn a changed path into a replace (applyReplaceOnChanges,
//   the command SDK's "triggers[*]" included); then same / update / replace.
// - Replace: re-Check the program's inputs without the old ones; create the new resource first
//   and mark the old one pending-delete, deleted at the END of the deployment; with
//   deleteBeforeReplace, first delete the dependents that would be replaced
//   (calculateDependentReplacements) and the old resource (kept as pendingReplacement until
//   its replacement exists), then create.
// - End of a deployment: delete the pending-delete olds and every stored resource not
//   registered in this run, with their OLD state, scheduled in reverse dependency order
//   (GenerateDeletes + ScheduleDeletes). Pending deletes left by an earlier failed run are
//   deleted here too, NOT first: pulumi/pulumi a3128e50be "Do not execute pending deletes at
//   the start of deployment" (v3.46.0, issue #2948) removed the up-front retirePendingDeletes.
// - A failed step fails the deployment: nothing more runs, no end-of-run deletes; a failed
//   create stores nothing, a failed update keeps the old state (pulumi-go-provider v1.3.0
//   infer/resource.go returns no partial state), replaced olds stay pending-delete.
// - Preview performs nothing: created/updated/replaced resources answer with the provider's
//   preview outputs (unknowns), "same" resources with their stored outputs.
// - Components (custom = false) are recorded, never performed.
// - The state is written after every performed step, like the snapshot manager does.
import { packageOf, providerModelFor } from "./providers";
import type { CloudModel, DiffResult, OperationContext, OperationReport, ProviderModel } from "./providers/types";
import {
  applyIgnoreChanges,
  hashAssets,
  mapsEqual,
  parsePath,
  pathContains,
  PropertyMap,
  revealMap,
  secret,
  UNKNOWN,
  Wire,
} from "./properties";
import type { ResourceOptionsState, ResourceState, StackState } from "./state";

export interface Goal {
  type: string;
  name: string;
  custom: boolean;
  parent?: string;
  provider?: string;
  inputs: PropertyMap;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  options: ResourceOptionsState;
}

export type StepOp = "same" | "create" | "update" | "create-replacement" | "delete-replaced" | "delete" | "remove-pending-replace";

export interface StepRecord {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  op: StepOp;
  /** True when the provider executed something (never in preview, never for components). */
  ran: boolean;
  stdout: string;
  stderr: string;
  ms: number;
  /** The operation's error, when it failed. */
  error?: string;
}

export interface DeploymentOptions {
  project: string;
  stack: string;
  prev: StackState;
  preview: boolean;
  projectDir: string;
  env: NodeJS.ProcessEnv;
  /** Stack config ("<package>:<key>" -> string): the default providers' configuration. */
  config: Record<string, string>;
  cloud?: CloudModel;
  /** Called with the current snapshot after every performed step (not in preview). */
  persist?(state: StackState): void;
}

export interface RegisterResult {
  urn: string;
  id: string;
  outputs: PropertyMap;
}

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";
/** The refusal of registrations that arrive after a failed step. */
export const STOPPED = "the deployment stopped after an earlier failure";

/** A Go duration ("1h2m3.5s", "500ms") in ms. */
export function goDurationMs(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text.trim();
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(rest)) throw new Error(`invalid duration ${JSON.stringify(text)}: expected e.g. "30s", "5m", "1h30m"`);
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest)!;
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** The go-provider passes the timeout as float seconds and truncates to whole seconds. */
function timeoutOf(text: string | undefined): number | undefined {
  if (!text) return undefined;
  return Math.trunc(goDurationMs(text) / 1000) * 1000;
}

const qualifiedType = (urn: string) => urn.split("::")[2];

export class Deployment {
  readonly steps: StepRecord[] = [];
  readonly diagnostics: string[] = [];
  failure?: Error;
  private readonly prev: ResourceState[];
  private readonly news: ResourceState[] = [];
  private readonly done = new Set<ResourceState>();
  private readonly registered = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: DeploymentOptions) {
    this.prev = o.prev.resources;
  }

  makeUrn(type: string, name: string, parent?: string): string {
    const parentType = parent && qualifiedType(parent) !== ROOT_STACK_TYPE ? `${qualifiedType(parent)}$` : "";
    return `urn:pulumi:${this.o.stack}::${this.o.project}::${parentType}${type}::${name}`;
  }

  /** Handles a registration after every earlier one; resolves once its step was performed. */
  register(goal: Goal): Promise<RegisterResult> {
    const result = this.queue.then(() => this.registerNow(goal));
    this.queue = result.catch(() => undefined);
    return result;
  }

  registerOutputs(urn: string, outputs: PropertyMap): void {
    const state = this.news.find((r) => r.urn === urn);
    if (!state) throw new Error(`unknown resource ${urn}`);
    state.outputs = outputs;
    this.save();
  }

  /** An invoke: alicloud:* through the cloud module, pulumi:pulumi:getResource from this run's state. */
  invoke(token: string, args: Record<string, any>): Record<string, unknown> {
    if (token === "pulumi:pulumi:getResource") {
      const r = this.news.find((s) => s.urn === args.urn);
      if (!r) throw new Error(`unknown resource ${String(args.urn)}`);
      return { urn: r.urn, id: r.id ?? "", state: r.outputs };
    }
    if (token.startsWith("alicloud:")) {
      const answer = this.o.cloud?.call?.(token, args);
      if (answer === undefined) throw new Error(`no cloud model answer for invoke ${token}: give the stack a cloud module whose call() answers it`);
      return answer;
    }
    throw new Error(`no provider model for invoke ${token}`);
  }

  snapshot(): StackState {
    return { ...this.o.prev, resources: [...this.news, ...this.prev.filter((r) => !this.done.has(r))] };
  }

  private save(): void {
    if (!this.o.preview) this.o.persist?.(this.snapshot());
  }

  private async registerNow(goal: Goal): Promise<RegisterResult> {
    if (this.failure) throw new Error(`${STOPPED}: ${this.failure.message}`);
    const urn = this.makeUrn(goal.type, goal.name, goal.parent);
    if (this.registered.has(urn)) throw new Error(`Duplicate resource URN '${urn}'; try giving it a unique name`);
    this.registered.add(urn);
    const old = this.prev.find((r) => r.urn === urn && !r.delete);
    try {
      return goal.custom ? await this.registerCustom(urn, goal, old) : this.registerComponent(urn, goal, old);
    } catch (err) {
      this.failure ??= err as Error;
      throw err;
    }
  }

  private stateOf(urn: string, goal: Goal, id: string | undefined, inputs: PropertyMap, outputs: PropertyMap): ResourceState {
    return {
      urn,
      type: goal.type,
      name: goal.name,
      custom: goal.custom,
      id,
      parent: goal.parent,
      provider: goal.provider,
      inputs,
      outputs,
      dependencies: goal.dependencies,
      propertyDependencies: goal.propertyDependencies,
      options: goal.options,
    };
  }

  private record(r: Pick<ResourceState, "urn" | "type" | "name" | "custom">, op: StepOp, report: OperationReport, ms: number, error?: Error): void {
    this.steps.push({
      urn: r.urn,
      type: r.type,
      name: r.name,
      custom: r.custom,
      op,
      ran: report.ran && !this.o.preview,
      stdout: report.stdout ?? "",
      stderr: report.stderr ?? "",
      ms,
      ...(error ? { error: error.message } : {}),
    });
  }

  private registerComponent(urn: string, goal: Goal, old: ResourceState | undefined): RegisterResult {
    const op: StepOp = !old ? "create" : mapsEqual(old.inputs, goal.inputs) ? "same" : "update";
    this.news.push(this.stateOf(urn, goal, undefined, goal.inputs, old?.outputs ?? {}));
    if (old) this.done.add(old);
    this.record({ urn, ...goal }, op, { ran: false }, 0);
    this.save();
    return { urn, id: "", outputs: goal.inputs };
  }

  private context(urn: string, type: string, name: string, timeout: string | undefined, provider: string | undefined): OperationContext {
    return {
      urn,
      type,
      name,
      preview: this.o.preview,
      projectDir: this.o.projectDir,
      env: this.o.env,
      timeoutMs: timeoutOf(timeout),
      providerConfig: this.providerConfig(type, provider),
      cloud: this.o.cloud,
      warn: (m) => void this.diagnostics.push(`warning: ${urn}: ${m}`),
    };
  }

  private providerConfig(type: string, provider: string | undefined): Record<string, Wire> {
    if (provider) {
      const providerUrn = provider.split("::").slice(0, -1).join("::");
      const p = this.news.find((r) => r.urn === providerUrn) ?? this.prev.find((r) => r.urn === providerUrn);
      return p ? (revealMap(p.inputs) as Record<string, Wire>) : {};
    }
    const pkg = `${packageOf(type)}:`;
    return Object.fromEntries(Object.entries(this.o.config).filter(([k]) => k.startsWith(pkg)).map(([k, v]) => [k.slice(pkg.length), v]));
  }

  private async check(model: ProviderModel, ctx: OperationContext, inputs: PropertyMap, olds: PropertyMap | undefined): Promise<PropertyMap> {
    const result = await model.check(ctx, inputs, olds);
    if (result.failures.length > 0) {
      // diag.GetResourcePropertyInvalidValueError: "%v resource '%v': property %v value %v has a problem: %v";
      // a failure without a property (the bridged providers' own): diag.GetResourceInvalidError,
      // "%v resource '%v' has a problem: %v" (sdk/go/common/diag/errors.go:36-42 and
      // step_generator.go:3013-3021 at v3.259.0).
      const lines = result.failures.map((f) => {
        if (f.property === "") return `${ctx.type} resource '${ctx.name}' has a problem: ${f.reason}`;
        const value = revealMap(inputs)[f.property];
        return `${ctx.type} resource '${ctx.name}': property ${f.property} value ${value === undefined ? "<nil>" : JSON.stringify(value)} has a problem: ${f.reason}`;
      });
      throw new Error(lines.join("\n"));
    }
    return result.inputs;
  }

  /** A provider operation, timed and recorded; a failure fails the deployment. */
  private async perform<T extends OperationReport>(r: Pick<ResourceState, "urn" | "type" | "name" | "custom">, op: StepOp, run: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      const result = await run();
      this.record(r, op, result, Date.now() - started);
      return result;
    } catch (err) {
      const error = new Error(`${r.type} (${r.name}): ${op} failed: ${(err as Error).message}`);
      this.record(r, op, { ran: !this.o.preview }, Date.now() - started, error);
      this.failure ??= error;
      throw error;
    }
  }

  private withSecretOutputs(outputs: PropertyMap, names: string[]): PropertyMap {
    const out = { ...outputs };
    for (const k of names) if (k in out && out[k] !== UNKNOWN) out[k] = secret(out[k]);
    return out;
  }

  private async registerCustom(urn: string, goal: Goal, old: ResourceState | undefined): Promise<RegisterResult> {
    const model = providerModelFor(goal.type);
    const ctxFor = (timeout?: string) => this.context(urn, goal.type, goal.name, timeout, goal.provider);
    const programInputs = hashAssets(goal.inputs, this.o.projectDir);
    const inputs = old ? applyIgnoreChanges(programInputs, old.inputs, goal.options.ignoreChanges) : programInputs;
    const checked = await this.check(model, ctxFor(), inputs, old?.inputs);
    const me = { urn, type: goal.type, name: goal.name, custom: true };

    if (!old) {
      const created = await this.perform(me, "create", () => model.create(ctxFor(goal.options.customTimeouts.create), checked));
      const outputs = this.withSecretOutputs(created.outputs, goal.options.additionalSecretOutputs);
      this.news.push(this.stateOf(urn, goal, created.id, checked, outputs));
      this.save();
      return { urn, id: created.id, outputs };
    }

    const diff = await model.diff(ctxFor(), old, checked, goal.options.ignoreChanges);
    const replace = old.pendingReplacement || this.replaces(diff, goal.options.replaceOnChanges);
    if (diff.detailed.size === 0 && !old.pendingReplacement) {
      this.news.push(this.stateOf(urn, goal, old.id, checked, old.outputs));
      this.done.add(old);
      this.record(me, "same", { ran: false }, 0);
      this.save();
      return { urn, id: old.id ?? "", outputs: old.outputs };
    }

    if (!replace) {
      const updated = await this.perform(me, "update", () => model.update(ctxFor(goal.options.customTimeouts.update), old, checked));
      const outputs = this.withSecretOutputs(updated.outputs, goal.options.additionalSecretOutputs);
      this.news.push(this.stateOf(urn, goal, old.id, checked, outputs));
      this.done.add(old);
      this.save();
      return { urn, id: old.id ?? "", outputs };
    }

    if (old.options.protect && goal.options.protect) {
      throw new Error(`unable to replace resource "${urn}"\nas it is currently marked for protection. To unprotect the resource, remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\``);
    }
    // A replacement is a new resource: its defaults are recomputed from the program's inputs.
    const rechecked = await this.check(model, ctxFor(), programInputs, undefined);
    const deleteBeforeReplace = goal.options.deleteBeforeReplace ?? diff.deleteBeforeReplace ?? false;
    if (deleteBeforeReplace) {
      for (const dependent of (await this.dependentReplacements(old)).reverse()) {
        if (dependent.pendingReplacement) continue;
        await this.deleteResource(dependent, "delete-replaced");
        dependent.pendingReplacement = true;
        this.save();
      }
      if (!old.pendingReplacement) {
        await this.deleteResource(old, "delete-replaced");
        old.pendingReplacement = true;
        this.save();
      }
    }
    const created = await this.perform(me, "create-replacement", () => model.create(ctxFor(goal.options.customTimeouts.create), rechecked));
    const outputs = this.withSecretOutputs(created.outputs, goal.options.additionalSecretOutputs);
    this.news.push(this.stateOf(urn, goal, created.id, rechecked, outputs));
    if (deleteBeforeReplace || old.pendingReplacement) this.done.add(old);
    else old.delete = true;
    this.save();
    return { urn, id: created.id, outputs };
  }

  /** diff.Replace() after applyReplaceOnChanges: a provider replace path, or a changed path under a replaceOnChanges path. */
  private replaces(diff: DiffResult, replaceOnChanges: string[]): boolean {
    if (diff.replacePaths.length > 0) return true;
    const patterns = replaceOnChanges.map(parsePath);
    return [...diff.detailed.keys()].some((p) => patterns.some((pattern) => pathContains(pattern, parsePath(p))));
  }

  private dependencyUrns(r: ResourceState): string[] {
    const urns = [...r.dependencies, ...Object.values(r.propertyDependencies).flat()];
    if (r.options.deletedWith) urns.push(r.options.deletedWith);
    if (r.provider) urns.push(r.provider.split("::").slice(0, -1).join("::"));
    return urns;
  }

  /**
   * calculateDependentReplacements: the stored resources that transitively depend on `root`
   * (not yet registered in this run) and whose provider Diff says "replace" once every input
   * that depends on a resource being replaced is made unknown. In dependency order.
   */
  private async dependentReplacements(root: ResourceState): Promise<ResourceState[]> {
    const replaceSet = new Set([root.urn]);
    const dependingOn = new Set([root.urn]);
    const out: ResourceState[] = [];
    for (const r of this.prev.slice(this.prev.indexOf(root) + 1)) {
      if (r.delete || this.registered.has(r.urn)) continue;
      if (!this.dependencyUrns(r).some((u) => dependingOn.has(u))) continue;
      dependingOn.add(r.urn);
      if (!r.custom) continue;
      const providerUrn = r.provider?.split("::").slice(0, -1).join("::");
      let replace = providerUrn !== undefined && replaceSet.has(providerUrn);
      if (!replace) {
        const inputsForDiff: PropertyMap = { ...r.inputs };
        let affected = false;
        for (const [key, urns] of Object.entries(r.propertyDependencies)) {
          if (urns.some((u) => replaceSet.has(u)) && key in inputsForDiff) {
            inputsForDiff[key] = UNKNOWN;
            affected = true;
          }
        }
        if (affected) {
          const diff = await providerModelFor(r.type).diff(this.context(r.urn, r.type, r.name, undefined, r.provider), r, inputsForDiff, r.options.ignoreChanges);
          replace = this.replaces(diff, r.options.replaceOnChanges);
        }
      }
      if (replace) {
        replaceSet.add(r.urn);
        out.push(r);
      }
    }
    return out;
  }

  private async deleteResource(r: ResourceState, op: StepOp, skipProvider = false): Promise<void> {
    if (r.options.protect) {
      const error = new Error(`resource ${r.urn} cannot be deleted\nbecause it is protected. To unprotect the resource, either remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\`, or use the command:\n\`pulumi state unprotect '${r.urn}'\``);
      this.record(r, op, { ran: false }, 0, error);
      this.failure ??= error;
      throw error;
    }
    if (this.o.preview || !r.custom || r.options.retainOnDelete || skipProvider) {
      this.record(r, op, { ran: false }, 0);
      return;
    }
    const model = providerModelFor(r.type);
    await this.perform(r, op, () => model.delete(this.context(r.urn, r.type, r.name, r.options.customTimeouts.delete, r.provider), r));
  }

  /**
   * GenerateDeletes + ScheduleDeletes: the condemned resources, deleted in antichains of the
   * stored dependency graph (dependencies, property dependencies, deletedWith, provider, parent;
   * a component dependency brings its earlier children), dependents first. Within an
   * antichain (parallel in the real engine) this runs the later-stored resource first.
   */
  async finish(destroyAll = false): Promise<void> {
    if (this.failure) return;
    const condemned = this.prev.filter((r) => !this.done.has(r) && (destroyAll || r.delete || !this.registered.has(r.urn)));
    const index = new Map(this.prev.map((r, i) => [r, i]));
    const dependenciesOf = (r: ResourceState): ResourceState[] => {
      const urns = new Set(this.dependencyUrns(r));
      const out: ResourceState[] = [];
      for (let i = index.get(r)! - 1; i >= 0; i--) {
        const c = this.prev[i];
        if (urns.has(c.urn)) {
          out.push(c);
          if (!c.custom) out.push(...this.prev.slice(0, index.get(r)).filter((x) => this.isDescendant(x, c.urn)));
        }
        if (c.urn === r.parent) out.push(c);
      }
      return out;
    };
    const remaining = new Set(condemned);
    const antichains: ResourceState[][] = [];
    while (remaining.size > 0) {
      const chain = [...remaining].filter((r) => !dependenciesOf(r).some((d) => remaining.has(d)));
      if (chain.length === 0) throw new Error("dependency cycle among the resources to delete");
      for (const r of chain) remaining.delete(r);
      antichains.push(chain);
    }
    const condemnedUrns = new Set(condemned.map((r) => r.urn));
    for (const chain of antichains.reverse()) {
      for (const r of chain.sort((a, b) => index.get(b)! - index.get(a)!)) {
        if (r.pendingReplacement) {
          // Already deleted by a delete-before-replace: only its state goes (RemovePendingReplaceStep).
          this.record(r, "remove-pending-replace", { ran: false }, 0);
        } else {
          const deletedWithParent = r.options.deletedWith !== undefined && condemnedUrns.has(r.options.deletedWith);
          await this.deleteResource(r, r.delete ? "delete-replaced" : "delete", deletedWithParent);
        }
        this.done.add(r);
        this.save();
      }
    }
  }

  private isDescendant(r: ResourceState, ancestorUrn: string): boolean {
    let parent = r.parent;
    while (parent) {
      if (parent === ancestorUrn) return true;
      parent = this.prev.find((x) => x.urn === parent)?.parent;
    }
    return false;
  }
}
