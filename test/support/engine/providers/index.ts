// Which provider model performs which resource type. A type without a model is an error, never
// a silent fake.
import { detailedDiff } from "../properties";
import { alicloudResource } from "./alicloud";
import { copyToRemote } from "./copyToRemote";
import { dockerImage } from "./dockerImage";
import { localCommand } from "./localCommand";
import { randomPassword } from "./random";
import { remoteCommand } from "./remoteCommand";
import { tlsPrivateKey } from "./tlsPrivateKey";
import type { ProviderModel } from "./types";

const MODELS: Record<string, ProviderModel> = {
  "command:local:Command": localCommand,
  "command:remote:Command": remoteCommand,
  "command:remote:CopyToRemote": copyToRemote,
  "docker:index/image:Image": dockerImage,
  "random:index/randomPassword:RandomPassword": randomPassword,
  "tls:index/privateKey:PrivateKey": tlsPrivateKey,
};

/** An explicit provider (pulumi:providers:<pkg>): its inputs are the configuration of the resources using it. */
const providerResource: ProviderModel = {
  async check(_ctx, news) {
    return { inputs: news, failures: [] };
  },
  async diff(_ctx, old, news) {
    return { detailed: detailedDiff(old.inputs, news), replacePaths: [] };
  },
  async create(_ctx, inputs) {
    return { id: `provider-${Math.random().toString(16).slice(2, 10)}`, outputs: inputs, ran: false };
  },
  async update(_ctx, _old, news) {
    return { outputs: news, ran: false };
  },
  async delete() {
    return { ran: false };
  },
};

export function providerModelFor(type: string): ProviderModel {
  if (MODELS[type]) return MODELS[type];
  if (type.startsWith("pulumi:providers:")) return providerResource;
  if (type.startsWith("alicloud:")) return alicloudResource;
  throw new Error(`no provider model for ${type}`);
}

/** The package of a type token ("docker:index/image:Image" -> "docker"). */
export function packageOf(type: string): string {
  return type.startsWith("pulumi:providers:") ? type.slice("pulumi:providers:".length) : type.split(":")[0];
}
