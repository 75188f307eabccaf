import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { watchFiles, type FileWatcher } from "../../src/dev/watch.ts";

const DEBOUNCE_MS = 30;
const dirs: string[] = [];
const watchers: FileWatcher[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A project folder with these files (relative name → text); returns its absolute path. */
function project(files: Record<string, string>): string {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "twelve-watch-")));
  dirs.push(root);
  for (const [name, text] of Object.entries(files)) write(path.join(root, name), text);
  return root;
}

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** Watches `list` (read live, so a test may change it), recording every batch. */
function watch(list: string[], onChange?: (changed: string[]) => void | Promise<void>) {
  const batches: string[][] = [];
  const watcher = watchFiles(() => list, (changed) => {
    batches.push(changed.map((f) => path.basename(f)).sort());
    return onChange?.(changed);
  }, DEBOUNCE_MS);
  watchers.push(watcher);
  return { batches, watcher };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe("watchFiles", () => {
  it("reports an edit once, after the writes that make it settle", async () => {
    const root = project({ "web.ts": "1", "other.ts": "1" });
    const web = path.join(root, "web.ts");
    const { batches } = watch([web, path.join(root, "other.ts")]);
    // An editor's save: truncate, write, write again.
    fs.writeFileSync(web, "");
    fs.writeFileSync(web, "2");
    fs.appendFileSync(web, "3");
    await until(() => batches.length === 1, "the edit");
    // Another file as a marker: nothing more about web.ts comes before it.
    write(path.join(root, "other.ts"), "2");
    await until(() => batches.length === 2, "the marker");
    expect(batches).toEqual([["web.ts"], ["other.ts"]]);
  });

  it("watches a file in a new folder once the change that imports it has been handled", async () => {
    const root = project({ "web.ts": "export {};", "lib/util.ts": "export const a = 1;" });
    const web = path.join(root, "web.ts");
    const util = path.join(root, "lib", "util.ts");
    const list = [web];
    let rebuilt = false;
    const { batches } = watch(list, async () => {
      // Like the supervisor: the new import shows in the list only once the rebuild is done.
      await sleep(50);
      list.push(util);
      rebuilt = true;
    });
    write(web, 'import "./lib/util.ts";');
    await until(() => rebuilt, "the rebuild");
    write(util, "export const a = 2;");
    await until(() => batches.length === 2, "the edit in lib/");
    expect(batches).toEqual([["web.ts"], ["util.ts"]]);
  });

  it("takes a newly listed file written during the rebuild for changed", async () => {
    const root = project({ "web.ts": "export {};", "lib/util.ts": "export const a = 1;" });
    const web = path.join(root, "web.ts");
    const util = path.join(root, "lib", "util.ts");
    const list = [web];
    const { batches } = watch(list, async (changed) => {
      if (!changed.includes(web)) return;
      await sleep(20);
      write(util, "export const a = 2;"); // saved after the build read it
      list.push(util);
    });
    write(web, 'import "./lib/util.ts";');
    await until(() => batches.length === 2, "the second batch");
    expect(batches).toEqual([["web.ts"], ["util.ts"]]);
  });

  it("refresh() watches a file in a new folder added to the list, with no change before", async () => {
    const root = project({ "web.ts": "1", "lib/util.ts": "1" });
    const util = path.join(root, "lib", "util.ts");
    const list = [path.join(root, "web.ts")];
    const { batches, watcher } = watch(list);
    list.push(util);
    watcher.refresh();
    write(util, "2");
    await until(() => batches.length === 1, "the edit in lib/");
    expect(batches).toEqual([["util.ts"]]);
  });

  it("no longer reports a file removed from the list, in its own folder or one it shares", async () => {
    const root = project({ "web.ts": "1", "old.ts": "1", "lib/util.ts": "1" });
    const web = path.join(root, "web.ts");
    const list = [web, path.join(root, "old.ts"), path.join(root, "lib", "util.ts")];
    const { batches, watcher } = watch(list);
    list.splice(1, 2);
    watcher.refresh();
    write(path.join(root, "old.ts"), "2");
    write(path.join(root, "lib", "util.ts"), "2");
    write(web, "2");
    await until(() => batches.flat().includes("web.ts"), "web.ts");
    expect(batches).toEqual([["web.ts"]]);
  });

  it("close() stops everything: a pending batch, later edits, a refresh still to come", async () => {
    const root = project({ "web.ts": "1", "lib/util.ts": "1" });
    const web = path.join(root, "web.ts");
    const util = path.join(root, "lib", "util.ts");
    const list = [web];
    let release = () => {};
    const closing = watch(list, () => new Promise<void>((resolve) => (release = resolve)));
    // A second watcher on the same files tells when the closed one would have spoken.
    const marker = watch([web, util]);

    write(web, "2");
    await until(() => closing.batches.length === 1, "the first batch");
    write(web, "3");
    closing.watcher.close(); // within the debounce of the second edit
    list.push(util);
    release(); // the refresh after it must not watch lib/
    write(util, "2");
    await until(() => marker.batches.flat().includes("util.ts"), "the marker");
    // Count from here: under load the marker may merge the earlier edits into one batch.
    const webBatches = () => marker.batches.filter((b) => b.includes("web.ts")).length;
    const before = webBatches();
    write(web, "4");
    await until(() => webBatches() > before, "the marker");
    expect(closing.batches).toEqual([["web.ts"]]);
  });
});
