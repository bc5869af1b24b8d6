// The Tollgate dashboard in headless Chromium.
//
// Opens every page of a running `tollgate serve`, checks each has its heading and key content,
// that no console error, page error or CSP violation occurs and that nothing is requested from
// another origin; saves screenshots of the overview at 1280x800 and 390x844; and clicks through
// alerts -> the brute-force alert -> its route's access view -> back -> its correlated change,
// which must show the user and the removed `tls` lines.
//
// Inputs, as `--name value` arguments or environment variables (arguments win):
//   --base-url            TOLLGATE_BASE_URL               http://127.0.0.1:PORT
//   --brute-force-alert   TOLLGATE_ALERT_BRUTE_FORCE_ID   the brute-force alert's id
//   --risky-change-alert  TOLLGATE_ALERT_RISKY_CHANGE_ID  the risky-change alert's id
//   --change-id           TOLLGATE_CHANGE_ID              the change both alerts point at
//   --route-key           TOLLGATE_ROUTE_KEY              the route the brute force hit
//   --user                TOLLGATE_EXPECT_USER            who made the change (alice)
//   --ingress             TOLLGATE_EXPECT_INGRESS         namespace/name (shop/storefront)
//   --artifacts           TOLLGATE_BROWSER_ARTIFACTS      screenshot folder (default: a temp dir)
//   --chromium            TOLLGATE_CHROMIUM               the browser (default /usr/bin/chromium)
//
// Exit status 0 when every check passed, 1 when one failed, 2 on a usage error or a timeout.

import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const OPTIONS = {
  'base-url': 'TOLLGATE_BASE_URL',
  'brute-force-alert': 'TOLLGATE_ALERT_BRUTE_FORCE_ID',
  'risky-change-alert': 'TOLLGATE_ALERT_RISKY_CHANGE_ID',
  'change-id': 'TOLLGATE_CHANGE_ID',
  'route-key': 'TOLLGATE_ROUTE_KEY',
  user: 'TOLLGATE_EXPECT_USER',
  ingress: 'TOLLGATE_EXPECT_INGRESS',
  artifacts: 'TOLLGATE_BROWSER_ARTIFACTS',
  chromium: 'TOLLGATE_CHROMIUM',
};
const DEFAULTS = { user: 'alice', ingress: 'shop/storefront', chromium: '/usr/bin/chromium' };
// The whole run; a hung browser must not hang CI.
const DEADLINE_MS = 180_000;

function parseOptions(argv) {
  const values = {};
  for (const [name, variable] of Object.entries(OPTIONS)) {
    values[name] = process.env[variable] || DEFAULTS[name] || '';
  }
  for (let i = 0; i < argv.length; i += 1) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in OPTIONS) || i + 1 >= argv.length) {
      usage(`unknown or incomplete option ${argv[i]}`);
    }
    values[name] = argv[i + 1];
    i += 1;
  }
  for (const name of ['base-url', 'brute-force-alert', 'risky-change-alert', 'change-id', 'route-key']) {
    if (!values[name]) usage(`--${name} (or ${OPTIONS[name]}) is required`);
  }
  values['base-url'] = values['base-url'].replace(/\/+$/, '');
  return values;
}

function usage(message) {
  console.error(`dashboard.mjs: ${message}`);
  process.exit(2);
}

const options = parseOptions(process.argv.slice(2));
const base = new URL(options['base-url']);
const changeHref = `/history/${options['change-id']}`;
const bruteHref = `/alerts/${encodeURIComponent(options['brute-force-alert'])}`;
const riskyHref = `/alerts/${encodeURIComponent(options['risky-change-alert'])}`;
const routeHref = `/routes/view?key=${encodeURIComponent(options['route-key'])}`;
const [ingressNamespace, ingressName] = options.ingress.split('/');

const watchdog = setTimeout(() => {
  console.error(`dashboard.mjs: timed out after ${DEADLINE_MS / 1000} s`);
  process.exit(2);
}, DEADLINE_MS);
watchdog.unref();

const artifacts = options.artifacts || mkdtempSync(join(tmpdir(), 'tollgate-browser-'));
mkdirSync(artifacts, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'tollgate-chromium-profile-'));

// Everything that must not happen, with where it happened.
const problems = [];
// While a page is expected to answer 404, its own load failure is not a console error.
let expectedStatus = null;
let checks = 0;

function check(condition, message) {
  checks += 1;
  if (!condition) {
    problems.push(message);
    console.log(`not ok - ${message}`);
  }
}

function ok(message) {
  console.log(`ok - ${message}`);
}

const context = await chromium.launchPersistentContext(profile, {
  executablePath: options.chromium,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 1280, height: 800 },
});

