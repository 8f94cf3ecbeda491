// The resident simulator: posts LINE-shaped events and polls the conversation.
(function () {
  "use strict";
  const chat = document.getElementById("chat");
  const quick = document.getElementById("quick");
  const tabs = document.getElementById("residents");
  const text = document.getElementById("text");
  let residents = JSON.parse(localStorage.getItem("madoguchi-sim") || "[]");
  let current = null;
  let lastId = 0;
  let timer = null;

  function newSid() { return "r" + Math.random().toString(36).slice(2, 10); }
  function save() { localStorage.setItem("madoguchi-sim", JSON.stringify(residents)); }

  async function post(body) {
    const response = await fetch("api/events".replace(/^/, "/simulator/"), {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign({ sid: current }, body)),
    });
    if (!response.ok) { alert("送信できませんでした: " + response.status); }
    poll();
  }

  function bubble(m) {
    const div = document.createElement("div");
    div.className = "msg " + m.direction + (m.sender === "staff" ? " staff" : "");
    div.dataset.id = m.id;
    if (m.direction === "out") {
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = m.sender === "staff" ? "担当者" : "まどぐち";
      div.appendChild(who);
    }
    div.appendChild(document.createTextNode(m.text));
    chat.appendChild(div);
  }

  function showQuick(m) {
    quick.innerHTML = "";
    (m.quick_replies || []).forEach(function (qr) {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = qr.label;
      b.onclick = function () {
        if (qr.data) { post({ type: "postback", data: qr.data, display: qr.text || qr.label }); }
        else { post({ type: "message", text: qr.text || qr.label }); }
        quick.innerHTML = "";
      };
      quick.appendChild(b);
    });
    (m.pickers || []).forEach(function (p) {
      const input = document.createElement("input");
      input.type = p.mode === "date" ? "date" : p.mode === "time" ? "time" : "datetime-local";
      input.setAttribute("aria-label", p.label);
      const b = document.createElement("button");
      b.type = "button"; b.textContent = p.label;
      b.onclick = function () {
        if (!input.value) { input.focus(); return; }
        const params = {}; params[p.mode] = input.value;
        post({ type: "postback", data: p.data, params: params });
        quick.innerHTML = "";
      };
      quick.appendChild(input); quick.appendChild(b);
    });
  }

  async function poll() {
    if (!current) return;
    const sid = current;
    const response = await fetch("/simulator/api/messages?sid=" + sid + "&after=" + lastId);
    if (!response.ok || sid !== current) return;
    const data = await response.json();
    data.messages.forEach(function (m) {
      bubble(m); lastId = m.id;
      if (m.direction === "out") showQuick(m); else quick.innerHTML = "";
    });
    if (data.messages.length) chat.scrollTop = chat.scrollHeight;
  }

  function renderTabs() {
    tabs.innerHTML = "";
    residents.forEach(function (sid, i) {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = "住民 " + (i + 1);
      b.className = sid === current ? "active" : "";
      b.onclick = function () { select(sid); };
      tabs.appendChild(b);
    });
  }

  function select(sid) {
    current = sid; lastId = 0; chat.innerHTML = ""; quick.innerHTML = "";
    renderTabs(); poll();
  }

  function addResident() {
    const sid = newSid();
    residents.push(sid); save(); select(sid);
    post({ type: "follow" });
  }

  document.getElementById("new-resident").onclick = addResident;
  document.getElementById("composer").onsubmit = function (e) {
    e.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    text.value = "";
    post({ type: "message", text: value });
  };
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault(); document.getElementById("composer").requestSubmit();
    }
  });

  if (residents.length) { select(residents[residents.length - 1]); } else { addResident(); }
  timer = setInterval(poll, 800);
})();
