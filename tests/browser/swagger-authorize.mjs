// Swagger UI's "Authorize" with the OAuth2 password sign-in, in a real browser, as a person uses it.
//
// What this proves, in plain words: someone who opens the API's documentation page (/docs) in
// Chromium, clicks "Authorize", types the admin's username and password into the `signIn`
// (OAuth2, password) form (client_id and client_secret left empty, every other setting left as
// Swagger UI shows it) and clicks that form's "Authorize" button is signed in: Swagger UI gets a
// token from /api/auth/token, says so (a Logout button) and marks itself authorized. Then, with
// nothing else typed but a new student, "Try it out" on createStudent (POST /api/students)
// sends that token and the page shows 201 and the new student. Then "Try it out" on
// getStudentHistory (GET /api/students/{id}/history) shows the student's history, and its newest
// entry's `actor.account` is the account that signed in (its username; a program's API token
// would have `account: null`).
//
// Every check reads what the page shows (the status cell, the response body, the curl line),
// as a person would; the network is watched only to explain a failure. A screenshot of the
// created student's response is saved (to $SCREENSHOT_DIR, or a new temporary directory).
//
// Needs: $STUDENTS_API_URL, $STUDENTS_API_USERNAME, $STUDENTS_API_PASSWORD (clients/with-server
// sets them), Debian's `chromium` on PATH (or $CHROMIUM), and playwright-core (npm ci in this
// folder; it downloads no browser). Exits 0 when every check passed, 1 on the first failure with
// what it saw, and 1 after 60 seconds whatever it is doing: it never hangs.
//
//   clients/with-server node tests/browser/swagger-authorize.mjs

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const NAME = "swagger-authorize";
const OVERALL_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 15_000;

let step = "start";
let passed = 0;
let browser;
let page;
let shots; // where screenshots go
const seen = []; // what the browser sent and got, for a failure's message

function env(name) {
    const value = process.env[name];
    if (!value) fail(`$${name} is not set (run it under clients/with-server)`);
    return value;
}

// No token secret (`sat_` and 28 base62 characters) reaches the output; nor does the password.
function redact(text) {
    let out = String(text).replace(/sat_[0-9A-Za-z]{28}/g, "sat_…");
    const secret = process.env.STUDENTS_API_PASSWORD;
    if (secret) out = out.split(secret).join("<password>");
    return out;
}

function fail(message) {
    console.error(redact(`${NAME}: FAIL at "${step}": ${message}`));
    if (seen.length) console.error(redact(`${NAME}: the browser's API requests so far:\n  ${seen.join("\n  ")}`));
    console.error(`${passed} passed, 1 failed`);
    process.exit(1);
}

function check(what, ok, detail = "") {
    if (!ok) throw new Error(`${what}${detail ? `: ${detail}` : ""}`);
    passed += 1;
    console.log(redact(`ok ${passed} - ${what}${detail ? ` (${detail})` : ""}`));
}

// Exiting also ends the Chromium that playwright-core launched (it kills it on the process's exit).
const watchdog = setTimeout(() => {
    fail(`timed out: the whole test took more than ${OVERALL_TIMEOUT_MS / 1000} s`);
}, OVERALL_TIMEOUT_MS);

const base = env("STUDENTS_API_URL").replace(/\/+$/, "");
const username = env("STUDENTS_API_USERNAME");
const password = env("STUDENTS_API_PASSWORD");

