import fs from "node:fs";

/** Every process, as /proc lists it: its parent and its command line. */
export function processTable(): Map<number, { ppid: number; args: string }> {
  const table = new Map<number, { ppid: number; args: string }>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = /^PPid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${entry}/status`, "utf8"))?.[1];
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
      if (ppid) table.set(Number(entry), { ppid: Number(ppid), args });
    } catch {
      // Gone while it was read.
    }
  }
  return table;
}

/** Every process below `pid`. */
export function descendants(pid: number): number[] {
  const table = [...processTable()];
  const below = (p: number): number[] => table.filter(([, { ppid }]) => ppid === p).flatMap(([child]) => [child, ...below(child)]);
  return below(pid);
}

/** Running, and not a zombie waiting to be reaped. */
export const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
