// まどぐち staff console: confirmations, new messages without reloading, a gentle queue refresh.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  function pollMessages(list) {
    var url = list.getAttribute("data-poll");
    function lastId() {
      var items = list.querySelectorAll("li[data-id]");
      return items.length ? items[items.length - 1].getAttribute("data-id") : "0";
    }
    function tick() {
      fetch(url + "?after=" + encodeURIComponent(lastId()), {
        credentials: "same-origin", headers: { "X-Requested-With": "fetch" }
      }).then(function (response) {
        if (!response.ok) { return ""; }
        var status = response.headers.get("X-Case-Status");
        var badge = document.getElementById("case-status");
        if (status && badge && badge.className.indexOf("status-" + status) < 0 &&
            !badge.getAttribute("data-stale")) {
          badge.setAttribute("data-stale", "1");
          badge.textContent += "（更新あり：再読み込みしてください）";
        }
        return response.text();
      }).then(function (html) {
        if (html && html.trim()) {
          var atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 20;
          list.insertAdjacentHTML("beforeend", html);
          if (atBottom) { list.scrollTop = list.scrollHeight; }
        }
      }).catch(function () { /* offline for a moment: try again next tick */ });
    }
    list.scrollTop = list.scrollHeight;
    window.setInterval(tick, 5000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var list = document.getElementById("messages");
    if (list && list.getAttribute("data-poll")) { pollMessages(list); }
    var refresh = document.getElementById("auto-refresh");
    if (refresh) {
      var seconds = parseInt(refresh.getAttribute("data-seconds"), 10) || 60;
      window.setTimeout(function () {
        // Do not throw away something being typed or a menu being used.
        if (!document.activeElement || document.activeElement === document.body) {
          window.location.reload();
        }
      }, seconds * 1000);
    }
  });
}());
