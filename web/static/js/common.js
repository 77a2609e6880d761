/* Shared by /scan and /code: the API client (tokens in sessionStorage, refresh on 401),
 * the sign-in form, bilingual texts and small DOM helpers. No framework, no build step. */
(function (global) {
  "use strict";

  var SCENES = {
    general: ["通用", "General"],
    transport: ["交通出行", "Transport"],
    medical: ["就医", "Medical"],
    culture: ["文化场馆", "Culture"],
    veteran: ["退役军人优待", "Veterans"],
    home_service: ["居家服务", "Home services"],
    enterprise: ["企业", "Enterprise"]
  };

  function $(id) { return document.getElementById(id); }

  function show(el, visible) {
    if (typeof el === "string") el = $(el);
    if (el) el.hidden = !visible;
  }

  function text(el, value) {
    if (typeof el === "string") el = $(el);
    if (el) el.textContent = value == null ? "" : String(value);
  }

  function sceneName(scene) {
    var names = SCENES[scene];
    return names ? names[0] + " / " + names[1] : String(scene || "");
  }

  function randomId() {
    if (global.crypto && global.crypto.randomUUID) return global.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    global.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function deviceId() {
    var key = "ssb.device_id";
    var id = null;
    try { id = global.localStorage.getItem(key); } catch (e) { /* storage disabled */ }
    if (!id) {
      id = "web-" + randomId();
      try { global.localStorage.setItem(key, id); } catch (e) { /* keep it for this page only */ }
    }
    return id;
  }

  /* Decode the protected header of a compact JWS without verifying it (the server verifies). */
  function jwsHeader(payload) {
    var parts = String(payload || "").trim().split(".");
    if (parts.length !== 3) return null;
    try {
      var b64 = parts[0].replace(/-/g, "+").replace(/_/g, "/");
      while (b64.length % 4) b64 += "=";
      return JSON.parse(global.atob(b64));
    } catch (e) {
      return null;
    }
  }

  /* An error from the API: the envelope's machine code, status and (localised) message. */
  function ApiError(status, body) {
    this.status = status;
    this.code = (body && body.error) || (status === 0 ? "NETWORK_ERROR" : "HTTP_" + status);
    this.message = (body && body.message) || "";
    this.body = body || null;
  }

  /* Tokens live in sessionStorage under a per-page key: closing the tab signs out. */
  function Client(storageKey) {
    this.key = storageKey;
    this.tokens = null;
    this.onSignedOut = null;
    this.refreshing = null;
    try { this.tokens = JSON.parse(global.sessionStorage.getItem(storageKey) || "null"); } catch (e) { this.tokens = null; }
  }

  Client.prototype.signedIn = function () { return !!(this.tokens && this.tokens.access_token); };

  Client.prototype.save = function (tokens) {
    this.tokens = tokens;
    try {
      if (tokens) global.sessionStorage.setItem(this.key, JSON.stringify(tokens));
      else global.sessionStorage.removeItem(this.key);
    } catch (e) { /* memory only */ }
  };

  Client.prototype.raw = function (method, path, body, auth) {
    var headers = { "Accept": "application/json", "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && this.tokens) headers["Authorization"] = "Bearer " + this.tokens.access_token;
    return global.fetch(path, {
      method: method, headers: headers, credentials: "omit", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      var date = response.headers.get("Date");
      if (date) Client.serverDate(Date.parse(date));
      if (response.status === 204) return { status: 204, body: null };
      return response.json().then(function (json) { return { status: response.status, body: json }; },
        function () { return { status: response.status, body: null }; });
    }, function () {
      throw new ApiError(0, null);
    }).then(function (r) {
      if (r.status >= 200 && r.status < 300) return r.body;
      throw new ApiError(r.status, r.body);
    });
  };

  /* Estimated server clock: seconds; corrected from every response's Date header. */
  Client.offsetMs = 0;
  Client.serverDate = function (ms) {
    if (!isNaN(ms)) {
      var offset = ms - Date.now();
      // The Date header has one-second resolution: only move on a clear difference.
      if (Math.abs(offset - Client.offsetMs) > 1500) Client.offsetMs = offset;
    }
  };
  Client.now = function () { return (Date.now() + Client.offsetMs) / 1000; };

  Client.prototype.refresh = function () {
    var self = this;
    if (!this.tokens || !this.tokens.refresh_token) return Promise.reject(new ApiError(401, null));
    if (!this.refreshing) {
      this.refreshing = this.raw("POST", "/v1/auth/refresh", { refresh_token: this.tokens.refresh_token }, false)
        .then(function (tokens) { self.save(tokens); return tokens; }, function (err) {
          if (err.status === 401) self.signOutLocally();
          throw err;
        }).then(function (v) { self.refreshing = null; return v; }, function (e) { self.refreshing = null; throw e; });
    }
    return this.refreshing;
  };

  /* An authenticated call: on 401 refresh the pair once and retry. */
  Client.prototype.call = function (method, path, body) {
    var self = this;
    return this.raw(method, path, body, true).catch(function (err) {
      if (err.status !== 401 || !self.tokens) throw err;
      return self.refresh().then(function () { return self.raw(method, path, body, true); });
    });
  };

  Client.prototype.requestOtp = function (phone) {
    return this.raw("POST", "/v1/auth/otp", { phone: phone }, false);
  };

  Client.prototype.login = function (phone, otp) {
    var self = this;
    return this.raw("POST", "/v1/auth/login", { phone: phone, otp: otp, device_id: deviceId() }, false)
      .then(function (tokens) { self.save(tokens); return tokens; });
  };

  Client.prototype.signOutLocally = function () {
    this.save(null);
    if (this.onSignedOut) this.onSignedOut();
  };

  Client.prototype.logout = function () {
    var self = this;
    var done = function () { self.signOutLocally(); };
    if (!this.signedIn()) { done(); return Promise.resolve(); }
    return this.raw("POST", "/v1/auth/logout", undefined, true).then(done, done);
  };

  var SIGN_IN_ERRORS = {
    INVALID_PHONE: ["手机号格式不正确", "That phone number is not valid"],
    RATE_LIMITED: ["操作太频繁，请稍后再试", "Too many attempts: wait a moment"],
    OTP_INVALID: ["验证码不正确或已过期", "Wrong or expired code"],
    OTP_COOLDOWN: ["验证码刚刚发送过，请稍后再试", "A code was just sent: wait a moment"],
    OTP_LOCKED: ["错误次数过多，请重新获取验证码", "Too many wrong codes: ask for a new one"],
    ACCOUNT_DISABLED: ["该账户已停用", "This account is disabled"],
    VALIDATION_ERROR: ["请检查输入", "Check what you typed"],
    NETWORK_ERROR: ["网络不可用", "No network connection"]
  };

  function errorWords(err, table) {
    var words = (table && table[err.code]) || SIGN_IN_ERRORS[err.code];
    if (words) return words[0] + " / " + words[1];
    return (err.message || err.code) + (err.code ? " (" + err.code + ")" : "");
  }

  /* Wire the sign-in form (ids: signin, phone, send-otp, otp, signin-submit, signin-msg). */
  function bindSignIn(client, onSignedIn) {
    var form = $("signin");
    var sendBtn = $("send-otp");
    var cooldownTimer = null;

    function message(words, ok) {
      var el = $("signin-msg");
      text(el, words);
      el.className = "msg " + (ok ? "msg-ok" : "msg-bad");
    }

    function cooldown(seconds) {
      var left = Math.max(0, Math.round(seconds || 0));
      global.clearInterval(cooldownTimer);
      var tick = function () {
        if (left <= 0) {
          sendBtn.disabled = false;
          text(sendBtn, "获取验证码 / Send code");
          global.clearInterval(cooldownTimer);
          return;
        }
        sendBtn.disabled = true;
        text(sendBtn, left + " 秒 / s");
        left -= 1;
      };
      tick();
      cooldownTimer = global.setInterval(tick, 1000);
    }

    sendBtn.addEventListener("click", function () {
      var phone = $("phone").value.trim();
      if (!phone) { message("请输入手机号 / Enter your phone number", false); return; }
      sendBtn.disabled = true;
      client.requestOtp(phone).then(function (r) {
        message("验证码已发送 / Code sent", true);
        // Development servers with DEV_SHOW_OTP answer the code itself; production never does.
        text("dev-otp", r && r.dev_code ? "开发模式验证码 / Development code: " + r.dev_code : "");
        show("dev-otp", !!(r && r.dev_code));
        cooldown((r && r.resend_after) || 60);
        $("otp").focus();
      }, function (err) {
        sendBtn.disabled = false;
        message(errorWords(err), false);
      });
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var phone = $("phone").value.trim();
      var otp = $("otp").value.trim();
      if (!phone || !/^\d{6}$/.test(otp)) {
        message("请输入手机号和 6 位验证码 / Enter your phone and the 6-digit code", false);
        return;
      }
      $("signin-submit").disabled = true;
      client.login(phone, otp).then(function () {
        $("signin-submit").disabled = false;
        $("otp").value = "";
        message("", true);
        onSignedIn();
      }, function (err) {
        $("signin-submit").disabled = false;
        message(errorWords(err), false);
      });
    });
  }

  global.SSB = {
    $: $, show: show, text: text, Client: Client, ApiError: ApiError, bindSignIn: bindSignIn,
    jwsHeader: jwsHeader, sceneName: sceneName, SCENES: SCENES, errorWords: errorWords
  };
})(window);
