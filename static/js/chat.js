/* The dashboard chat, progressively enhanced: without this script the form posts and the page
   reloads with the answer. With it: Enter sends (Shift+Enter breaks the line), a "sending…" state,
   copy buttons on code blocks, the new answer scrolled into view and focus back in the message box;
   and where the form names a stream URL, the answer streams into the page with a Stop button.
   While streaming, text is inserted as text; the final answer is the server's sanitized HTML. */
(function () {
  "use strict";

  var form = document.getElementById("send-form");
  if (!form) {
    return;
  }
  var box = form.querySelector("textarea");
  var sendButton = form.querySelector("button[type=submit]");
  var stopButton = document.getElementById("stop-button");
  var labels = form.dataset;
  var JUST_SENT = "chat:just-sent";
  var controller = null;

  function addCopyButtons(root) {
    root.querySelectorAll(".answer pre").forEach(function (pre) {
      if (pre.previousElementSibling && pre.previousElementSibling.classList.contains("copy-code")) {
        return;
      }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-code secondary";
      button.textContent = labels.labelCopy;
      button.addEventListener("click", function () {
        var code = pre.querySelector("code") || pre;
        navigator.clipboard.writeText(code.textContent).then(
          function () { button.textContent = labels.labelCopied; },
          function () { button.textContent = labels.labelCopyFailed; }
        );
        window.setTimeout(function () { button.textContent = labels.labelCopy; }, 2000);
      });
      pre.parentNode.insertBefore(button, pre);
    });
  }

  // Once a conversation has begun, its agent is fixed: the picker becomes the agent's name.
  function keepAgent() {
    var select = form.querySelector("select[name=agent]");
    if (!select) {
      return;
    }
    var choice = document.getElementById("agent-choice");
    var label = choice.querySelector("label");
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "agent";
    hidden.value = select.value;
    var name = document.createElement("strong");
    name.id = "fixed-agent";
    name.textContent = select.options[select.selectedIndex].textContent;
    choice.textContent = "";
    choice.appendChild(hidden);
    choice.appendChild(document.createTextNode(label.textContent + ": "));
    choice.appendChild(name);
  }

  function showLatestAnswer() {
    var answers = document.querySelectorAll(".msg.assistant");
    if (answers.length) {
      answers[answers.length - 1].scrollIntoView({ block: "nearest" });
    }
    box.focus();
  }

  function setBusy(busy) {
    form.setAttribute("aria-busy", busy ? "true" : "false");
    sendButton.disabled = busy;
    sendButton.textContent = busy ? labels.labelSending : labels.labelSend;
    if (stopButton) {
      stopButton.hidden = !(busy && controller);
    }
  }

  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey) {
      event.preventDefault();
      if (form.getAttribute("aria-busy") !== "true" && box.value.trim()) {
        form.requestSubmit();
      }
    }
  });

  var canStream = Boolean(
    form.dataset.streamUrl && window.fetch && window.ReadableStream && window.AbortController && window.TextDecoder
  );

  form.addEventListener("submit", function (event) {
    if (form.getAttribute("aria-busy") === "true") {
      event.preventDefault();
      return;
    }
    if (canStream) {
      event.preventDefault();
      streamAnswer();
      return;
    }
    sessionStorage.setItem(JUST_SENT, "1");
    setBusy(true);
  });

  /* --- streaming ------------------------------------------------------------------------------ */

  function chatList() {
    var chat = document.getElementById("chat");
    if (!chat) {
      chat = document.createElement("div");
      chat.className = "chat";
      chat.id = "chat";
      chat.setAttribute("aria-live", "polite");
      form.parentNode.insertBefore(chat, form);
    }
    return chat;
  }

  function appendMessage(role, text) {
    var message = document.createElement("div");
    message.className = "msg " + role;
    var body = document.createElement("div");
    body.className = role === "assistant" ? "msg-text answer" : "msg-text";
    body.textContent = text;
    message.appendChild(body);
    chatList().appendChild(message);
    return message;
  }

  function showError(text, linkUrl, linkText) {
    var alert = document.getElementById("error");
    if (!alert) {
      alert = document.createElement("div");
      alert.id = "error";
      alert.className = "alert error";
      alert.setAttribute("role", "alert");
      form.parentNode.insertBefore(alert, form);
    }
    alert.textContent = text;
    if (linkUrl) {
      var link = document.createElement("a");
      link.href = linkUrl;
      link.textContent = linkText;
      alert.appendChild(document.createTextNode(" "));
      alert.appendChild(link);
    }
  }

  function clearError() {
    var alert = document.getElementById("error");
    if (alert) {
      alert.remove();
    }
  }

  function parseEvents(buffer, onEvent) {
    var blocks = buffer.split("\n\n");
    var rest = blocks.pop();
    blocks.forEach(function (block) {
      var name = "message";
      var data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) {
          name = line.slice(6).trim();
        } else if (line.indexOf("data:") === 0) {
          data += line.slice(5).trim();
        }
      });
      if (data) {
        onEvent(name, JSON.parse(data));
      }
    });
    return rest;
  }

  function streamAnswer() {
    var data = new FormData(form);
    var question = String(data.get("input") || "");
    if (!question.trim()) {
      return;
    }
    clearError();
    appendMessage("user", question);
    var answer = appendMessage("assistant", "");
    var answerBody = answer.querySelector(".msg-text");
    answer.classList.add("streaming");
    box.value = "";
    controller = new AbortController();
    setBusy(true);
    answer.scrollIntoView({ block: "nearest" });

    function onEvent(name, payload) {
      if (name === "delta") {
        answerBody.textContent += payload.text;
        answer.scrollIntoView({ block: "nearest" });
      } else if (name === "done") {
        answerBody.innerHTML = payload.html;
        var meta = document.createElement("span");
        meta.className = "meta";
        meta.textContent = payload.meta;
        if (payload.is_demo) {
          var badge = document.createElement("span");
          badge.className = "demo-badge";
          badge.id = "demo-marker";
          badge.textContent = labels.labelDemo;
          meta.appendChild(document.createTextNode(" · "));
          meta.appendChild(badge);
        }
        answer.appendChild(meta);
        form.querySelector("input[name=conversation]").value = payload.conversation_id;
        keepAgent();
        window.history.replaceState(null, "", payload.url);
        addCopyButtons(answer);
      } else if (name === "error") {
        if (!answerBody.textContent) {
          answer.remove();
        }
        showError(payload.text, payload.link_url, payload.link_text);
      }
    }

    fetch(form.dataset.streamUrl, {
      method: "POST",
      body: data,
      headers: { Accept: "text/event-stream" },
      credentials: "same-origin",
      signal: controller.signal,
    })
      .then(function (response) {
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) {
              return;
            }
            buffer = parseEvents(buffer + decoder.decode(chunk.value, { stream: true }), onEvent);
            return pump();
          });
        }
        return pump();
      })
      .catch(function (error) {
        if (error.name === "AbortError") {
          var note = document.createElement("span");
          note.className = "meta";
          note.textContent = labels.labelStopped;
          answer.appendChild(note);
        } else {
          showError(labels.labelFailed);
        }
      })
      .then(function () {
        answer.classList.remove("streaming");
        controller = null;
        setBusy(false);
        showLatestAnswer();
      });
  }

  if (stopButton) {
    stopButton.addEventListener("click", function () {
      if (controller) {
        controller.abort();
      }
    });
  }

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      setBusy(false);
    }
  });
  addCopyButtons(document);
  if (sessionStorage.getItem(JUST_SENT)) {
    sessionStorage.removeItem(JUST_SENT);
    showLatestAnswer();
  }
})();
