// relkey's console and portal in a real browser: Debian's Chromium, driven
// by playwright-core, against a relkey that scripts/console-e2e.sh serves.
// Every page is screenshotted into $RELKEY_E2E_ARTIFACTS and checked with
// axe-core for serious accessibility violations.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const base = process.env.RELKEY_URL;
const artifacts = process.env.RELKEY_E2E_ARTIFACTS || mkdtempSync(join(tmpdir(), "relkey-e2e-"));
const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
mkdirSync(artifacts, { recursive: true });

let browser, context, page;
before(async () => {
  assert.ok(base, "RELKEY_URL is not set: run scripts/console-e2e.sh");
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "relkey-chromium-")), {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    // axe is injected into pages whose CSP forbids inline script; the
    // console's own pages never need this.
    bypassCSP: true,
  });
  context = browser;
  page = await context.newPage();
  page.on("dialog", (dialog) => dialog.accept());
});
after(async () => { await browser?.close(); });

// look screenshots the page and fails on serious accessibility violations.
async function look(name) {
  await page.screenshot({ path: join(artifacts, name + ".png"), fullPage: true });
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(", ")})`), [], `${name}: accessibility`);
}

const state = {};

test("an admin signs in and sees the overview", async () => {
  await page.goto(base + "/console/acme/login");
  await look("login");
  await page.fill("#email", "admin@acme.test");
  await page.fill("#password", "password-acme");
  await page.click("button[type=submit]");
  await page.waitForURL(base + "/console/acme/");
  assert.match(await page.textContent("main"), /products/);
  await look("overview");
});

test("a product, a policy and a license are created; the key is shown once", async () => {
  await page.goto(base + "/console/acme/products");
  await page.click("text=Create product");
  assert.match(await page.textContent(".field-error"), /blank/, "the rule's message sits beside the field");
  await page.fill("#name", "Desktop App");
  await page.fill("#code", "desktop");
  await page.click("text=Create product");
  await page.waitForSelector("text=Product created.");
  await look("products");

  await page.goto(base + "/console/acme/policies");
  await page.selectOption("#product", { label: "Desktop App" });
  await page.fill("#name", "Pro");
  await page.fill("#max_machines", "3");
  await page.selectOption("#authentication_strategy", "MIXED");
  await page.check("#floating");
  await page.click("text=Create policy");
  await page.waitForSelector("text=Policy created.");
  await look("policies");

  await page.goto(base + "/console/acme/licenses");
  await page.selectOption("#policy", { label: "Pro" });
  await page.fill("#name", "Customer One");
  await page.click("text=Create license");
  await page.waitForSelector("text=License created");
  state.key = await page.inputValue("#secret");
  assert.ok(state.key.length >= 16, "a generated key is shown");
  state.licenseId = (await page.textContent(".facts dd")).trim();
  await look("license");
  await page.goto(`${base}/console/acme/licenses/${state.licenseId}`);
  assert.equal(await page.locator("#secret").count(), 0, "the key is not shown again");
  assert.equal((await page.textContent("#status")).trim(), "ACTIVE");

  await page.goto(base + "/console/acme/licenses");
  assert.match(await page.textContent("table"), /Customer One/);
  await look("licenses");
});

test("a release is created, an artifact uploaded from the browser, and published", async () => {
  await page.goto(base + "/console/acme/releases");
  await page.selectOption("#product", { label: "Desktop App" });
  await page.fill("#version", "1.0.0");
  await page.click("text=Create release");
  await page.waitForSelector("text=Release created.");
  state.bytes = Buffer.from("relkey e2e artifact " + Date.now());
  const upload = page.locator("form[data-upload]").first();
  await upload.locator("[data-file]").setInputFiles({ name: "app-1.0.0.zip", mimeType: "application/zip", buffer: state.bytes });
  await upload.locator("input[name=platform]").fill("linux");
  await upload.locator("button[type=submit]").click();
  await upload.locator("output", { hasText: "Uploaded app-1.0.0.zip" }).waitFor();
  assert.equal(await upload.locator("progress").getAttribute("value"), "100");
  await page.click("text=Publish");
  await page.waitForSelector("text=Release published.");
  assert.equal((await page.textContent(".release-status")).trim(), "PUBLISHED");
  await look("releases");
});

test("a portal session made through the API: the customer opens it, deactivates a machine and downloads the release", async () => {
  const json = { "Content-Type": "application/vnd.api+json", Accept: "application/vnd.api+json" };
  const activated = await fetch(`${base}/v1/accounts/acme/machines`, {
    method: "POST",
    headers: { Authorization: "License " + state.key, ...json },
    body: JSON.stringify({ data: { type: "machines", attributes: { fingerprint: "e2e-laptop", name: "Laptop" },
      relationships: { license: { data: { type: "licenses", id: state.licenseId } } } } }),
  });
  assert.equal(activated.status, 201, await activated.text());

  // Signing in by key refuses an unknown key.
  await page.goto(base + "/portal/acme/login");
  await look("portal-login");
  await page.fill("#key", "not a key");
  await page.click("text=Open my license");
  assert.match(await page.textContent("[role=alert]"), /not known/);

  const tokens = await fetch(`${base}/v1/accounts/acme/tokens`, {
    method: "POST", headers: { Authorization: "Basic " + Buffer.from("admin@acme.test:password-acme").toString("base64"), ...json },
  });
  assert.equal(tokens.status, 201);
  const admin = (await tokens.json()).data.attributes.token;
  const made = await fetch(`${base}/v1/accounts/acme/portal-sessions`, {
    method: "POST", headers: { Authorization: "Bearer " + admin, ...json },
    body: JSON.stringify({ data: { type: "portal-sessions",
      attributes: { returnUrl: "https://vendor.example/account", permissions: ["machine.read", "machine.delete", "release.download"], fingerprintLabel: "Device ID" },
      relationships: { license: { data: { type: "licenses", id: state.licenseId } } } } }),
  });
  const madeBody = await made.text();
  assert.equal(made.status, 201, madeBody);
  const link = JSON.parse(madeBody).data.links.portal;

  const customer = await context.newPage();
  customer.on("dialog", (dialog) => dialog.accept());
  await customer.goto(link);
  assert.equal(customer.url(), base + "/portal/acme/");
  const main = await customer.textContent("main");
  assert.match(main, /e2e-laptop/);
  assert.match(main, /Device ID/);
  assert.equal(await customer.getAttribute("a.return", "href"), "https://vendor.example/account");
  const previous = page;
  page = customer;
  await look("portal");

  const href = await customer.getAttribute(".downloads a", "href");
  const download = await context.request.get(base + href);
  assert.equal(download.status(), 200);
  assert.deepEqual(Buffer.from(await download.body()), state.bytes, "the download is the uploaded file");

  await customer.click("text=Deactivate");
  await customer.waitForSelector("text=Machine deactivated.");
  assert.doesNotMatch(await customer.textContent("main"), /e2e-laptop/);
  await look("portal-after-deactivate");
  page = previous;

  const again = await customer.goto(link);
  assert.equal(again.status(), 410);
  assert.match(await customer.textContent("[role=alert]"), /already been used/);
  await customer.close();
});

test("a one-time portal link opens the portal once; the reused link is refused", async () => {
  await page.goto(`${base}/console/acme/licenses/${state.licenseId}`);
  await page.click("text=Portal link");
  await page.waitForSelector("text=Portal link created");
  const link = await page.inputValue("#secret");
  const customer = await context.newPage();
  await customer.goto(link);
  assert.equal(customer.url(), base + "/portal/acme/");
  assert.match(await customer.textContent("main"), /Customer One/);
  const again = await customer.goto(link);
  assert.equal(again.status(), 410);
  assert.match(await customer.textContent("[role=alert]"), /already been used/);
  await customer.screenshot({ path: join(artifacts, "portal-link-reused.png"), fullPage: true });
  await customer.close();
});

test("machines, users, tokens and settings pages", async () => {
  for (const name of ["machines", "users", "webhooks", "events", "settings"]) {
    await page.goto(`${base}/console/acme/${name}`);
    await look(name);
  }
  assert.match(await page.textContent("main"), /Ed25519 public key/);
  await page.goto(base + "/console/acme/tokens");
  await page.fill("#name", "ci");
  await page.click("text=Create token");
  await page.waitForSelector("text=Token created");
  const raw = await page.inputValue("#secret");
  const me = await fetch(`${base}/v1/accounts/acme/me`, { headers: { Authorization: "Bearer " + raw, Accept: "application/vnd.api+json" } });
  assert.equal(me.status, 200, "the token shown once works against the API");
  await look("tokens");
});

test("entitlements, groups and a release's constraints; the header search", async () => {
  await page.goto(base + "/console/acme/entitlements");
  await page.fill("#name", "Pro features");
  await page.click("text=Create entitlement");
  assert.match(await page.textContent("#code-error"), /blank/, "the rule's message sits beside the code field");
  await page.fill("#code", "PRO");
  await page.click("text=Create entitlement");
  await page.waitForSelector("text=Entitlement created.");
  await look("entitlements");
  await page.click("text=Pro features");
  await page.fill("#name", "Professional");
  await page.click("text=Save entitlement");
  await page.waitForSelector("text=Entitlement saved.");
  await look("entitlement");

  await page.goto(base + "/console/acme/groups");
  await page.fill("#name", "Team");
  await page.fill("#max_users", "0");
  await page.click("text=Create group");
  assert.match(await page.textContent("#max_users-error"), /greater than 0/);
  await page.fill("#max_users", "5");
  await page.click("text=Create group");
  await page.waitForSelector("text=Group created.");
  await page.click("table >> text=Team");
  await page.fill("#owner", "admin@acme.test");
  await page.click("text=Add owner");
  await page.waitForSelector("text=Owner added.");
  assert.match(await page.textContent("main table"), /admin@acme\.test/);
  await look("group");

  await page.goto(base + "/console/acme/releases");
  await page.click("table >> text=1.0.0");
  await page.selectOption("#entitlement", { label: "Professional (PRO)" });
  await page.click("text=Add constraint");
  await page.waitForSelector("text=Constraint added.");
  assert.equal((await page.textContent(".constraint-code")).trim(), "PRO");
  await look("release");

  await page.fill("#site-search", "Customer One");
  await page.press("#site-search", "Enter");
  await page.waitForURL(/\/console\/acme\/search\?q=/);
  await page.click("main >> text=Customer One");
  await page.waitForURL(`${base}/console/acme/licenses/${state.licenseId}`);
  await page.goBack();
  await look("search");
});

test("the console refuses a form without its CSRF token and signs out for good", async () => {
  await page.goto(base + "/console/acme/products");
  const forged = await page.evaluate(async () => {
    const r = await fetch(location.pathname, { method: "POST", body: new URLSearchParams({ name: "Forged" }) });
    return r.status;
  });
  assert.equal(forged, 403);
  await page.click("text=Sign out");
  await page.waitForURL(base + "/console/acme/login");
  await page.goto(base + "/console/acme/licenses");
  await page.waitForURL(base + "/console/acme/login");
});
