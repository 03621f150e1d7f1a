// Names of a fleet's members. The first keeps the single server's names, so raising
// server.count (or adding hosts) only adds resources, and lowering it removes the last ones. Pure.

/** `name` for the first (index 0), then `name-2`, `name-3`, … */
export function fleetMemberName(name: string, index: number): string {
  return index === 0 ? name : `${name}-${index + 1}`;
}
