/* Brankas: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // The data-input form: "Sender" for Penerimaan, "Addressee" for Pengiriman.
  function correspondentLabel() {
    var box = document.querySelector("[data-correspondent-labels]");
    if (!box) return;
    var label = box.querySelector("label");
    var radios = document.querySelectorAll("input[name='direction']");
    if (!label) return;
    function update() {
      var checked = document.querySelector("input[name='direction']:checked");
      var key = checked ? checked.value : "none";
      label.textContent = box.getAttribute("data-" + key) || box.getAttribute("data-none");
    }
    for (var i = 0; i < radios.length; i++) radios[i].addEventListener("change", update);
    update();
  }

  // A size as the pages write it (brankas.web.ui.formats.size_text): 1024-based, one
  // decimal, a decimal comma on the Indonesian pages: "512 B", "1,5 KB".
  function sizeText(n, lang) {
    var units = ["B", "KB", "MB", "GB", "TB"], u = 0;
    while (Math.abs(n) >= 1024 && u < units.length - 1) { n /= 1024; u++; }
    if (u === 0) return Math.floor(n) + " B";
    var text = n.toFixed(1);
    if (lang !== "en") text = text.replace(".", ",");
    return text + "\u00a0" + units[u];
  }
  // end sizeText

  // Show what was chosen for upload, with sizes, so a wrong scan is noticed before sending.
  function fileSummary() {
    var input = document.querySelector("input[type='file'][name='scans']");
    if (!input) return;
    var out = document.createElement("ul");
    out.className = "file-list";
    out.setAttribute("aria-live", "polite");
    input.parentNode.appendChild(out);
    input.addEventListener("change", function () {
      out.textContent = "";
      for (var i = 0; i < input.files.length; i++) {
        var f = input.files[i];
        var li = document.createElement("li");
        li.textContent = f.name + " (" + sizeText(f.size, document.documentElement.lang) + ")";
        out.appendChild(li);
      }
    });
  }

  // A backup or a disk check: poll its progress; when it ends, reload for the result.
  function jobProgress() {
    var box = document.querySelector("[data-job-status]");
    if (!box || !window.fetch) return;
    var url = box.getAttribute("data-job-status");
    function show(data) {
      var fields = box.querySelectorAll("[data-job-field]");
      for (var i = 0; i < fields.length; i++) {
        var name = fields[i].getAttribute("data-job-field");
        if (name === "percent") {
          fields[i].value = data.percent;
          fields[i].textContent = data.percent + "%";
        } else if (data.text && data.text[name] !== undefined) {
          fields[i].textContent = data.text[name];
        }
      }
    }
    function poll() {
      fetch(url, {credentials: "same-origin", cache: "no-store"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          // not an answer (a recover swapping the office in, a server restarting): ask again
          if (!data) { window.setTimeout(poll, 3000); return; }
          show(data);
          if (data.state !== "running") window.location.reload();
          else window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    window.setTimeout(poll, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    correspondentLabel();
    fileSummary();
    jobProgress();
  });
})();
