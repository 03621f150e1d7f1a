// Reads the stack's Pulumi config and validates it with the one schema, before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig, SECRET_KEYS, StackConfig } from "./schema";

export interface LoadedSecrets {
  env: pulumi.Output<Record<string, string>>;
  sshPrivateKey?: pulumi.Output<string>;
  registryPassword?: pulumi.Output<string>;
  loadBalancerCertificateKey?: pulumi.Output<string>;
}
export type LoadedConfig = Omit<StackConfig, "secrets"> & { secrets: LoadedSecrets };

/** Structured config arrives as JSON text; plain values stay strings (the schema coerces numbers). */
export function parseConfigValue(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return text;
    }
  }
  return text;
}

// `isConfigSecret` is marked @internal in @pulumi/pulumi 3.248; without it we cannot tell, so we trust.
const isConfigSecret: (key: string) => boolean =
  (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret ?? (() => true);

export function loadStackConfig(baseDir: string = process.cwd()): LoadedConfig {
  const project = pulumi.getProject();
  const all = pulumi.runtime.allConfig();
  const prefix = `${project}:`;
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) {
    if (k.startsWith(prefix)) values[k.slice(prefix.length)] = parseConfigValue(v);
  }
  const providerConfig: Record<string, unknown> = {};
  if (all["alicloud:region"] !== undefined) providerConfig["alicloud:region"] = all["alicloud:region"];

  let config: StackConfig;
  try {
    const plaintext = SECRET_KEYS.filter((k) => values[k] !== undefined && !isConfigSecret(`${prefix}${k}`));
    if (plaintext.length) {
      throw new ConfigError(
        plaintext.map((k) => `${prefix}${k}: is stored in plain text; set it with \`pulumi config set --secret ${k === "secretEnv" ? "--path secretEnv.NAME" : k} ...\` so it stays encrypted`),
      );
    }
    config = parseStackConfig({ project, stack: pulumi.getStack(), values, providerConfig, baseDir });
  } catch (err) {
    // RunError prints the message without a stack trace: the message is the whole story.
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
  for (const warning of config.warnings) pulumi.log.warn(warning);

  const { env, sshPrivateKey, registryPassword, loadBalancerCertificateKey } = config.secrets;
  return {
    ...config,
    secrets: {
      env: pulumi.secret(env),
      sshPrivateKey: sshPrivateKey === undefined ? undefined : pulumi.secret(sshPrivateKey),
      registryPassword: registryPassword === undefined ? undefined : pulumi.secret(registryPassword),
      loadBalancerCertificateKey: loadBalancerCertificateKey === undefined ? undefined : pulumi.secret(loadBalancerCertificateKey),
    },
  };
}
