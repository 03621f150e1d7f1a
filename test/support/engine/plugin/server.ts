// A pulumirpc.ResourceProvider plugin process around the harness's provider models, for the real
// engine (the pulumi CLI v3.259.0) to launch in place of a provider it cannot get here. The
// protocol, as pulumi/pulumi v3.259.0 sdk/go/common/resource/plugin drives it:
// - started as `pulumi-resource-<name> [--logtostderr] [-v=N] [--tracing <endpoint>] <engine>`
//   (plugin.go:728-743) in the project directory (plugin.go:599), it prints its port as the
//   first line of stdout (plugin.go:375-431) and serves gRPC on 127.0.0.1;
// - Handshake answers Unimplemented, as both real providers do (pulumi-docker provider.go:35-36,
//   hybrid.go:24-26 embed UnimplementedResourceProviderServer; pulumi-go-provider v1.3.0 has no
//   Handshake): the engine falls back to Configure's answer (provider_plugin.go:386-391,1140-1150);
// - CheckConfig passes the news through, DiffConfig answers DIFF_UNKNOWN (the engine then compares
//   the inputs itself), Read returns the state as given (neither provider reconciles);
// - a model's error becomes a gRPC error with codes.Unknown and the model's message, as a Go
//   provider's plain error does: no ErrorResourceInitFailed detail, so a failed create stores
//   nothing and a failed update keeps the old state (provider_plugin.go:1471-1479,2531-2560;
//   pulumi-go-provider v1.3.0 provider.go:1085-1097,1180-1191 adds the detail only for
//   ResourceInitFailedError, which pulumi-command never returns);
// - a model's ctx.warn goes to the engine's Log RPC at WARNING with the resource's URN.
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import type { PropertyMap, Wire } from "../properties";
import type { DiffResult, OperationContext, ProviderModel } from "../providers/types";
import type { ResourceState } from "../state";

// Generated protobuf classes of @pulumi/pulumi (no typings of their own).
/* eslint-disable @typescript-eslint/no-require-imports */
const providerRpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
const providerProto = require("@pulumi/pulumi/proto/provider_pb");
const pluginProto = require("@pulumi/pulumi/proto/plugin_pb");
const engineRpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
const engineProto = require("@pulumi/pulumi/proto/engine_pb");
const emptyProto = require("google-protobuf/google/protobuf/empty_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

export interface PluginSpec {
  /** The plugin's name: `docker` serves pulumi-resource-docker. */
  name: string;
  version: string;
  models: Record<string, ProviderModel>;
  configure?(config: Record<string, Wire>, env: NodeJS.ProcessEnv): Promise<void>;
  /** ConfigureResponse flags. */
  protocol: { acceptSecrets: boolean; supportsPreview: boolean; acceptResources: boolean; acceptOutputs: boolean; supportsAutonamingConfiguration: boolean };
}

export function fromStruct(s: Struct | undefined): PropertyMap {
  return (s ? s.toJavaScript() : {}) as PropertyMap;
}

export function toStruct(m: PropertyMap): Struct {
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(m)));
}

/** The engine address among the arguments (flags come first: plugin.go:728-743). */
export function engineAddressOf(args: string[]): string | undefined {
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--tracing") i++;
    else if (!args[i].startsWith("-")) positional.push(args[i]);
  }
  return positional[0];
}

type Callback = (err: grpc.ServiceError | null, response?: unknown) => void;
type Call = { request: any };

function rpcError(code: grpc.status, message: string): grpc.ServiceError {
  return Object.assign(new Error(message), { code, details: message, metadata: new grpc.Metadata() });
}

function nameAndType(urn: string, req: any): { name: string; type: string } {
  const parts = urn.split("::");
  return {
    name: req.getName?.() || parts.slice(3).join("::"),
    type: req.getType?.() || (parts[2] ?? "").split("$").pop()!,
  };
}

function stateOf(urn: string, type: string, name: string, id: string, inputs: PropertyMap, outputs: PropertyMap): ResourceState {
  return {
    urn,
    type,
    name,
    custom: true,
    id,
    inputs,
    outputs,
    dependencies: [],
    propertyDependencies: {},
    options: { ignoreChanges: [], replaceOnChanges: [], additionalSecretOutputs: [], customTimeouts: {}, protect: false, retainOnDelete: false },
  };
}

const KIND: Record<string, number> = { add: 0, delete: 2, update: 4 };

