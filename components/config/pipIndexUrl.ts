// A pip index URL from the stack config (app.pipIndexUrl, app.pipExtraIndexUrl), checked up front. Pure.

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
