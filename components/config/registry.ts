// The `registry` section (and its secret `registryPassword`): where `deploy.ship registry`
// pushes the images and the host pulls them, with the rules that tie it to the ship mode.
import { z } from "zod";
import type { Problem } from "./errors";
import { nonEmpty } from "./fields";

export const registrySchema = z.strictObject({
  server: z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/, { error: "expected a registry host such as registry.cn-hangzhou.aliyuncs.com" }),
  username: nonEmpty("the registry user name"),
  repository: z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/, { error: "expected namespace/name, e.g. my-namespace/demo" }),
});
export const registryPasswordSchema = nonEmpty("the registry password");

export type RegistryConfig = z.output<typeof registrySchema>;

/** A registry ship needs a registry, and a registry needs its password. */
export function checkRegistry(ship: "copy" | "registry", registry: RegistryConfig | undefined, registryPassword: string | undefined, problem: Problem): void {
  if (ship === "registry" && !registry) problem("registry", "is required with deploy.ship registry: {server, username, repository}");
  if (registry && !registryPassword) problem("registryPassword", "is required with a registry (pulumi config set --secret registryPassword)");
}
