// The stand-in provider plugins' entry point: `main <docker|command|random> [engine flags] <engine-address>`.
// - docker 5.2.0 serves docker:index/image:Image; Configure pings the daemon (pulumi-docker
//   hybrid.go:72-95) and answers as the bridged provider does (pulumi-terraform-bridge v3.136.0
//   pkg/tfbridge/provider.go:946-949, unchanged since 2024): SupportsPreview and autonaming, no
//   AcceptSecrets, so the engine sends it no secret values;
// - command 1.2.1 serves command:local:Command; ConfigureResponse as pulumi-go-provider v1.3.0's
//   (provider.go:794-799).
// - random 4.21.2 (the @pulumi/random SDK's version, which it asks the engine for) serves
//   random:index/randomPassword:RandomPassword; pulumi-random is a Plugin Framework provider
//   (cmd/pulumi-resource-random/main.go runs pkg/pf/tfbridge.Main), whose server answers Handshake
//   Unimplemented and Configure with SupportsPreview, AcceptResources and autonaming, no
//   AcceptSecrets (pulumi-terraform-bridge pkg/pf/internal/plugin/provider_server.go:165-169,
//   330-343).
import * as fs from "node:fs";
import { configureDocker, dockerImage } from "../providers/dockerImage";
import { localCommand } from "../providers/localCommand";
import { randomPassword } from "../providers/random";
import { PluginSpec, serve } from "./server";

export const PLUGINS: Record<string, PluginSpec> = {
  docker: {
    name: "docker",
    version: "5.2.0",
    models: { "docker:index/image:Image": dockerImage },
    configure: async (config, env) => void (await configureDocker(config, env)),
    protocol: { acceptSecrets: false, supportsPreview: true, acceptResources: false, acceptOutputs: false, supportsAutonamingConfiguration: true },
  },
  command: {
    name: "command",
    version: "1.2.1",
    models: { "command:local:Command": localCommand },
    protocol: { acceptSecrets: true, supportsPreview: true, acceptResources: true, acceptOutputs: true, supportsAutonamingConfiguration: false },
  },
  random: {
    name: "random",
    version: "4.21.2",
    models: { "random:index/randomPassword:RandomPassword": randomPassword },
    protocol: { acceptSecrets: false, supportsPreview: true, acceptResources: true, acceptOutputs: false, supportsAutonamingConfiguration: true },
  },
};

if (require.main === module) {
  const [name, ...args] = process.argv.slice(2);
  const spec = PLUGINS[name];
  if (!spec) {
    process.stderr.write(`usage: main <${Object.keys(PLUGINS).join("|")}> [engine flags] <engine-address>\n`);
    process.exit(2);
  }
  // The engine holds the write end of our stdin pipe until it closes the plugin (plugin.go:604,665):
  // EOF means the engine is gone, so a killed CLI leaves no plugin behind.
  if (fs.fstatSync(0).isFIFO()) {
    process.stdin.on("end", () => process.exit(0));
    process.stdin.resume();
  }
  serve(spec, args).catch((err) => {
    process.stderr.write(`${spec.name} stand-in plugin: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
