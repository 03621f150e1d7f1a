// Which pip index URLs the config refuses (components/config/pipIndexUrl.ts), without ever
// repeating a URL that may hold a password.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { indexUrlProblem } from "../../components/config/pipIndexUrl";

describe("indexUrlProblem", () => {
  it("accepts http and https URLs without credentials", () => {
    for (const url of ["https://mirrors.aliyun.com/pypi/simple/", "http://10.0.0.5:3141/root/pypi/+simple/", "https://pypi.example/simple"]) {
      assert.equal(indexUrlProblem(url), undefined, `${url} is fine`);
    }
  });

  it("refuses what is not a URL, another scheme, credentials and whitespace, never repeating the value", () => {
    const cases: [string, string][] = [
      ["not a url", "expected an http(s) URL such as https://mirrors.aliyun.com/pypi/simple/"],
      ["ftp://mirror.example/simple/", "expected an http(s) URL, got a ftp: URL"],
      ["file:///srv/wheels", "expected an http(s) URL, got a file: URL"],
      ["https://bob:hunter2@pypi.example/simple/", "must not contain a user name or password: the index URL is written into the generated Dockerfile and the image's history. Use an index that needs no login (a mirror, or a proxy such as devpi on the build network); private indexes with credentials are not supported"],
      ["https://token@pypi.example/simple/", "must not contain a user name or password"],
      ["https://:pw@pypi.example/simple/", "must not contain a user name or password"],
      ["https://pypi.example/simple/ x", "expected a URL without spaces or control characters"],
      ["https://pypi.example/sim\tple/", "expected a URL without spaces or control characters"],
      ["https://pypi.example/simple/\0", "expected a URL without spaces or control characters"],
    ];
    for (const [url, message] of cases) {
      const problem = indexUrlProblem(url);
      assert.ok(problem?.startsWith(message), `${JSON.stringify(url)}: expected "${message}…", got ${JSON.stringify(problem)}`);
      assert.ok(!problem?.includes("hunter2") && !problem?.includes("token@"), "the value is not repeated");
    }
    assert.ok(indexUrlProblem("ftp://bob:pw@x/")?.startsWith("must not contain a user name or password"), "credentials are named before the scheme");
  });
});
