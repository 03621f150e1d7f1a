// Puts the engine model behind the Node SDK's mock monitor: registerResource,
// registerResourceOutputs, invoke and readResource of the MockMonitor that runtime.setMocks
// installs are replaced, so the SDK's own serialization (secrets, unknowns, dependencies,
// options the Mocks API hides) reaches the engine unchanged, and the answer comes only after
// the operation was performed.
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import type { Deployment, Goal } from "./deployment";
import { PropertyMap, revealMap } from "./properties";

// Generated protobuf classes of @pulumi/pulumi (no typings of their own).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const resproto = require("@pulumi/pulumi/proto/resource_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const provproto = require("@pulumi/pulumi/proto/provider_pb");

type Callback = (err: unknown, response?: unknown) => void;

function toJs(s: structproto.Struct | undefined): PropertyMap {
  return (s ? s.toJavaScript() : {}) as PropertyMap;
}

/** The engine's goal from a RegisterResourceRequest. */
export function goalOf(req: any): Goal {
  const propertyDependencies: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
    propertyDependencies[key] = deps.getUrnsList();
  });
  const timeouts = req.getCustomtimeouts();
  const dbrDefined: boolean = req.getDeletebeforereplacedefined() || req.getDeletebeforereplace();
  return {
    type: req.getType(),
    name: req.getName(),
    custom: req.getCustom(),
    parent: req.getParent() || undefined,
    provider: req.getProvider() || undefined,
    inputs: toJs(req.getObject()),
    dependencies: req.getDependenciesList(),
    propertyDependencies,
    options: {
      deleteBeforeReplace: dbrDefined ? req.getDeletebeforereplace() : undefined,
      ignoreChanges: req.getIgnorechangesList(),
      replaceOnChanges: req.getReplaceonchangesList(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      customTimeouts: {
        create: timeouts?.getCreate() || undefined,
        update: timeouts?.getUpdate() || undefined,
        delete: timeouts?.getDelete() || undefined,
      },
      protect: req.getProtect() === true,
      retainOnDelete: req.getRetainondelete() === true,
      deletedWith: req.getDeletedwith() || undefined,
    },
  };
}

export function attachEngine(monitor: any, deployment: Deployment): void {
  monitor.registerResource = (req: any, callback: Callback) => {
    deployment.register(goalOf(req)).then(
      (result) => {
        const resp = new resproto.RegisterResourceResponse();
        resp.setUrn(result.urn);
        resp.setId(result.id);
        resp.setObject(structproto.Struct.fromJavaScript(result.outputs as any));
        callback(null, resp);
      },
      (err: Error) => callback(err),
    );
  };
  monitor.registerResourceOutputs = (req: any, callback: Callback) => {
    try {
      deployment.registerOutputs(req.getUrn(), toJs(req.getOutputs()));
      callback(null, {});
    } catch (err) {
      callback(err);
    }
  };
  monitor.invoke = (req: any, callback: Callback) => {
    try {
      const result = deployment.invoke(req.getTok(), revealMap(toJs(req.getArgs())));
      const resp = new provproto.InvokeResponse();
      resp.setReturn(structproto.Struct.fromJavaScript(result as any));
      callback(null, resp);
    } catch (err) {
      // The SDK reports an invoke's gRPC error by its `details` (runtime/invoke.js).
      callback(Object.assign(err as Error, { details: (err as Error).message }));
    }
  };
  monitor.readResource = (req: any, callback: Callback) => {
    callback(new Error(`reading an existing resource (${req.getType()} .get) is not modelled by this harness`));
  };
}
