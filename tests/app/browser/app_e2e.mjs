// Drives the EmoCAST Studio app in Debian's Chromium with playwright-core.
//
// Run by tests/app/test_browser.py, which starts `python app.py` and passes:
//   APP_URL    the running app, e.g. http://127.0.0.1:7861/
//   ARTIFACTS  folder for screenshots and results.json
//   PORTRAIT   a portrait photo to upload       SPEECH  a short speech clip to upload
//   FACELESS   an image without a face          CHROMIUM  browser binary (default /usr/bin/chromium)
// Exits non-zero with a message on the first failed check; results.json records what was seen.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`set ${name}`);
  return value;
};
const APP_URL = env("APP_URL");
const ARTIFACTS = env("ARTIFACTS");
const PORTRAIT = env("PORTRAIT");
const SPEECH = env("SPEECH");
const FACELESS = env("FACELESS");
const CHROMIUM = env("CHROMIUM", "/usr/bin/chromium");
const SCENARIOS = env("SCENARIOS", "errors,generate,compare").split(","); // run a subset while debugging
const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];
const RENDER_TIMEOUT_MS = 90_000;
const STAGE_WORDS = /Reading the emotion|Listening|Finding the face|Planning|Rendering|Clip \d of \d|side by side/;

mkdirSync(ARTIFACTS, { recursive: true });
const results = {};
const log = (...args) => console.log("[browser]", ...args);

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

// The text of the next error toast; fails if none appears.
async function errorToast(page, timeout = 30_000) {
  const toast = page.locator('[data-testid="toast-body"].error [data-testid="toast-text"]').first();
  await toast.waitFor({ state: "visible", timeout });
  const text = (await toast.innerText()).trim();
  return text;
}

async function closeToasts(page) {
  for (const button of await page.locator('[data-testid="toast-close"]').all()) {
    await button.click().catch(() => {});
  }
}

// Click a button and watch the page until `done` resolves, remembering progress texts seen.
async function clickAndWatchProgress(page, button, done) {
  const seen = new Set();
  let finished = false;
  const watcher = (async () => {
    while (!finished) {
      const texts = await page
        .locator('[data-testid="status-tracker"] .progress-text, [data-testid="status-tracker"] .progress-level-inner, [data-testid="status-tracker"]')
        .allInnerTexts()
        .catch(() => []);
      for (const t of texts) for (const line of t.split("\n")) if (STAGE_WORDS.test(line)) seen.add(line.trim());
      await page.waitForTimeout(150);
    }
  })();
  await page.click(button);
  const disabled = await page
    .waitForFunction((sel) => document.querySelector(sel)?.disabled === true, button, { timeout: 5_000 })
    .then(() => true, () => false);
  try {
    return { value: await done(), seen: [...seen], disabledWhileRunning: disabled };
  } finally {
    finished = true;
    await watcher;
  }
}

// Wait for a <video> inside `selector` to load, play it muted for a moment and report its state.
async function playableVideo(page, selector, timeout = RENDER_TIMEOUT_MS) {
  const video = page.locator(`${selector} video`).first();
  await video.waitFor({ state: "attached", timeout });
  return await video.evaluate(async (v) => {
    const wait = (event) => new Promise((resolve, reject) => {
      v.addEventListener(event, resolve, { once: true });
      v.addEventListener("error", () => reject(new Error(`video error ${v.error && v.error.code}`)), { once: true });
    });
    if (v.readyState < 1) await wait("loadedmetadata");
    v.muted = true;
    await v.play();
    await new Promise((r) => setTimeout(r, 700));
    const state = {
      src: v.currentSrc, width: v.videoWidth, height: v.videoHeight, duration: v.duration,
      currentTime: v.currentTime, paused: v.paused, error: v.error ? v.error.code : null,
    };
    v.pause();
    return state;
  }, null, { timeout });
}

async function choosePreset(page) {
  await page.click("#preset input");
  const option = page.getByRole("option").first();
  const name = (await option.getAttribute("aria-label")) ?? (await option.innerText()).trim();
  await option.click();
  await page.waitForFunction(() => document.querySelector("#prompt textarea")?.value.trim().length > 0, null, { timeout: 10_000 });
  return { preset: name, prompt: await page.inputValue("#prompt textarea") };
}

async function errors(page) {
  await page.goto(APP_URL);
  await page.waitForSelector("#generate-btn");
  await page.click("#generate-btn");
  const nothing = await errorToast(page);
  check(/portrait/i.test(nothing), `no upload -> a message about the portrait, got "${nothing}"`);
  await closeToasts(page);

  await page.setInputFiles("#portrait input[type=file]", FACELESS);
  await page.locator("#speech-examples").getByRole("button", { name: /hello_en/ }).click();
  await page.locator("#speech audio").first().waitFor({ state: "attached", timeout: 15_000 });
  await choosePreset(page);
  await page.locator("#portrait img").first().waitFor({ timeout: 15_000 });
  await page.click("#generate-btn");
  const noFace = await errorToast(page, RENDER_TIMEOUT_MS);
  await shot(page, "01_faceless_error");
  check(/face/i.test(noFace), `faceless image -> a message about the face, got "${noFace}"`);
  const body = await page.locator("body").innerText();
  check(!/Traceback|File ".*", line/.test(body), "the page shows a stack trace");
  results.errors = { nothingUploaded: nothing, faceless: noFace };
  log("errors ok:", JSON.stringify(results.errors));
}

