/* Progressive enhancement only: without this file every form works as plain HTML.
   Intake: drop files onto the form; each file is sent on its own with a progress bar. */
"use strict";
(function () {
  var form = document.querySelector("form[data-upload]");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var input = form.querySelector("input[type=file]");
  var list = document.getElementById("upload-progress");
  form.addEventListener("dragover", function (e) { e.preventDefault(); form.classList.add("dragging"); });
  form.addEventListener("dragleave", function () { form.classList.remove("dragging"); });
  form.addEventListener("drop", function (e) {
    e.preventDefault();
    form.classList.remove("dragging");
    if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; }
  });
  function send(file, done) {
    var item = document.createElement("li");
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    item.textContent = file.name + " ";
    item.appendChild(bar);
    list.appendChild(item);
    var data = new FormData();
    data.append("csrf_token", form.elements.csrf_token.value);
    data.append("direction", form.elements.direction.value);
    data.append("files", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Kho-Upload", "1");
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) { bar.value = 90 * e.loaded / e.total; } };
    xhr.onload = function () {
      bar.value = 100;
      var outcome = null;
      try { outcome = JSON.parse(xhr.responseText).files[0]; } catch (err) { outcome = null; }
      var message = outcome ? outcome.message : "Lỗi " + xhr.status + ": không tiếp nhận được.";
      item.appendChild(document.createTextNode(" " + message));
      if (outcome && !outcome.ok) { item.className = "failed"; }
      done(outcome && outcome.ok ? outcome.url : null, !(outcome && outcome.ok));
    };
    xhr.onerror = function () { item.appendChild(document.createTextNode(" Lỗi mạng.")); done(null, true); };
    xhr.send(data);
  }
  form.addEventListener("submit", function (e) {
    var files = Array.prototype.slice.call(input.files);
    if (!files.length) { return; }
    e.preventDefault();
    list.hidden = false;
    var last = null, failed = false;
    (function next(i) {
      if (i === files.length) {
        if (failed) { return; }  /* keep the outcomes on screen */
        window.location.assign(files.length === 1 && last ? last : form.action);
        return;
      }
      send(files[i], function (url, bad) { last = url; failed = failed || bad; next(i + 1); });
    })(0);
  });
})();
/* Forms that remove something ask first (data-confirm holds the question); without script they
   send straight away, as any plain form. */
(function () {
  var forms = document.querySelectorAll("form[data-confirm]");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
})();
