// pip's package index options, given to every pip run in the image build (the dependencies, the
// project itself, and through pip's build isolation the project's build backend). Pure.

export interface PipIndexOptions {
  /** Replaces PyPI, e.g. a mirror's https://mirrors.aliyun.com/pypi/simple/. */
  indexUrl?: string;
  /** Looked up as well as the index. */
  extraIndexUrl?: string;
  /** host or host:port pip may reach over plain HTTP or with an unverified certificate. */
  trustedHosts: string[];
}

/** The pip arguments for these options, in a fixed order. */
export function pipIndexArgs(o: PipIndexOptions): string[] {
  return [
    ...(o.indexUrl !== undefined ? ["--index-url", o.indexUrl] : []),
    ...(o.extraIndexUrl !== undefined ? ["--extra-index-url", o.extraIndexUrl] : []),
    ...o.trustedHosts.flatMap((h) => ["--trusted-host", h]),
  ];
}
