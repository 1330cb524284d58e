(function () {
  "use strict";
  if (!navigator.clipboard || !navigator.clipboard.writeText) return;
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var label = button.textContent;
    var status = document.getElementById("copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (!target) return;
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = button.getAttribute("data-done");
        if (status) status.textContent = button.getAttribute("data-done") + ": " + target.textContent.trim();
        setTimeout(function () { button.textContent = label; }, 2000);
      }, function () {
        var range = document.createRange();
        range.selectNodeContents(target);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        if (status) status.textContent = button.getAttribute("data-failed");
      });
    });
  });
})();
