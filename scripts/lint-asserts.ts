// Fails when a test calls assert(x) or assert.ok(x) without a message. On Node 20 with tsx, a
// failing message-less assert.ok makes Node parse the source to build a message, and it hangs
// instead of failing. Usage: tsx scripts/lint-asserts.ts [dir...]   (default: test)
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "fixtures" ? [] : files(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** `assert(…)`, `assert.ok(…)`, `assert.strict.ok(…)`: the calls that build a message from source. */
function isOkCall(callee: ts.Expression): boolean {
  if (ts.isIdentifier(callee)) return callee.text === "assert";
  return ts.isPropertyAccessExpression(callee) && callee.name.text === "ok" && /^assert\b/.test(callee.expression.getText());
}

export function findMessageless(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && isOkCall(node.expression) && node.arguments.length < 2) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(`${file}:${line + 1}: ${node.getText().slice(0, 80)} has no message`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

if (require.main === module) {
  const dirs = process.argv.slice(2).length ? process.argv.slice(2) : ["test"];
  const problems = dirs.flatMap(files).flatMap(findMessageless);
  if (problems.length) {
    process.stderr.write(`${problems.join("\n")}\n${problems.length} assertion(s) without a message: give each one (a failing message-less assert.ok hangs on Node 20).\n`);
    process.exit(1);
  }
}
