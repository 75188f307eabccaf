import fs from "node:fs";
import path from "node:path";

/**
 * Calls `onChange` with the files that changed among `files()`, a short while after the last
 * change (editors write a file in several steps). Watches the folders, not the files: an
 * editor that saves by replacing the file would end a watch on the file itself.
 */
export function watchFiles(files: () => string[], onChange: (changed: string[]) => void, debounceMs = 120) {
  const watchers = new Map<string, fs.FSWatcher>();
  const changed = new Set<string>();
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

  const refresh = () => {
    const wanted = new Set(files().map((f) => path.dirname(f)));
    for (const file of files()) if (!mtimes.has(file)) mtimes.set(file, mtime(file));
    for (const [dir, watcher] of watchers) if (!wanted.has(dir)) (watcher.close(), watchers.delete(dir));
    for (const dir of wanted) {
      if (watchers.has(dir) || !fs.existsSync(dir)) continue;
      const watcher = fs.watch(dir, (_event, name) => {
        if (!name || closed) return;
        const file = path.join(dir, name.toString());
        if (!files().includes(file)) return;
        // Some saves fire without a change in content or time (an editor touching the folder).
        const now = mtime(file);
        if (now === mtimes.get(file)) return;
        mtimes.set(file, now);
        changed.add(file);
        clearTimeout(timer);
        timer = setTimeout(() => {
          const batch = [...changed];
          changed.clear();
          onChange(batch);
          refresh();
        }, debounceMs);
      });
      watcher.on("error", () => watchers.delete(dir));
      watchers.set(dir, watcher);
    }
  };
  refresh();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
