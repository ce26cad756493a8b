// The admin console (/admin) in a real browser, as the people who run a school's records use it.
//
// What this proves, step by step, reading only what the page shows (the API is called directly
// only to set the scene, to play "another person", and to confirm what was stored):
//   sign-in (and the page's own strict CSP and frame refusal, no console error anywhere);
//   create with a bad body (every field error inline, the server's 409 on the e-mail), then a
//   good one (the row appears); an edit whose ETag went stale while the form was open (the
//   form says who changed it, live; the 412 dialog shows their change; "keep mine" and "take
//   theirs" each do what they say); search, grade filter, sort both ways, and paging through
//   250 students with next/back; delete and undo; restore an old version from the history;
//   select every student matching a filter, delete them and undo it as one step; a CSV import
//   with one bad row (the dry run names its line and field; nothing is written); changes made
//   by another client appearing live (new, changed, deleted); a session revoked elsewhere
//   returning to sign-in with the reason and the same page; a viewer seeing no edit control;
//   the create form by keyboard alone (and `/`, `n`, arrows, Escape); axe-core on every
//   screen (no serious or critical violation), light and dark; no page-wide horizontal scroll
//   at 360 px. Screenshots (list, form with errors, conflict dialog, history at 1,440 and
//   360 px) go to $SCREENSHOT_DIR.
//
// Needs $STUDENTS_API_URL, $STUDENTS_API_TOKEN, $STUDENTS_API_USERNAME, $STUDENTS_API_PASSWORD
// (clients/with-server sets them, on a fresh database), Debian's chromium, and npm ci here.
// Exits 1 on the first failure with what it saw; never runs longer than 3 minutes.
//
//   clients/with-server node tests/browser/admin.mjs

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const NAME = "admin-console";
const OVERALL_TIMEOUT_MS = 180_000;
const STEP_TIMEOUT_MS = 15_000;
const STUDENTS = 250;

let step = "start";
let passed = 0;
let browser;
const problems = []; // console errors and page errors, from every page
const startedAt = Date.now();

function env(name) {
    const value = process.env[name];
    if (!value) fail(`$${name} is not set (run it under clients/with-server)`);
    return value;
}

function redact(text) {
    let out = String(text).replace(/sat_[0-9A-Za-z]{28}/g, "sat_…");
    for (const secret of [process.env.STUDENTS_API_PASSWORD, VIEWER_PASSWORD]) {
        if (secret) out = out.split(secret).join("<password>");
    }
    return out;
}

function fail(message) {
    console.error(redact(`${NAME}: FAIL at "${step}": ${message}`));
    if (problems.length) console.error(redact(`${NAME}: console errors so far:\n  ${problems.join("\n  ")}`));
    console.error(`${passed} passed, 1 failed`);
    process.exit(1);
}

function check(what, ok, detail = "") {
    if (!ok) throw new Error(`${what}${detail ? `: ${detail}` : ""}`);
    passed += 1;
    console.log(redact(`ok ${passed} - ${what}${detail ? ` (${detail})` : ""}`));
}

const watchdog = setTimeout(() => fail(`timed out after ${OVERALL_TIMEOUT_MS / 1000} s`), OVERALL_TIMEOUT_MS);

const VIEWER_PASSWORD = "viewer-passphrase-of-some-length";
const base = env("STUDENTS_API_URL").replace(/\/+$/, "");
const token = env("STUDENTS_API_TOKEN");
const username = env("STUDENTS_API_USERNAME");
const password = env("STUDENTS_API_PASSWORD");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const shots = process.env.SCREENSHOT_DIR || mkdtempSync(join(tmpdir(), `${NAME}-`));
mkdirSync(shots, { recursive: true });