/** The model's DiffResult as a DiffResponse: top-level keys in diffs/replaces, paths in the detailed diff. */
function diffResponse(d: DiffResult): any {
  const resp = new providerProto.DiffResponse();
  const top = (p: string) => p.split(/[.[]/)[0];
  resp.setChanges(d.detailed.size > 0 ? providerProto.DiffResponse.DiffChanges.DIFF_SOME : providerProto.DiffResponse.DiffChanges.DIFF_NONE);
  resp.setDiffsList([...new Set([...d.detailed.keys()].map(top))]);
  resp.setReplacesList([...new Set(d.replacePaths.map(top))]);
  resp.setDeletebeforereplace(d.deleteBeforeReplace ?? false);
  resp.setHasdetaileddiff(true);
  const detailed = resp.getDetaileddiffMap();
  for (const [p, kind] of d.detailed) {
    const pd = new providerProto.PropertyDiff();
    pd.setKind(KIND[kind] + (d.replacePaths.includes(p) ? 1 : 0));
    detailed.set(p, pd);
  }
  return resp;
}

export class ProviderPlugin {
  private engine?: any;
  private config: Record<string, Wire> = {};
  private readonly env = process.env;
  private readonly projectDir = process.cwd();

  constructor(private readonly spec: PluginSpec) {}

  attachEngine(address: string | undefined): void {
    this.engine?.close();
    this.engine = address ? new engineRpc.EngineClient(address, grpc.credentials.createInsecure()) : undefined;
  }

  /** Engine.Log; a failure to log does not fail the operation (the Go providers ignore it too). */
  private log(severity: number, urn: string, message: string): Promise<void> {
    const engine = this.engine;
    if (!engine) return Promise.resolve();
    const req = new engineProto.LogRequest();
    req.setSeverity(severity);
    req.setUrn(urn);
    req.setMessage(message);
    req.setEphemeral(false);
    return new Promise((resolve) => engine.log(req, () => resolve()));
  }

  private model(type: string): ProviderModel {
    const model = this.spec.models[type];
    if (!model) throw new Error(`unrecognized resource type ${JSON.stringify(type)}: the ${this.spec.name} stand-in plugin serves ${Object.keys(this.spec.models).join(", ")}`);
    return model;
  }

  /** Runs `op` with an OperationContext; answers its result, or its error as codes.Unknown. */
  private handle<T>(call: Call, callback: Callback, op: (ctx: OperationContext & { model: ProviderModel }) => Promise<T>, opts: { preview?: boolean; timeout?: number } = {}): void {
    const urn: string = call.request.getUrn();
    const { name, type } = nameAndType(urn, call.request);
    const logs: Promise<void>[] = [];
    const run = async () => {
      const ctx = {
        urn,
        type,
        name,
        preview: opts.preview ?? false,
        projectDir: this.projectDir,
        env: this.env,
        // The go-provider's cancel middleware takes whole seconds (time.Second * time.Duration(timeout)).
        timeoutMs: opts.timeout ? Math.trunc(opts.timeout) * 1000 : undefined,
        providerConfig: this.config,
        warn: (message: string) => void logs.push(this.log(engineProto.LogSeverity.WARNING, urn, message)),
        model: this.model(type),
      };
      return op(ctx);
    };
    run().then(
      async (resp) => {
        await Promise.all(logs);
        callback(null, resp);
      },
      async (err: unknown) => {
        await Promise.all(logs);
        callback(rpcError(grpc.status.UNKNOWN, err instanceof Error ? err.message : String(err)));
      },
    );
  }

  implementation(): grpc.UntypedServiceImplementation {
    const spec = this.spec;
    return {
      handshake: (_call: Call, callback: Callback) => callback(rpcError(grpc.status.UNIMPLEMENTED, "method Handshake not implemented")),

      getPluginInfo: (_call: Call, callback: Callback) => {
        const info = new pluginProto.PluginInfo();
        info.setVersion(spec.version);
        callback(null, info);
      },

      attach: (call: Call, callback: Callback) => {
        this.attachEngine(call.request.getAddress());
        callback(null, new emptyProto.Empty());
      },

      getSchema: (call: Call, callback: Callback) => {
        if (call.request.getVersion() !== 0) return callback(rpcError(grpc.status.UNKNOWN, `unsupported schema version ${call.request.getVersion()}`));
        const resp = new providerProto.GetSchemaResponse();
        resp.setSchema(JSON.stringify({ name: spec.name, version: spec.version }));
        callback(null, resp);
      },

      checkConfig: (call: Call, callback: Callback) => {
        const resp = new providerProto.CheckResponse();
        resp.setInputs(call.request.getNews());
        callback(null, resp);
      },

      diffConfig: (_call: Call, callback: Callback) => callback(null, new providerProto.DiffResponse()),

      configure: (call: Call, callback: Callback) => {
        const config: Record<string, Wire> = {};
        const prefix = `${spec.name}:config:`;
        call.request.getVariablesMap().forEach((v: string, k: string) => {
          config[k.startsWith(prefix) ? k.slice(prefix.length) : k] = v;
        });
        this.config = config;
        const answer = () => {
          const resp = new providerProto.ConfigureResponse();
          resp.setAcceptsecrets(spec.protocol.acceptSecrets);
          resp.setSupportspreview(spec.protocol.supportsPreview);
          resp.setAcceptresources(spec.protocol.acceptResources);
          resp.setAcceptoutputs(spec.protocol.acceptOutputs);
          resp.setSupportsAutonamingConfiguration(spec.protocol.supportsAutonamingConfiguration);
          callback(null, resp);
        };
        if (!spec.configure) return answer();
        spec.configure(config, this.env).then(answer, (err: Error) => callback(rpcError(grpc.status.UNKNOWN, err.message)));
      },

      invoke: (call: Call, callback: Callback) => callback(rpcError(grpc.status.UNKNOWN, `unknown Invoke token '${call.request.getTok()}'`)),

      check: (call: Call, callback: Callback) =>
        this.handle(call, callback, async (ctx) => {
          const olds = fromStruct(call.request.getOlds());
          const result = await ctx.model.check(ctx, fromStruct(call.request.getNews()), Object.keys(olds).length > 0 ? olds : undefined);
          const resp = new providerProto.CheckResponse();
          resp.setInputs(toStruct(result.inputs));
          resp.setFailuresList(
            result.failures.map((f) => {
              const failure = new providerProto.CheckFailure();
              failure.setProperty(f.property);
              failure.setReason(f.reason);
              return failure;
            }),
          );
          return resp;
        }),

      diff: (call: Call, callback: Callback) =>
        this.handle(call, callback, async (ctx) => {
          const r = call.request;
          const old = stateOf(ctx.urn, ctx.type, ctx.name, r.getId(), fromStruct(r.getOldInputs()), fromStruct(r.getOlds()));
          return diffResponse(await ctx.model.diff(ctx, old, fromStruct(r.getNews()), r.getIgnorechangesList()));
        }),

      create: (call: Call, callback: Callback) =>
        this.handle(
          call,
          callback,
          async (ctx) => {
            const created = await ctx.model.create(ctx, fromStruct(call.request.getProperties()));
            const resp = new providerProto.CreateResponse();
            resp.setId(created.id);
            resp.setProperties(toStruct(created.outputs));
            return resp;
          },
          { preview: call.request.getPreview(), timeout: call.request.getTimeout() },
        ),

      read: (call: Call, callback: Callback) => {
        const resp = new providerProto.ReadResponse();
        resp.setId(call.request.getId());
        resp.setProperties(call.request.getProperties());
        resp.setInputs(call.request.getInputs());
        callback(null, resp);
      },

      update: (call: Call, callback: Callback) =>
        this.handle(
          call,
          callback,
          async (ctx) => {
            const r = call.request;
            const old = stateOf(ctx.urn, ctx.type, ctx.name, r.getId(), fromStruct(r.getOldInputs()), fromStruct(r.getOlds()));
            const updated = await ctx.model.update(ctx, old, fromStruct(r.getNews()));
            const resp = new providerProto.UpdateResponse();
            resp.setProperties(toStruct(updated.outputs));
            return resp;
          },
          { preview: call.request.getPreview(), timeout: call.request.getTimeout() },
        ),

      delete: (call: Call, callback: Callback) =>
        this.handle(
          call,
          callback,
          async (ctx) => {
            const r = call.request;
            await ctx.model.delete(ctx, stateOf(ctx.urn, ctx.type, ctx.name, r.getId(), fromStruct(r.getOldInputs()), fromStruct(r.getProperties())));
            return new emptyProto.Empty();
          },
          { timeout: call.request.getTimeout() },
        ),

      cancel: (_call: Call, callback: Callback) => callback(null, new emptyProto.Empty()),
    };
  }
}

/** Serves `spec` on 127.0.0.1 and prints the port, as the engine expects. Resolves with the server. */
export async function serve(spec: PluginSpec, args: string[]): Promise<grpc.Server> {
  const plugin = new ProviderPlugin(spec);
  plugin.attachEngine(engineAddressOf(args));
  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024, "grpc.max_send_message_length": 400 * 1024 * 1024 });
  server.addService(providerRpc.ResourceProviderService, plugin.implementation());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  process.stdout.write(`${port}\n`);
  return server;
}
