import fs from "node:fs";
import path from "node:path";

export interface FileWatcher {
  /** Re-reads `files()` now: watches the folders of files new to it, lets go of the others. */
  refresh(): void;
  close(): void;
}

/**
 * Calls `onChange` with the files that changed among `files()`, a short while after the last
 * change (editors write a file in several steps). Watches the folders, not the files: an
 * editor that saves by replacing the file would end a watch on the file itself.
 *
 * The list is re-read when the promise `onChange` returns settles: a change that rebuilds is
 * what adds files (web.ts now imports ./lib/util.ts), and only when the rebuild is done does
 * `files()` include them. A newly listed file that was written while `onChange` ran is taken
 * for changed. A caller whose list changes otherwise calls `refresh()`. `onChange` handles
 * its own errors: a rejection is not caught here.
 */
export function watchFiles(files: () => string[], onChange: (changed: string[]) => void | Promise<void>, debounceMs = 120): FileWatcher {
  const watchers = new Map<string, fs.FSWatcher>();
  const changed = new Set<string>();
  // The last modification time seen of each listed file.
  const mtimes = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const mtime = (file: string) => {
    try {
      return fs.statSync(file).mtimeMs;
    } catch {
      return -1;
    }
  };

  const note = (file: string) => {
    changed.add(file);
    clearTimeout(timer);
    timer = setTimeout(flush, debounceMs);
  };

  const flush = () => {
    const batch = [...changed];
    changed.clear();
    const since = Date.now();
    void Promise.resolve(onChange(batch)).finally(() => refresh(since));
  };

  const onEvent = (dir: string) => (_event: string, name: string | null) => {
    if (!name || closed) return;
    const file = path.join(dir, name);
    if (!files().includes(file)) return;
    // Some saves fire without a change in content or time (an editor touching the folder).
    const now = mtime(file);
    if (now === mtimes.get(file)) return;
    mtimes.set(file, now);
    note(file);
  };

  /** `since`: when the batch whose onChange just settled was sent, if any. */
  const refresh = (since?: number) => {
    if (closed) return;
    const listed = new Set(files());
    const wanted = new Set([...listed].map((f) => path.dirname(f)));
    for (const file of mtimes.keys()) if (!listed.has(file)) mtimes.delete(file);
    for (const file of listed) {
      if (mtimes.has(file)) continue;
      const now = mtime(file);
      mtimes.set(file, now);
      if (since !== undefined && now >= since) note(file);
    }
    for (const [dir, watcher] of watchers) if (!wanted.has(dir)) (watcher.close(), watchers.delete(dir));
    for (const dir of wanted) {
      if (watchers.has(dir) || !fs.existsSync(dir)) continue;
      const watcher = fs.watch(dir, onEvent(dir));
      // The folder went away (deleted, renamed): a later refresh watches it again if it is back.
      watcher.on("error", () => {
        watcher.close();
        if (watchers.get(dir) === watcher) watchers.delete(dir);
      });
      watchers.set(dir, watcher);
    }
  };

  refresh();
  return {
    refresh: () => refresh(),
    close() {
      closed = true;
      clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
