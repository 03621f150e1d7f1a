// The contract between the engine model and a provider model: the provider RPCs the engine
// calls (Check, Diff, Create, Update, Delete), with what each real provider does on them.
import type { DiffKind, PropertyMap, Wire } from "../properties";
import type { ResourceState } from "../state";

/** Answers for mocked alicloud:* resources and invokes, from the test's `cloud` module (default export). */
export interface CloudModel {
  /** Extra outputs of a created or updated alicloud resource (e.g. an Instance's publicIp). */
  outputs?(r: { type: string; name: string; urn: string; inputs: Record<string, any> }): Record<string, unknown> | undefined;
  /** The ID of a created alicloud resource (default: "<name>-<8 hex>"). */
  id?(r: { type: string; name: string; urn: string }): string | undefined;
  /** An alicloud:* invoke's result; undefined means "not answered", which fails the invoke. */
  call?(token: string, args: Record<string, any>): Record<string, unknown> | undefined;
  /** ForceNew input names per type token, added to the model's own table. */
  forceNew?: Record<string, string[]>;
}

export interface OperationContext {
  urn: string;
  type: string;
  name: string;
  preview: boolean;
  /** The project directory: providers run here (it is the CLI's working directory). */
  projectDir: string;
  /** The provider process's environment. */
  env: NodeJS.ProcessEnv;
  /** customTimeouts of this operation, in ms (the go-provider truncates to whole seconds). */
  timeoutMs?: number;
  /** The provider's configuration: an explicit provider's inputs, or the stack's "<package>:<key>" config. */
  providerConfig: Record<string, Wire>;
  cloud?: CloudModel;
  /** A warning the real provider would log (the run goes on). */
  warn(message: string): void;
}

export interface CheckFailure {
  /** The top-level input at fault; "" when the provider names none (the bridged providers). */
  property: string;
  reason: string;
}

export interface CheckResult {
  inputs: PropertyMap;
  failures: CheckFailure[];
}

export interface DiffResult {
  /** Paths that changed, with their kind (the provider's DetailedDiff). */
  detailed: Map<string, DiffKind>;
  /** Detailed-diff paths the provider itself replaces on (schema replaceOnChanges / ForceNew). */
  replacePaths: string[];
  deleteBeforeReplace?: boolean;
}

/** What an operation did: `ran` is false when nothing was executed (preview, or nothing to run). */
export interface OperationReport {
  ran: boolean;
  stdout?: string;
  stderr?: string;
}

export interface CreateResult extends OperationReport {
  id: string;
  outputs: PropertyMap;
}

export interface UpdateResult extends OperationReport {
  outputs: PropertyMap;
}

export interface ProviderModel {
  check(ctx: OperationContext, news: PropertyMap, olds: PropertyMap | undefined): Promise<CheckResult>;
  diff(ctx: OperationContext, old: ResourceState, news: PropertyMap, ignoreChanges: string[]): Promise<DiffResult>;
  /** In preview: no side effect, outputs the provider does not know yet are UNKNOWN. */
  create(ctx: OperationContext, inputs: PropertyMap): Promise<CreateResult>;
  update(ctx: OperationContext, old: ResourceState, news: PropertyMap): Promise<UpdateResult>;
  /** Runs with the OLD stored state. */
  delete(ctx: OperationContext, old: ResourceState): Promise<OperationReport>;
}