function chromiumPath() {
    if (process.env.CHROMIUM) return process.env.CHROMIUM;
    try {
        return execFileSync("bash", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
    } catch {
        fail("no `chromium` on PATH: apt-get install -y chromium");
    }
}

function screenshotDir() {
    const dir = process.env.SCREENSHOT_DIR;
    if (!dir) return mkdtempSync(join(tmpdir(), `${NAME}-`));
    mkdirSync(dir, { recursive: true });
    return dir;
}

// An operation's block, its "Try it out" and "Execute", and what the page then shows.
async function tryItOut(opblock, fillIn) {
    await opblock.locator(".opblock-summary-control").click();
    await opblock.locator("button.try-out__btn").click();
    await fillIn();
    await opblock.locator("button.execute").click();
    const response = opblock.locator(".live-responses-table tbody tr.response").first();
    await response.waitFor();
    const statusText = (await response.locator(".response-col_status").innerText()).trim();
    const bodyText = (await response.locator(".response-col_description .highlight-code pre").first().innerText()).trim();
    const curl = (await opblock.locator(".curl-command").innerText().catch(() => "")).trim();
    return { status: Number.parseInt(statusText, 10), statusText, bodyText, curl, response };
}

function parseJson(text, what) {
    try {
        return JSON.parse(text);
    } catch {
        throw new Error(`${what} is not JSON: ${text.slice(0, 500)}`);
    }
}

async function main() {
    step = "launch Chromium";
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ["--no-sandbox"] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on("pageerror", (e) => seen.push(`page error: ${e.message}`));
    page.on("response", (r) => {
        const url = new URL(r.url());
        if (url.pathname.startsWith("/api/")) seen.push(`${r.request().method()} ${url.pathname}${url.search} -> ${r.status()}`);
    });
    shots = screenshotDir();

    // 1. Sign in through the Authorize dialog's signIn (OAuth2, password) form.
    step = "1. open /docs";
    const docs = await page.goto(`${base}/docs`);
    check("/docs answers 200", docs?.status() === 200, `got ${docs?.status()}`);
    const topAuthorize = page.locator(".scheme-container button.authorize");
    await topAuthorize.waitFor();
    check("Swagger UI shows an Authorize button, unlocked", (await topAuthorize.getAttribute("class")).includes("unlocked"));

    step = "1. Authorize: signIn (OAuth2, password)";
    await topAuthorize.click();
    const dialog = page.locator(".dialog-ux .modal-ux");
    await dialog.waitFor();
    const signIn = dialog.locator(".auth-container").filter({ has: page.locator("h4", { hasText: "signIn (OAuth2, password)" }) });
    check("the dialog has a signIn (OAuth2, password) section", (await signIn.count()) === 1, `found ${await signIn.count()}`);
    await signIn.getByLabel("username:").fill(username);
    await signIn.getByLabel("password:", { exact: true }).fill(password);
    const tokenResponse = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/auth/token");
    await signIn.getByRole("button", { name: "Apply given OAuth2 credentials" }).click();
    const token = await tokenResponse;
    // Its accessible name is its aria-label ("Remove authorization"), so find it by what it shows.
    const logout = signIn.locator("button", { hasText: "Logout" });
    const authError = signIn.locator(".errors");
    await logout.or(authError).first().waitFor().catch(() => {}); // whichever comes first
    if (!(await logout.isVisible())) {
        const errors = await authError.allInnerTexts();
        throw new Error(`no Logout button after Authorize; /api/auth/token answered ${token.status()}: ` +
            `${(await token.text().catch(() => "")).slice(0, 500)}; the dialog shows: ${JSON.stringify(errors)}`);
    }
    check("Authorize signs in: /api/auth/token answers 200 and the section shows Logout", token.status() === 200, `token ${token.status()}`);
    const accessToken = (await token.json()).access_token;
    const shownAuthorized = await signIn.locator("h6", { hasText: "Authorized" }).count();
    const shownUser = (await signIn.locator('label[for="oauth_username"] + code').innerText()).trim();
    check("the section says Authorized, as the user", shownAuthorized === 1 && shownUser === username, `username: ${shownUser}`);
    await signIn.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "detached" });
    check("the dialog closes and the Authorize button shows locked", (await topAuthorize.getAttribute("class")).includes(" locked"));

    // 2. Create a student through createStudent's Try it out.
    step = "2. createStudent: Try it out, Execute";
    const studentName = `Swagger Browser ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const create = page.locator("#operations-Students-createStudent");
    const created = await tryItOut(create, async () => {
        await create.locator("textarea.body-param__text").fill(JSON.stringify({ name: studentName, grade: "A" }, null, 2));
    });
    check("the page shows the sent request carrying the sign-in's bearer token", created.curl.includes(`Authorization: Bearer ${accessToken}`),
        created.curl.replace(/\s+/g, " ").slice(0, 300));
    check("createStudent shows status 201", created.status === 201,
        created.status === 201 ? "" : `shown: ${created.statusText}; body: ${created.bodyText.slice(0, 500)}`);
    const student = parseJson(created.bodyText, "createStudent's shown response body");
    check("the shown body is the new student, with an id", Number.isInteger(student.id) && student.name === studentName,
        `id ${student.id}, name ${JSON.stringify(student.name)}`);

    step = "2. screenshot";
    // What a person sees of createStudent after Execute: the operation's bar (its lock closed), the
    // body sent, the curl line with the bearer token, and the server's response: 201 and the
    // student. (The block goes on with every documented response, thousands of pixels, left out.)
    const pageY = (locator, edge) => locator.evaluate((e, edge) => e.getBoundingClientRect()[edge] + window.scrollY, edge);
    const top = await pageY(create.locator(".opblock-summary"), "top");
    const bottom = await pageY(created.response.locator(".response-col_description .highlight-code").first(), "bottom");
    const shot = join(shots, "swagger-authorize-created.png");
    await page.screenshot({ path: shot, fullPage: true, clip: { x: 0, y: Math.max(0, top - 10), width: 1280, height: bottom - top + 30 } });
    console.log(`${NAME}: screenshot ${shot}`);

    // 3. The history of that student, through getStudentHistory's Try it out.
    step = "3. getStudentHistory: Try it out, Execute";
    const history = page.locator("#operations-Changes-getStudentHistory");
    const shown = await tryItOut(history, async () => {
        await history.locator('tr[data-param-name="id"] input').fill(String(student.id));
    });
    check("getStudentHistory shows status 200", shown.status === 200,
        shown.status === 200 ? "" : `shown: ${shown.statusText}; body: ${shown.bodyText.slice(0, 500)}`);
    const page1 = parseJson(shown.bodyText, "getStudentHistory's shown response body");
    const newest = page1?.changes?.[0];
    check("the history's newest entry is this student's creation", newest?.op === "created" && newest?.student?.id === student.id,
        `op ${newest?.op}, student ${newest?.student?.id}`);
    console.log(`${NAME}: the history's newest entry: ${JSON.stringify(newest)}`);

    step = "3. the change names the account";
    const account = newest?.actor?.account;
    check(`the newest entry's actor is the account "${username}"`,
        account?.username === username && Number.isInteger(account?.id) && newest.actor.name === username,
        `actor is ${JSON.stringify(newest?.actor)}`);
}

const started = Date.now();
try {
    await main();
} catch (e) {
    const shot = page && join(shots ?? tmpdir(), `${NAME}-failure-${process.pid}.png`);
    if (shot) await page.screenshot({ path: shot }).then(() => console.error(`${NAME}: the page at the failure: ${shot}`), () => {});
    await browser?.close().catch(() => {});
    fail(e?.message ?? String(e));
}
await browser.close();
clearTimeout(watchdog);
console.log(`${NAME}: all passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, 0 failed`);
