/* bot-generic website widget: <script src="https://APP/static/widget/widget.js" data-deployment="pub_…" async>.
   Self-contained (no libraries): a button opens a small chat in a shadow root (the page's styles cannot
   reach it), answers stream in as they are written. The visitor token is kept in localStorage so the same
   browser continues its conversation. Bodies are JSON sent as text/plain: a simple request, no preflight. */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.dataset.deployment) {
    return;
  }
  var key = script.dataset.deployment;
  var base = new URL(script.src).origin;
  var storageKey = "bg-widget:" + key;
  var locale = (navigator.language || "en").slice(0, 2);
  var ru = locale === "ru";
  var words = {
    open: ru ? "Чат" : "Chat",
    placeholder: ru ? "Ваше сообщение…" : "Your message…",
    send: ru ? "Отправить" : "Send",
    unavailable: ru ? "Чат недоступен." : "The chat is not available.",
  };

  var host = document.createElement("div");
  host.setAttribute("data-bg-widget", key);
  var root = host.attachShadow({ mode: "open" });
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = base + "/static/widget/widget.css";
  root.appendChild(css);

  var button = document.createElement("button");
  button.type = "button";
  button.className = "bg-open";
  button.textContent = words.open;
  var panel = document.createElement("section");
  panel.className = "bg-panel";
  panel.hidden = true;
  var log = document.createElement("div");
  log.className = "bg-log";
  log.setAttribute("aria-live", "polite");
  var form = document.createElement("form");
  var box = document.createElement("input");
  box.type = "text";
  box.placeholder = words.placeholder;
  box.setAttribute("aria-label", words.placeholder);
  var send = document.createElement("button");
  send.type = "submit";
  send.textContent = words.send;
  form.appendChild(box);
  form.appendChild(send);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(button);
  root.appendChild(panel);
  document.body.appendChild(host);

  function line(role, text) {
    var item = document.createElement("div");
    item.className = "bg-msg bg-" + role;
    item.textContent = text;
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function post(path, body) {
    return fetch(base + "/widget/" + encodeURIComponent(key) + path, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify(body),
    });
  }

  var token = null;
  function session() {
    if (token) {
      return Promise.resolve(token);
    }
    return post("/session", { visitor_token: localStorage.getItem(storageKey) || "" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("refused");
        }
        return response.json();
      })
      .then(function (data) {
        token = data.visitor_token;
        localStorage.setItem(storageKey, token);
        return token;
      });
  }

  function readEvents(response, answer) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          return;
        }
        buffer += decoder.decode(chunk.value, { stream: true });
        var blocks = buffer.split("\n\n");
        buffer = blocks.pop();
        blocks.forEach(function (block) {
          var name = "message";
          var data = "";
          block.split("\n").forEach(function (row) {
            if (row.indexOf("event:") === 0) {
              name = row.slice(6).trim();
            } else if (row.indexOf("data:") === 0) {
              data += row.slice(5).trim();
            }
          });
          if (!data) {
            return;
          }
          var payload = JSON.parse(data);
          if (name === "delta") {
            answer.textContent += payload.text;
          } else if (name === "error") {
            answer.textContent += (answer.textContent ? "\n" : "") + payload.text;
            answer.classList.add("bg-error");
          }
          log.scrollTop = log.scrollHeight;
        });
        return pump();
      });
    }
    return pump();
  }

  button.addEventListener("click", function () {
    panel.hidden = !panel.hidden;
    if (!panel.hidden) {
      box.focus();
      session().catch(function () {
        line("error", words.unavailable);
      });
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = box.value.trim();
    if (!text) {
      return;
    }
    box.value = "";
    line("user", text);
    var answer = line("assistant", "");
    send.disabled = true;
    session()
      .then(function (visitor) {
        return post("/messages", { visitor_token: visitor, text: text, locale: locale });
      })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("text/event-stream") === 0) {
          return readEvents(response, answer);
        }
        return response.json().then(function (data) {
          answer.textContent = data.text || words.unavailable;
          answer.classList.add("bg-error");
        });
      })
      .catch(function () {
        answer.textContent = words.unavailable;
        answer.classList.add("bg-error");
      })
      .then(function () {
        send.disabled = false;
        box.focus();
      });
  });
})();
