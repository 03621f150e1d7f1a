// Reading the legacy builder's (DOCKER_BUILDKIT=0) output: which steps ran and which came from the
// cache, for the tests of layer caching.

export interface BuildStep {
  instruction: string;
  cached: boolean;
  imageId: string;
}

/** The legacy builder's "Step n/m : INSTRUCTION ... ---> <id>" output, one entry per step. */
export function parseSteps(output: string): BuildStep[] {
  return output.split(/^Step \d+\/\d+ : /m).slice(1).map((chunk) => {
    const ids = [...chunk.matchAll(/^ ---> ([0-9a-f]{12})$/gm)];
    return {
      instruction: chunk.split("\n")[0],
      cached: /^ ---> Using cache$/m.test(chunk),
      imageId: ids.length > 0 ? ids[ids.length - 1][1] : "",
    };
  });
}
