// The stack state the engine model keeps between runs: one JSON file, like a checkpoint of the
// file backend. Values stay in the RPC wire form, so secrets are marked (not encrypted: the file
// is a test artifact, written 0600) and plainValues() can prove none leaked into plain values.
import * as fs from "node:fs";
import * as path from "node:path";
import { plainLeaves, PropertyMap } from "./properties";

export interface ResourceOptionsState {
  deleteBeforeReplace?: boolean;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  additionalSecretOutputs: string[];
  /** Go duration strings, as given ("5m", "30s"). */
  customTimeouts: { create?: string; update?: string; delete?: string };
  protect: boolean;
  retainOnDelete: boolean;
  deletedWith?: string;
}

export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  id?: string;
  parent?: string;
  /** Explicit provider reference "<urn>::<id>", when the program passed one. */
  provider?: string;
  inputs: PropertyMap;
  outputs: PropertyMap;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  options: ResourceOptionsState;
  /** Replaced (create-before-delete) and not yet deleted: deleted at the end of the next deployment. */
  delete?: boolean;
  /** Deleted for a delete-before-replace whose replacement has not been created yet. */
  pendingReplacement?: boolean;
}

export interface StackState {
  version: 1;
  project: string;
  stack: string;
  resources: ResourceState[];
}

export function emptyState(project: string, stack: string): StackState {
  return { version: 1, project, stack, resources: [] };
}

export function loadState(file: string, project: string, stack: string): StackState {
  if (!fs.existsSync(file)) return emptyState(project, stack);
  const state = JSON.parse(fs.readFileSync(file, "utf8")) as StackState;
  if (state.version !== 1 || !Array.isArray(state.resources)) {
    throw new Error(`state file ${file}: expected {version: 1, resources: [...]}, got version ${String(state.version)}`);
  }
  if (state.project !== project || state.stack !== stack) {
    throw new Error(`state file ${file} belongs to ${state.project}/${state.stack}, not ${project}/${stack}`);
  }
  return state;
}

/** Writes atomically (rename), owner-only: the state holds secret values. */
export function saveState(file: string, state: StackState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Every stored value that is not secret: inputs and outputs of every resource, stack outputs included. */
export function plainValuesOf(state: StackState): string[] {
  return state.resources.flatMap((r) => [...plainLeaves(r.inputs), ...plainLeaves(r.outputs)]);
}
