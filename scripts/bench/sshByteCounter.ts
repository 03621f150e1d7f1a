// Bytes on a test server's SSH port, counted by the server itself: iptables rules in the server
// container (its own network namespace) match TCP to and from port 22, so what the deployer's
// client reports plays no part. IP and TCP headers are included; other ports (the HTTP load) are not.
import { serverExec, TestServer } from "../../test/support/ssh/sshServer";

const CHAIN_IN = "PYDEPLOY_BENCH_SSH_IN";
const CHAIN_OUT = "PYDEPLOY_BENCH_SSH_OUT";

export interface SshBytes {
  /** To the server's sshd (INPUT, destination port 22). */
  toServer: number;
  /** From it (OUTPUT, source port 22). */
  fromServer: number;
}

export class SshByteCounter {
  private constructor(private readonly server: TestServer) {}

  /** Adds the counting chains (jumped to first from INPUT and OUTPUT); they only count and return. */
  static async install(server: TestServer): Promise<SshByteCounter> {
    const ipt = (...args: string[]) => serverExec(server, ["iptables", "-w", ...args]);
    await ipt("-N", CHAIN_IN);
    await ipt("-A", CHAIN_IN, "-p", "tcp", "--dport", "22", "-j", "RETURN");
    await ipt("-I", "INPUT", "1", "-j", CHAIN_IN);
    await ipt("-N", CHAIN_OUT);
    await ipt("-A", CHAIN_OUT, "-p", "tcp", "--sport", "22", "-j", "RETURN");
    await ipt("-I", "OUTPUT", "1", "-j", CHAIN_OUT);
    return new SshByteCounter(server);
  }

  async zero(): Promise<void> {
    await serverExec(this.server, ["iptables", "-w", "-Z", CHAIN_IN]);
    await serverExec(this.server, ["iptables", "-w", "-Z", CHAIN_OUT]);
  }

  async read(): Promise<SshBytes> {
    return { toServer: await this.bytes(CHAIN_IN, "dpt:22"), fromServer: await this.bytes(CHAIN_OUT, "spt:22") };
  }

  /** The byte counter of the chain's one rule, from `iptables -nvxL` ("pkts bytes target prot ..."). */
  private async bytes(chain: string, match: string): Promise<number> {
    const { stdout } = await serverExec(this.server, ["iptables", "-w", "-nvxL", chain]);
    const rule = stdout.split("\n").find((l) => l.includes(match));
    const bytes = Number(rule?.trim().split(/\s+/)[1]);
    if (!rule || !Number.isSafeInteger(bytes)) throw new Error(`no byte counter for ${match} in iptables chain ${chain}:\n${stdout}`);
    return bytes;
  }
}
