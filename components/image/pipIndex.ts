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

/**
 * What is wrong with an index URL, or undefined. The URL is written into the Dockerfile and
 * the image's history, so one with a user name or password is refused, and the message never
 * repeats the value (it may hold a password).
 */
export function indexUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "expected an http(s) URL such as https://mirrors.aliyun.com/pypi/simple/";
  }
  if (url.username !== "" || url.password !== "") {
    return (
      "must not contain a user name or password: the index URL is written into the generated Dockerfile and the image's history. " +
      "Use an index that needs no login (a mirror, or a proxy such as devpi on the build network); private indexes with credentials are not supported"
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `expected an http(s) URL, got a ${url.protocol} URL`;
  }
  if (/[\s\0]/.test(value)) return "expected a URL without spaces or control characters";
  return undefined;
}
