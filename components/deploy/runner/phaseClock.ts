// Where a step's time goes, for its log: named phases and how long each took, in the order they
// ended. Phases may overlap (the release readies the proxy while the first role boots).
export class PhaseClock {
  private readonly phases: { name: string; ms: number }[] = [];
  private readonly started: number;

  constructor(private readonly now: () => number = Date.now) {
    this.started = now();
  }

  async time<T>(name: string, work: () => Promise<T>): Promise<T> {
    const t0 = this.now();
    try {
      return await work();
    } finally {
      this.phases.push({ name, ms: this.now() - t0 });
    }
  }

  /** "12.3 s: proxy 0.4 s, web 1.2 s" (tenths of a second). */
  summary(): string {
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const parts = this.phases.map((p) => `${p.name} ${s(p.ms)}`);
    return `${s(this.now() - this.started)}${parts.length > 0 ? `: ${parts.join(", ")}` : ""}`;
  }
}
