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

  // The server signs out an idle session; polling alone is not activity, so each poll
  // says whether the person typed, clicked or scrolled since the last one.
  var active = false;
  ["keydown", "mousedown", "scroll", "touchstart"].forEach(function (name) {
    document.addEventListener(name, function () { active = true; }, { passive: true });
  });

  function sessionEnded() {
    if (document.getElementById("session-ended")) { return; }
    var note = document.createElement("p");
    note.id = "session-ended";
    note.className = "flash error";
    note.textContent = "ログインの有効期限が切れました。入力中の文章を控えてから、再読み込みしてログインしてください。";
    document.querySelector("main").prepend(note);
  }

  function pollMessages(list) {
    var url = list.getAttribute("data-poll");
    function lastId() {
      var items = list.querySelectorAll("li[data-id]");
      return items.length ? items[items.length - 1].getAttribute("data-id") : "0";
    }
    function tick() {
      var headers = { "X-Requested-With": "fetch", "X-Staff-Active": active ? "1" : "0" };
      active = false;
      fetch(url + "?after=" + encodeURIComponent(lastId()), {
        credentials: "same-origin", headers: headers
      }).then(function (response) {
        if (response.status === 401) { sessionEnded(); return ""; }
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
