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
        li.textContent = f.name + " (" + (f.size / 1048576).toFixed(1) + " MiB)";
        out.appendChild(li);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    correspondentLabel();
    fileSummary();
  });
})();
