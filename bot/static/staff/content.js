// まどぐち staff console: the live LINE preview and character counts of the content editor.
// Counts follow LINE: UTF-16 code units (an emoji outside the BMP counts 2).
(function () {
  "use strict";

  var LABEL_MAX = 20;

  function lineLength(text) {
    return text.length;  // JavaScript strings are UTF-16: .length is what LINE counts
  }

  function buttonLabel(text) {
    return lineLength(text) <= LABEL_MAX ? text : text.slice(0, LABEL_MAX - 1) + "…";
  }

  function updateCount(counter, text) {
    var limit = parseInt(counter.getAttribute("data-limit"), 10);
    var n = lineLength(text);
    counter.textContent = n + " / " + limit;
    counter.classList.toggle("over", n > limit);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var answer = document.getElementById("answer");
    var question = document.getElementById("question");
    var bubble = document.getElementById("preview-answer");
    var label = document.getElementById("preview-label");
    var labelCount = document.getElementById("label-count");
    function refresh() {
      if (answer && bubble) {
        bubble.textContent = answer.value;
        var c = document.querySelector('[data-count-for="answer"]');
        if (c) { updateCount(c, answer.value); }
      }
      if (question) {
        var q = document.querySelector('[data-count-for="question"]');
        if (q) { updateCount(q, question.value); }
        if (label) { label.textContent = buttonLabel(question.value); }
        if (labelCount) {
          labelCount.textContent = lineLength(question.value) > LABEL_MAX ?
            "（" + LABEL_MAX + "文字を超えるため切れて表示されます）" : "";
        }
      }
    }
    [answer, question].forEach(function (field) {
      if (field) { field.addEventListener("input", refresh); }
    });
    refresh();
  });
}());
