// Time from navigation to the admin console's first page of students painted, in headless
// Chromium, for each view given: `bench/run --admin` starts the server (1,000,000 students)
// and runs this. Prints one JSON line: per view, every run's total and the API's share (the
// listStudents request, from the browser's resource timing).
//
//   node bench/admin/paint.mjs <base url> <username> <password> <runs> <view path>...
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const { chromium } = createRequire(join(here, "../../tests/browser/package.json"))("playwright-core");
const [base, username, password, runsText, ...views] = process.argv.slice(2);
const runs = Number(runsText);

const executablePath = process.env.CHROMIUM || execFileSync("bash", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
await page.goto(`${base}/admin`);
await page.getByLabel("Username").fill(username);
await page.getByLabel("Password").fill(password);
await page.getByLabel("Password").press("Enter");
await page.locator("table.students tbody tr").first().waitFor({ timeout: 60_000 });

const results = {};
for (const view of views) {
    const totals = [];
    const api = [];
    for (let i = 0; i < runs + 1; i++) {
        await page.goto(`${base}${view}`);
        await page.locator("table.students[aria-busy='false'] tbody tr").first().waitFor({ timeout: 60_000 });
        // After the next frame the rows are painted; performance.now() counts from navigation.
        const timing = await page.evaluate(
            () =>
                new Promise((resolve) =>
                    requestAnimationFrame(() =>
                        setTimeout(() => {
                            const list = performance
                                .getEntriesByType("resource")
                                .filter((e) => new URL(e.name).pathname === "/api/students");
                            const last = list.at(-1);
                            resolve({ total: performance.now(), api: last ? last.responseEnd - last.startTime : null });
                        }, 0),
                    ),
                ),
        );
        if (i === 0) continue; // a warm-up: the assets are cached from here on, as for a person
        totals.push(timing.total);
        api.push(timing.api);
    }
    results[view] = { totals, api };
}
await browser.close();
console.log(JSON.stringify(results));
