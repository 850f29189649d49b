// relkey console: small enhancements over pages that work without it.
// Forms with data-confirm ask first; upload forms send the chosen file
// straight to the presigned URL the console hands back, with progress.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  if (form.hasAttribute("data-upload")) {
    const input = form.querySelector("[data-file]");
    if (!input || !input.files.length) return;
    event.preventDefault();
    upload(form, input.files[0]);
  }
});

document.addEventListener("change", (event) => {
  const input = event.target;
  if (!input.matches || !input.matches("[data-file]") || !input.files.length) return;
  const name = input.form.querySelector("[data-filename]");
  if (name && !name.value) name.value = input.files[0].name;
});

async function upload(form, file) {
  const progress = form.querySelector("progress");
  const output = form.querySelector("output");
  form.querySelector("[data-filesize]").value = String(file.size);
  const nameField = form.querySelector("[data-filename]");
  if (!nameField.value) nameField.value = file.name;
  const body = new URLSearchParams(new FormData(form));
  body.delete("file");
  const created = await fetch(form.action, { method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin" });
  const answer = await created.json();
  if (!created.ok) {
    output.textContent = answer.error || "The upload was refused.";
    return;
  }
  progress.hidden = false;
  const put = new XMLHttpRequest();
  put.open("PUT", answer.upload);
  put.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100);
  });
  put.addEventListener("load", () => {
    const ok = put.status >= 200 && put.status < 300;
    if (ok) progress.value = 100;
    output.textContent = ok ? "Uploaded " + file.name : "Upload failed (" + put.status + ")";
  });
  put.addEventListener("error", () => { output.textContent = "Upload failed"; });
  put.send(file);
}
