// A headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe): no
// WebSocket, no npm package, nothing downloaded. Messages are JSON, each ended by a NUL byte.
import {spawn} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

/// The first Chromium found (PERDURE_CHROMIUM first), or null.
export function findChromium() {
  const candidates = [process.env.PERDURE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome'];
  return candidates.find((path) => path && existsSync(path)) || null;
}

export class Browser {
  static async launch(executable, {width, height}) {
    const profile = mkdtempSync(join(tmpdir(), 'perdure-ui-chromium-'));
    // The flags keep a headless Chromium from reaching out (updates, sync, field trials) and work
    // as root (--no-sandbox), as the machine notes say.
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--disable-extensions', '--mute-audio', '--hide-scrollbars',
      `--user-data-dir=${profile}`, `--window-size=${width},${height}`, '--remote-debugging-pipe', 'about:blank'];
    const child = spawn(executable, args, {stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe']});
    const browser = new Browser(child, profile);
    child.stderr.on('data', (chunk) => { browser.stderr += chunk; });
    // A first start on a machine may build caches (fonts): more time for the first answer.
    const {targetId} = await browser.send('Target.createTarget', {url: 'about:blank'}, undefined, 90000);
    const {sessionId} = await browser.send('Target.attachToTarget', {targetId, flatten: true});
    browser.sessionId = sessionId;
    await browser.page('Page.enable');
    await browser.page('Runtime.enable');
    await browser.page('Network.enable');
    await browser.page('Emulation.setDeviceMetricsOverride', {width, height, deviceScaleFactor: 1, mobile: false});
    return browser;
  }

  constructor(child, profile) {
    this.child = child;
    this.profile = profile;
    this.stderr = '';
    this.nextId = 1;
    this.waiting = new Map();
    this.listeners = [];
    let buffered = '';
    child.stdio[4].on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let end;
      while ((end = buffered.indexOf('\0')) >= 0) {
        this.receive(JSON.parse(buffered.slice(0, end)));
        buffered = buffered.slice(end + 1);
      }
    });
    const failAll = (why) => {
      for (const {reject} of this.waiting.values()) reject(new Error(`${why}: ${this.stderr.slice(-2000)}`));
      this.waiting.clear();
    };
    child.on('exit', (code, signal) => failAll(`chromium exited (${code ?? signal})`));
    child.on('error', (error) => failAll(`chromium could not be started (${error.message})`));
  }

  receive(message) {
    if (message.id !== undefined) {
      const call = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (!call) return;
      if (message.error) call.reject(new Error(`${call.method}: ${message.error.message}`));
      else call.resolve(message.result);
      return;
    }
    for (const listener of this.listeners) listener(message);
  }

  /// Every command has an answer within `timeoutMillis`, or the test fails instead of hanging.
  send(method, params = {}, sessionId, timeoutMillis = 30000) {
    const id = this.nextId++;
    const message = {id, method, params};
    if (sessionId) message.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`chromium did not answer ${method} within ${timeoutMillis} ms: ${this.stderr.slice(-2000)}`));
      }, timeoutMillis);
      const settle = (f) => (value) => { clearTimeout(timer); f(value); };
      this.waiting.set(id, {resolve: settle(resolve), reject: settle(reject), method});
      this.child.stdio[3].write(`${JSON.stringify(message)}\0`);
    });
  }

  /// A command to the page's session.
  page(method, params = {}) {
    return this.send(method, params, this.sessionId);
  }

  on(method, listener) {
    this.listeners.push((message) => { if (message.method === method) listener(message.params); });
  }

  /// The value of `expression` in the page (awaited if it is a promise); throws what it throws.
  async evaluate(expression) {
    const result = await this.page('Runtime.evaluate', {expression, awaitPromise: true, returnByValue: true});
    if (result.exceptionDetails) {
      const details = result.exceptionDetails;
      throw new Error(`in the page: ${details.exception?.description || details.text}\n  evaluating: ${expression}`);
    }
    return result.result.value;
  }

  /// Polls `expression` until it is truthy; returns its value or throws after `timeoutMillis`.
  async waitFor(expression, what, timeoutMillis = 20000) {
    const deadline = Date.now() + timeoutMillis;
    let last;
    while (Date.now() < deadline) {
      last = await this.evaluate(expression);
      if (last) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what} (${expression} was ${JSON.stringify(last)})`);
  }

  async navigate(url) {
    await this.page('Page.navigate', {url});
  }

  /// A PNG of the whole page (up to `maxHeight` CSS pixels), as a Buffer.
  async screenshot(maxHeight = 2200) {
    const metrics = await this.page('Page.getLayoutMetrics');
    const size = metrics.cssContentSize || metrics.contentSize;
    const clip = {x: 0, y: 0, width: Math.ceil(size.width), height: Math.min(Math.ceil(size.height), maxHeight), scale: 1};
    const {data} = await this.page('Page.captureScreenshot', {format: 'png', clip, captureBeyondViewport: true});
    return Buffer.from(data, 'base64');
  }

  /// Closes the browser, waits for it to exit (it writes its profile until then) and removes the profile.
  async close() {
    const exited = this.child.exitCode !== null || this.child.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => this.child.once('exit', resolve));
    this.send('Browser.close').catch(() => { /* it may be gone already */ });
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
    rmSync(this.profile, {recursive: true, force: true, maxRetries: 3});
  }
}