// The scene and the other people: the API itself, with the all-scopes token.
async function api(method, path, { body, headers = {}, as = token, raw = false } = {}) {
    const response = await fetch(base + path, {
        method,
        headers: {
            Authorization: `Bearer ${as}`,
            ...(body !== undefined && typeof body !== "string" ? { "Content-Type": "application/json" } : {}),
            ...headers,
        },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    if (raw) return response;
    const text = await response.text();
    return { status: response.status, etag: response.headers.get("etag"), body: text ? JSON.parse(text) : null };
}

async function countWhere(query) {
    const page = await api("GET", `/api/students?limit=1&count=exact&${query}`);
    return page.body.total;
}

function chromiumPath() {
    if (process.env.CHROMIUM) return process.env.CHROMIUM;
    try {
        return execFileSync("bash", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
    } catch {
        fail("no `chromium` on PATH: apt-get install -y chromium");
    }
}

async function newPage(context) {
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on("console", (message) => {
        // The refusals this run provokes on purpose (a wrong password, a taken e-mail, a stale
        // ETag, a revoked session) are logged by Chromium as failed loads: not the page's errors.
        if (message.type() !== "error" || /the server responded with a status of 4\d\d/.test(message.text())) return;
        problems.push(`${page.url()}: console: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`${page.url()}: page error: ${error.message}`));
    return page;
}

// axe-core, injected through the debugging protocol (the page's CSP allows no inline script,
// and is not loosened for the test).
async function axe(page, screen) {
    await page.evaluate(axeSource);
    const result = await page.evaluate(async () => {
        // biome-ignore lint: axe is the global the injected script defines.
        const { violations } = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } });
        return violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
    });
    const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
    check(`axe: no serious or critical violation on ${screen}`, bad.length === 0, bad.length ? JSON.stringify(bad) : `${result.length} minor`);
}

async function noSideScroll(page, screen) {
    const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth }));
    check(`no page-wide horizontal scroll at ${width} px on ${screen}`, scroll <= width, `scrollWidth ${scroll}`);
}

function firstDifference(a, b) {
    const left = a.split("\n");
    const right = b.split("\n");
    const at = left.findIndex((line, i) => line !== right[i]);
    return at < 0 ? `${left.length} lines` : `line ${at}: ${JSON.stringify(left[at])} vs ${JSON.stringify(right[at])}`;
}

async function shot(page, name) {
    await page.screenshot({ path: join(shots, `${name}.png`) });
}

// Both widths the README shows: 1,440 px, and 360 px (a phone), each checked for side scroll.
async function shotBothWidths(page, name) {
    await shot(page, `${name}-1440`);
    await page.setViewportSize({ width: 360, height: 780 });
    await noSideScroll(page, name);
    await shot(page, `${name}-360`);
    await page.setViewportSize({ width: 1440, height: 900 });
}

async function signIn(page, user, secret) {
    await page.getByLabel("Username").fill(user);
    await page.getByLabel("Password").fill(secret);
    await page.getByLabel("Password").press("Enter");
    await page.getByText("Signed in as").waitFor();
}

function rowNames(page) {
    return page.locator("table.students tbody tr td.col-name a").allInnerTexts();
}

// The list shows the page loaded for the current address (the feed's stream never lets the
// network go idle, so that is not the signal).
async function waitForList(page) {
    await page.waitForFunction(() => {
        const table = document.querySelector("table.students");
        return table && table.getAttribute("aria-busy") === "false" && table.dataset.loadedFor === location.pathname + location.search;
    });
}

async function main() {
    step = "set the scene: 250 students, a viewer account";
    const grades = ["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D", "F"];
    const csv = ["name,grade,email"];
    for (let i = 1; i <= STUDENTS; i++) {
        csv.push(`Pupil ${String(i).padStart(3, "0")},${grades[i % grades.length]},${i % 3 === 0 ? "" : `pupil${i}@example.com`}`);
    }
    const imported = await api("POST", "/api/students/import", { body: `${csv.join("\n")}\n`, headers: { "Content-Type": "text/csv" } });
    check("250 students imported through the API", imported.status === 201, `${imported.status}`);
    const viewer = await api("POST", "/api/accounts", { body: { username: "vera", display_name: "Vera Viewer", role: "viewer", password: VIEWER_PASSWORD } });
    check("a viewer account exists", viewer.status === 201, `${viewer.status}`);

    step = "launch Chromium";
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ["--no-sandbox"] });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    const page = await newPage(context);

    // 1. The page, its policy, and signing in.
    step = "1. open /admin";
    const opened = await page.goto(`${base}/admin`);
    const headers = opened.headers();
    check("/admin answers 200 with HTML", opened.status() === 200 && headers["content-type"].startsWith("text/html"));
    const csp = headers["content-security-policy"] ?? "";
    check(
        "its CSP allows scripts and styles from itself only, nothing inline or eval'd",
        /script-src 'self'(;|$)/.test(csp) && /style-src 'self'(;|$)/.test(csp) && !csp.includes("unsafe") && csp.includes("frame-ancestors 'none'"),
        csp,
    );
    check("X-Frame-Options: DENY", headers["x-frame-options"] === "DENY");
    const assetUrl = await page.locator("script[type=module]").getAttribute("src");
    const asset = await fetch(base + assetUrl);
    check(
        "assets have hashed names and a year's immutable cache",
        /\/admin\/assets\/app-[0-9a-f]{12}\.js$/.test(assetUrl) && /max-age=31536000.*immutable/.test(asset.headers.get("cache-control")),
        `${assetUrl}: ${asset.headers.get("cache-control")}`,
    );
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await axe(page, "sign-in");
    step = "1. sign in";
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill("not the password at all");
    await page.getByLabel("Password").press("Enter");
    await page.getByRole("alert").filter({ hasText: "do not match" }).waitFor();
    check("a wrong password is refused on the form", true);
    await signIn(page, username, password);
    const who = await page.locator(".who").innerText();
    check("the header names who is signed in and the role", who.includes("admin") && /admin/i.test(await page.locator(".role").innerText()), who);
    await waitForList(page);

    // 2. The list: estimate, exact count on a click, search, filters, sort, paging.
    step = "2. the list";
    let names = await rowNames(page);
    check("the list shows the newest students first, 20 a page", names.length === 20 && names[0] === "Pupil 250", names.slice(0, 2).join(", "));
    const estimate = await page.locator(".count").innerText();
    check("the count is the planner's estimate, labelled as such", /^about [0-9.]+( thousand)? students/.test(estimate), estimate);
    await page.getByRole("button", { name: "Count exactly" }).click();
    await page.locator(".count", { hasText: "250 students" }).waitFor();
    check("the exact count comes on a click", (await page.locator(".count").innerText()).startsWith("250 students"));
    await axe(page, "the list");
    await shotBothWidths(page, "list");

    step = "2. search";
    await page.getByLabel("Search", { exact: true }).fill("Pupil 12");
    await page.getByLabel("Search", { exact: true }).press("Enter");
    await page.waitForURL(/q=Pupil\+12/);
    await waitForList(page);
    names = await rowNames(page);
    const matching = await countWhere("q=Pupil+12");
    check("search narrows the list (q in the URL)", matching === 10 && names.length === matching && names.every((n) => n.startsWith("Pupil 12")), names.join(", "));
    await page.getByRole("link", { name: "Clear filters" }).click();
    await waitForList(page);

    step = "2. filter by two grades";
    await page.getByRole("checkbox", { name: "A", exact: true }).check();
    await page.waitForURL(/grade=A(&|$)/);
    await waitForList(page);
    await page.getByRole("checkbox", { name: "B", exact: true }).check();
    await page.waitForURL(/grade=A&grade=B/);
    await waitForList(page);
    const filteredGrades = await page.locator("table.students tbody td.col-grade").allInnerTexts();
    const expectedAB = await countWhere("grade=A&grade=B");
    check("grade filters combine (both in the URL)", filteredGrades.length === Math.min(20, expectedAB) && filteredGrades.every((g) => g === "A" || g === "B"), filteredGrades.join(" "));
    await page.getByLabel("E-mail", { exact: true }).selectOption("false");
    await waitForList(page);
    const withoutEmail = await page.locator("table.students tbody td.col-email").allInnerTexts();
    check("has-e-mail filter", withoutEmail.length === (await countWhere("grade=A&grade=B&has_email=false")) && withoutEmail.every((e) => e === "none"), `${withoutEmail.length} rows`);
    const today = new Date().toISOString().slice(0, 10);
    await page.getByLabel("Created from").fill(today);
    await page.getByLabel("Created to").fill(today);
    await page.getByLabel("Created to").dispatchEvent("change");
    await page.waitForURL(/created_to=/);
    await waitForList(page);
    check("created-between filter keeps today's students", (await rowNames(page)).length === withoutEmail.length);
    const link = page.url();
    await page.goto(`${base}/admin`);
    await waitForList(page);
    await page.goto(link);
    await waitForList(page);
    check("a link reproduces the filtered view", (await page.getByLabel("E-mail", { exact: true }).inputValue()) === "false" && (await page.getByRole("checkbox", { name: "B", exact: true }).isChecked()));
    await page.getByRole("link", { name: "Clear filters" }).click();
    await waitForList(page);

    step = "2. sort both ways";
    await page.getByRole("button", { name: "Name", exact: true }).click();
    await page.waitForURL(/sort=name/);
    await waitForList(page);
    names = await rowNames(page);
    check("Name sorts ascending", names[0] === "Pupil 001" && (await page.locator("th.col-name").getAttribute("aria-sort")) === "ascending", names[0]);
    await page.getByRole("button", { name: "Name", exact: true }).click();
    await page.waitForURL(/sort=-name/);
    await waitForList(page);
    names = await rowNames(page);
    check("and again descending", names[0] === "Pupil 250" && (await page.locator("th.col-name").getAttribute("aria-sort")) === "descending", names[0]);

    step = "2. page through all 250";
    await page.getByLabel("Per page").selectOption("50");
    await waitForList(page);
    const seenNames = new Set(await rowNames(page));
    let pages = 1;
    while (await page.getByRole("link", { name: "Next page" }).count()) {
        await page.getByRole("link", { name: "Next page" }).click();
        await waitForList(page);
        for (const name of await rowNames(page)) seenNames.add(name);
        pages += 1;
    }
    check("Next page walks every student exactly once", seenNames.size === STUDENTS && pages === 5, `${seenNames.size} in ${pages} pages`);
    const lastFirst = (await rowNames(page))[0];
    await page.goBack();
    await waitForList(page);
    const backFirst = (await rowNames(page))[0];
    check("the browser's back button returns to the previous page", backFirst !== lastFirst && (await page.locator(".pager").innerText()).includes("Page 4"), `${backFirst}`);
    await page.getByRole("link", { name: "Previous page" }).click();
    await waitForList(page);
    check("Previous page goes one page back", (await page.locator(".pager").innerText()).includes("Page 3"));
    await page.goto(`${base}/admin`);
    await waitForList(page);

    // 3. Create: bad, taken e-mail, then good.
    step = "3. create with a bad body";
    await page.getByRole("link", { name: "New student" }).click();
    await page.getByRole("heading", { name: "New student" }).waitFor();
    await page.getByLabel(/^E-mail/).fill("not an address");
    await page.getByRole("button", { name: "Create student" }).click();
    const fieldErrors = await page.locator(".field-error").allInnerTexts();
    check("every bad field is marked next to it", fieldErrors.length === 3, fieldErrors.join(" | "));
    check("focus moves to the first bad field", await page.locator("#field-name").evaluate((el) => el === document.activeElement));
    await page.getByLabel(/^Name/).fill("Grace Hopper");
    await page.getByLabel(/^Grade/).selectOption("A+");
    await page.getByLabel(/^E-mail/).fill("pupil1@example.com");
    await page.getByRole("button", { name: "Create student" }).click();
    await page.locator("#error-email").waitFor();
    check("the server's 409 (e-mail taken) is shown on the e-mail field", /already|taken|used/i.test(await page.locator("#error-email").innerText()), await page.locator("#error-email").innerText());
    await page.getByLabel(/^Name/).fill("\u{E0047}\u{E0048}");
    await page.getByLabel(/^E-mail/).fill("grace@example.com");
    await page.getByRole("button", { name: "Create student" }).click();
    await page.locator("#error-name").waitFor();
    check("the server's 422 (a name the browser cannot judge) is shown on the name field", (await page.locator("#error-name").innerText()).length > 0, await page.locator("#error-name").innerText());
    await axe(page, "the form with errors");
    await shotBothWidths(page, "form-errors");
    step = "3. create with a good body";
    await page.getByLabel(/^Name/).fill("Grace Hopper");
    await page.getByRole("button", { name: "Create student" }).click();
    await page.waitForURL(`${base}/admin`);
    await waitForList(page);
    check("the new student is the list's first row", (await rowNames(page))[0] === "Grace Hopper");
    const grace = (await api("GET", "/api/students?q=Grace+Hopper")).body.items[0];
    check("and is stored", grace?.email === "grace@example.com" && grace.grade === "A+");

    // 4. Edit with a stale ETag: live notice, then the 412 choice, both ways.
    step = "4. edit while someone else saves";
    await page.goto(`${base}/admin/students/${grace.id}`);
    await page.getByRole("heading", { name: "Edit Grace Hopper" }).waitFor();
    await page.waitForTimeout(300); // the feed's stream is open
    const first = await api("GET", `/api/students/${grace.id}`);
    await api("PATCH", `/api/students/${grace.id}`, { body: { name: "Grace B. Hopper" }, headers: { "If-Match": first.etag } });
    await page.locator(".banner", { hasText: "Changed by" }).waitFor();
    check("the open form says someone else changed the student, live", (await page.locator(".banner", { hasText: "Changed by" }).innerText()).includes("just now"));
    await page.getByLabel(/^Grade/).selectOption("B");
    await page.getByRole("button", { name: "Save" }).click();
    const conflict = page.getByRole("dialog", { name: "Someone else saved this student first" });
    await conflict.waitFor();
    const conflictText = await conflict.innerText();
    check("a 412 shows what they changed, field by field, and who", conflictText.includes("Grace B. Hopper") && /changed by/.test(conflictText), conflictText.replace(/\s+/g, " ").slice(0, 200));
    await axe(page, "the conflict dialog");
    await shotBothWidths(page, "conflict");
    await conflict.getByRole("button", { name: "Keep mine (overwrite)" }).click();
    await page.waitForURL(`${base}/admin`);
    let stored = (await api("GET", `/api/students/${grace.id}`)).body;
    check("keep mine overwrites with my values", stored.name === "Grace Hopper" && stored.grade === "B", JSON.stringify(stored));

    await page.goto(`${base}/admin/students/${grace.id}`);
    await page.getByRole("heading", { name: "Edit Grace Hopper" }).waitFor();
    const second = await api("GET", `/api/students/${grace.id}`);
    await api("PATCH", `/api/students/${grace.id}`, { body: { email: "hopper@example.com" }, headers: { "If-Match": second.etag } });
    await page.getByLabel(/^Grade/).selectOption("C");
    await page.getByRole("button", { name: "Save" }).click();
    await conflict.waitFor();
    await conflict.getByRole("button", { name: "Take theirs" }).click();
    check("take theirs puts their values in the form", (await page.getByLabel(/^E-mail/).inputValue()) === "hopper@example.com" && (await page.getByLabel(/^Grade/).inputValue()) === "B");
    stored = (await api("GET", `/api/students/${grace.id}`)).body;
    check("and saves nothing", stored.grade === "B" && stored.email === "hopper@example.com");

    // 5. History and restore.
    step = "5. history, restore an old version";
    await page.getByRole("link", { name: "History" }).click();
    await page.getByRole("heading", { name: "History of Grace Hopper" }).waitFor();
    const entries = page.locator("ol.history > li");
    check("the history lists every change, newest first", (await entries.count()) === 4 && (await entries.first().innerText()).includes("hopper@example.com"));
    check("it names who made each change", (await entries.last().innerText()).includes(`Created by ${username}`));
    await axe(page, "the history");
    await shotBothWidths(page, "history");
    await entries.last().getByRole("button", { name: "Restore this version" }).click();
    await page.locator("ol.history > li").nth(4).waitFor();
    stored = (await api("GET", `/api/students/${grace.id}`)).body;
    check("restore brings back the first version", stored.grade === "A+" && stored.email === "grace@example.com" && stored.name === "Grace Hopper", JSON.stringify(stored));
    check("recorded as a change of its own", (await entries.first().innerText()).includes("restored version 1"));

    // 6. Delete and undo.
    step = "6. delete and undo";
    await page.goto(`${base}/admin`);
    await waitForList(page);
    await page.getByRole("checkbox", { name: "Select Grace Hopper" }).check();
    await page.getByRole("button", { name: "Delete…" }).click();
    const confirm = page.getByRole("dialog", { name: "Delete students?" });
    check("delete asks first, with the count", (await confirm.innerText()).includes("1 student will be deleted"));
    await confirm.getByRole("button", { name: "Delete 1 student" }).click();
    await page.getByText("Deleted Grace Hopper.").waitFor();
    check("the deleted row leaves the list", !(await rowNames(page)).includes("Grace Hopper"));
    check("and is gone on the server", (await api("GET", `/api/students/${grace.id}`)).status === 404);
    await page.locator(".notice").getByRole("button", { name: "Undo" }).click();
    await page.getByText("Restored.").waitFor();
    check("undo brings it back (a restore on the server)", (await api("GET", `/api/students/${grace.id}`)).status === 200);

    // 7. Bulk: every student matching a filter, deleted and undone as one step.
    step = "7. bulk delete a filter, undo";
    const fCount = await countWhere("grade=F");
    await page.goto(`${base}/admin?grade=F&limit=10`);
    await waitForList(page);
    await page.getByRole("checkbox", { name: "Select every student on this page" }).check();
    await page.getByRole("button", { name: /^Select all .* matching the filter$/ }).click();
    await page.getByRole("button", { name: "Delete…" }).click();
    await page.getByRole("dialog", { name: "Delete students?" }).getByRole("button", { name: "Delete all matching" }).click();
    await page.getByText(`Deleted ${fCount} students.`).waitFor();
    check(`all ${fCount} grade-F students (more than a page) are deleted`, fCount > 10 && (await countWhere("grade=F")) === 0);
    await page.locator(".notice").getByRole("button", { name: "Undo" }).click();
    await page.getByText(`Restored ${fCount} students.`).waitFor({ timeout: 30_000 });
    check("one Undo restores them all", (await countWhere("grade=F")) === fCount);

    step = "7. bulk export: the selection's CSV is the server's export of the same students";
    await page.goto(`${base}/admin?q=Pupil+00`);
    await waitForList(page);
    const serverExport = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export these as CSV" }).click();
    const serverCsv = readFileSync(await (await serverExport).path(), "utf8");
    await page.getByRole("checkbox", { name: "Select every student on this page" }).check();
    const selectionExport = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export CSV" }).click();
    const selectionCsv = readFileSync(await (await selectionExport).path(), "utf8");
    // Byte for byte, but in one order (the list's and the selection's differ).
    const sorted = (file) => [file.split("\n")[0], ...file.trimEnd().split("\n").slice(1).sort()].join("\n") + (file.endsWith("\n") ? "\n" : "");
    const sortedServer = sorted(serverCsv);
    const sortedSelection = sorted(selectionCsv);
    check("the selection's CSV equals the server's export", sortedServer === sortedSelection && serverCsv.split("\n").length > 5, firstDifference(sortedServer, sortedSelection));

    step = "7. bulk change of grade";
    await page.getByLabel("New grade").selectOption("D");
    await page.getByRole("button", { name: "Change grade" }).click();
    await page.getByText(/^Grade D given to 9 students\.$/).waitFor();
    const regraded = (await api("GET", "/api/students?q=Pupil+00")).body.items.map((s) => s.grade);
    check("the selection's grade is changed", regraded.length === 9 && regraded.every((g) => g === "D"), regraded.join(" "));

    // 8. Import with one bad row.
    step = "8. import a CSV with one bad row";
    const before = await countWhere("");
    await page.getByRole("link", { name: "Import" }).click();
    await page.getByLabel("File").setInputFiles({
        name: "roster.csv",
        mimeType: "text/csv",
        buffer: Buffer.from("name,grade,email\nAlan Turing,A,alan@example.com\nBad Row,Z,\nKatherine Johnson,A+,\n"),
    });
    await page.getByRole("button", { name: "Check the file" }).click();
    const report = page.locator(".import-result");
    await report.waitFor();
    const reportText = await report.innerText();
    check("the dry run names the bad row's line and field", /\b3\b/.test(await report.locator("tbody tr").first().innerText()) && (await report.locator("tbody tr td").nth(2).innerText()) === "grade", reportText.replace(/\s+/g, " ").slice(0, 200));
    check("and nothing is written", (await countWhere("")) === before);
    await axe(page, "the import's dry run");

    // 9. Live: another client's changes appear.
    step = "9. live changes";
    await page.goto(`${base}/admin`);
    await waitForList(page);
    await page.waitForTimeout(300);
    const added = await api("POST", "/api/students", { body: { name: "Live Newcomer", grade: "B" } });
    await page.locator("tr.row-new", { hasText: "Live Newcomer" }).waitFor();
    check("a student created elsewhere appears at the top, marked new", (await rowNames(page))[0] === "Live Newcomer");
    await api("PATCH", `/api/students/${added.body.id}`, { body: { name: "Live Renamed" } });
    await page.locator("tr.row-updated", { hasText: "Live Renamed" }).waitFor();
    check("a change made elsewhere updates the row in place", true);
    await api("DELETE", `/api/students/${added.body.id}`);
    await page.locator("tr.row-deleted", { hasText: "Live Renamed" }).waitFor();
    check("a deletion elsewhere greys the row out", true);
    await page.goto(`${base}/admin?sort=name`);
    await waitForList(page);
    await page.waitForTimeout(300);
    await api("POST", "/api/students", { body: { name: "Aardvark Late", grade: "C" } });
    await page.getByText("A student was added elsewhere.").waitFor();
    await page.getByRole("button", { name: "Show", exact: true }).click();
    await page.locator("table.students td.col-name a", { hasText: "Aardvark Late" }).waitFor();
    check("one the sorted page cannot place is announced, and shown on request", (await rowNames(page))[0] === "Aardvark Late");

    // 10. Keyboard alone.
    step = "10. keyboard only";
    await page.keyboard.press("/");
    check("/ focuses the search", await page.locator("#search").evaluate((el) => el === document.activeElement));
    await page.keyboard.press("Escape");
    await page.locator("#search").evaluate((el) => el.blur());
    await page.keyboard.press("n");
    await page.getByRole("heading", { name: "New student" }).waitFor();
    check("n opens a new student's form with the name focused", await page.locator("#field-name").evaluate((el) => el === document.activeElement));
    await page.keyboard.type("Keyboard Kim");
    await page.keyboard.press("Tab");
    const focusVisible = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle !== "none");
    check("focus is visible", focusVisible);
    await page.evaluate(() => document.activeElement.id).then((id) => check("Tab reaches the grade", id === "field-grade", id));
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Tab");
    await page.keyboard.type("kim@example.com");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}/admin`);
    await waitForList(page);
    check("Enter submits; the student is created", (await rowNames(page))[0] === "Keyboard Kim");
    await page.locator("a.row-link").first().focus();
    await page.keyboard.press("ArrowDown");
    check("arrows move through the rows", (await page.evaluate(() => document.activeElement.textContent)) === (await rowNames(page))[1]);
    await page.getByRole("button", { name: "Saved views" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("dialog", { name: "Saved views" }).waitFor();
    await page.keyboard.press("Escape");
    await page.getByRole("dialog", { name: "Saved views" }).waitFor({ state: "detached" });
    check("Escape closes a dialog, focus returns", await page.getByRole("button", { name: "Saved views" }).evaluate((el) => el === document.activeElement));

    step = "10. saved views";
    await page.goto(`${base}/admin?grade=C&sort=name`);
    await waitForList(page);
    await page.getByRole("button", { name: "Saved views" }).click();
    await page.getByLabel("Save this view as").fill("C students by name");
    await page.getByRole("button", { name: "Save view" }).click();
    await page.keyboard.press("Escape");
    await page.goto(`${base}/admin`);
    await waitForList(page);
    await page.getByRole("button", { name: "Saved views" }).click();
    await page.getByRole("link", { name: "C students by name" }).click();
    await page.waitForURL(/grade=C&sort=name/);
    check("a saved view reopens its filter and sort", true);

    // 11. Dark mode.
    step = "11. dark mode";
    await page.emulateMedia({ colorScheme: "dark" });
    await waitForList(page);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    check("follows the system's dark mode", background === "rgb(13, 17, 23)", background);
    await axe(page, "the list, dark");
    await shot(page, "list-dark-1440");
    await page.emulateMedia({ colorScheme: "light" });

    // 12. A session revoked elsewhere returns to sign-in, on the same page.
    step = "12. session revoked";
    await page.goto(`${base}/admin/students/${grace.id}/history`);
    await page.getByRole("heading", { name: "History of Grace Hopper" }).waitFor();
    const pageToken = await page.evaluate(() => sessionStorage.getItem("students-admin:token"));
    await api("POST", "/api/auth/sign-out", { as: pageToken });
    await page.getByRole("link", { name: "Grace Hopper" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    const reason = await page.locator("#sign-in-reason").innerText();
    check("a revoked session returns to sign-in with the problem's message", reason.length > 0, reason);
    await signIn(page, username, password);
    await page.getByRole("heading", { name: "Edit Grace Hopper" }).waitFor();
    check("and back on the page after signing in again", page.url().endsWith(`/admin/students/${grace.id}`));
    const secondToken = await page.evaluate(() => sessionStorage.getItem("students-admin:token"));
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    check("sign out ends the session on the server too", (await api("GET", "/api/me", { as: secondToken })).status === 401);

    // 13. A viewer sees no edit control.
    step = "13. viewer";
    const viewerContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const viewerPage = await newPage(viewerContext);
    await viewerPage.goto(`${base}/admin`);
    await signIn(viewerPage, "vera", VIEWER_PASSWORD);
    await waitForList(viewerPage);
    check("the header shows the viewer's role", (await viewerPage.locator(".role").innerText()) === "viewer");
    await viewerPage.getByRole("checkbox", { name: "Select every student on this page" }).check();
    const editControls = await viewerPage
        .locator("a:has-text('New student'), a:has-text('Import'), button:has-text('Delete'), button:has-text('Change grade')")
        .count();
    check("a viewer sees no New, Import, Delete or Change grade", editControls === 0, `${editControls} found`);
    await viewerPage.goto(`${base}/admin/students/${grace.id}`);
    await viewerPage.getByRole("heading", { name: "Grace Hopper" }).waitFor();
    check("a student opens read-only for a viewer", (await viewerPage.locator("input, select, button:has-text('Save')").count()) === 0);
    await viewerPage.goto(`${base}/admin/students/${grace.id}/history`);
    await viewerPage.getByRole("heading", { name: "History of Grace Hopper" }).waitFor();
    check("and the history offers no restore", (await viewerPage.getByRole("button", { name: "Restore this version" }).count()) === 0);
    await axe(viewerPage, "the viewer's history");

    check("a viewer has no Webhooks link", (await viewerPage.getByRole("link", { name: "Webhooks" }).count()) === 0);

    // 14. Webhooks: an admin makes an endpoint (the secret shown once), sees its health and its
    // recent deliveries, and sends a test event. The endpoint is this server's /nowhere, which
    // answers 404: every attempt shows as failing (clients/with-server allows 127.0.0.1).
    step = "14. webhooks";
    await page.goto(`${base}/admin`);
    await signIn(page, username, password);
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByRole("heading", { name: "Webhooks" }).waitFor();
    await page.getByLabel("URL").fill(`${base}/nowhere`);
    await page.getByLabel("Description").fill("billing sync");
    await page.getByLabel("student.created").check();
    await page.getByRole("button", { name: "Make endpoint" }).click();
    const shown = await page.getByTestId("webhook-secret").innerText();
    check("a new endpoint's secret is shown once", /^whsec_[A-Za-z0-9+/]{43}=$/.test(shown), shown.slice(0, 6));
    const hooks = await api("GET", "/api/webhooks");
    const hook = hooks.body.items.find((item) => item.description === "billing sync");
    check("made through the API, with the events ticked", hook?.events.join() === "student.created", JSON.stringify(hook?.events));
    await api("POST", "/api/students", { body: { name: "Hooked Student", grade: "A" } });
    let failing = null;
    for (let tries = 0; tries < 50 && !failing; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        failing = (await api("GET", `/api/webhooks/${hook.id}`)).body.health.failing_since;
    }
    check("the receiver's 404 made the endpoint failing", failing !== null);
    await page.reload();
    const row = page.locator("table.webhooks tbody tr", { hasText: "billing sync" });
    check("the list shows the endpoint failing", (await row.locator("td[data-state]").getAttribute("data-state")) === "failing");
    await axe(page, "the webhooks list");
    await shotBothWidths(page, "webhooks");
    await row.getByRole("link").click();
    await page.getByRole("heading", { name: "Recent deliveries" }).waitFor();
    const firstAttempt = page.locator("table.attempts tbody tr").first();
    await firstAttempt.waitFor();
    check("recent deliveries show the 404", (await firstAttempt.innerText()).includes("404"));
    await page.getByRole("button", { name: "Send test event" }).click();
    await page.getByText("Test event failed: 404").waitFor();
    await page.locator("table.attempts tbody tr", { hasText: "webhook.test" }).first().waitFor();
    check("the test event is in the log", true);
    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByText("Deliveries paused.").waitFor();
    check("pause disables the endpoint", (await api("GET", `/api/webhooks/${hook.id}`)).body.disabled_reason === "paused");
    await axe(page, "a webhook's deliveries");
    await shotBothWidths(page, "webhook-deliveries");

    step = "the end";
    check("no console error and no page error on any page", problems.length === 0, problems.join("; "));
    console.log(`${NAME}: ${passed} passed in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; screenshots in ${shots}`);
}

main()
    .then(async () => {
        clearTimeout(watchdog);
        await browser?.close();
        process.exit(0);
    })
    .catch((error) => fail(error?.stack ?? String(error)));
