// The one door from bench/ into test/: real fixtures both the tests and the benchmarks run
// (Docker-in-Docker SSH server, index.ts under the engine harness, Django app, wheel index, load).
// Re-exported rather than copied, so there is one of each; a move in test/ is fixed here alone.
export { serverExec, setRegistryMirrors, startTestServer, stopTestServer, type SshConnection, type TestServer } from "../../test/support/ssh/sshServer";
export { startRegistryMirror, type RegistryMirror } from "../../test/support/docker/registry";
export { ExampleProject, gzipSizeAboveBase, lastLayerGzipSize, mustSucceed, programStack, shipResult, stepOutput, uniqueApp } from "../../test/support/lifecycle/exampleProject";
export type { RunResult } from "../../test/support/engine";
export { existingTargetConfig } from "../../test/support/lifecycle/serverScenario";
export { bumpDjangoVersion, copyDjangoFixture, DJANGO_LAYOUTS, djangoAppConfig, pypi } from "../../test/fixtures/djangoApp";
export { bumpJobsVersion, CELERY_PYPI_VERSIONS, copyDjangoCeleryFixture, djangoCeleryStack } from "../../test/fixtures/djangoCelery";
export { TEST_POSTGRES_IMAGE, TEST_REDIS_IMAGE } from "../../test/support/services/serviceImages";
export { debianWheels, startWheelIndex, type WheelIndex } from "../../test/support/pypi/wheelIndex";
export { exampleStack } from "../../test/support/config/exampleStack";
export { startLoad, type LoadResult, type RunningLoad } from "../../test/support/proxy/load";
export { BACKEND_PORT, freePort, leftovers, passesGate, removeLeftovers, startBackend, type Leftovers } from "../../test/support/proxy/harness";
export { BASE_IMAGE, EXAMPLE_DIR, ensureBaseImage, httpGet, REPO_ROOT, uniqueName, waitFor, waitForHttp200 } from "../../test/support/docker/localEngine";
export { startHaproxy, type Haproxy } from "../../test/support/proxy/haproxy";
export { generateSshKeyPair } from "../../test/support/ssh/sshKeys";
