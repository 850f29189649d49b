// Publishes a release with electron-builder's keygen publisher, then updates
// to it with electron-updater's KeygenProvider, both against relkey over TLS
// on 127.0.0.1:443 (electron-publish always uses port 443). Run by
// test/clients (electron_test.go), which starts relkey and sets:
//   RELKEY_ACCOUNT_ID, RELKEY_PRODUCT_ID, KEYGEN_TOKEN (a product token),
//   RELKEY_LICENSE_KEY and NODE_EXTRA_CA_CERTS (relkey's certificate).
// Every failure names the client call that broke.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const https = require("https");
const os = require("os");
const path = require("path");
const { CancellationToken, HttpExecutor } = require("builder-util-runtime");
const { KeygenPublisher } = require("electron-publish/out/keygenPublisher");
const { KeygenProvider } = require("electron-updater/out/providers/KeygenProvider");

const account = process.env.RELKEY_ACCOUNT_ID;
const product = process.env.RELKEY_PRODUCT_ID;
const licenseKey = process.env.RELKEY_LICENSE_KEY;
const version = "4.0.0";

async function step(name, fn) {
  const started = Date.now();
  try {
    const result = await fn();
    console.log(`${Date.now() - started} ms: ${name}`);
    return result;
  } catch (e) {
    console.error(`FAIL ${name}: ${(e && e.stack) || e}`);
    process.exit(1);
  }
}

function sha512(buf) {
  return crypto.createHash("sha512").update(buf).digest("base64");
}

class Executor extends HttpExecutor {
  createRequest(options, callback) {
    return https.request(options, callback);
  }
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "relkey-electron-"));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  const appName = `relkey-app-${version}.AppImage`;
  const app = crypto.randomBytes(3000);
  fs.writeFileSync(path.join(dir, appName), app);
  // The update info electron-builder writes beside the app, uploaded as an
  // ordinary artifact.
  fs.writeFileSync(path.join(dir, "stable-linux.yml"), [
    `version: ${version}`,
    "files:",
    `  - url: ${appName}`,
    `    sha512: ${sha512(app)}`,
    `    size: ${app.length}`,
    `path: ${appName}`,
    `sha512: ${sha512(app)}`,
    `releaseDate: '${new Date().toISOString()}'`,
    "",
  ].join("\n"));

  const publisher = new KeygenPublisher(
    { cancellationToken: new CancellationToken(), progress: null },
    { provider: "keygen", account, product, channel: "stable", platform: "linux", host: "127.0.0.1" },
    version,
  );
  for (const file of [appName, "stable-linux.yml"]) {
    await step(`electron-publish KeygenPublisher.upload(${file}): GET release, POST release (status PUBLISHED), POST artifact (Prefer: no-redirect), PUT links.redirect`,
      () => publisher.upload({ file: path.join(dir, file), arch: 1 }));
  }

  const executor = new Executor();
  const provider = new KeygenProvider(
    { provider: "keygen", account, product, host: "127.0.0.1", channel: "stable" },
    { channel: null, isAddNoCacheQuery: false },
    { executor, platform: "linux", isUseMultipleRangeRequest: false },
  );
  const auth = { Authorization: `License ${licenseKey}` };
  provider.setRequestHeaders(auth);
  const info = await step("electron-updater KeygenProvider.getLatestVersion: GET artifacts/stable-linux.yml?product= and its 303",
    () => provider.getLatestVersion());
  if (info.version !== version) {
    console.error(`FAIL electron-updater KeygenProvider.getLatestVersion: version ${info.version}, want ${version}`);
    process.exit(1);
  }
  const files = provider.resolveFiles(info);
  const downloaded = await step(`electron-updater download of ${files[0].url.href}: GET artifacts/<filename>?product= and its 303`,
    () => executor.downloadToBuffer(files[0].url, { headers: { ...auth, Accept: "application/vnd.api+json" }, cancellationToken: new CancellationToken() }));
  if (sha512(downloaded) !== files[0].info.sha512) {
    console.error(`FAIL electron-updater download: sha512 of ${downloaded.length} bytes does not match the update info`);
    process.exit(1);
  }
  console.log(`ok: published ${version}, latest version ${info.version}, downloaded ${downloaded.length} bytes, sha512 matches`);
  // The executors keep their connections alive; nothing is left to wait for.
  process.exit(0);
}

main().catch((e) => {
  console.error(`FAIL ${(e && e.stack) || e}`);
  process.exit(1);
});
