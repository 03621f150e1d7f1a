// The base image for builds that install from the real PyPI: the local base plus this machine's CA
// bundle for pip, as a company behind a TLS-inspecting proxy bakes its CA into its base images.
import * as fs from "node:fs";
import { BASE_IMAGE } from "../docker/localEngine";
import { ensureBuiltImage } from "../docker/builtImage";

const REPOSITORY = "pydeploy/python-base-pypi";
const BUNDLE_IN_IMAGE = "/etc/ssl/certs/pydeploy-build-machine-ca.crt";

/** The CA bundle this machine's own pip trusts (pip's PIP_CERT, else the system's). */
export function buildMachineCaBundle(): string {
  const bundle = process.env.PIP_CERT ?? process.env.SSL_CERT_FILE ?? "/etc/ssl/certs/ca-certificates.crt";
  if (!fs.existsSync(bundle)) throw new Error(`no CA bundle at ${bundle}: set PIP_CERT to the bundle pip on this machine uses to reach PyPI`);
  return bundle;
}

/**
 * Builds (once per bundle and base) and returns the tag of BASE_IMAGE with the bundle as pip's
 * PIP_CERT. The venv's pip trusts only its own certifi copy otherwise, which an inspecting
 * proxy's certificate fails; a machine that reaches PyPI directly gets the same public roots.
 */
export function ensurePypiBaseImage(): Promise<string> {
  const bundle = fs.readFileSync(buildMachineCaBundle());
  const dockerfile = `FROM ${BASE_IMAGE}\nCOPY ca.crt ${BUNDLE_IN_IMAGE}\nENV PIP_CERT=${BUNDLE_IN_IMAGE}\n`;
  return ensureBuiltImage(REPOSITORY, { Dockerfile: dockerfile, "ca.crt": bundle }, { timeoutMs: 5 * 60_000 });
}
