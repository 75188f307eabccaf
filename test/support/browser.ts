import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { chromium, type Browser } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/**
 * Debian's chromium, headless, for the tests that drive a page (no browser download works
 * here). Missing, it is installed with apt-get when the tests run as root, and the test says
 * so; otherwise the error says what to install.
 */
export async function launchChromium(): Promise<Browser> {
  let executable = CANDIDATES.find((file) => fs.existsSync(file));
  if (!executable) {
    if (process.getuid?.() !== 0) throw new Error("no chromium found (looked for /usr/bin/chromium): install Debian's chromium package (sudo apt-get install chromium) and run the tests again");
    console.log("chromium is not installed: installing Debian's chromium package with apt-get for the browser tests");
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
    execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    executable = CANDIDATES.find((file) => fs.existsSync(file));
    if (!executable) throw new Error("apt-get installed chromium, yet /usr/bin/chromium is not there");
  }
  return chromium.launch({ executablePath: executable, headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-proxy-server"] });
}
