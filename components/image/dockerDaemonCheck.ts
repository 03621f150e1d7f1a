// Run by checkDockerDaemon (dockerDaemon.ts) in a child process, so the program can wait for an
// asynchronous ping before it registers anything. Prints the resolved daemon as JSON.
// Usage: node --import tsx components/image/dockerDaemonCheck.ts [<docker:host config>]
import { resolveDockerHost } from "./dockerDaemon";

void resolveDockerHost({ configuredHost: process.argv[2] || undefined }).then((resolved) => process.stdout.write(`${JSON.stringify(resolved)}\n`));
