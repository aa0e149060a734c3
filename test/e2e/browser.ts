import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

/** Debian's chromium; CI's .ci/run installs it with apt-get. Browsers are never downloaded. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Launches headless chromium with the flags of DEVELOPERS.md (no sandbox in containers, no background traffic). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install it with \`apt-get update && apt-get install -y chromium\``);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
}

const webDir = fileURLToPath(new URL("../../web/", import.meta.url));

/**
 * Builds the web app into a fresh temporary directory (the gateway serves it via
 * WEB_DIST_DIR), so the test runs the current source and never races a developer's
 * `web/dist`. Returns the directory and a function that removes it.
 */
export async function buildWebApp(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "sovd-web-"));
  const vite = join(dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin", "vite.js");
  await promisify(execFile)(process.execPath, [vite, "build", "--outDir", dir, "--emptyOutDir", "--logLevel", "error"], { cwd: webDir });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A page whose console errors and uncaught exceptions are collected: the app must have none. */
export interface WatchedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly problems: string[];
}

/** Opens a fresh browser context (its own sessionStorage, so its own session) on `baseUrl`. */
export async function openPage(browser: Browser, baseUrl: string, viewport = { width: 1280, height: 800 }): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console.error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`uncaught: ${err.message}`));
  return { context, page, problems };
}

/** Signs in through the login form and waits for the fleet screen. */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto("/");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Fleet", level: 1, exact: true }).waitFor();
}