async function generate(page) {
  await page.goto(APP_URL);
  await page.waitForSelector("#generate-btn");
  await page.setInputFiles("#portrait input[type=file]", PORTRAIT);
  await page.setInputFiles("#speech input[type=file]", SPEECH);
  const { preset, prompt } = await choosePreset(page);
  await page.getByText("Advanced options").click();
  await page.locator("#size label", { hasText: /^\s*256\s*$/ }).click();
  await page.locator("#portrait img").first().waitFor({ timeout: 15_000 });
  await page.locator("#speech audio").first().waitFor({ state: "attached", timeout: 15_000 });
  await shot(page, "02_generate_ready");
  const run = await clickAndWatchProgress(page, "#generate-btn", () => playableVideo(page, "#result"));
  const video = run.value;
  await page.waitForFunction(() => !document.querySelector("#generate-btn").disabled, null, { timeout: 10_000 });
  const plan = await page.locator("#plan").innerText();
  const plotDrawn = await page.locator("#plot img, #plot svg, #plot canvas").count();
  await shot(page, "03_generate_result");
  results.generate = { preset, prompt, video, plan, plotDrawn, progress: run.seen, disabledWhileRunning: run.disabledWhileRunning };
  log("generate ok:", JSON.stringify(results.generate));
  check(video.error === null && video.width === 256 && video.height === 256, `a 256x256 video, got ${JSON.stringify(video)}`);
  check(video.duration > 1 && video.currentTime > 0, `the video plays, got ${JSON.stringify(video)}`);
  check(/Emotion:/.test(plan), `the emotion plan is shown, got "${plan}"`);
  check(plotDrawn > 0, "the intensity plot is drawn");
  check(run.disabledWhileRunning, "the Generate button is disabled while generating");
  check(run.seen.length > 0, "a progress bar with stage names was shown");
}

async function compare(page) {
  await page.goto(APP_URL);
  await page.getByRole("tab", { name: "Compare" }).click();
  await page.waitForSelector("#compare-btn");
  // the first example is the first portrait with the first (shortest) speech clip
  await page.locator("#compare-examples tbody tr, #compare-examples .gallery-item").first().click();
  await page.locator("#c-portrait img").first().waitFor({ timeout: 15_000 });
  const prompts = [await page.inputValue("#c-prompt1 textarea, #c-prompt1 input"), await page.inputValue("#c-prompt2 textarea, #c-prompt2 input")];
  check(prompts.every((p) => p.trim().length > 0), `two prompts are prefilled, got ${JSON.stringify(prompts)}`);
  const run = await clickAndWatchProgress(page, "#compare-btn", () => playableVideo(page, "#c-grid"));
  const grid = run.value;
  const cells = [await playableVideo(page, "#c-result1", 10_000), await playableVideo(page, "#c-result2", 10_000)];
  const hiddenCells = await page.locator("#c-result3 video, #c-result4 video").count();
  const download = await page.locator("#c-grid-file a[href], #c-grid-file a[download]").count();
  await shot(page, "04_compare_result");
  results.compare = { prompts, grid, cells, hiddenCells, download, progress: run.seen };
  log("compare ok:", JSON.stringify(results.compare));
  check(cells.every((c) => c.width === 256 && c.currentTime > 0), `two playable 256px results, got ${JSON.stringify(cells)}`);
  check(grid.error === null && grid.width === 512 && grid.height > 256 && grid.currentTime > 0, `a playable 2-cell grid, got ${JSON.stringify(grid)}`);
  check(Math.abs(grid.duration - cells[0].duration) < 0.5, `grid and clips last as long, got ${grid.duration} vs ${cells[0].duration}`);
  check(hiddenCells === 0, "unused cells stay hidden");
  check(download > 0, "the grid can be downloaded");
}

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
let failed = null;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  page.on("pageerror", (e) => log("page error:", e.message));
  for (const [name, scenario] of [["errors", errors], ["generate", generate], ["compare", compare]]) {
    if (!SCENARIOS.includes(name)) continue;
    const t0 = Date.now();
    try {
      await scenario(page);
    } catch (e) {
      await shot(page, `failed_${name}`).catch(() => {});
      throw e;
    } finally {
      results[`${name}_seconds`] = (Date.now() - t0) / 1000;
    }
  }
} catch (e) {
  failed = e;
} finally {
  writeFileSync(join(ARTIFACTS, "results.json"), JSON.stringify(results, null, 1));
  await browser.close();
}
if (failed) {
  console.error(failed.stack || String(failed));
  process.exit(1);
}
log("all scenarios passed");
