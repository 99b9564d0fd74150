// Progressive enhancement for the submission editor: every form also works without this file.
// Word counts, autosave (stops and warns on 412: another tab saved first) and uploads with progress.
(function () {
  "use strict";

  function words(text) {
    var trimmed = text.trim();
    return trimmed ? trimmed.split(/\s+/).length : 0;
  }

  function setLockVersion(value) {
    document.querySelectorAll("[data-lock-version]").forEach(function (input) { input.value = value; });
  }

  document.querySelectorAll("textarea[data-word-count]").forEach(function (area) {
    var output = document.getElementById(area.getAttribute("aria-describedby"));
    var min = parseInt(area.dataset.minWords || "0", 10);
    var max = parseInt(area.dataset.maxWords || "0", 10);
    function update() {
      var n = words(area.value);
      var note = n + " words";
      if (min && n < min) note += " (" + (min - n) + " more needed)";
      if (max && n > max) note += " (" + (n - max) + " over the limit)";
      output.textContent = note;
      output.classList.toggle("error", Boolean((min && n < min) || (max && n > max)));
    }
    area.addEventListener("input", update);
    update();
  });

  var form = document.querySelector("form[data-autosave]");
  if (form) {
    var status = document.getElementById("autosave-status");
    var warning = document.getElementById("conflict-warning");
    var timer = null;
    var stopped = false;
    function save() {
      if (stopped) return;
      status.textContent = "Saving…";
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      }).then(function (response) {
        if (response.status === 412) {
          stopped = true;
          warning.hidden = false;
          status.textContent = "Not saved.";
          return null;
        }
        return response.json().then(function (body) {
          if (!response.ok) { status.textContent = "Not saved: " + (body.error || response.status); return; }
          setLockVersion(body.lock_version);
          status.textContent = "Saved at " + new Date().toLocaleTimeString() + ".";
        });
      }).catch(function () { status.textContent = "Not saved (offline?). It will retry when you type."; });
    }
    // The answer fields sit in the requirement cards and join the form through their form attribute,
    // so listen on the document and keep the events that belong to this form.
    document.addEventListener("input", function (event) {
      if (event.target.form !== form) return;
      clearTimeout(timer);
      timer = setTimeout(save, 1500);
    });
  }

  // Uploads: one request for every chosen file, a percentage while it goes, the button off until it ends.
  // Without this script the same form posts normally and the page comes back with a message.
  document.querySelectorAll("form[data-upload]").forEach(function (upload) {
    var button = upload.querySelector("button[type=submit]");
    var input = upload.querySelector("input[type=file]");
    var progress = upload.querySelector("[data-progress]");
    var bar = progress.querySelector("progress");
    var percent = progress.querySelector("[data-percent]");
    var status = upload.querySelector("[data-upload-status]");
    var error = upload.querySelector(".error");
    var label = button.textContent;

    function show(value) {
      bar.value = value;
      percent.textContent = value + "%";
    }

    function finish(message) {
      button.disabled = false;
      button.textContent = label;
      upload.removeAttribute("aria-busy");
      progress.hidden = true;
      error.textContent = message;
      error.hidden = false;
    }

    upload.addEventListener("submit", function (event) {
      event.preventDefault();
      if (button.disabled) return;
      var count = input.files.length;
      if (!count) { finish("Choose a file to upload."); return; }
      var request = new XMLHttpRequest();
      request.open("POST", upload.action);
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) show(Math.min(100, Math.round((e.loaded / e.total) * 100)));
      });
      request.addEventListener("load", function () {
        if (request.status >= 200 && request.status < 300) {
          show(100);
          status.textContent = count > 1 ? count + " files uploaded." : "File uploaded.";
          window.location.reload();
          return;
        }
        var detail = request.status === 413 ? "The files are too large to upload."
          : "The upload failed (error " + request.status + "). Try again.";
        try {
          detail = JSON.parse(request.responseText).error || detail;
        } catch (ignored) { /* an HTML error page: keep the generic message */ }
        if (request.status === 412) detail = "This draft changed in another tab; reload the page before uploading.";
        finish(detail);
      });
      request.addEventListener("error", function () {
        finish("The upload failed: the connection was lost. Try again.");
      });
      button.disabled = true;
      button.textContent = "Uploading…";
      upload.setAttribute("aria-busy", "true");
      error.hidden = true;
      show(0);
      progress.hidden = false;
      status.textContent = count > 1 ? "Uploading " + count + " files." : "Uploading the file.";
      request.send(new FormData(upload));
    });
  });
})();
