// Mutation testing of the pure modules (StrykerJS, TAP runner): `npm run test:mutation`.
// Each group mutates a few modules and runs only the unit test files that cover them, so one
// group fits in minutes; scripts/mutation.ts runs the groups one after the other and prints
// the score per module. `npx stryker run` alone runs the group named by PYDEPLOY_MUTATION_GROUP.

/** Group name -> the modules it mutates and the test files that cover them. */
export const groups = {
  config: {
    mutate: ["components/config/{schema,fields,errors,resolve,app,deploy,server,host,registry,stackFile,fleet}.ts"],
    testFiles: [
      "test/config/{schema,schemaRules,stackFile,fields,resolve,fleet}.test.ts",
      "test/config/hostKey.script.test.ts",
      // The shared formats (fields.ts) are also the step contract's and the image reference's.
      "test/image/imageRef.test.ts",
      "test/deploy/{containerSettings,specContract}.test.ts",
    ],
  },
  // The image renderers, and the readers of the project's dependency files they render from.
  image: {
    mutate: [
      "components/image/{dockerfile,dockerignore,entrypoint,healthProbe,probe,buildFiles,pipIndex,proxyBuildFiles,proxyDockerfile,imageRef}.ts",
      "components/config/{requirementsFiles,pyproject,dependencySource,pipIndexUrl}.ts",
    ],
    testFiles: [
      "test/image/{dockerfile,dockerignore,buildFiles,pipIndex,proxyDockerfile,imageRef}.test.ts",
      "test/config/{dependencySource,pyproject,requirementsFiles,pipIndexUrl}.test.ts",
      "test/image/{entrypoint,healthProbe}.script.test.ts",
      // The proxy's caddy command lines (proxyDockerfile.ts) are checked where the deploy runs them.
      "test/deploy/proxy/proxyCommands.test.ts",
    ],
  },
  deploy: {
    mutate: ["components/deploy/{containerSpec,contractIssues,roles,spec,dockerCommands,gateProbe,rollingOrder}.ts", "components/server/loadBalancerPlan.ts"],
    testFiles: [
      "test/deploy/{containerSpec,containerSettings,roles,rolesConfig,spec,specContract,specVersion,dockerCommands,outputLines,rollingOrder}.test.ts",
      "test/server/loadBalancerPlan.test.ts",
      "test/deploy/{gateProbe,dockerCommands}.script.test.ts",
      "test/deploy/runner/release*.test.ts",
    ],
  },
  proxy: {
    mutate: ["components/deploy/proxy/{proxyConfig,proxyContainer,switch,acmeLog}.ts", "components/deploy/check.ts"],
    testFiles: ["test/deploy/proxy/{proxyConfig,proxyContainer,proxyCommands,switch,acmeLog}.test.ts", "test/deploy/proxy/switchScripts.script.test.ts"],
  },
  // The deployer's orchestration, against the in-memory Docker host (test/support/fakeDocker.ts):
  // no Docker engine and no SSH server in these tests, so a mutant costs seconds.
  runner: {
    mutate: ["components/deploy/runner/{release,ship,layerArchive,sshHost,remove,claim,certificates,roll}.ts"],
    testFiles: ["test/deploy/runner/{release,releaseProxy,releaseTimeout,remove,claim,layerArchive,ship,sshHost,certificates,roll}.test.ts"],
  },
};

/** What every group shares. */
export function groupConfig(name) {
  const group = groups[name];
  if (!group) throw new Error(`unknown mutation group ${JSON.stringify(name)}; expected one of ${Object.keys(groups).join(", ")}`);
  return {
    mutate: group.mutate,
    testRunner: "tap",
    tap: {
      testFiles: group.testFiles,
      // Each covering test file runs as its own node process, TypeScript loaded by tsx.
      nodeArgs: ["--import", "tsx", "--test-reporter=tap", "-r", "{{hookFile}}", "{{testFile}}"],
      forceBail: true,
    },
    // Per test file: a mutant runs only the files that executed it.
    coverageAnalysis: "perTest",
    concurrency: 2,
    // A busy machine slows the tsx start-up of every run: be generous before calling a mutant a timeout.
    timeoutMS: 20000,
    timeoutFactor: 2,
    reporters: ["clear-text", "progress", "json", "html"],
    clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
    htmlReporter: { fileName: `reports/mutation/${name}.html` },
    incrementalFile: `reports/mutation/${name}.incremental.json`,
    tempDirName: ".stryker-tmp",
    ignorePatterns: [".pulumi-state", "example/.pydeploy", "example/.dockerignore", "reports", ".cache"],
    thresholds: { high: 90, low: 80, break: null },
  };
}

export default groupConfig(process.env.PYDEPLOY_MUTATION_GROUP ?? "config");
