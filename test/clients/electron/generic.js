// Updates with electron-updater 6.8.10's GenericProvider from relkey's
// electron engine, for macOS (latest-mac.yml), Windows (latest.yml) and
// Linux (latest-linux.yml): finds the update, resolves its files and
// downloads the first through relkey's 303s with the sha512 checked. Run by
// test/clients (feeds_test.go), which seeds the package and sets
// RELKEY_FEED_URL (the base URL), RELKEY_LICENSE_KEY and RELKEY_VERSION.
"use strict";

const crypto = require("crypto");
const http = require("http");
const https = require("https");
const { CancellationToken, HttpExecutor } = require("builder-util-runtime");
const { GenericProvider } = require("electron-updater/out/providers/GenericProvider");

const base = process.env.RELKEY_FEED_URL;
const licenseKey = process.env.RELKEY_LICENSE_KEY;
const want = process.env.RELKEY_VERSION;

class Executor extends HttpExecutor {
  createRequest(options, callback) {
    return (options.protocol === "https:" ? https : http).request(options, callback);
  }
}

function fail(msg) {
  console.error(`FAIL ${msg}`);
  process.exit(1);
}

async function update(platform, url, headers) {
  const executor = new Executor();
  const provider = new GenericProvider({ provider: "generic", url }, { channel: null, isAddNoCacheQuery: false },
    { executor, platform, isUseMultipleRangeRequest: false });
  provider.setRequestHeaders(headers);
  const label = `GenericProvider(${platform}, ${headers.Authorization ? "Authorization header" : "?auth="})`;
  const info = await provider.getLatestVersion().catch((e) => fail(`${label}.getLatestVersion: ${e.stack || e}`));
  if (info.version !== want) fail(`${label}: version ${info.version}, want ${want}`);
  const files = provider.resolveFiles(info);
  if (files.length === 0) fail(`${label}: no files`);
  const file = files[0];
  const body = await executor.downloadToBuffer(file.url, { headers, cancellationToken: new CancellationToken() })
    .catch((e) => fail(`${label} download of ${file.url.href}: ${e.stack || e}`));
  const sum = crypto.createHash("sha512").update(body).digest("base64");
  if (sum !== file.info.sha512) fail(`${label}: sha512 of ${body.length} bytes from ${file.url.href} does not match`);
  if (file.info.blockMapSize) {
    const blockmap = await executor.downloadToBuffer(new URL(file.url.href.replace(/(\?|$)/, ".blockmap$1")), { headers, cancellationToken: new CancellationToken() })
      .catch((e) => fail(`${label} blockmap download: ${e.stack || e}`));
    if (blockmap.length !== file.info.blockMapSize) fail(`${label}: blockmap of ${blockmap.length} bytes, want ${file.info.blockMapSize}`);
  }
  console.log(`ok ${label}: ${info.version} from ${info.path}, ${files.length} file(s), ${body.length} bytes, sha512 matches${file.info.blockMapSize ? ", blockmap fetched" : ""}`);
}

async function main() {
  const header = { Authorization: `License ${licenseKey}` };
  for (const platform of ["darwin", "win32", "linux"]) {
    await update(platform, base, header);
  }
  await update("win32", `${base}?auth=${encodeURIComponent(`license:${licenseKey}`)}`, {});
  process.exit(0);
}

main().catch((e) => fail(e.stack || e));
