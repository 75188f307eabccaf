import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { processAlive } from "../alive.ts";
import { usageError } from "../errors.ts";

/** Who holds an app folder's twelve dev, as its lock file says. */
interface Holder {
  pid: number;
  host: string;
  startedAt: string;
  /** The web processes' URLs, once it has them. */
  urls: string[];
}

export interface DevLock {
  /** Adds the web URLs, so a second twelve dev can say where the first one serves. */
  describe(urls: string[]): void;
  release(): void;
}

/**
 * One twelve dev per app folder: two would share the broker's journal, re-deliver each
 * other's in-flight messages and lose accepted ones. The lock is a file created only if absent
 * (a hard link from a file of our own, atomic on every file system Node runs on); a holder
 * that is no longer running on this host holds nothing, so a kill -9 never locks a folder.
 */
export function takeDevLock(dir: string): DevLock {
  const file = path.join(dir, "lock.json");
  fs.mkdirSync(dir, { recursive: true });
  const me: Holder = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), urls: [] };
  for (let attempt = 0; ; attempt++) {
    if (create(file, me)) break;
    const holder = read(file);
    if (holder && running(holder)) {
      const where = holder.urls.length ? `, serving ${holder.urls.join(", ")}` : "";
      throw usageError(
        `twelve dev is already running for this app (pid ${holder.pid}${where}, since ${holder.startedAt})`,
        `Use that one, or stop it first (Ctrl-C in its terminal, or kill ${holder.pid}). Its lock is ${file}.`,
      );
    }
    // A dead holder's lock (or one half-written): remove it, and race any other taker fairly.
    if (attempt > 2) throw usageError(`could not take twelve dev's lock ${file}`, "Remove the file if no twelve dev runs in this app, and start again.");
    fs.rmSync(file, { force: true });
  }
  const release = () => {
    if (read(file)?.pid === me.pid) fs.rmSync(file, { force: true });
  };
  // However this process ends (a startup error, process.exit), its lock goes with it.
  process.once("exit", release);
  return {
    describe(urls) {
      me.urls = urls;
      const temp = `${file}.${process.pid}`;
      fs.writeFileSync(temp, JSON.stringify(me));
      fs.renameSync(temp, file);
    },
    release() {
      process.removeListener("exit", release);
      release();
    },
  };
}

function create(file: string, holder: Holder): boolean {
  const temp = `${file}.${process.pid}`;
  fs.writeFileSync(temp, JSON.stringify(holder));
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return false;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

function read(file: string): Holder | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Holder;
  } catch {
    return undefined;
  }
}

/** A holder on another host (a shared folder) is taken at its word; on this one, by its pid. */
function running(holder: Holder): boolean {
  if (holder.host !== os.hostname()) return true;
  return holder.pid === process.pid || processAlive(holder.pid);
}