// Reported from inside the page too, in case a violation is not logged to the console.
await context.addInitScript(() => {
  document.addEventListener('securitypolicyviolation', (event) => {
    console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`);
  });
});

context.on('console', (message) => {
  if (message.type() !== 'error') return;
  const text = message.text();
  if (expectedStatus === 404 && text.includes('status of 404')) return;
  problems.push(`console error on ${message.location().url || '?'}: ${text}`);
});
context.on('weberror', (error) => problems.push(`page error: ${error.error().message}`));
context.on('request', (request) => {
  const url = new URL(request.url());
  if (url.protocol === 'data:' || url.protocol === 'blob:') return;
  if (url.origin !== base.origin) problems.push(`request to another origin: ${request.url()}`);
});
context.on('response', (response) => {
  const request = response.request();
  const url = new URL(response.url());
  if (url.pathname.startsWith('/assets/')) {
    const cache = response.headers()['cache-control'] || '';
    check(url.search.startsWith('?v='), `asset ${url.pathname} has a version query`);
    check(cache.includes('max-age=31536000'), `asset ${url.pathname} is cached for long (${cache})`);
  }
  if (!request.isNavigationRequest() && response.status() >= 400) {
    problems.push(`${response.status()} for ${response.url()}`);
  }
});

const page = await context.newPage();
// Each step waits at most this long; a missing element fails the step instead of hanging.
page.setDefaultTimeout(10_000);

async function open(path, { status = 200 } = {}) {
  expectedStatus = status;
  // By `load` the deferred script has run, so its enhancements can be checked.
  const response = await page.goto(new URL(path, base).href, { waitUntil: 'load' });
  check(response && response.status() === status, `${path} answers ${status} (got ${response && response.status()})`);
  expectedStatus = null;
  return response;
}

async function heading() {
  return (await page.locator('h1').first().textContent() || '').trim();
}

async function text(selector) {
  return (await page.locator(selector).allTextContents()).join('\n');
}

async function hasLink(href) {
  return (await page.locator(`a[href="${href}"]`).count()) > 0;
}

async function headingIs(expected, path) {
  const h1 = await heading();
  const matches = expected instanceof RegExp ? expected.test(h1) : h1 === expected;
  check(matches, `${path}: heading ${JSON.stringify(h1)} is ${expected}`);
}

async function run() {
  // Overview, at both sizes.
  await open('/');
  await headingIs('Overview', '/');
  const overview = await text('main');
  for (const wanted of ['Exposed hosts', 'Open findings', 'Findings by severity', 'Active alerts', 'Recent risky changes', 'Certificates expiring within 30 days', 'Intake']) {
    check(overview.includes(wanted), `/ shows "${wanted}"`);
  }
  check((await page.locator('svg.chart-bars').count()) === 1, '/ draws the severity chart');
  check(await hasLink(bruteHref), '/ lists the brute-force alert among active alerts');
  check(await hasLink(changeHref), '/ lists the change among risky changes');
  check((await page.locator('time[data-absolute]').count()) > 0, '/ times are made relative by the script');
  check((await page.locator('label.refresh:not([hidden])').count()) === 1, '/ shows the auto-refresh toggle with JS');
  await page.screenshot({ path: join(artifacts, 'overview-1280x800.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await open('/');
  check(!(await page.locator('nav.nav').isVisible()), '/ at 390 px: the nav is folded');
  check(await page.locator('label.nav-toggle-label').isVisible(), '/ at 390 px: the Menu toggle shows');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `/ at 390 px: the page does not scroll sideways (${overflow} px too wide)`);
  await page.screenshot({ path: join(artifacts, 'overview-390x844.png') });
  await page.locator('label.nav-toggle-label').click();
  check(await page.locator('nav.nav').isVisible(), '/ at 390 px: Menu unfolds the nav');
  await page.screenshot({ path: join(artifacts, 'overview-390x844-menu.png') });
  await page.setViewportSize({ width: 1280, height: 800 });
  ok('overview');

  // The route map.
  await open('/routes');
  await headingIs('Routes', '/routes');
  const routeLinks = page.locator(`a[href$="key=${encodeURIComponent(options['route-key'])}"]`);
  check((await routeLinks.count()) > 0, '/routes links the route to its access view');
  check((await text('#routes-table')).includes(`${ingressNamespace}/${ingressName}`), `/routes shows Ingress ${options.ingress}`);
  const filter = page.locator('input[data-filter="routes-table"]');
  check(await filter.isVisible(), '/routes shows the table filter with JS');
  await filter.fill('no-such-route-anywhere');
  check((await page.locator('#routes-table tbody tr:visible').count()) === 0, '/routes filter hides rows that do not match');
  await filter.fill('');
  ok('routes');

  // The route's access view.
  await open(routeHref);
  await headingIs(/^Route /, routeHref);
  check((await text('main')).includes(options['route-key']), `${routeHref} names the route key`);
  check((await page.locator('svg.chart-line').count()) === 1, `${routeHref} draws requests over time`);
  check((await page.locator('svg.chart-stacked').count()) === 1, `${routeHref} draws the status mix`);
  check(await hasLink(bruteHref), `${routeHref} lists the brute-force alert`);
  check(await hasLink(changeHref), `${routeHref} lists the change of its Ingress`);
  ok('route view');

  // Findings, history, certificates.
  await open('/findings');
  await headingIs('Findings', '/findings');
  check((await page.locator('#findings-table').count()) === 1, '/findings shows the findings table');
  await open('/findings?status=all&severity=high');
  check((await page.locator('select[name="status"] option[selected]').textContent()) === 'all', '/findings keeps the status filter');
  await open('/history');
  await headingIs('History', '/history');
  check(await hasLink(changeHref), '/history lists the change');
  check((await text('#history-table')).includes(options.user), `/history names ${options.user}`);
  await open('/certificates');
  await headingIs('Certificates', '/certificates');
  await open('/reports');
  await headingIs('Reports', '/reports');
  check((await text('main')).includes('pci-dss'), '/reports lists the scheduled PCI DSS report');
  const reportHref = await page.locator('main table a').first().getAttribute('href');
  check(Boolean(reportHref && reportHref.startsWith('/api/v1/reports/')), '/reports links the document');
  if (reportHref) {
    await open(reportHref);
    check((await page.content()).includes('data-control="4.2.1"'), 'the report document shows PCI DSS 4.2.1');
  }
  ok('findings, history, certificates, reports');

  // Alerts.
  await open('/alerts');
  await headingIs('Alerts', '/alerts');
  check(await hasLink(bruteHref), '/alerts lists the brute-force alert');
  check(await hasLink(riskyHref), '/alerts lists the risky-change alert');
  await open(riskyHref);
  await headingIs(/^Alert: /, riskyHref);
  check((await text('main')).includes(options.ingress), `${riskyHref} names Ingress ${options.ingress}`);
  check((await text('.alert-who')).includes(options.user), `${riskyHref} says ${options.user} did it`);
  check(await hasLink(changeHref), `${riskyHref} links the change`);
  check((await page.locator('table.deliveries tbody tr').count()) > 0, `${riskyHref} shows its deliveries`);
  check((await text('table.deliveries')).includes('failed'), `${riskyHref} shows the failed delivery`);
  ok('alerts');

  // Errors.
  await open('/alerts/no-such-alert', { status: 404 });
  await headingIs('Not found', '/alerts/no-such-alert');
  await open('/history/999999999', { status: 404 });
  await headingIs('Not found', '/history/999999999');
  ok('not-found pages');

  // Every page fits a phone's width: wide tables scroll inside their frame, not the page.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of ['/routes', routeHref, '/findings', '/history', changeHref, '/alerts', bruteHref, riskyHref, '/certificates']) {
    await open(path);
    const wider = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(wider <= 0, `${path} at 390 px: the page does not scroll sideways (${wider} px too wide)`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  ok('every page fits 390 px');

  // The click path.
  await open('/alerts');
  await page.locator(`a[href="${bruteHref}"]`).first().click();
  await page.waitForURL((url) => url.pathname === bruteHref);
  await headingIs(/^Alert: /, bruteHref);
  check(/brute-force/.test(await heading()), `${bruteHref} is the brute-force alert`);
  check((await page.locator('pre.evidence').count()) === 1, `${bruteHref} shows its evidence lines`);
  await page.locator('a.route-link').click();
  await page.waitForURL((url) => url.pathname === '/routes/view');
  await headingIs(/^Route /, 'the route view from the alert');
  check(new URL(page.url()).searchParams.get('key') === options['route-key'], 'the alert links its own route');
  await page.goBack();
  await page.waitForURL((url) => url.pathname === bruteHref);
  await headingIs(/^Alert: /, 'back on the alert');
  await page.locator('section.correlated a.change-link').click();
  await page.waitForURL((url) => url.pathname === changeHref);
  await headingIs(new RegExp(`^Change #${options['change-id']}: `), changeHref);
  const user = (await page.locator('.actor-user').textContent() || '').trim();
  check(user.startsWith(options.user), `${changeHref} shows user ${options.user} (got ${JSON.stringify(user)})`);
  const removed = await page.locator('pre.diff .diff-del').allTextContents();
  check(removed.some((line) => /^-\s*tls:/.test(line)), `${changeHref} shows the removed tls: line in red`);
  check(removed.some((line) => line.includes('secretName')), `${changeHref} shows the removed TLS secret line`);
  await page.screenshot({ path: join(artifacts, 'change.png'), fullPage: true });
  console.log('ok - clicked through: alerts -> brute-force alert -> route -> back -> change');
}

try {
  await run();
} catch (error) {
  problems.push(`stopped at ${page.url()}: ${error.message.split('\n')[0]}`);
  await page.screenshot({ path: join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
}
await context.close();
rmSync(profile, { recursive: true, force: true });
console.log(`screenshots in ${artifacts}`);
if (problems.length > 0) {
  console.log(`${problems.length} problem(s) in ${checks} check(s):`);
  for (const problem of problems) console.log(`  - ${problem}`);
  process.exit(1);
}
console.log(`all ${checks} checks passed`);
